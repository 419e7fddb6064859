//! `report.html` and `runs/index.html`. Rust turns a [`Report`] (or the index entries) into a
//! view model of plain numbers, coordinates, labels and CSS classes; the askama templates under
//! `templates/` hold all the markup and escape every string. The pages are self-contained:
//! inline CSS and SVG, system fonts, no script, and they read in black-and-white print.

use std::collections::HashMap;

use askama::Template;
use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::Value;

use super::model::{IndexEntry, Judgement, Report, RestoreReport, ServerReport, Targets, Worst};

/// Above this many servers and restores in a run, the timeline draws one row per wave (its
/// first job start to its last launch, with counts and the worst RTO) instead of one per
/// server. The tables still list every server.
pub const GANTT_MAX_DETAIL_ROWS: usize = 60;

/// How many runs per plan the index charts show (the newest).
const SPARK_MAX_RUNS: usize = 40;

const VIEW_W: f64 = 1000.0;
const LABEL_RIGHT: f64 = 196.0;
const PLOT_X: f64 = 204.0;
const PLOT_RIGHT: f64 = 900.0;
const AXIS_Y: f64 = 16.0;
const ROWS_TOP: f64 = 24.0;
const ROW_H: f64 = 20.0;
const BAR_H: f64 = 12.0;
const LABEL_CHARS: usize = 30;
/// Rough width of one character of the 11px labels, in viewBox units.
const CHAR_W: f64 = 6.2;

/// The self-contained report page of one run.
pub fn report_page(report: &Report) -> Result<String, askama::Error> {
    ReportPage::new(report).render()
}

/// runs/index.html: every run newest first (entries come sorted), with per plan a small chart
/// of achieved worst RTO over time. `report` links in entries are relative to runs/.
pub fn index_page(entries: &[IndexEntry]) -> Result<String, askama::Error> {
    IndexPage::new(entries).render()
}

/// A duration as people read it: `42s`, `4m 05s`, `1h 02m 03s`; negative values get a `-`.
pub fn duration_text(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
    if h > 0 {
        format!("{sign}{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{sign}{m}m {s:02}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// Seconds since the Unix epoch of an ISO 8601 UTC time, `None` when it does not parse.
fn epoch(iso: &str) -> Option<f64> {
    DateTime::from_str(iso, Format::DateTime)
        .ok()
        .map(|t| t.as_secs_f64())
}

/// `2026-11-25T10:00:05.123Z` as `2026-11-25 10:00:05 UTC`; anything else unchanged.
fn time_text(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..19)) {
        (Some(date), Some(time)) if iso.as_bytes()[10] == b'T' && iso.ends_with('Z') => {
            format!("{date} {time} UTC")
        }
        _ => iso.to_string(),
    }
}

fn opt_time_text(iso: Option<&String>) -> String {
    iso.map(|t| time_text(t)).unwrap_or_default()
}

fn opt_duration_text(seconds: Option<i64>) -> String {
    seconds.map(duration_text).unwrap_or_default()
}

/// A tick label on the timeline: `m:ss`, or `h:mm:ss` from an hour on.
fn clock_text(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `1 server`, `2 servers`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// One decimal is plenty for SVG coordinates and keeps the markup small.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

fn targets_text(targets: &Targets) -> String {
    let parts: Vec<String> = [("RTO", targets.rto_minutes), ("RPO", targets.rpo_minutes)]
        .into_iter()
        .filter_map(|(what, minutes)| minutes.map(|m| format!("{what} {m} min")))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// A state word as a CSS class: `SUCCEEDED` → `st-succeeded`.
fn state_class(state: &str) -> String {
    format!("st-{}", state.to_ascii_lowercase().replace('_', "-"))
}

fn server_failed(server: &ServerReport) -> bool {
    server.launch_status == "FAILED" || server.rto == Judgement::Fail
}

fn restore_failed(restore: &RestoreReport) -> bool {
    matches!(restore.status.as_str(), "FAILED" | "ABORTED" | "EXPIRED")
        || restore.rto == Judgement::Fail
}

/// A PASS/FAIL mark that reads without colour.
struct Chip {
    class: &'static str,
    text: &'static str,
}

impl Chip {
    fn of(judgement: Judgement) -> Chip {
        match judgement {
            Judgement::Pass => Chip {
                class: "chip pass",
                text: "PASS",
            },
            Judgement::Fail => Chip {
                class: "chip fail",
                text: "FAIL",
            },
            Judgement::NoTarget => Chip {
                class: "chip none",
                text: "no target",
            },
            Judgement::Unknown => Chip {
                class: "chip unknown",
                text: "UNKNOWN",
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The report page.

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    title: String,
    heading: String,
    verdict: VerdictView,
    facts: Vec<Fact>,
    outcome_class: String,
    outcome_state: String,
    outcome_error: String,
    outcome_cause: String,
    gantt: Gantt,
    waves: Vec<WaveRow>,
    servers: Vec<ServerRow>,
    restores: Vec<RestoreRow>,
    approvals: Vec<ApprovalRow>,
    preflight: Option<PreflightView>,
    cleanup: Option<CleanupView>,
    method: Vec<String>,
}

struct VerdictView {
    state: String,
    class: &'static str,
    headline: &'static str,
    summary: String,
    passed_of: String,
    judged: String,
    worst: Vec<WorstView>,
}

struct WorstView {
    what: &'static str,
    value: String,
    seconds: i64,
    of: String,
    target: String,
    margin: String,
    margin_class: &'static str,
}

impl WorstView {
    fn new(what: &'static str, worst: &Worst) -> WorstView {
        let (target, margin, margin_class) = match worst.target_seconds {
            Some(target) => {
                let over = worst.seconds - target;
                let (margin, class) = if over > 0 {
                    (format!("missed by {}", duration_text(over)), "over")
                } else {
                    (
                        format!("met with {} to spare", duration_text(-over)),
                        "within",
                    )
                };
                (duration_text(target), margin, class)
            }
            None => (String::new(), String::new(), "none"),
        };
        WorstView {
            what,
            value: duration_text(worst.seconds),
            seconds: worst.seconds,
            of: worst.of.clone(),
            target,
            margin,
            margin_class,
        }
    }
}

struct Fact {
    name: &'static str,
    value: String,
}

struct WaveRow {
    label: String,
    state: String,
    state_class: String,
    started: String,
    duration: String,
    launched: String,
    restores: String,
    targets: String,
}

struct ServerRow {
    id: String,
    wave: String,
    row_class: &'static str,
    launch_status: String,
    status_class: String,
    recovery_instance: String,
    launched_at: String,
    rto_seconds: Option<i64>,
    rto_text: String,
    rto_from_disaster_seconds: Option<i64>,
    rto_from_disaster_text: String,
    rpo_seconds: Option<i64>,
    rpo_text: String,
    rto_chip: Chip,
    rpo_chip: Chip,
    error: String,
}

struct RestoreRow {
    label: String,
    wave: String,
    row_class: &'static str,
    status: String,
    status_class: String,
    started: String,
    duration: String,
    resource: String,
    recovery_point: String,
    rto_seconds: Option<i64>,
    rto_text: String,
    rpo_seconds: Option<i64>,
    rpo_text: String,
    rto_chip: Chip,
    rpo_chip: Chip,
    error: String,
}

struct ApprovalRow {
    wave: String,
    by: String,
    answered_at: String,
    reason: String,
}

struct PreflightView {
    verdict: String,
    verdict_class: String,
    summary: String,
    findings: Vec<FindingView>,
    omitted: String,
}

struct FindingView {
    severity: String,
    severity_class: String,
    code: String,
    path: String,
    server: String,
    message: String,
}

struct CleanupView {
    state: String,
    state_class: String,
    summary: String,
}

/// A JSON field as text: strings as they are, numbers and booleans printed, anything else empty.
fn field(value: &Value, key: &str) -> String {
    match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        _ => String::new(),
    }
}

impl PreflightView {
    fn new(value: &Value) -> Option<PreflightView> {
        if !value.is_object() {
            return None;
        }
        let counts: Vec<String> = [
            ("blocking", "blocking"),
            ("warnings", "warnings"),
            ("serversChecked", "servers checked"),
        ]
        .into_iter()
        .filter_map(|(key, what)| value.get(key)?.as_u64().map(|n| format!("{n} {what}")))
        .collect();
        let mode = field(value, "mode");
        let mut summary = counts.join(", ");
        if !mode.is_empty() {
            summary = if summary.is_empty() {
                format!("mode {mode}")
            } else {
                format!("{summary}; mode {mode}")
            };
        }
        let findings = value
            .get("findings")
            .and_then(Value::as_array)
            .map(|findings| {
                findings
                    .iter()
                    .filter(|f| f.is_object())
                    .map(|f| {
                        let severity = field(f, "severity");
                        FindingView {
                            severity_class: state_class(&severity),
                            severity,
                            code: field(f, "code"),
                            path: field(f, "path"),
                            server: field(f, "sourceServerID"),
                            message: field(f, "message"),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let omitted = match value.get("findingsOmitted").and_then(Value::as_u64) {
            Some(n) if n > 0 => format!("{n} more findings not listed."),
            _ => String::new(),
        };
        let verdict = field(value, "verdict");
        Some(PreflightView {
            verdict_class: state_class(&verdict),
            verdict,
            summary,
            findings,
            omitted,
        })
    }
}

impl ReportPage {
    fn new(report: &Report) -> ReportPage {
        let wave_names: HashMap<usize, &str> = report
            .waves
            .iter()
            .map(|w| (w.index, w.name.as_str()))
            .collect();
        let wave_label = |index: usize| match wave_names.get(&index) {
            Some(name) => format!("{index} ({name})"),
            None => index.to_string(),
        };
        let (class, headline) = match report.verdict.state.as_str() {
            "MET" => ("met", "Targets met"),
            "MISSED" => ("missed", "Targets missed"),
            "NO_TARGETS" => ("no-targets", "No targets set"),
            _ => ("unknown", "Verdict"),
        };
        let verdict = VerdictView {
            state: report.verdict.state.clone(),
            class,
            headline,
            summary: report.verdict.summary.clone(),
            passed_of: format!("{}/{}", report.verdict.passed, report.verdict.judged),
            judged: "servers and restores within target".to_string(),
            worst: [
                ("Worst RTO", report.verdict.worst_rto.as_ref()),
                ("Worst RPO", report.verdict.worst_rpo.as_ref()),
            ]
            .into_iter()
            .filter_map(|(what, worst)| worst.map(|w| WorstView::new(what, w)))
            .collect(),
        };
        let mode = match report.is_drill {
            Some(true) => "Drill",
            Some(false) => "Real recovery",
            None => "—",
        };
        let fact = |name, value: &str| Fact {
            name,
            value: value.to_string(),
        };
        let mut facts = vec![
            fact("Plan", &report.plan_name),
            fact("Kind", mode),
            fact("Workflow", &report.workflow),
            fact("Trigger", &report.trigger),
            fact("Execution", &report.execution_id),
        ];
        if let Some(disaster) = &report.disaster_at {
            let at = format!("{} (RTO is judged from here)", time_text(disaster));
            facts.push(fact("Disaster at", &at));
        }
        facts.extend([
            fact("Started", &time_text(&report.run_started_at)),
            fact("Ended", &time_text(&report.run_ended_at)),
            fact("Duration", &duration_text(report.run_seconds)),
            fact("Targets", &targets_text(&report.targets)),
        ]);
        let waves = report
            .waves
            .iter()
            .map(|w| WaveRow {
                label: wave_label(w.index),
                state: w.state.clone(),
                state_class: state_class(&w.state),
                started: opt_time_text(w.started_at.as_ref()),
                duration: opt_duration_text(w.seconds),
                launched: format!("{}/{}", w.launched, w.servers),
                restores: format!("{}/{}", w.restored, w.restores),
                targets: targets_text(&w.targets),
            })
            .collect();
        let servers = report
            .servers
            .iter()
            .map(|s| ServerRow {
                id: s.source_server_id.clone(),
                wave: wave_label(s.wave),
                row_class: if server_failed(s) {
                    "server failed"
                } else {
                    "server"
                },
                launch_status: s.launch_status.clone(),
                status_class: state_class(&s.launch_status),
                recovery_instance: s.recovery_instance_id.clone().unwrap_or_default(),
                launched_at: opt_time_text(s.launched_at.as_ref().or(s.failed_at.as_ref())),
                rto_seconds: s.rto_seconds,
                rto_text: opt_duration_text(s.rto_seconds),
                rto_from_disaster_seconds: s.rto_from_disaster_seconds,
                rto_from_disaster_text: opt_duration_text(s.rto_from_disaster_seconds),
                rpo_seconds: s.rpo_seconds,
                rpo_text: opt_duration_text(s.rpo_seconds),
                rto_chip: Chip::of(s.rto),
                rpo_chip: Chip::of(s.rpo),
                error: s.error.clone().unwrap_or_default(),
            })
            .collect();
        let restores = report
            .restores
            .iter()
            .map(|r| RestoreRow {
                label: r.label.clone(),
                wave: wave_label(r.wave),
                row_class: if restore_failed(r) {
                    "restore failed"
                } else {
                    "restore"
                },
                status: r.status.clone(),
                status_class: state_class(&r.status),
                started: opt_time_text(r.started_at.as_ref()),
                duration: opt_duration_text(r.seconds),
                resource: r.created_resource_arn.clone().unwrap_or_default(),
                recovery_point: r.recovery_point_arn.clone(),
                rto_seconds: r.rto_seconds,
                rto_text: opt_duration_text(r.rto_seconds),
                rpo_seconds: r.rpo_seconds,
                rpo_text: opt_duration_text(r.rpo_seconds),
                rto_chip: Chip::of(r.rto),
                rpo_chip: Chip::of(r.rpo),
                error: r.error.clone().unwrap_or_default(),
            })
            .collect();
        let approvals = report
            .approvals
            .iter()
            .map(|a| ApprovalRow {
                wave: wave_label(a.wave),
                by: a.by.clone().unwrap_or_default(),
                answered_at: opt_time_text(a.answered_at.as_ref()),
                reason: a.reason.clone(),
            })
            .collect();
        let cleanup = report.cleanup.as_ref().filter(|c| c.is_object()).map(|c| {
            let state = field(c, "state");
            CleanupView {
                state_class: state_class(&state),
                state,
                summary: field(c, "summary"),
            }
        });
        ReportPage {
            title: format!("{} — {}", report.plan_name, report.verdict.state),
            heading: format!(
                "{} · {} · {}",
                report.plan_name,
                mode.to_lowercase(),
                time_text(&report.run_started_at)
            ),
            verdict,
            facts,
            outcome_class: state_class(&report.outcome.state),
            outcome_state: report.outcome.state.clone(),
            outcome_error: report.outcome.error.clone().unwrap_or_default(),
            outcome_cause: report.outcome.cause.clone().unwrap_or_default(),
            gantt: Gantt::new(report),
            waves,
            servers,
            restores,
            approvals,
            preflight: PreflightView::new(&report.preflight),
            cleanup,
            method: report.method.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The timeline.

/// The Gantt chart of a run, in viewBox units.
struct Gantt {
    width: f64,
    height: f64,
    label_right: f64,
    plot_x: f64,
    axis_y: f64,
    grid_top: f64,
    grid_bottom: f64,
    ticks: Vec<Tick>,
    rows: Vec<GanttRow>,
    markers: Vec<Marker>,
    row_h: f64,
    aggregated: bool,
    has_disaster: bool,
    /// What the x axis counts from.
    origin: String,
}

struct Tick {
    x: f64,
    label: String,
}

struct GanttRow {
    class: &'static str,
    /// `data-server` of a server's row, to find it.
    server: String,
    band_y: f64,
    text_y: f64,
    label: String,
    title: String,
    bars: Vec<Bar>,
    note: Option<Note>,
}

struct Bar {
    class: &'static str,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    title: String,
}

struct Note {
    class: &'static str,
    x: f64,
    y: f64,
    anchor: &'static str,
    text: String,
}

struct Marker {
    class: &'static str,
    x: f64,
    label: String,
    label_y: f64,
    anchor: &'static str,
}

/// Maps times to x coordinates: `origin` is at `PLOT_X`, `origin + span` at `PLOT_RIGHT`.
struct Scale {
    origin: f64,
    span: f64,
    run_end: f64,
}

impl Scale {
    fn x(&self, offset: f64) -> f64 {
        round1(PLOT_X + offset.clamp(0.0, self.span) / self.span * (PLOT_RIGHT - PLOT_X))
    }

    fn offset(&self, iso: Option<&String>) -> Option<f64> {
        Some(epoch(iso?)? - self.origin)
    }
}

/// A tick step of whole, readable seconds that gives at most about ten ticks.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 13] = [
        10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0,
        21600.0,
    ];
    STEPS
        .into_iter()
        .find(|step| span / step <= 10.0)
        .unwrap_or_else(|| (span / 10.0 / 3600.0).ceil() * 3600.0)
}

/// One row of the chart being laid out.
struct RowDraft {
    class: &'static str,
    server: String,
    label: String,
    title: String,
    /// (class, start offset, end offset, tooltip)
    spans: Vec<(&'static str, f64, f64, String)>,
    note: String,
    note_class: &'static str,
}

impl RowDraft {
    fn new(class: &'static str, label: String) -> RowDraft {
        RowDraft {
            class,
            server: String::new(),
            title: label.clone(),
            label,
            spans: Vec::new(),
            note: String::new(),
            note_class: "note",
        }
    }

    fn end(&self) -> f64 {
        self.spans.iter().map(|s| s.2).fold(0.0, f64::max)
    }
}

impl Gantt {
    fn new(report: &Report) -> Gantt {
        let run_start = epoch(&report.run_started_at).unwrap_or(0.0);
        let disaster = report.disaster_at.as_deref().and_then(epoch);
        let origin = disaster.map_or(run_start, |d| d.min(run_start));
        let mut scale = Scale {
            origin,
            span: 1.0,
            run_end: epoch(&report.run_ended_at).unwrap_or(run_start) - origin,
        };
        let aggregated = report.servers.len() + report.restores.len() > GANTT_MAX_DETAIL_ROWS;
        let drafts = row_drafts(report, &scale, aggregated);

        let rto_anchor = disaster.unwrap_or(run_start) - origin;
        let target = report
            .targets
            .rto_minutes
            .map(|m| (m as f64 * 60.0 + rto_anchor, m));
        let latest = drafts
            .iter()
            .map(RowDraft::end)
            .chain([scale.run_end, target.map_or(0.0, |t| t.0)])
            .fold(1.0, f64::max);
        let step = tick_step(latest);
        scale.span = (latest / step).ceil() * step;

        let rows: Vec<GanttRow> = drafts
            .into_iter()
            .enumerate()
            .map(|(i, d)| layout_row(d, i, &scale))
            .collect();
        let grid_bottom = ROWS_TOP + rows.len() as f64 * ROW_H + 4.0;
        let label_y = grid_bottom + 12.0;
        let ticks = (0..)
            .map(|i| i as f64 * step)
            .take_while(|t| *t <= scale.span + 0.5)
            .map(|t| Tick {
                x: scale.x(t),
                label: clock_text(t as i64),
            })
            .collect();
        let mut markers = Vec::new();
        if let Some(d) = disaster {
            markers.push(Marker {
                class: "disaster",
                x: scale.x(d - origin),
                label: "disaster".to_string(),
                label_y,
                anchor: "start",
            });
            markers.push(Marker {
                class: "run-start",
                x: scale.x(run_start - origin),
                label: "run start".to_string(),
                label_y: label_y + 13.0,
                anchor: "start",
            });
        }
        if let Some((at, minutes)) = target {
            let from = if disaster.is_some() {
                "from disaster"
            } else {
                "from run start"
            };
            let x = scale.x(at);
            markers.push(Marker {
                class: "target",
                x,
                label: format!("RTO target {minutes} min {from}"),
                label_y,
                anchor: if x > PLOT_RIGHT - 150.0 {
                    "end"
                } else {
                    "start"
                },
            });
        }
        let height = label_y + if disaster.is_some() { 20.0 } else { 8.0 };
        Gantt {
            width: VIEW_W,
            height: round1(height),
            label_right: LABEL_RIGHT,
            plot_x: PLOT_X,
            axis_y: AXIS_Y,
            grid_top: ROWS_TOP - 4.0,
            grid_bottom,
            ticks,
            rows,
            markers,
            row_h: ROW_H,
            aggregated,
            has_disaster: disaster.is_some(),
            origin: match &report.disaster_at {
                Some(d) if disaster.is_some() => format!(
                    "minutes:seconds since the disaster at {}; the run started {} later",
                    time_text(d),
                    duration_text((run_start - origin).round() as i64)
                ),
                _ => format!(
                    "minutes:seconds since the run started at {}",
                    time_text(&report.run_started_at)
                ),
            },
        }
    }
}

fn layout_row(draft: RowDraft, i: usize, scale: &Scale) -> GanttRow {
    let band_y = ROWS_TOP + i as f64 * ROW_H;
    let bar_y = band_y + (ROW_H - BAR_H) / 2.0;
    let text_y = band_y + ROW_H / 2.0 + 4.0;
    let bars: Vec<Bar> = draft
        .spans
        .iter()
        .map(|(class, from, to, title)| {
            let x = scale.x(*from);
            Bar {
                class,
                x,
                y: bar_y,
                w: round1((scale.x(*to) - x).max(2.0)),
                h: BAR_H,
                title: title.clone(),
            }
        })
        .collect();
    let note = (!draft.note.is_empty()).then(|| {
        let end = bars.iter().map(|b| b.x + b.w).fold(PLOT_X, f64::max);
        let width = draft.note.chars().count() as f64 * CHAR_W;
        let (x, anchor) = if end + 4.0 + width <= VIEW_W - 2.0 {
            (end + 4.0, "start")
        } else {
            (VIEW_W - 2.0, "end")
        };
        Note {
            class: draft.note_class,
            x: round1(x),
            y: text_y,
            anchor,
            text: draft.note,
        }
    });
    GanttRow {
        class: draft.class,
        server: draft.server,
        band_y,
        text_y,
        label: truncate(&draft.label, LABEL_CHARS),
        title: draft.title,
        bars,
        note,
    }
}

/// The rows of the chart: per wave its span, then its servers (or one aggregate row), then its
/// restores; servers and restores of waves the report does not list come last.
fn row_drafts(report: &Report, scale: &Scale, aggregated: bool) -> Vec<RowDraft> {
    let mut waves: Vec<(usize, Option<&super::model::WaveReport>)> =
        report.waves.iter().map(|w| (w.index, Some(w))).collect();
    for i in report
        .servers
        .iter()
        .map(|s| s.wave)
        .chain(report.restores.iter().map(|r| r.wave))
    {
        if !waves.iter().any(|(w, _)| *w == i) {
            waves.push((i, None));
        }
    }
    let mut rows = Vec::new();
    for (index, wave) in waves {
        let servers: Vec<&ServerReport> =
            report.servers.iter().filter(|s| s.wave == index).collect();
        let restores: Vec<&RestoreReport> =
            report.restores.iter().filter(|r| r.wave == index).collect();
        let mut row = RowDraft::new(
            "wave",
            match wave {
                Some(w) => format!("wave {index} ({})", w.name),
                None => format!("wave {index}"),
            },
        );
        if let Some(w) = wave {
            let start = scale.offset(w.started_at.as_ref());
            let end = scale
                .offset(w.ended_at.as_ref())
                .or(start.map(|_| scale.run_end));
            if let (Some(start), Some(end)) = (start, end) {
                let failed = w.state == "FAILED";
                row.spans.push((
                    if failed {
                        "wave-span failed"
                    } else {
                        "wave-span"
                    },
                    start,
                    end,
                    format!("{}: {}", row.label, w.state),
                ));
                row.note = format!("{} {}", w.state, opt_duration_text(w.seconds));
            } else {
                row.note = w.state.clone();
            }
        }
        rows.push(row);
        if aggregated {
            rows.extend(aggregate_servers(index, &servers, scale));
            rows.extend(aggregate_restores(index, &restores, scale));
        } else {
            rows.extend(servers.iter().map(|s| server_row(s, scale)));
            rows.extend(restores.iter().map(|r| restore_row(r, scale)));
        }
    }
    rows
}

fn server_row(s: &ServerReport, scale: &Scale) -> RowDraft {
    let failed = server_failed(s);
    let class = if failed { "server failed" } else { "server" };
    let mut row = RowDraft::new(class, s.source_server_id.clone());
    row.server = s.source_server_id.clone();
    let job = scale.offset(s.job_started_at.as_ref());
    let launch = scale.offset(s.launch_started_at.as_ref());
    let end = scale
        .offset(s.launched_at.as_ref())
        .or(scale.offset(s.failed_at.as_ref()))
        .or((failed && (job.is_some() || launch.is_some())).then_some(scale.run_end));
    let (preparing, launching) = if failed {
        ("preparing failed", "launching failed")
    } else {
        ("preparing", "launching")
    };
    match (job, launch, end) {
        (Some(j), Some(l), _) => {
            row.spans.push((
                preparing,
                j,
                l,
                format!("{}: preparing", s.source_server_id),
            ));
            if let Some(e) = end {
                row.spans.push((
                    launching,
                    l,
                    e,
                    format!("{}: launching", s.source_server_id),
                ));
            }
        }
        (None, Some(l), Some(e)) => {
            row.spans.push((
                launching,
                l,
                e,
                format!("{}: launching", s.source_server_id),
            ));
        }
        (Some(j), None, Some(e)) => {
            row.spans.push((
                preparing,
                j,
                e,
                format!("{}: preparing", s.source_server_id),
            ));
        }
        _ => {}
    }
    let rto = opt_duration_text(s.rto_seconds);
    row.note = if s.launch_status == "FAILED" {
        format!("✗ FAILED {rto}")
    } else if failed {
        format!("✗ {rto} over target")
    } else if rto.is_empty() {
        s.launch_status.clone()
    } else {
        rto
    };
    if failed {
        row.note_class = "note failed";
    }
    row
}

fn restore_row(r: &RestoreReport, scale: &Scale) -> RowDraft {
    let failed = restore_failed(r);
    let mut row = RowDraft::new(
        if failed { "restore failed" } else { "restore" },
        format!("restore {}", r.label),
    );
    if let Some(start) = scale.offset(r.started_at.as_ref()) {
        let end = scale
            .offset(r.completed_at.as_ref())
            .unwrap_or(scale.run_end);
        row.spans.push((
            if failed {
                "restoring failed"
            } else {
                "restoring"
            },
            start,
            end,
            format!("{}: {}", r.label, r.status),
        ));
    }
    row.note = match (failed, r.rto_seconds) {
        (true, _) => format!("✗ {} {}", r.status, opt_duration_text(r.rto_seconds)),
        (false, Some(rto)) => duration_text(rto),
        (false, None) => r.status.clone(),
    };
    if failed {
        row.note_class = "note failed";
    }
    row
}

fn span_of<'a>(
    scale: &Scale,
    starts: impl Iterator<Item = Option<&'a String>>,
    ends: impl Iterator<Item = Option<&'a String>>,
) -> Option<(f64, f64)> {
    let start = starts.filter_map(|t| scale.offset(t)).reduce(f64::min)?;
    let end = ends
        .filter_map(|t| scale.offset(t))
        .reduce(f64::max)
        .unwrap_or(scale.run_end);
    Some((start, end.max(start)))
}

fn aggregate_servers(index: usize, servers: &[&ServerReport], scale: &Scale) -> Option<RowDraft> {
    if servers.is_empty() {
        return None;
    }
    let launched = servers
        .iter()
        .filter(|s| s.launch_status == "LAUNCHED")
        .count();
    let failed = servers.iter().filter(|s| server_failed(s)).count();
    let worst = servers.iter().filter_map(|s| s.rto_seconds).max();
    let mut row = RowDraft::new(
        if failed > 0 {
            "servers failed"
        } else {
            "servers"
        },
        plural(servers.len(), "server"),
    );
    row.title = format!("wave {index}: {}", row.label);
    if let Some((start, end)) = span_of(
        scale,
        servers
            .iter()
            .map(|s| s.job_started_at.as_ref().or(s.launch_started_at.as_ref())),
        servers
            .iter()
            .map(|s| s.launched_at.as_ref().or(s.failed_at.as_ref())),
    ) {
        row.spans.push((
            if failed > 0 {
                "launching failed"
            } else {
                "launching"
            },
            start,
            end,
            row.title.clone(),
        ));
    }
    let mut note = format!("launched {launched}/{}", servers.len());
    if failed > 0 {
        note.push_str(&format!(" · ✗ failed {failed}"));
        row.note_class = "note failed";
    }
    if let Some(worst) = worst {
        note.push_str(&format!(" · worst RTO {}", duration_text(worst)));
    }
    row.note = note;
    Some(row)
}

fn aggregate_restores(
    index: usize,
    restores: &[&RestoreReport],
    scale: &Scale,
) -> Option<RowDraft> {
    if restores.is_empty() {
        return None;
    }
    let completed = restores.iter().filter(|r| r.status == "COMPLETED").count();
    let failed = restores.iter().filter(|r| restore_failed(r)).count();
    let mut row = RowDraft::new(
        if failed > 0 {
            "restore failed"
        } else {
            "restore"
        },
        plural(restores.len(), "restore"),
    );
    row.title = format!("wave {index}: {}", row.label);
    if let Some((start, end)) = span_of(
        scale,
        restores.iter().map(|r| r.started_at.as_ref()),
        restores.iter().map(|r| r.completed_at.as_ref()),
    ) {
        row.spans.push((
            if failed > 0 {
                "restoring failed"
            } else {
                "restoring"
            },
            start,
            end,
            row.title.clone(),
        ));
    }
    row.note = format!("completed {completed}/{}", restores.len());
    if failed > 0 {
        row.note.push_str(&format!(" · ✗ failed {failed}"));
        row.note_class = "note failed";
    }
    Some(row)
}

// ---------------------------------------------------------------------------------------------
// The index page.

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    runs: Vec<IndexRow>,
    plans: Vec<PlanChart>,
}

struct IndexRow {
    plan: String,
    kind: &'static str,
    date: String,
    outcome: String,
    outcome_class: String,
    verdict: String,
    verdict_class: String,
    rto: String,
    rpo: String,
    link: String,
    execution_id: String,
}

/// A plan's worst RTO per run, oldest left, in a 300×90 viewBox.
struct PlanChart {
    name: String,
    width: f64,
    height: f64,
    base_y: f64,
    runs: String,
    bars: Vec<Bar>,
    target: Option<SparkTarget>,
    max_label: String,
    latest: String,
}

/// The RTO target as a horizontal line.
struct SparkTarget {
    y: f64,
    label_y: f64,
    label: String,
}

const SPARK_W: f64 = 300.0;
const SPARK_H: f64 = 90.0;
const SPARK_TOP: f64 = 14.0;
const SPARK_BASE: f64 = 80.0;

impl PlanChart {
    fn new(name: &str, newest_first: &[&IndexEntry]) -> PlanChart {
        let shown: Vec<&IndexEntry> = newest_first
            .iter()
            .take(SPARK_MAX_RUNS)
            .rev()
            .copied()
            .collect();
        let target = shown
            .iter()
            .rev()
            .find_map(|e| e.rto_target_minutes)
            .map(|m| m as f64 * 60.0);
        let max = shown
            .iter()
            .filter_map(|e| e.worst_rto_seconds)
            .map(|s| s as f64)
            .chain(target)
            .fold(1.0, f64::max)
            * 1.1;
        let slot = (SPARK_W / shown.len().max(8) as f64).min(SPARK_W / 8.0);
        let y = |seconds: f64| round1(SPARK_BASE - seconds / max * (SPARK_BASE - SPARK_TOP));
        let bars = shown
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let x = round1(i as f64 * slot + slot * 0.15);
                let w = round1(slot * 0.7);
                let date = time_text(&e.run_started_at);
                match e.worst_rto_seconds {
                    Some(s) => {
                        let top = y(s as f64).min(SPARK_BASE - 1.0);
                        Bar {
                            class: verdict_bar_class(&e.verdict),
                            x,
                            y: top,
                            w,
                            h: round1(SPARK_BASE - top),
                            title: format!(
                                "{date}: worst RTO {} ({})",
                                duration_text(s),
                                e.verdict
                            ),
                        }
                    }
                    None => Bar {
                        class: "none",
                        x,
                        y: SPARK_BASE - 2.0,
                        w,
                        h: 2.0,
                        title: format!("{date}: no RTO measured ({})", e.verdict),
                    },
                }
            })
            .collect();
        PlanChart {
            name: name.to_string(),
            width: SPARK_W,
            height: SPARK_H,
            base_y: SPARK_BASE,
            runs: plural(newest_first.len(), "run"),
            bars,
            target: target.map(|t| SparkTarget {
                y: y(t),
                label_y: round1(y(t) - 3.0),
                label: format!("target {}", duration_text(t as i64)),
            }),
            max_label: duration_text((max / 1.1).round() as i64),
            latest: newest_first
                .first()
                .and_then(|e| e.worst_rto_seconds)
                .map(duration_text)
                .unwrap_or_else(|| "—".to_string()),
        }
    }
}

fn verdict_bar_class(verdict: &str) -> &'static str {
    match verdict {
        "MET" => "met",
        "MISSED" => "missed",
        _ => "neutral",
    }
}

impl IndexPage {
    fn new(entries: &[IndexEntry]) -> IndexPage {
        let runs = entries
            .iter()
            .map(|e| IndexRow {
                plan: e.plan_name.clone(),
                kind: match e.is_drill {
                    Some(true) => "drill",
                    Some(false) => "real",
                    None => "—",
                },
                date: time_text(&e.run_started_at),
                outcome: e.outcome.clone(),
                outcome_class: state_class(&e.outcome),
                verdict: e.verdict.clone(),
                verdict_class: state_class(&e.verdict),
                rto: opt_duration_text(e.worst_rto_seconds),
                rpo: opt_duration_text(e.worst_rpo_seconds),
                link: e.report.clone(),
                execution_id: e.execution_id.clone(),
            })
            .collect();
        let mut order: Vec<&str> = Vec::new();
        let mut by_plan: HashMap<&str, Vec<&IndexEntry>> = HashMap::new();
        for e in entries {
            let runs = by_plan.entry(e.plan_name.as_str()).or_default();
            if runs.is_empty() {
                order.push(&e.plan_name);
            }
            runs.push(e);
        }
        let plans = order
            .into_iter()
            .map(|name| PlanChart::new(name, &by_plan[name]))
            .collect();
        IndexPage { runs, plans }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{
        ApprovalRecord, Outcome, Verdict, WaveReport, Worst, SCHEMA_VERSION,
    };
    use serde_json::json;

    fn targets() -> Targets {
        Targets {
            rto_minutes: Some(15),
            rpo_minutes: Some(10),
        }
    }

    fn wave(index: usize, name: &str, state: &str, start: &str, end: &str) -> WaveReport {
        WaveReport {
            index,
            name: name.to_string(),
            state: state.to_string(),
            started_at: Some(start.to_string()),
            ended_at: Some(end.to_string()),
            seconds: Some(epoch(end).unwrap() as i64 - epoch(start).unwrap() as i64),
            targets: targets(),
            servers: 2,
            launched: 2,
            restores: 0,
            restored: 0,
            job_ids: vec![format!("drsjob-{index}")],
        }
    }

    /// A server of wave `wave` whose job started `job` seconds into the run, whose launch
    /// started 40 s later and ended `rto` seconds into the run.
    fn server(id: &str, wave: usize, job: i64, rto: i64) -> ServerReport {
        let at = |s: i64| format!("2026-11-25T10:{:02}:{:02}Z", s / 60, s % 60);
        ServerReport {
            source_server_id: id.to_string(),
            wave,
            job_id: Some(format!("drsjob-{wave}")),
            launch_status: "LAUNCHED".to_string(),
            recovery_instance_id: Some(format!("i-{id}")),
            job_started_at: Some(at(job)),
            launch_started_at: Some(at(job + 40)),
            launched_at: Some(at(rto)),
            failed_at: None,
            error: None,
            snapshot_at: Some("2026-11-25T09:58:00Z".to_string()),
            rto_seconds: Some(rto),
            rto_from_disaster_seconds: None,
            rpo_seconds: Some(120),
            targets: targets(),
            rto: if rto <= 900 {
                Judgement::Pass
            } else {
                Judgement::Fail
            },
            rpo: Judgement::Pass,
        }
    }

    fn sample() -> Report {
        let mut failed = server("s-00000000000000005", 2, 700, 0);
        failed.launch_status = "FAILED".to_string();
        failed.launched_at = None;
        failed.recovery_instance_id = None;
        failed.failed_at = Some("2026-11-25T10:14:10Z".to_string());
        failed.rto_seconds = None;
        failed.rpo_seconds = None;
        failed.error = Some("LAUNCH_FAILED: insufficient capacity".to_string());
        failed.rto = Judgement::Fail;
        failed.rpo = Judgement::Unknown;
        Report {
            schema_version: SCHEMA_VERSION,
            workflow: "RECOVERY_PLAN".to_string(),
            plan_name: "payments-prod".to_string(),
            is_drill: Some(true),
            execution_id: "arn:aws:states:eu-west-1:123456789012:execution:dr:drill-42".into(),
            trigger: "CONSOLE".to_string(),
            disaster_at: None,
            run_started_at: "2026-11-25T10:00:00Z".to_string(),
            run_ended_at: "2026-11-25T10:16:30.250Z".to_string(),
            run_seconds: 990,
            outcome: Outcome {
                state: "FAILED".to_string(),
                error: Some("RecoveryFailed".to_string()),
                cause: Some("wave 2 (app): 1 of 2 servers did not launch".to_string()),
            },
            targets: targets(),
            verdict: Verdict {
                state: "MISSED".to_string(),
                summary: "1 of 6 servers did not launch; worst RTO 14m 05s against 15 min."
                    .to_string(),
                worst_rto: Some(Worst {
                    seconds: 845,
                    of: "s-00000000000000006".to_string(),
                    target_seconds: Some(900),
                }),
                worst_rpo: Some(Worst {
                    seconds: 120,
                    of: "s-00000000000000001".to_string(),
                    target_seconds: Some(600),
                }),
                judged: 7,
                passed: 6,
            },
            waves: vec![
                wave(
                    0,
                    "data",
                    "SUCCEEDED",
                    "2026-11-25T10:00:05Z",
                    "2026-11-25T10:04:10Z",
                ),
                wave(
                    1,
                    "app",
                    "SUCCEEDED",
                    "2026-11-25T10:05:00Z",
                    "2026-11-25T10:09:30Z",
                ),
                wave(
                    2,
                    "web",
                    "FAILED",
                    "2026-11-25T10:10:00Z",
                    "2026-11-25T10:14:30Z",
                ),
            ],
            servers: vec![
                server("s-00000000000000001", 0, 5, 245),
                server("s-00000000000000002", 0, 5, 250),
                server("s-00000000000000003", 1, 300, 540),
                server("s-00000000000000004", 1, 300, 565),
                failed,
                server("s-00000000000000006", 2, 600, 845),
            ],
            restores: vec![RestoreReport {
                label: "orders-db".to_string(),
                wave: 0,
                recovery_point_arn: "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-1"
                    .to_string(),
                restore_job_id: Some("restore-1".to_string()),
                status: "COMPLETED".to_string(),
                started_at: Some("2026-11-25T10:00:10Z".to_string()),
                completed_at: Some("2026-11-25T10:03:30Z".to_string()),
                seconds: Some(200),
                created_resource_arn: Some(
                    "arn:aws:rds:eu-west-1:123456789012:db:orders-restored".to_string(),
                ),
                recovery_point_created_at: Some("2026-11-25T09:00:00Z".to_string()),
                error: None,
                rto_seconds: Some(210),
                rto_from_disaster_seconds: None,
                rpo_seconds: Some(3600),
                targets: targets(),
                rto: Judgement::Pass,
                rpo: Judgement::Fail,
            }],
            preflight: json!({
                "verdict": "WARNINGS",
                "mode": "FAIL",
                "blocking": 0,
                "warnings": 1,
                "serversChecked": 6,
                "findings": [{
                    "severity": "WARNING",
                    "code": "LAG_TOO_HIGH",
                    "path": "waves[2].sourceServers[0]",
                    "sourceServerID": "s-00000000000000005",
                    "message": "replication lag is 12 minutes"
                }],
                "findingsOmitted": 0
            }),
            approvals: vec![ApprovalRecord {
                wave: 1,
                by: Some("alice@example.com".to_string()),
                answered_at: Some("2026-11-25T10:04:50Z".to_string()),
                reason: "data tier verified".to_string(),
            }],
            cleanup: Some(
                json!({"state": "SUCCEEDED", "summary": "5 recovery instances terminated"}),
            ),
            method: vec![
                "RTO: the job's JOB_END log item minus the execution start.".to_string(),
                "RPO: the execution start minus the snapshot of the recovery instance.".to_string(),
            ],
        }
    }

    fn entry(plan: &str, id: &str, started: &str, verdict: &str, rto: Option<i64>) -> IndexEntry {
        IndexEntry {
            plan_name: plan.to_string(),
            execution_id: id.to_string(),
            workflow: "RECOVERY_PLAN".to_string(),
            is_drill: Some(true),
            run_started_at: started.to_string(),
            outcome: "SUCCEEDED".to_string(),
            verdict: verdict.to_string(),
            worst_rto_seconds: rto,
            worst_rpo_seconds: Some(60),
            rto_target_minutes: Some(15),
            report: format!("{plan}/{id}/report.html"),
        }
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration_text(42), "42s");
        assert_eq!(duration_text(245), "4m 05s");
        assert_eq!(duration_text(3723), "1h 02m 03s");
        assert_eq!(duration_text(0), "0s");
        assert_eq!(duration_text(-65), "-1m 05s");
        assert_eq!(clock_text(125), "2:05");
        assert_eq!(clock_text(3900), "1:05:00");
    }

    #[test]
    fn parses_times_with_and_without_fractions() {
        let start = epoch("2026-11-25T10:00:00Z").unwrap();
        let end = epoch("2026-11-25T10:16:30.250Z").unwrap();
        assert!((end - start - 990.25).abs() < 1e-6);
        assert_eq!(epoch("yesterday"), None);
        assert_eq!(
            time_text("2026-11-25T10:16:30.250Z"),
            "2026-11-25 10:16:30 UTC"
        );
    }

    #[test]
    fn opens_with_the_verdict_and_its_margins() {
        let page = report_page(&sample()).unwrap();
        let verdict = page.find(r#"id="verdict""#).unwrap();
        assert!(verdict < page.find(r#"id="run""#).unwrap());
        assert!(page.find(r#"id="run""#).unwrap() < page.find(r#"id="timeline""#).unwrap());
        assert!(page.contains(r#"class="verdict missed" id="verdict" data-state="MISSED""#));
        assert!(page.contains("1 of 6 servers did not launch; worst RTO 14m 05s against 15 min."));
        assert!(page.contains("met with 55s to spare"));
        assert!(page.contains("met with 8m 00s to spare"));
        assert!(page.contains("RecoveryFailed"));
        assert!(page.contains(">6/7<"));
    }

    #[test]
    fn lists_every_server_with_its_rto() {
        let report = sample();
        let page = report_page(&report).unwrap();
        for s in &report.servers {
            assert!(page.contains(&format!(r#"id="server-{}""#, s.source_server_id)));
            if let Some(rto) = s.rto_seconds {
                assert!(page.contains(&format!(
                    r#"data-rto-seconds="{rto}">{}"#,
                    duration_text(rto)
                )));
            }
        }
        assert!(page.contains("4m 05s"));
        assert!(page.contains("14m 05s"));
    }

    #[test]
    fn marks_the_failed_server_in_table_and_timeline() {
        let page = report_page(&sample()).unwrap();
        assert!(page.contains(r#"<tr class="server failed" id="server-s-00000000000000005">"#));
        assert!(page.contains(r#"<tr class="server" id="server-s-00000000000000006">"#));
        assert!(page.contains(r#"<g class="row server failed" data-server="s-00000000000000005">"#));
        assert!(page.contains(r#"class="bar launching failed""#));
        assert!(page.contains("✗ FAILED"));
        assert!(page.contains("LAUNCH_FAILED: insufficient capacity"));
    }

    #[test]
    fn draws_waves_servers_restores_and_the_rto_target() {
        let page = report_page(&sample()).unwrap();
        assert!(page.contains(r#"<g class="row wave">"#));
        assert!(page.contains(r#"class="bar preparing""#));
        assert!(page.contains(r#"class="bar restoring""#));
        assert!(page.contains(r#"<g class="marker target">"#));
        assert!(page.contains("RTO target 15 min from run start"));
        // 990 s of run and a 900 s target: 2-minute ticks up to 18:00.
        assert!(page.contains(">18:00</text>"));
        assert!(!page.contains(">20:00</text>"));
        for external in ["<link", "<script", " src=", "@import", "url(http"] {
            assert!(!page.contains(external), "{external}");
        }
    }

    #[test]
    fn starts_the_axis_at_the_disaster() {
        let mut report = sample();
        report.disaster_at = Some("2026-11-25T09:55:00Z".to_string());
        let page = report_page(&report).unwrap();
        assert!(page.contains(r#"<g class="marker disaster">"#));
        assert!(page.contains(
            "since the disaster at 2026-11-25 09:55:00 UTC; the run started 5m 00s later"
        ));
        assert!(page.contains("RTO target 15 min from disaster"));
        // The target line sits at 15:00 of an axis that starts at the disaster.
        let gantt = Gantt::new(&report);
        let target = gantt.markers.iter().find(|m| m.class == "target").unwrap();
        let tick = gantt.ticks.iter().find(|t| t.label == "15:00").unwrap();
        assert_eq!(target.x, tick.x);
        assert!(gantt
            .rows
            .iter()
            .flat_map(|r| &r.bars)
            .all(|b| b.x >= PLOT_X));
    }

    #[test]
    fn escapes_user_text() {
        let mut report = sample();
        report.plan_name = "<script>alert(1)</script>".to_string();
        report.servers[0].error = Some(r#""><img src=x onerror=alert(1)>"#.to_string());
        let page = report_page(&report).unwrap();
        assert!(!page.contains("<script>alert(1)</script>"));
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(!page.contains("<img src=x"));
        let index = index_page(&[entry(
            "<script>alert(1)</script>",
            "x",
            "2026-11-25T10:00:00Z",
            "MET",
            Some(60),
        )])
        .unwrap();
        assert!(!index.contains("<script>alert(1)</script>"));
        assert!(index.contains("&#60;script&#62;"));
    }

    #[test]
    fn renders_preflight_and_cleanup_defensively() {
        let page = report_page(&sample()).unwrap();
        assert!(page.contains("LAG_TOO_HIGH"));
        assert!(page.contains("replication lag is 12 minutes"));
        assert!(page.contains("0 blocking, 1 warnings, 6 servers checked; mode FAIL"));
        assert!(page.contains("5 recovery instances terminated"));
        assert!(page.contains("alice@example.com"));
        assert!(page.contains("the snapshot of the recovery instance"));

        let mut odd = sample();
        odd.preflight = json!({"findings": [42, {"code": "ODD"}], "verdict": null});
        odd.cleanup = Some(json!("done"));
        let page = report_page(&odd).unwrap();
        assert!(page.contains(">ODD<"));
        assert!(page.contains("No cleanup recorded."));
        odd.preflight = Value::Null;
        assert!(report_page(&odd)
            .unwrap()
            .contains("No preflight recorded."));
    }

    #[test]
    fn aggregates_the_timeline_of_a_thousand_servers_per_wave() {
        let mut report = sample();
        report.servers = (0..1000)
            .map(|i| {
                server(
                    &format!("s-{i:017}"),
                    i % 3,
                    (i % 3) as i64 * 300,
                    240 + (i % 3) as i64 * 300 + (i % 7) as i64,
                )
            })
            .collect();
        report.servers[10].launch_status = "FAILED".to_string();
        let started = std::time::Instant::now();
        let page = report_page(&report).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(page.contains(r#"class="gantt tl aggregated""#));
        assert!(
            page.matches("<rect").count() < 40,
            "{}",
            page.matches("<rect").count()
        );
        assert_eq!(page.matches(r#"<tr class="server"#).count(), 1000);
        assert!(page.contains(">334 servers</text>"));
        assert!(page.contains(">launched 334/334 · worst RTO 4m 06s</text>"));
        assert!(page.contains(">launched 332/333 · ✗ failed 1 · worst RTO 9m 06s</text>"));
        assert!(!report_page(&sample()).unwrap().contains("aggregated"));
    }

    #[test]
    fn lists_runs_in_the_given_order_with_links_and_charts() {
        let entries = [
            entry(
                "payments",
                "run-3",
                "2026-11-27T10:00:00Z",
                "MISSED",
                Some(1000),
            ),
            entry("crm", "run-2", "2026-11-26T10:00:00Z", "MET", Some(300)),
            entry("payments", "run-1", "2026-11-25T10:00:00Z", "MET", None),
        ];
        let page = index_page(&entries).unwrap();
        let at = |s: &str| page.find(s).unwrap();
        assert!(at(r#"data-execution="run-3""#) < at(r#"data-execution="run-2""#));
        assert!(at(r#"data-execution="run-2""#) < at(r#"data-execution="run-1""#));
        assert!(page.contains(r#"<a href="payments/run-3/report.html">"#));
        assert!(page.contains(r#"<a href="crm/run-2/report.html">"#));
        assert!(page.contains("16m 40s"));
        assert!(page.contains(r#"data-plan="payments""#));
        assert!(page.contains("target 15m 00s"));
        // Oldest left: the run without an RTO comes before the missed one.
        let chart = PlanChart::new("payments", &[&entries[0], &entries[2]]);
        assert_eq!(chart.bars[0].class, "none");
        assert_eq!(chart.bars[1].class, "missed");
        assert!(chart.bars[0].x < chart.bars[1].x);
    }

    #[test]
    fn says_so_when_there_are_no_runs() {
        let page = index_page(&[]).unwrap();
        assert!(page.contains("No runs yet."));
        assert!(!page.contains("<table"));
    }

    #[test]
    fn writes_a_sample_page_to_look_at() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        let _ = std::fs::write(
            dir.join("report-sample.html"),
            report_page(&sample()).unwrap(),
        );
        let mut large = sample();
        large.disaster_at = Some("2026-11-25T09:55:00Z".to_string());
        large.servers = (0..240)
            .map(|i| {
                server(
                    &format!("s-{i:017}"),
                    i % 3,
                    (i % 3) as i64 * 300,
                    250 + (i % 3) as i64 * 300 + (i % 9) as i64,
                )
            })
            .collect();
        large.servers[7].launch_status = "FAILED".to_string();
        let _ = std::fs::write(
            dir.join("report-sample-large.html"),
            report_page(&large).unwrap(),
        );
        let entries = [
            entry(
                "payments-prod",
                "run-3",
                "2026-11-27T10:00:00Z",
                "MISSED",
                Some(1000),
            ),
            entry("crm", "run-2", "2026-11-26T10:00:00Z", "MET", Some(300)),
            entry(
                "payments-prod",
                "run-1",
                "2026-11-25T10:00:00Z",
                "MET",
                Some(845),
            ),
            entry(
                "payments-prod",
                "run-0",
                "2026-11-24T10:00:00Z",
                "MET",
                None,
            ),
        ];
        let _ = std::fs::write(dir.join("index-sample.html"), index_page(&entries).unwrap());
    }
}
