//! `report.html` and `runs/index.html`. Rust turns a [`Report`] (or the index entries) into a
//! view model of plain numbers, coordinates, labels and CSS classes; the askama templates under
//! `templates/` hold all the markup and escape every string. The pages are self-contained:
//! inline CSS and SVG, system fonts, no script, and they read in black-and-white print.

use std::collections::HashMap;

use askama::Template;
use serde_json::Value;

use super::model::{IndexEntry, Judgement, Report, RestoreReport, ServerReport, Targets, Worst};

/// Above this many servers and restores in a run, the timeline draws one row per wave (its
/// first job start to its last launch, with counts and the worst RTO) instead of one per
/// server. The tables still list every server.
pub const GANTT_MAX_DETAIL_ROWS: usize = 60;

/// How many runs per plan the index charts show (the newest).
const SPARK_MAX_RUNS: usize = 40;

/// The self-contained report page of one run.
pub fn report_page(report: &Report) -> Result<String, askama::Error> {
    ReportPage::new(report).render()
}

/// runs/index.html: every run newest first (entries come sorted), with per plan a small chart
/// of achieved worst RTO over time. `report` links in entries are relative to runs/.
pub fn index_page(entries: &[IndexEntry]) -> Result<String, askama::Error> {
    IndexPage::new(entries).render()
}

pub use super::measure::duration_text;
use super::measure::epoch;

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
    decision: String,
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
            "SKIPPED" => ("unknown", "Drill skipped"),
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
                decision: match &a.note {
                    Some(note) => format!("{}: {note}", a.decision),
                    None => a.decision.clone(),
                },
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
            outcome_class: state_class(report.outcome.state.as_str()),
            outcome_state: report.outcome.state.as_str().to_owned(),
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

mod gantt;
mod history;
#[cfg(test)]
mod tests;

use gantt::Gantt;
use history::IndexPage;
