//! The timeline of a run: the Gantt chart's geometry, in viewBox units, for `gantt.svg`.

use super::*;

const VIEW_W: f64 = 1000.0;
const LABEL_RIGHT: f64 = 196.0;
pub(super) const PLOT_X: f64 = 204.0;
const PLOT_RIGHT: f64 = 900.0;
const AXIS_Y: f64 = 16.0;
const ROWS_TOP: f64 = 24.0;
const ROW_H: f64 = 20.0;
const BAR_H: f64 = 12.0;
const LABEL_CHARS: usize = 30;
const CHAR_W: f64 = 6.2;

/// The Gantt chart of a run, in viewBox units.
pub(super) struct Gantt {
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) label_right: f64,
    pub(super) plot_x: f64,
    pub(super) axis_y: f64,
    pub(super) grid_top: f64,
    pub(super) grid_bottom: f64,
    pub(super) ticks: Vec<Tick>,
    pub(super) rows: Vec<GanttRow>,
    pub(super) markers: Vec<Marker>,
    pub(super) row_h: f64,
    pub(super) aggregated: bool,
    pub(super) has_disaster: bool,
    /// What the x axis counts from.
    pub(super) origin: String,
}

pub(super) struct Tick {
    pub(super) x: f64,
    pub(super) label: String,
}

pub(super) struct GanttRow {
    pub(super) class: &'static str,
    /// `data-server` of a server's row, to find it.
    pub(super) server: String,
    pub(super) band_y: f64,
    pub(super) text_y: f64,
    pub(super) label: String,
    pub(super) title: String,
    pub(super) bars: Vec<Bar>,
    pub(super) note: Option<Note>,
}

pub(super) struct Bar {
    pub(super) class: &'static str,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
    pub(super) title: String,
}

pub(super) struct Note {
    pub(super) class: &'static str,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) anchor: &'static str,
    pub(super) text: String,
}

pub(super) struct Marker {
    pub(super) class: &'static str,
    pub(super) x: f64,
    pub(super) label: String,
    pub(super) label_y: f64,
    pub(super) anchor: &'static str,
}

/// Maps times to x coordinates: `origin` is at `PLOT_X`, `origin + span` at `PLOT_RIGHT`.
pub(super) struct Scale {
    pub(super) origin: f64,
    pub(super) span: f64,
    pub(super) run_end: f64,
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
pub(super) fn tick_step(span: f64) -> f64 {
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
pub(super) struct RowDraft {
    pub(super) class: &'static str,
    pub(super) server: String,
    pub(super) label: String,
    pub(super) title: String,
    /// (class, start offset, end offset, tooltip)
    pub(super) spans: Vec<(&'static str, f64, f64, String)>,
    pub(super) note: String,
    pub(super) note_class: &'static str,
}

impl RowDraft {
    pub(super) fn new(class: &'static str, label: String) -> RowDraft {
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
    pub(super) fn new(report: &Report) -> Gantt {
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

pub(super) fn layout_row(draft: RowDraft, i: usize, scale: &Scale) -> GanttRow {
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
pub(super) fn row_drafts(report: &Report, scale: &Scale, aggregated: bool) -> Vec<RowDraft> {
    let mut waves: Vec<(usize, Option<&crate::report::model::WaveReport>)> =
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

pub(super) fn server_row(s: &ServerReport, scale: &Scale) -> RowDraft {
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

pub(super) fn restore_row(r: &RestoreReport, scale: &Scale) -> RowDraft {
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

pub(super) fn span_of<'a>(
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

pub(super) fn aggregate_servers(
    index: usize,
    servers: &[&ServerReport],
    scale: &Scale,
) -> Option<RowDraft> {
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

pub(super) fn aggregate_restores(
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
