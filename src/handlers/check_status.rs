//! `check-status`: judges every job of a round and returns the state a `Choice` state routes
//! on, with a bounded report and, for a failed round, its error and cause (a payload without
//! `operation`, or `ROUND`); and judges a whole wave once its rounds are over (`WAVE`): its
//! approval, every job it started (or why none was), the run's progress with the wave's result,
//! and its `WAVE_FINISHED` notification. A wave that was never approved, or whose jobs could not
//! be checked (`checkError`), is judged without an AWS call.

use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::aws::{backup, drs};
use crate::contract::{
    self, JobReport, JobState, NotStartedStatus, Tracked, WaveCheckInput, WaveReport,
};
use crate::error::TaskError;
use crate::outage::Budget;
use crate::plan::{ApprovalDecision, Judged, WaveState};
use crate::progress::{self, Verdict};
use crate::{status, validate, wave};

/// What a payload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Operation {
    Round,
    Wave,
}

/// Input of the `WAVE` operation: the wave's branch state, and the execution it belongs to.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaveRequest {
    pub state: WaveState,
    pub execution_id: String,
}

/// The clients `check-status` needs: a wave may hold jobs of both services.
#[derive(Debug, Clone)]
pub struct Clients {
    pub drs: aws_sdk_drs::Client,
    pub backup: aws_sdk_backup::Client,
}

/// A request, parsed: a round's check or a wave's judgement.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Round(WaveCheckInput),
    Wave(Box<WaveRequest>),
}

/// Parses a request of either operation (a payload without `operation` is a round's check).
pub fn parse(mut payload: Value) -> Result<Request, TaskError> {
    Ok(match contract::take_operation(&mut payload)? {
        None | Some(Operation::Round) => Request::Round(contract::parse(payload)?),
        Some(Operation::Wave) => Request::Wave(Box::new(contract::parse(payload)?)),
    })
}

/// Handles one invocation: a round's check or a wave's judgement. A round's check that gives
/// up on an AWS outage (its step's `budget` spent) names the round's jobs in its error.
pub async fn handle(
    clients: &Clients,
    budget: Budget,
    event: LambdaEvent<Value>,
) -> Result<Value, TaskError> {
    let answer = match parse(event.payload)? {
        Request::Round(input) => {
            let jobs = input.jobs.clone();
            let report = check(clients, input).await.map_err(|err| {
                wave::outage_in_round(budget.judge(err, SystemTime::now()), &jobs)
            })?;
            serde_json::to_value(report)
        }
        Request::Wave(request) => serde_json::to_value(judge(clients, *request).await?),
    };
    answer.map_err(|e| TaskError::Unexpected {
        message: format!("serialising the answer: {e}"),
    })
}

/// Judges a wave whose rounds are over and moves the run's progress on.
pub async fn judge(clients: &Clients, request: WaveRequest) -> Result<Judged, TaskError> {
    let state = request.state;
    if !request.execution_id.starts_with("arn:") {
        return Err(TaskError::invalid(
            "executionId",
            "must be the execution's ARN ($$.Execution.Id)",
        ));
    }
    let verdict = match (&state.decision, &state.check_error) {
        (_, Some(_)) => Verdict::Unchecked,
        (
            ApprovalDecision::Rejected { .. }
            | ApprovalDecision::TimedOut { .. }
            | ApprovalDecision::NotAnAnswer { .. },
            None,
        ) => Verdict::NotStarted,
        (ApprovalDecision::NotRequired | ApprovalDecision::Approved { .. }, None) => {
            let input = WaveCheckInput {
                wave: state.wave.scope.clone(),
                jobs: state.wave.rounds.started.clone(),
                give_up_after_seconds: state.options.give_up_after_seconds,
                is_final: true,
            };
            Verdict::Checked(check(clients, input).await?)
        }
    };
    let judged = progress::judge_wave(&state, verdict, &request.execution_id);
    info!(wave = %state.wave.scope, next = ?judged.progress.next, "wave judged");
    Ok(judged)
}

/// Judges every job of a round (or, with `final`, of a whole wave).
pub async fn check(clients: &Clients, input: WaveCheckInput) -> Result<WaveReport, TaskError> {
    validate::wave_check(&input)?;

    let drs_ids: Vec<String> = input
        .jobs
        .iter()
        .filter_map(|j| match j {
            Tracked::DrsJob(d) => Some(d.job_id.clone()),
            _ => None,
        })
        .collect();
    let observed = if drs_ids.is_empty() {
        Default::default()
    } else {
        drs::describe_jobs(&clients.drs, &drs_ids).await?
    };

    let mut oldest: Option<i64> = None;
    let mut reports = Vec::with_capacity(input.jobs.len());
    for job in &input.jobs {
        let report = match job {
            Tracked::DrsJob(asked) => {
                let seen = &observed[&asked.job_id];
                let mut detail = status::judge_drs(asked, seen)?;
                let reasons = if detail.state == JobState::Failed {
                    drs::failure_reasons(&clients.drs, &asked.job_id).await?
                } else {
                    Default::default()
                };
                status::finish_drs(&mut detail, &reasons);
                let created = seen
                    .created
                    .as_deref()
                    .and_then(|c| DateTime::from_str(c, Format::DateTime).ok())
                    .map(|c| c.secs());
                oldest = min(oldest, created);
                JobReport::DrsJob(detail)
            }
            Tracked::RestoreJob(asked) => {
                let (detail, created) = backup::restore_status(&clients.backup, asked).await?;
                oldest = min(oldest, created);
                JobReport::RestoreJob(detail)
            }
            Tracked::NotStarted(n) => JobReport::NotStarted(NotStartedStatus {
                label: n.label.clone(),
                state: JobState::Failed,
                error: status::truncate(&n.error, 100),
                cause: status::truncate(
                    &status::tidy_cause(n.cause.as_deref().unwrap_or("")),
                    status::MAX_REASON_CHARS,
                ),
                may_be_running: status::start_may_have_run(&n.error),
                idempotency_key: n.idempotency_key.clone(),
            }),
        };
        reports.push(report);
    }
    let now = DateTime::from(SystemTime::now()).secs();
    let elapsed = oldest.map_or(0, |c| u64::try_from(now - c).unwrap_or(0));
    let report = wave::judge(&input, reports, elapsed);
    info!(wave = %input.wave, state = ?report.state, summary = %report.summary, "status");
    Ok(report)
}

fn min(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
