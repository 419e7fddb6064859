//! The DRS calls the handlers make. Start calls go out with the SDK's own retries switched off:
//! DRS has no client token, so only the task-level retry, which looks for the job first, may
//! send them again.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_drs::config::retry::RetryConfig;
use aws_sdk_drs::types::{DescribeJobsRequestFilters, Job, StartRecoveryRequestSourceServer};
use aws_sdk_drs::Client;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::errors::classify;
use crate::contract::{SourceServerSpec, Tags};
use crate::error::TaskError;
use crate::idempotency::IDEMPOTENCY_TAG;
use crate::status::{ObservedJob, ObservedServer};

/// Finds a job started in the last `lookback` whose idempotency tag is `key`.
pub async fn find_job_by_key(
    client: &Client,
    key: &str,
    lookback: Duration,
) -> Result<Option<Job>, TaskError> {
    let from = SystemTime::now()
        .checked_sub(lookback)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let from = DateTime::from(from)
        .fmt(Format::DateTime)
        .map_err(|e| TaskError::Unexpected {
            message: format!("formatting the DescribeJobs window: {e}"),
        })?;
    let mut pages = client
        .describe_jobs()
        .filters(
            DescribeJobsRequestFilters::builder()
                .from_date(from)
                .build(),
        )
        .into_paginator()
        .items()
        .send();
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| classify("DescribeJobs", e))?;
        let tagged = job
            .tags()
            .and_then(|t| t.get(IDEMPOTENCY_TAG))
            .is_some_and(|v| v == key);
        if tagged {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Calls `StartRecovery` once, tagging the job with the idempotency key.
pub async fn start_recovery(
    client: &Client,
    is_drill: bool,
    servers: &[SourceServerSpec],
    tags: &Tags,
    key: &str,
) -> Result<Job, TaskError> {
    let mut request = client.start_recovery().is_drill(is_drill);
    for s in servers {
        let server = StartRecoveryRequestSourceServer::builder()
            .source_server_id(&s.source_server_id)
            .set_recovery_snapshot_id(s.recovery_snapshot_id.clone())
            .build()
            .map_err(|e| TaskError::Unexpected {
                message: e.to_string(),
            })?;
        request = request.source_servers(server);
    }
    let out = request
        .set_tags(Some(job_tags(tags, key)))
        .customize()
        .config_override(without_sdk_retries())
        .send()
        .await
        .map_err(|e| classify("StartRecovery", e))?;
    job_of("StartRecovery", out.job)
}

/// Calls `StartFailbackLaunch` once, tagging the job with the idempotency key.
pub async fn start_failback(
    client: &Client,
    recovery_instance_ids: &[String],
    tags: &Tags,
    key: &str,
) -> Result<Job, TaskError> {
    let out = client
        .start_failback_launch()
        .set_recovery_instance_ids(Some(recovery_instance_ids.to_vec()))
        .set_tags(Some(job_tags(tags, key)))
        .customize()
        .config_override(without_sdk_retries())
        .send()
        .await
        .map_err(|e| classify("StartFailbackLaunch", e))?;
    job_of("StartFailbackLaunch", out.job)
}

/// Reads one job with `DescribeJobs`.
pub async fn describe_job(client: &Client, job_id: &str) -> Result<ObservedJob, TaskError> {
    let out = client
        .describe_jobs()
        .filters(
            DescribeJobsRequestFilters::builder()
                .job_ids(job_id)
                .build(),
        )
        .send()
        .await
        .map_err(|e| classify("DescribeJobs", e))?;
    let job = out
        .items()
        .iter()
        .find(|j| j.job_id() == job_id)
        .ok_or_else(|| TaskError::NotFound {
            message: format!("DescribeJobs: no job {job_id}"),
        })?;
    Ok(observe(job))
}

/// Why servers of a job failed, from its log: the last failure event per source server.
pub async fn failure_reasons(
    client: &Client,
    job_id: &str,
) -> Result<BTreeMap<String, String>, TaskError> {
    let mut reasons = BTreeMap::new();
    let mut pages = client
        .describe_job_log_items()
        .job_id(job_id)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item.map_err(|e| classify("DescribeJobLogItems", e))?;
        let Some(event) = item.event() else { continue };
        let name = event.as_str();
        if !(name.ends_with("_FAIL") || name.ends_with("_FAILED")) {
            continue;
        }
        let Some(data) = item.event_data() else {
            continue;
        };
        let Some(server) = data.source_server_id() else {
            continue;
        };
        let reason = match data.raw_error() {
            Some(raw) if !raw.is_empty() => format!("{name}: {raw}"),
            _ => name.to_owned(),
        };
        reasons.insert(server.to_owned(), reason);
    }
    Ok(reasons)
}

/// The fields of a DRS job the status judgement needs, as plain strings.
pub fn observe(job: &Job) -> ObservedJob {
    ObservedJob {
        job_id: job.job_id().to_owned(),
        status: job
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "PENDING".into()),
        servers: job
            .participating_servers()
            .iter()
            .map(|s| ObservedServer {
                source_server_id: s.source_server_id().unwrap_or_default().to_owned(),
                recovery_instance_id: s.recovery_instance_id().map(str::to_owned),
                launch_status: s
                    .launch_status()
                    .map(|l| l.as_str().to_owned())
                    .unwrap_or_else(|| "PENDING".into()),
            })
            .collect(),
        created: job.creation_date_time().map(str::to_owned),
        ended: job.end_date_time().map(str::to_owned),
    }
}

/// Start calls are sent once: a resend after a lost answer could launch the servers twice.
fn without_sdk_retries() -> aws_sdk_drs::config::Builder {
    aws_sdk_drs::config::Builder::default().retry_config(RetryConfig::disabled())
}

fn job_of(operation: &str, job: Option<Job>) -> Result<Job, TaskError> {
    job.ok_or_else(|| TaskError::Unexpected {
        message: format!("{operation} answered without a job"),
    })
}

fn job_tags(tags: &Tags, key: &str) -> std::collections::HashMap<String, String> {
    let mut all: std::collections::HashMap<String, String> =
        tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    all.insert(IDEMPOTENCY_TAG.to_owned(), key.to_owned());
    all
}
