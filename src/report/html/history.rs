//! The history page (`runs/index.html`): every run newest first, and per plan a chart of the
//! achieved worst RTO over time.

use super::gantt::Bar;
use super::*;

#[derive(Template)]
#[template(path = "index.html")]
pub(super) struct IndexPage {
    pub(super) runs: Vec<IndexRow>,
    pub(super) plans: Vec<PlanChart>,
}

pub(super) struct IndexRow {
    pub(super) plan: String,
    pub(super) kind: &'static str,
    pub(super) date: String,
    pub(super) outcome: String,
    pub(super) outcome_class: String,
    pub(super) verdict: String,
    pub(super) verdict_class: String,
    pub(super) rto: String,
    pub(super) rpo: String,
    pub(super) link: String,
    pub(super) execution_id: String,
}

/// A plan's worst RTO per run, oldest left, in a 300×90 viewBox.
pub(super) struct PlanChart {
    pub(super) name: String,
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) base_y: f64,
    pub(super) runs: String,
    pub(super) bars: Vec<Bar>,
    pub(super) target: Option<SparkTarget>,
    pub(super) max_label: String,
    pub(super) latest: String,
}

/// The RTO target as a horizontal line.
pub(super) struct SparkTarget {
    pub(super) y: f64,
    pub(super) label_y: f64,
    pub(super) label: String,
}

pub(super) const SPARK_W: f64 = 300.0;
pub(super) const SPARK_H: f64 = 90.0;
pub(super) const SPARK_TOP: f64 = 14.0;
pub(super) const SPARK_BASE: f64 = 80.0;

impl PlanChart {
    pub(super) fn new(name: &str, newest_first: &[&IndexEntry]) -> PlanChart {
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

pub(super) fn verdict_bar_class(verdict: &str) -> &'static str {
    match verdict {
        "MET" => "met",
        "MISSED" => "missed",
        _ => "neutral",
    }
}

impl IndexPage {
    pub(super) fn new(entries: &[IndexEntry]) -> IndexPage {
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
