//! `start-recovery`: starts one DRS recovery or drill job for a batch of source servers, or
//! returns the job an earlier attempt of the same task already started.

use aws_sdk_drs::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::drs;
use crate::config::Config;
use crate::contract::{self, JobRef, StartRecoveryInput};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(
    client: &Client,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<JobRef, TaskError> {
    let input: StartRecoveryInput = contract::parse(event.payload)?;
    validate::start_recovery(&input)?;
    let job = drs::find_or_start_recovery(client, &input, config.job_lookback).await?;
    info!(
        job_id = %job.job_id,
        servers = job.source_server_ids.len(),
        is_drill = input.is_drill,
        reused = job.reused,
        "recovery job"
    );
    Ok(JobRef::DrsJob(job))
}
