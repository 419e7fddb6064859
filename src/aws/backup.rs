//! The AWS Backup calls the handlers make; the SDK's types stay in here. `StartRestoreJob`
//! always carries a token derived from the run, never the random one the SDK would fill in.

use aws_sdk_backup::Client;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::errors::classify;
use crate::contract::{RestoreJobRef, RestoreJobStatus, StartRestoreInput};
use crate::error::TaskError;
use crate::idempotency::restore_token;
use crate::preflight::RecoveryPoint;
use crate::status;

/// Calls `StartRestoreJob` (a retry with the same key gets the same job back).
pub async fn start_restore(
    client: &Client,
    input: &StartRestoreInput,
) -> Result<RestoreJobRef, TaskError> {
    let restore = &input.restore;
    let out = client
        .start_restore_job()
        .recovery_point_arn(&restore.recovery_point_arn)
        .set_metadata(Some(restore.metadata.clone().into_iter().collect()))
        .set_iam_role_arn(restore.iam_role_arn.clone())
        .set_resource_type(restore.resource_type.clone())
        .set_copy_source_tags_to_restored_resource(restore.copy_source_tags_to_restored_resource)
        .idempotency_token(restore_token(
            &input.idempotency_key,
            &restore.recovery_point_arn,
        ))
        .send()
        .await
        .map_err(|e| classify("StartRestoreJob", e))?;
    let restore_job_id = out.restore_job_id.ok_or_else(|| TaskError::Unexpected {
        message: "StartRestoreJob answered without a RestoreJobId".into(),
    })?;
    Ok(RestoreJobRef {
        restore_job_id,
        recovery_point_arn: restore.recovery_point_arn.clone(),
        label: input.label.clone(),
    })
}

/// What AWS Backup says about the recovery point `arn` in `vault`
/// (`GetRecoveryPointRestoreMetadata`): `None` when the vault does not hold it.
pub async fn recovery_point(
    client: &Client,
    vault: &str,
    arn: &str,
) -> Result<Option<RecoveryPoint>, TaskError> {
    match client
        .get_recovery_point_restore_metadata()
        .backup_vault_name(vault)
        .recovery_point_arn(arn)
        .send()
        .await
    {
        Ok(out) => Ok(Some(RecoveryPoint {
            resource_type: out.resource_type,
        })),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(classify("GetRecoveryPointRestoreMetadata", e)),
    }
}

/// Reads and judges one restore job; also returns when AWS created it (epoch seconds).
pub async fn restore_status(
    client: &Client,
    job: &RestoreJobRef,
) -> Result<(RestoreJobStatus, Option<i64>), TaskError> {
    let out = client
        .describe_restore_job()
        .restore_job_id(&job.restore_job_id)
        .send()
        .await
        .map_err(|e| classify("DescribeRestoreJob", e))?;
    let raw = out.status().map(|s| s.as_str()).unwrap_or("PENDING");
    let state = status::judge_restore(raw)?;
    Ok((
        RestoreJobStatus {
            label: job.label.clone(),
            state,
            restore_job_id: job.restore_job_id.clone(),
            recovery_point_arn: job.recovery_point_arn.clone(),
            job_status: raw.to_owned(),
            percent_done: out.percent_done().map(str::to_owned),
            created_resource_arn: out.created_resource_arn().map(str::to_owned),
            status_message: out
                .status_message()
                .map(|m| status::truncate(m, status::MAX_REASON_CHARS)),
            started_at: out.creation_date().map(rfc3339),
            ended_at: out.completion_date().map(rfc3339),
        },
        out.creation_date().map(DateTime::secs),
    ))
}

fn rfc3339(t: &DateTime) -> String {
    t.fmt(Format::DateTime)
        .unwrap_or_else(|_| t.secs().to_string())
}
