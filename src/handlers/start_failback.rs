//! `start-failback`: starts one DRS failback launch for recovery instances, given explicitly or
//! taken from a finished recovery's servers, or returns the job an earlier attempt started.

use aws_sdk_drs::types::{Job, ParticipatingServer};
use aws_sdk_drs::Client;
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::drs;
use crate::config::Config;
use crate::contract::{
    self, DrsJobRef, DrsOperation, JobRef, StartFailbackInput, StartOutput, Validated,
};
use crate::error::TaskError;
use crate::validate;

/// Handles one invocation.
pub async fn handle(
    client: &Client,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<StartOutput, TaskError> {
    let input: StartFailbackInput = contract::parse(event.payload)?;
    let ids = validate::start_failback(&input)?;
    if input.validate_only {
        return Ok(StartOutput::Validated(Validated {
            valid: true,
            items: ids.len(),
        }));
    }

    let (job, reused) =
        match drs::find_job_by_key(client, &input.idempotency_key, config.job_lookback).await? {
            Some(job) => {
                check_same_servers(&job, &ids, |s| s.recovery_instance_id())?;
                (job, true)
            }
            None => (
                drs::start_failback(client, &ids, &input.tags, &input.idempotency_key).await?,
                false,
            ),
        };
    info!(
        job_id = job.job_id(),
        instances = ids.len(),
        reused,
        "failback job"
    );
    Ok(StartOutput::Job(JobRef::DrsJob(DrsJobRef {
        job_id: job.job_id().to_owned(),
        operation: DrsOperation::Failback,
        source_server_ids: Vec::new(),
        recovery_instance_ids: ids,
        reused,
    })))
}

/// A job found by idempotency key must be for the same servers; anything else means the key
/// was reused for a different request, and starting nothing is the only safe answer.
pub(crate) fn check_same_servers(
    job: &Job,
    asked: &[String],
    id_of: impl Fn(&ParticipatingServer) -> Option<&str>,
) -> Result<(), TaskError> {
    let servers = job.participating_servers();
    if servers.is_empty() {
        return Ok(());
    }
    let mut have: Vec<&str> = servers.iter().filter_map(&id_of).collect();
    let mut want: Vec<&str> = asked.iter().map(String::as_str).collect();
    have.sort_unstable();
    want.sort_unstable();
    if have == want {
        Ok(())
    } else {
        Err(TaskError::Conflict {
            message: format!(
                "job {} already carries this idempotency key but is for other servers; use a key unique to each batch",
                job.job_id()
            ),
        })
    }
}
