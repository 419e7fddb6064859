//! How a run moves on and how it ended, with no I/O: after each wave, whether the next one
//! runs (the rule behind the workflow's `What next` Choice); when the waves are over, the run's
//! outcome from every wave's result, an interruption and the drill cleanup, with the cause a
//! person reads and the notification that says so. The workflow only routes on what these
//! functions write.

use serde_json::json;

use crate::contract::{JobState, WaveReport};
use crate::plan::{
    ApprovalDecision, EndNotice, Judged, Next, Notice, RunState, Settled, WaveFinished, WaveResult,
    WaveState, Workflow,
};
use crate::report::model::{Outcome, OutcomeState};
use crate::status::truncate;
use crate::wave::MAX_CAUSE_CHARS;

/// Servers that did not launch listed in a wave's result as the run state carries it (the
/// check lists [`crate::wave::MAX_LISTED_SERVERS_PER_WAVE`]; the rest are counted): every
/// wave's result stays in the state to the end of the run, next to the prepared waves.
pub const MAX_LISTED_SERVERS_PER_RESULT: usize = 10;

/// Where a run's causes point for jobs that may still run.
const JOBS_HINT: &str = "see DRS jobs tagged dr-orchestrator:idempotency-key by this run";

/// What a wave's judgement rests on: the check of its jobs, or why there was none.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// check-status judged every job of the wave.
    Checked(WaveReport),
    /// The wave never started: its approval was refused or not given in time.
    NotStarted,
    /// The jobs could not be checked (`Judge wave` failed; the failure is in the state).
    Unchecked,
}

/// Records the judged wave in the run's progress and decides what runs next: the next wave,
/// unless this one failed and the plan does not continue past a failed wave (a wave that was
/// never approved, or could not be checked, always stops the run).
pub fn judge_wave(state: &WaveState, verdict: Verdict, execution_id: &str) -> Judged {
    let wave = &state.wave;
    let scope = &wave.scope;
    let (state_of_wave, summary, error, cause, started_at, ended_at, jobs, stops) = match verdict {
        Verdict::Checked(report) => {
            let failed = report.state != JobState::Succeeded;
            (
                if failed {
                    JobState::Failed
                } else {
                    JobState::Succeeded
                },
                report.summary,
                report.error,
                report.cause,
                report.started_at,
                report.ended_at,
                report.jobs,
                failed && !state.options.continue_on_wave_failure,
            )
        }
        Verdict::NotStarted => {
            let (error, cause) = refused(scope, &state.decision, &state.wave);
            let summary = format!("{scope}: not started ({error})");
            (
                JobState::Failed,
                summary,
                error,
                cause,
                None,
                None,
                Vec::new(),
                true,
            )
        }
        Verdict::Unchecked => {
            let failure = state.check_error.clone().unwrap_or_default();
            let cause = truncate(
                &format!(
                    "{scope}: its jobs could not be checked and may still be running ({JOBS_HINT}): {}: {}",
                    failure.error, failure.cause
                ),
                MAX_CAUSE_CHARS,
            );
            (
                JobState::Failed,
                format!("{scope}: not checked ({})", failure.error),
                failure.error,
                cause,
                None,
                None,
                Vec::new(),
                true,
            )
        }
    };
    let mut jobs = jobs;
    crate::wave::bound_listing(&mut jobs, MAX_LISTED_SERVERS_PER_RESULT);
    let mut progress = state.progress.clone();
    progress.results.push(WaveResult {
        index: wave.index,
        name: wave.name.clone(),
        state: state_of_wave,
        summary: summary.clone(),
        error: error.clone(),
        cause: cause.clone(),
        started_at: started_at.clone(),
        ended_at: ended_at.clone(),
        jobs,
        approval: state.decision.clone(),
    });
    progress.wave = wave.index + 1;
    progress.next = if stops || progress.wave >= progress.waves {
        Next::End
    } else {
        Next::RunWave
    };
    let finished = WaveFinished {
        kind: "WAVE_FINISHED".into(),
        wave: scope.clone(),
        state: state_of_wave,
        summary,
        started_at,
        ended_at,
        error,
        cause,
        execution_id: execution_id.to_owned(),
    };
    Judged {
        progress,
        notice: Notice {
            subject: format!("{} {}", wave.notice, state_text(state_of_wave)),
            message: serde_json::to_value(finished).unwrap_or_else(|_| json!({})),
        },
    }
}

/// The error and cause of a wave its approver did not let start.
fn refused(
    scope: &str,
    decision: &ApprovalDecision,
    wave: &crate::plan::RanWave,
) -> (String, String) {
    match decision {
        ApprovalDecision::Rejected { reason, answer, .. } => (
            "Rejected".into(),
            truncate(
                &format!(
                    "{scope} was rejected by {} before it started ({reason}); nothing of it was started: {}",
                    answer.by, answer.reason
                ),
                MAX_CAUSE_CHARS,
            ),
        ),
        ApprovalDecision::NotAnAnswer { reason, .. } => (
            "NotAnAnswer".into(),
            format!(
                "the approval wait for {scope} ({reason}) was resumed by something other than the approval endpoint; that is not an approval, so nothing of it was started"
            ),
        ),
        ApprovalDecision::TimedOut { reason, .. } => (
            "ApprovalTimedOut".into(),
            format!(
                "nobody answered the approval request for {scope} within {} s ({reason}); nothing of it was started",
                wave.approval.ask.as_ref().map_or(0, |a| a.timeout_seconds)
            ),
        ),
        ApprovalDecision::NotRequired | ApprovalDecision::Approved { .. } => (
            "Unexpected".into(),
            format!("{scope} was approved (or needed no approval) but its rounds did not run"),
        ),
    }
}

/// How the run ended, from what the workflow carries once the waves and the cleanup are over.
pub fn settle(run: &RunState) -> Settled {
    let plan = &run.plan;
    let progress = &plan.progress;
    let waves = match &progress.interrupted {
        Some(failure) => Some((
            failure.error.clone(),
            truncate(
                &format!(
                    "wave {} could not be run to its end, its jobs may still be running ({JOBS_HINT}): {}",
                    progress.wave, failure.cause
                ),
                MAX_CAUSE_CHARS,
            ),
        )),
        None => failed_waves(plan.workflow, &progress.results, plan.options.continue_on_wave_failure),
    };
    let cleanup = cleanup_failure(run);
    let outcome = match (waves, cleanup) {
        (None, None) => Outcome {
            state: OutcomeState::Succeeded,
            error: None,
            cause: None,
        },
        (Some((error, cause)), None) => failed(error, cause),
        (None, Some(cleanup)) => failed("CleanupFailed".into(), cleanup),
        (Some((error, cause)), Some(cleanup)) => failed(
            error,
            format!("{cause} | and the drill cleanup failed: {cleanup}"),
        ),
    };
    let failed = outcome.state == OutcomeState::Failed;
    let notice = EndNotice {
        kind: if failed { "RUN_FAILED" } else { "RUN_FINISHED" }.into(),
        severity: if failed { "ERROR" } else { "INFO" }.into(),
        subject: format!("{} {}", plan.notices.ended, state_of(outcome.state)),
    };
    Settled { outcome, notice }
}

fn failed(error: String, cause: String) -> Outcome {
    Outcome {
        state: OutcomeState::Failed,
        error: Some(error),
        cause: Some(cause),
    }
}

/// The error and cause of the waves that failed, if any: the one that stopped the run, or,
/// when the plan continued past failed waves, all of them.
fn failed_waves(
    workflow: Workflow,
    results: &[WaveResult],
    continued: bool,
) -> Option<(String, String)> {
    let failed: Vec<&WaveResult> = results
        .iter()
        .filter(|w| w.state != JobState::Succeeded)
        .collect();
    let first = failed.first()?;
    if !continued || failed.len() == 1 {
        return Some((first.error.clone(), first.cause.clone()));
    }
    let error = match workflow {
        Workflow::RecoveryPlan => "RecoveryFailed",
        Workflow::Failback => "FailbackFailed",
        Workflow::Restore => "RestoreFailed",
    };
    let causes: Vec<&str> = failed.iter().map(|w| w.cause.as_str()).collect();
    Some((
        error.into(),
        truncate(
            &format!(
                "the plan continued past {} failed waves: {}",
                failed.len(),
                causes.join(" | ")
            ),
            MAX_CAUSE_CHARS * 2,
        ),
    ))
}

/// Why the drill cleanup failed, if it did.
fn cleanup_failure(run: &RunState) -> Option<String> {
    if let Some(failure) = &run.cleanup_error {
        return Some(format!(
            "drill cleanup failed, its recovery instances may still run (terminate them in the DRS console; the sweeper also will): {}: {}",
            failure.error, failure.cause
        ));
    }
    let crate::cleanup::Cleanup::Ran(report) = &run.cleanup_result.as_ref()?.report else {
        return None;
    };
    (report.state == crate::cleanup::CleanupState::Failed).then(|| {
        report
            .cause
            .clone()
            .unwrap_or_else(|| report.summary.clone())
    })
}

fn state_text(state: JobState) -> &'static str {
    match state {
        JobState::InProgress => "IN_PROGRESS",
        JobState::Succeeded => "SUCCEEDED",
        JobState::Failed => "FAILED",
    }
}

fn state_of(state: OutcomeState) -> &'static str {
    state.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval::{ApprovalAnswer, Verdict as Answered};
    use crate::contract::{JobReport, NotStartedStatus};
    use crate::plan::{CleanupResult, Progress, Started, TaskFailure};
    use crate::report::model::OutcomeState;
    use serde_json::json;

    fn failure(error: &str, cause: &str) -> TaskFailure {
        TaskFailure {
            error: error.into(),
            cause: cause.into(),
        }
    }

    const EXECUTION: &str = "arn:aws:states:eu-west-1:123456789012:execution:rp:x";

    /// A wave's branch state as the workflow wrote it (a real recovery's first wave, from an
    /// e2e run), made wave `index` of `waves`.
    fn state(index: usize, waves: usize, decision: ApprovalDecision, continued: bool) -> WaveState {
        let sample: serde_json::Value = serde_json::from_str(include_str!(
            "../events/check-status/judge-approved-wave.json"
        ))
        .unwrap();
        let mut state: WaveState = serde_json::from_value(sample["state"].clone()).unwrap();
        state.wave.index = index;
        state.wave.scope = format!("wave {index} (w{index})");
        state.wave.notice = format!("Drill of p: wave {index} (w{index})");
        state.wave.rounds = Started::default();
        state.options.continue_on_wave_failure = continued;
        state.progress = Progress {
            wave: index,
            ..Progress::start(waves)
        };
        state.decision = decision;
        state.answer = None;
        state
    }

    fn report(state: JobState, error: &str, cause: &str) -> WaveReport {
        WaveReport {
            state,
            summary: "s".into(),
            error: error.into(),
            cause: cause.into(),
            elapsed_seconds: 1,
            started_at: Some("2026-11-25T06:00:00Z".into()),
            ended_at: Some("2026-11-25T06:01:00Z".into()),
            jobs: vec![JobReport::NotStarted(NotStartedStatus {
                label: None,
                state,
                error: error.into(),
                cause: cause.into(),
                may_be_running: false,
                idempotency_key: None,
            })],
        }
    }

    fn answer(verdict: Answered, reason: &str) -> ApprovalAnswer {
        ApprovalAnswer {
            approval_id: "apr-0123456789abcdef0123".into(),
            verdict,
            by: "arn:aws:sts::123456789012:assumed-role/DrApprover/ada".into(),
            at: "2026-11-25T06:00:00Z".into(),
            reason: reason.into(),
        }
    }

    fn approved() -> ApprovalDecision {
        ApprovalDecision::Approved {
            reason: "a real recovery".into(),
            answer: answer(Answered::Approved, "go"),
            decided_at: "2026-11-25T06:00:00Z".into(),
        }
    }

    #[test]
    fn a_wave_that_succeeded_moves_the_run_to_the_next_and_the_last_ends_it() {
        let s = state(0, 2, approved(), false);
        let judged = judge_wave(
            &s,
            Verdict::Checked(report(JobState::Succeeded, "", "")),
            EXECUTION,
        );
        assert_eq!(
            (judged.progress.next, judged.progress.wave),
            (Next::RunWave, 1)
        );
        assert_eq!(judged.progress.results.len(), 1);
        assert_eq!(judged.progress.results[0].approval, approved());
        assert_eq!(judged.notice.subject, "Drill of p: wave 0 (w0) SUCCEEDED");
        assert_eq!(judged.notice.message["kind"], "WAVE_FINISHED");
        assert_eq!(judged.notice.message["executionId"], EXECUTION);
        let last = state(1, 2, ApprovalDecision::NotRequired, false);
        let judged = judge_wave(
            &last,
            Verdict::Checked(report(JobState::Succeeded, "", "")),
            EXECUTION,
        );
        assert_eq!(judged.progress.next, Next::End);
    }

    #[test]
    fn a_failed_wave_stops_the_run_unless_the_plan_continues() {
        let failed =
            || Verdict::Checked(report(JobState::Failed, "RecoveryFailed", "wave 0: boom"));
        let stop = judge_wave(&state(0, 3, approved(), false), failed(), EXECUTION);
        assert_eq!(stop.progress.next, Next::End);
        assert_eq!(stop.notice.subject, "Drill of p: wave 0 (w0) FAILED");
        let go_on = judge_wave(&state(0, 3, approved(), true), failed(), EXECUTION);
        assert_eq!(
            (go_on.progress.next, go_on.progress.wave),
            (Next::RunWave, 1)
        );
    }

    #[test]
    fn a_rejected_or_unanswered_wave_is_recorded_and_always_stops_the_run() {
        let rejected = ApprovalDecision::Rejected {
            reason: "a real recovery".into(),
            answer: answer(Answered::Rejected, "not during the audit"),
            decided_at: "2026-11-25T06:00:00Z".into(),
        };
        let judged = judge_wave(
            &state(0, 2, rejected.clone(), true),
            Verdict::NotStarted,
            EXECUTION,
        );
        assert_eq!(judged.progress.next, Next::End);
        let result = &judged.progress.results[0];
        assert_eq!(
            (result.state, result.error.as_str()),
            (JobState::Failed, "Rejected")
        );
        assert!(
            result.cause.contains("not during the audit"),
            "{}",
            result.cause
        );
        assert!(
            result.cause.contains("nothing of it was started"),
            "{}",
            result.cause
        );
        assert_eq!(result.approval, rejected);
        let timed_out = ApprovalDecision::TimedOut {
            reason: "a real recovery".into(),
            decided_at: "2026-11-25T07:00:00Z".into(),
        };
        let judged = judge_wave(
            &state(0, 2, timed_out, true),
            Verdict::NotStarted,
            EXECUTION,
        );
        let result = &judged.progress.results[0];
        assert_eq!(result.error, "ApprovalTimedOut");
        assert!(result.cause.contains("within 3600 s"), "{}", result.cause);
        let not_an_answer = ApprovalDecision::NotAnAnswer {
            reason: "a real recovery".into(),
            decided_at: "2026-11-25T07:00:00Z".into(),
        };
        let judged = judge_wave(
            &state(0, 2, not_an_answer, true),
            Verdict::NotStarted,
            EXECUTION,
        );
        assert_eq!(judged.progress.next, Next::End);
        assert_eq!(judged.progress.results[0].error, "NotAnAnswer");
    }

    #[test]
    fn a_wave_that_could_not_be_checked_says_its_jobs_may_still_run() {
        let mut s = state(0, 2, approved(), true);
        s.check_error = Some(failure("AwsUnavailable", "DescribeJobs: 503"));
        let judged = judge_wave(&s, Verdict::Unchecked, EXECUTION);
        let result = &judged.progress.results[0];
        assert_eq!(judged.progress.next, Next::End);
        assert_eq!(result.error, "AwsUnavailable");
        assert!(
            result.cause.contains("may still be running"),
            "{}",
            result.cause
        );
        assert!(
            result.cause.contains("DescribeJobs: 503"),
            "{}",
            result.cause
        );
    }

    fn run(results: Vec<WaveResult>, continued: bool) -> RunState {
        let mut plan: crate::plan::PreparedPlan = serde_json::from_value(
            serde_json::from_str(include_str!("../events/report/write-after-a-drill.json"))
                .map(|v: serde_json::Value| v["run"].clone())
                .unwrap(),
        )
        .unwrap();
        plan.options.continue_on_wave_failure = continued;
        plan.progress.results = results;
        plan.notices.ended = "Drill of p".into();
        RunState {
            plan,
            measured: None,
            cleanup_result: None,
            cleanup_error: None,
            settled: None,
            ending: None,
            notify_error: None,
            measure_error: None,
            report_error: None,
        }
    }

    fn result(index: usize, state: JobState, error: &str, cause: &str) -> WaveResult {
        judge_wave(
            &self::state(index, 3, ApprovalDecision::NotRequired, true),
            Verdict::Checked(report(state, error, cause)),
            EXECUTION,
        )
        .progress
        .results
        .pop()
        .unwrap()
    }

    #[test]
    fn a_run_succeeds_when_every_wave_did_and_its_cleanup_too() {
        let settled = settle(&run(vec![result(0, JobState::Succeeded, "", "")], false));
        assert_eq!(settled.outcome.state, OutcomeState::Succeeded);
        assert_eq!(settled.notice.kind, "RUN_FINISHED");
        assert_eq!(settled.notice.severity, "INFO");
        assert_eq!(settled.notice.subject, "Drill of p SUCCEEDED");
    }

    #[test]
    fn a_run_fails_with_the_wave_that_stopped_it_or_with_every_failed_wave() {
        let stopped = settle(&run(
            vec![result(0, JobState::Failed, "TimedOut", "wave 0: slow")],
            false,
        ));
        assert_eq!(stopped.outcome.error.as_deref(), Some("TimedOut"));
        assert_eq!(stopped.outcome.cause.as_deref(), Some("wave 0: slow"));
        assert_eq!(
            (
                stopped.notice.kind.as_str(),
                stopped.notice.severity.as_str()
            ),
            ("RUN_FAILED", "ERROR")
        );
        let continued = settle(&run(
            vec![
                result(0, JobState::Failed, "RecoveryFailed", "wave 0: a"),
                result(1, JobState::Succeeded, "", ""),
                result(2, JobState::Failed, "TimedOut", "wave 2: b"),
            ],
            true,
        ));
        assert_eq!(continued.outcome.error.as_deref(), Some("RecoveryFailed"));
        let cause = continued.outcome.cause.unwrap();
        assert!(
            cause.contains("wave 0: a") && cause.contains("wave 2: b"),
            "{cause}"
        );
    }

    #[test]
    fn an_interrupted_run_and_a_failed_cleanup_are_failures_too() {
        let mut r = run(vec![result(0, JobState::Succeeded, "", "")], false);
        r.plan.progress.interrupted = Some(failure("States.Runtime", "no such path"));
        r.plan.progress.wave = 1;
        let settled = settle(&r);
        assert_eq!(settled.outcome.error.as_deref(), Some("States.Runtime"));
        assert!(settled
            .outcome
            .cause
            .as_deref()
            .unwrap()
            .starts_with("wave 1 could not be run"));
        let mut r = run(vec![result(0, JobState::Succeeded, "", "")], false);
        r.cleanup_error = Some(failure("AwsUnavailable", "TerminateRecoveryInstances: 503"));
        let settled = settle(&r);
        assert_eq!(settled.outcome.error.as_deref(), Some("CleanupFailed"));
        let mut r = run(
            vec![result(0, JobState::Failed, "RecoveryFailed", "wave 0: a")],
            false,
        );
        r.cleanup_result = Some(CleanupResult {
            report: serde_json::from_value(
                json!({"state": "FAILED", "summary": "1 of 1 not terminated",
                    "startedAt": "2026-12-06T05:00:00Z", "terminateJobIDs": ["drsjob-1"],
                    "instances": 1, "terminated": 0, "failedCount": 1,
                    "failed": [], "refusedCount": 0, "refused": [],
                    "cause": "i-1 did not terminate"}),
            )
            .unwrap(),
        });
        let settled = settle(&r);
        assert_eq!(settled.outcome.error.as_deref(), Some("RecoveryFailed"));
        assert_eq!(
            settled.outcome.cause.as_deref(),
            Some("wave 0: a | and the drill cleanup failed: i-1 did not terminate")
        );
    }
}
