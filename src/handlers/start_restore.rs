//! `start-restore`: starts one AWS Backup restore job with a token derived from the run, so
//! that a retried task gets the same job back.

use aws_sdk_backup::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::backup;
use crate::contract::{self, JobRef, StartRestoreInput};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(client: &Client, event: LambdaEvent<Value>) -> Result<JobRef, TaskError> {
    let input: StartRestoreInput = contract::parse(event.payload)?;
    validate::start_restore(&input)?;
    let job = backup::start_restore(client, &input).await?;
    info!(restore_job_id = %job.restore_job_id, recovery_point = %job.recovery_point_arn, "restore job");
    Ok(JobRef::RestoreJob(job))
}
