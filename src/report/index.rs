//! The history of runs (`runs/index.json`): every run newest first, one entry per execution.
//! Merging is idempotent, so a writer that lost a conditional write simply merges again.

use super::measure::epoch;
use super::model::{IndexEntry, Report};

/// The history as stored.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub runs: Vec<IndexEntry>,
}

/// The index entry of a report stored at `html_key` (relative to `runs/`).
pub fn entry(report: &Report, html_key: &str) -> IndexEntry {
    IndexEntry {
        plan_name: report.plan_name.clone(),
        execution_id: report.execution_id.clone(),
        workflow: report.workflow.clone(),
        is_drill: report.is_drill,
        run_started_at: report.run_started_at.clone(),
        outcome: report.outcome.state.as_str().to_owned(),
        verdict: report.verdict.state.clone(),
        worst_rto_seconds: report.verdict.worst_rto.as_ref().map(|w| w.seconds),
        worst_rpo_seconds: report.verdict.worst_rpo.as_ref().map(|w| w.seconds),
        rto_target_minutes: report.targets.rto_minutes,
        report: html_key.to_owned(),
    }
}

/// `history` with `entry` in it (replacing an earlier entry of the same execution), newest
/// first.
pub fn merge(mut history: History, entry: IndexEntry) -> History {
    history
        .runs
        .retain(|e| e.execution_id != entry.execution_id);
    history.runs.push(entry);
    history.runs.sort_by(|a, b| {
        let t = |e: &IndexEntry| epoch(&e.run_started_at).unwrap_or(0.0);
        t(b).total_cmp(&t(a))
            .then_with(|| a.execution_id.cmp(&b.execution_id))
    });
    history
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, at: &str, verdict: &str) -> IndexEntry {
        IndexEntry {
            plan_name: "p".into(),
            execution_id: id.into(),
            workflow: "RECOVERY_PLAN".into(),
            is_drill: Some(true),
            run_started_at: at.into(),
            outcome: "SUCCEEDED".into(),
            verdict: verdict.into(),
            worst_rto_seconds: Some(60),
            worst_rpo_seconds: None,
            rto_target_minutes: None,
            report: format!("p/{id}/report.html"),
        }
    }

    #[test]
    fn newest_first_and_one_entry_per_execution() {
        let h = merge(History::default(), e("a", "2026-11-01T06:00:00Z", "MET"));
        let h = merge(h, e("c", "2026-11-20T06:00:00Z", "MET"));
        let h = merge(h, e("b", "2026-11-10T06:00:00.5Z", "MET"));
        let h = merge(h, e("a", "2026-11-01T06:00:00Z", "MISSED"));
        let ids: Vec<&str> = h.runs.iter().map(|e| e.execution_id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
        assert_eq!(h.runs[2].verdict, "MISSED");
        assert_eq!(
            merge(h.clone(), h.runs[0].clone()),
            h,
            "merging again changes nothing"
        );
    }
}
