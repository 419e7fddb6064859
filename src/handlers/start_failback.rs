//! `start-failback`: starts one DRS failback launch for recovery instances, given explicitly or
//! taken from a finished recovery's servers, or returns the job an earlier attempt started.

use aws_sdk_drs::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::drs;
use crate::config::Config;
use crate::contract::{self, JobRef, StartFailbackInput};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(
    client: &Client,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<JobRef, TaskError> {
    let input: StartFailbackInput = contract::parse(event.payload)?;
    let ids = validate::start_failback(&input)?;
    let job = drs::find_or_start_failback(
        client,
        &ids,
        &input.tags,
        &input.idempotency_key,
        input.label.clone(),
        config.job_lookback,
    )
    .await?;
    info!(job_id = %job.job_id, instances = ids.len(), reused = job.reused, "failback job");
    Ok(JobRef::DrsJob(job))
}
