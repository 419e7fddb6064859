//! `on-event`: the target of the stack's rules on DRS's `DRS Source Server Launch Result` and
//! AWS Backup's `Restore Job State Change`. It records what the event reports in the wake table
//! and, once every server of the job (or its restore) has reported, resumes the round waiting
//! on it. It judges nothing: the round's `check-status` does, as after a poll.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use tracing::info;

use crate::aws::wake_table::{Wake, WakeTable};
use crate::error::TaskError;
use crate::wake;

/// What one event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handled {
    /// The wake-table key of the job the event reported on, if it reported on one.
    pub job: Option<String>,
    /// `NOT_YET`, `RESUMED`, `GONE`, or `IGNORED` (not an event a round waits for).
    pub outcome: &'static str,
}

/// Handles one invocation.
pub async fn handle(table: &WakeTable, event: LambdaEvent<Value>) -> Result<Handled, TaskError> {
    let event = wake::parse_event(event.payload)?;
    let Some(report) = wake::report_of(&event) else {
        info!(id = ?event.id, detail_type = ?event.detail_type, "ignored");
        return Ok(Handled {
            job: None,
            outcome: "IGNORED",
        });
    };
    let wake = if table.record(&report).await? {
        table.wake(&report.key, "event").await?
    } else {
        Wake::NotYet
    };
    let outcome = match wake {
        Wake::NotYet => "NOT_YET",
        Wake::Resumed => "RESUMED",
        Wake::Gone => "GONE",
    };
    info!(id = ?event.id, job = %report.key, reporter = %report.reporter, outcome, "event");
    Ok(Handled {
        job: Some(report.key),
        outcome,
    })
}
