//! `check-status`: judges a job started by any start handler and returns the state a `Choice`
//! state routes on, with a compact summary.

use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::{backup, drs};
use crate::contract::{self, JobRef, JobState, RestoreJobStatus, StatusDetail, StatusReport};
use crate::error::TaskError;
use crate::{status, validate};

/// The clients `check-status` needs: a job reference may name either service.
#[derive(Debug, Clone)]
pub struct Clients {
    pub drs: aws_sdk_drs::Client,
    pub backup: aws_sdk_backup::Client,
}

/// Handles one invocation.
pub async fn handle(
    clients: &Clients,
    event: LambdaEvent<Value>,
) -> Result<StatusReport, TaskError> {
    let job: JobRef = contract::parse(event.payload)?;
    validate::job_ref(&job)?;
    let report = match &job {
        JobRef::DrsJob(asked) => {
            let observed = drs::describe_job(&clients.drs, &asked.job_id).await?;
            let (state, mut detail) = status::judge_drs(asked, &observed)?;
            if state == JobState::Failed && !detail.failed_server_ids.is_empty() {
                let reasons = drs::failure_reasons(&clients.drs, &asked.job_id).await?;
                status::attach_reasons(&mut detail, &reasons);
            }
            let created = observed
                .created
                .as_deref()
                .and_then(|c| DateTime::from_str(c, Format::DateTime).ok());
            StatusReport {
                state,
                summary: status::drs_summary(state, &detail),
                elapsed_seconds: elapsed_since(created.as_ref()),
                detail: StatusDetail::DrsJob(detail),
            }
        }
        JobRef::RestoreJob(asked) => {
            let out = backup::describe_restore(&clients.backup, &asked.restore_job_id).await?;
            let raw = out.status().map(|s| s.as_str()).unwrap_or("PENDING");
            let state = status::judge_restore(raw)?;
            let detail = RestoreJobStatus {
                restore_job_id: asked.restore_job_id.clone(),
                job_status: raw.to_owned(),
                percent_done: out.percent_done().map(str::to_owned),
                created_resource_arn: out.created_resource_arn().map(str::to_owned),
                status_message: out.status_message().map(str::to_owned),
                started_at: out.creation_date().map(rfc3339),
                ended_at: out.completion_date().map(rfc3339),
            };
            StatusReport {
                state,
                summary: status::restore_summary(state, &detail),
                elapsed_seconds: elapsed_since(out.creation_date()),
                detail: StatusDetail::RestoreJob(detail),
            }
        }
    };
    info!(state = ?report.state, summary = %report.summary, "status");
    Ok(report)
}

fn rfc3339(t: &DateTime) -> String {
    t.fmt(Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}

/// Whole seconds from `created` to now; 0 when AWS gave no creation time.
fn elapsed_since(created: Option<&DateTime>) -> u64 {
    let now = DateTime::from(SystemTime::now()).secs();
    created.map_or(0, |c| u64::try_from(now - c.secs()).unwrap_or(0))
}
