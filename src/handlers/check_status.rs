//! `check-status`: judges every job of a wave (or of one round of it) and returns the state a
//! `Choice` state routes on, with a bounded report and, for a failed wave, its error and cause.

use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::{backup, drs};
use crate::contract::{
    self, JobReport, JobState, NotStartedStatus, Tracked, WaveCheckInput, WaveReport,
};
use crate::error::TaskError;
use crate::{status, validate, wave};

/// The clients `check-status` needs: a wave may hold jobs of both services.
#[derive(Debug, Clone)]
pub struct Clients {
    pub drs: aws_sdk_drs::Client,
    pub backup: aws_sdk_backup::Client,
}

/// Handles one invocation.
pub async fn handle(clients: &Clients, event: LambdaEvent<Value>) -> Result<WaveReport, TaskError> {
    let input: WaveCheckInput = contract::parse(event.payload)?;
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
