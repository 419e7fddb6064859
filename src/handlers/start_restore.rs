//! `start-restore`: starts one AWS Backup restore job with a token derived from the execution,
//! so that a retried task gets the same job back.

use aws_sdk_backup::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::backup;
use crate::contract::{self, JobRef, RestoreJobRef, StartOutput, StartRestoreInput, Validated};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(client: &Client, event: LambdaEvent<Value>) -> Result<StartOutput, TaskError> {
    let input: StartRestoreInput = contract::parse(event.payload)?;
    validate::start_restore(&input)?;
    if input.validate_only {
        return Ok(StartOutput::Validated(Validated {
            valid: true,
            items: 1,
        }));
    }
    let restore_job_id = backup::start_restore(client, &input).await?;
    info!(restore_job_id = %restore_job_id, recovery_point = %input.recovery_point_arn, "restore job");
    Ok(StartOutput::Job(JobRef::RestoreJob(RestoreJobRef {
        restore_job_id,
        recovery_point_arn: input.recovery_point_arn,
    })))
}
