//! What a run tells the stack's notifications topic besides approval requests (pure).
//!
//! The workflows publish five kinds (`RUN_FAILED` at two moments), each with a short human
//! subject, a JSON body and the message attributes `kind` and `severity` (for subscription
//! filter policies):
//!
//! | kind | severity | when | subject |
//! | --- | --- | --- | --- |
//! | `RUN_STARTED` | `INFO` | the plan is prepared, before the first wave | [`RunNotices::started`], whole |
//! | `WAVE_FINISHED` | `INFO` | a wave was judged | the wave's [`wave_subject`] + its state |
//! | `RUN_FAILED` | `ERROR` | the run failed (after its report) | [`RunNotices::ended`] + `FAILED` |
//! | `RUN_FINISHED` | `INFO` | the run succeeded (after its report) | [`RunNotices::ended`] + `SUCCEEDED` |
//! | `RUN_FAILED` | `ERROR` | prepare-plan refused the run (after its report) | [`refused_subject`], whole |
//! | `RUN_SKIPPED` | `WARNING` | a scheduled drill while the last drill of its plan runs | [`skipped_subject`], whole |
//!
//! Subjects are written here, bounded so that what the workflow appends (a space and a state of
//! at most 9 characters) keeps them inside SNS's limit; the other bodies are put together by
//! the workflow from the check's and the report's own output.

use serde_json::json;

use crate::approval::{self, WaveCount, MAX_SUBJECT_LEN};
use crate::plan::input::Workflow;
use crate::plan::run_state::{Notice, PreparedPlan, PreparedWave, RunNotices};

/// Room a workflow needs after a prepared subject prefix: ` SUCCEEDED`.
pub const APPENDED_CHARS: usize = 10;

/// How a subject names a run: `Drill of payments`, `REAL recovery of payments`, ...
pub fn run_label(workflow: Workflow, is_drill: Option<bool>, plan_name: &str) -> String {
    let what = match (workflow, is_drill) {
        (Workflow::RecoveryPlan, Some(true)) => "Drill",
        (Workflow::RecoveryPlan, _) => "REAL recovery",
        (Workflow::Failback, _) => "Failback",
        (Workflow::Restore, _) => "Restore",
    };
    format!("{what} of {plan_name}")
}

/// What a refused run's `RUN_FAILED` is called: `Drill of payments refused, nothing started`.
/// The plan name was not validated, so it is the part that gets shortened.
pub fn refused_subject(workflow: Workflow, is_drill: Option<bool>, plan_name: &str) -> String {
    const TAIL: &str = " refused, nothing started";
    let label = match (workflow, is_drill) {
        // A plan refused before it said drill or real is neither.
        (Workflow::RecoveryPlan, None) => format!("Recovery of {plan_name}"),
        _ => run_label(workflow, is_drill, plan_name),
    };
    format!("{}{TAIL}", fit(&label, MAX_SUBJECT_LEN - TAIL.len()))
}

/// The subject of a scheduled drill skipped because the last drill of its plan still runs.
pub fn skipped_subject(plan_name: &str) -> String {
    const TAIL: &str = " skipped: the last drill still runs";
    format!(
        "Drill of {}{TAIL}",
        fit(plan_name, MAX_SUBJECT_LEN - TAIL.len() - 9)
    )
}

/// A subject the workflow completes with a state.
pub fn prefix(text: &str) -> String {
    fit(text, MAX_SUBJECT_LEN - APPENDED_CHARS)
}

/// `text` as printable ASCII in at most `room` characters, cut with `...` when longer.
fn fit(text: &str, room: usize) -> String {
    let clean = approval::subject(text);
    if clean.len() <= room {
        clean
    } else {
        format!("{}...", &clean[..room - 3])
    }
}

/// The subject prefix of a wave's `WAVE_FINISHED`: `Drill of payments: wave 1 (application)`.
pub fn wave_subject(label: &str, scope: &str) -> String {
    prefix(&format!("{label}: {scope}"))
}

/// Writes a prepared plan's notices: the run's, and each wave's subject prefix.
pub fn annotate(plan: &mut PreparedPlan) {
    let label = run_label(plan.workflow, plan.is_drill, &plan.plan_name);
    plan.notices = run_notices(plan, &label);
    for wave in &mut plan.waves {
        wave.notice = wave_subject(&label, &wave.scope);
    }
}

/// The run's `RUN_STARTED` and the prefix of its last notification.
fn run_notices(plan: &PreparedPlan, label: &str) -> RunNotices {
    let waves: Vec<WaveCount> = plan.waves.iter().map(PreparedWave::count).collect();
    let counts = match (plan.servers, plan.restores) {
        (s, 0) => count(s, "server"),
        (0, r) => count(r, "restore"),
        (s, r) => format!("{}, {}", count(s, "server"), count(r, "restore")),
    };
    let subject = approval::subject(&format!(
        "{label} started: {}, {counts}",
        count(plan.waves.len(), "wave")
    ));
    RunNotices {
        started: Notice {
            subject,
            message: json!({
                "kind": "RUN_STARTED",
                "planName": plan.plan_name,
                "workflow": plan.workflow,
                "isDrill": plan.is_drill,
                "trigger": plan.trigger,
                "executionId": plan.execution_id,
                "startedAt": plan.started_at,
                "servers": plan.servers,
                "restores": plan.restores,
                "waves": waves,
                "preflight": approval::PreflightSummary::of(&plan.preflight),
            }),
        },
        ended: prefix(label),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_run_names_itself_and_says_nothing_started() {
        let s = refused_subject(Workflow::RecoveryPlan, Some(true), "payments");
        assert_eq!(s, "Drill of payments refused, nothing started");
        let real = refused_subject(Workflow::RecoveryPlan, Some(false), "payments");
        assert_eq!(real, "REAL recovery of payments refused, nothing started");
        let long = refused_subject(Workflow::RecoveryPlan, None, &"\u{e9}x".repeat(200));
        assert!(long.len() <= MAX_SUBJECT_LEN, "{long}");
        assert!(
            long.starts_with("Recovery of ?x?x") && long.ends_with("... refused, nothing started")
        );
        assert!(long.chars().all(|c| (' '..='~').contains(&c)));
    }

    #[test]
    fn prefixes_leave_room_for_the_state_the_workflow_appends() {
        let long = "x".repeat(300);
        let p = wave_subject(
            &run_label(Workflow::RecoveryPlan, Some(true), &long),
            "wave 0 (db)",
        );
        assert_eq!(p.len(), MAX_SUBJECT_LEN - APPENDED_CHARS);
        assert!(p.ends_with("..."));
        assert!(format!("{p} SUCCEEDED").len() <= MAX_SUBJECT_LEN);
        let short = wave_subject("Drill of payments", "wave 1 (app)");
        assert_eq!(short, "Drill of payments: wave 1 (app)");
    }

    #[test]
    fn subjects_are_printable_ascii() {
        let p = prefix(&run_label(Workflow::Failback, None, "zahlungen – süd\n"));
        assert!(p.chars().all(|c| (' '..='~').contains(&c)), "{p}");
    }

    #[test]
    fn a_real_recovery_says_so_in_capitals() {
        assert_eq!(
            run_label(Workflow::RecoveryPlan, Some(false), "payments"),
            "REAL recovery of payments"
        );
        assert_eq!(
            run_label(Workflow::Restore, None, "payments"),
            "Restore of payments"
        );
    }
}
