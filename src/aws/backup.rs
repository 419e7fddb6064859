//! The AWS Backup calls the handlers make. `StartRestoreJob` always carries a token derived
//! from the execution, never the random one the SDK would fill in.

use aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput;
use aws_sdk_backup::Client;

use super::errors::classify;
use crate::contract::StartRestoreInput;
use crate::error::TaskError;
use crate::idempotency::restore_token;

/// Calls `StartRestoreJob` and returns the restore job ID.
pub async fn start_restore(
    client: &Client,
    input: &StartRestoreInput,
) -> Result<String, TaskError> {
    let out = client
        .start_restore_job()
        .recovery_point_arn(&input.recovery_point_arn)
        .set_metadata(Some(input.metadata.clone().into_iter().collect()))
        .set_iam_role_arn(input.iam_role_arn.clone())
        .set_resource_type(input.resource_type.clone())
        .set_copy_source_tags_to_restored_resource(input.copy_source_tags_to_restored_resource)
        .idempotency_token(restore_token(
            &input.idempotency_key,
            &input.recovery_point_arn,
        ))
        .send()
        .await
        .map_err(|e| classify("StartRestoreJob", e))?;
    out.restore_job_id.ok_or_else(|| TaskError::Unexpected {
        message: "StartRestoreJob answered without a RestoreJobId".into(),
    })
}

/// Reads one restore job.
pub async fn describe_restore(
    client: &Client,
    restore_job_id: &str,
) -> Result<DescribeRestoreJobOutput, TaskError> {
    client
        .describe_restore_job()
        .restore_job_id(restore_job_id)
        .send()
        .await
        .map_err(|e| classify("DescribeRestoreJob", e))
}
