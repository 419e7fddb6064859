//! `start-recovery`: starts one DRS recovery or drill job for a batch of source servers, or
//! returns the job an earlier attempt of the same task already started.

use aws_sdk_drs::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::drs;
use crate::config::Config;
use crate::contract::{
    self, DrsJobRef, DrsOperation, JobRef, StartOutput, StartRecoveryInput, Validated,
};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(
    client: &Client,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<StartOutput, TaskError> {
    let input: StartRecoveryInput = contract::parse(event.payload)?;
    validate::start_recovery(&input)?;
    if input.validate_only {
        return Ok(StartOutput::Validated(Validated {
            valid: true,
            items: input.source_servers.len(),
        }));
    }
    let asked: Vec<String> = input
        .source_servers
        .iter()
        .map(|s| s.source_server_id.clone())
        .collect();
    let operation = if input.is_drill {
        DrsOperation::Drill
    } else {
        DrsOperation::Recovery
    };

    let (job, reused) =
        match drs::find_job_by_key(client, &input.idempotency_key, config.job_lookback).await? {
            Some(job) => {
                super::start_failback::check_same_servers(&job, &asked, |s| s.source_server_id())?;
                (job, true)
            }
            None => (
                drs::start_recovery(
                    client,
                    input.is_drill,
                    &input.source_servers,
                    &input.tags,
                    &input.idempotency_key,
                )
                .await?,
                false,
            ),
        };
    info!(
        job_id = job.job_id(),
        servers = asked.len(),
        is_drill = input.is_drill,
        reused,
        "recovery job"
    );
    Ok(StartOutput::Job(JobRef::DrsJob(DrsJobRef {
        job_id: job.job_id().to_owned(),
        operation,
        source_server_ids: asked,
        recovery_instance_ids: Vec::new(),
        reused,
    })))
}
