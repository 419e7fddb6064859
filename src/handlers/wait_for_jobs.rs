//! `wait-for-jobs`: the first step of a round's wait. Step Functions invokes it with the
//! waiting task's token (`lambda:invoke.waitForTaskToken`); it puts the token under each of the
//! round's jobs in the wake table and returns. `on-event` resumes the task when AWS reports a
//! job ended; the task's own timeout (`pollIntervalSeconds`) resumes it otherwise. A job whose
//! reports all arrived before this wait registered is woken here, at once.

use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use tracing::info;

use crate::aws::wake_table::{Wake, WakeTable};
use crate::contract;
use crate::error::TaskError;
use crate::wake::{self, WaitInput};

/// What the invocation did (the waiting task's result comes from `SendTaskSuccess`, not from
/// here: this is for the logs and the tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    pub jobs: usize,
    pub woken_at_once: bool,
}

/// Handles one invocation.
pub async fn handle(table: &WakeTable, event: LambdaEvent<Value>) -> Result<Registered, TaskError> {
    let input: WaitInput = contract::parse(event.payload)?;
    wake::validate(&input)?;
    let jobs = wake::registrations(&input.jobs);
    let mut woken_at_once = false;
    for job in &jobs {
        table.register(job, &input.token).await?;
    }
    for job in &jobs {
        if table.wake(&job.key, "registration").await? == Wake::Resumed {
            woken_at_once = true;
            break;
        }
    }
    info!(jobs = jobs.len(), woken_at_once, "registered");
    Ok(Registered {
        jobs: jobs.len(),
        woken_at_once,
    })
}
