//! The DRS calls of drill cleanup, the sweeper and a failback's preflight: which recovery
//! instances exist, who launched them and whether they can fail back, and their termination. The SDK's types stay in here; the guard
//! ([`crate::cleanup::may_terminate`]) judges the plain facts this returns.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_drs::config::retry::RetryConfig;
use aws_sdk_drs::types::{
    DescribeJobsRequestFilters, DescribeRecoveryInstancesRequestFilters, Job,
};
use aws_sdk_drs::Client;

use super::errors::classify;
use crate::cleanup::{InstanceFacts, JobFacts, Terminating, TERMINATE_BATCH};
use crate::error::TaskError;

/// `DescribeJobs` takes at most this many job IDs per call.
const JOB_IDS_PER_CALL: usize = 1000;

/// The recovery instances that exist now: those named (at most 200 per call), or all of them.
pub async fn recovery_instances(
    client: &Client,
    ids: Option<&[String]>,
) -> Result<Vec<InstanceFacts>, TaskError> {
    let chunks: Vec<Option<Vec<String>>> = match ids {
        None => vec![None],
        Some([]) => vec![],
        Some(ids) => ids
            .chunks(TERMINATE_BATCH)
            .map(|c| Some(c.to_vec()))
            .collect(),
    };
    let mut out = Vec::new();
    for chunk in chunks {
        let mut request = client.describe_recovery_instances();
        if let Some(chunk) = chunk {
            request = request.filters(
                DescribeRecoveryInstancesRequestFilters::builder()
                    .set_recovery_instance_ids(Some(chunk))
                    .build(),
            );
        }
        let mut pages = request.into_paginator().items().send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| classify("DescribeRecoveryInstances", e))?;
            let Some(id) = item.recovery_instance_id() else {
                continue;
            };
            out.push(InstanceFacts {
                recovery_instance_id: id.to_owned(),
                source_server_id: item.source_server_id().map(str::to_owned),
                job_id: item.job_id().map(str::to_owned),
                is_drill: item.is_drill(),
                failback_state: item
                    .failback()
                    .and_then(|f| f.state())
                    .map(|s| s.as_str().to_owned()),
            });
        }
    }
    Ok(out)
}

/// A job, with the instances it names.
pub struct JobWithServers {
    pub facts: JobFacts,
    /// `(recoveryInstanceID, sourceServerID, launchStatus)` of each participating server that
    /// names an instance.
    pub instances: Vec<(String, Option<String>, String)>,
    /// `(sourceServerID, recoveryInstanceID, launchStatus)` of every participating server.
    pub servers: Vec<(String, Option<String>, String)>,
    pub completed: bool,
}

/// The jobs named (any job DRS does not list is left out).
pub async fn jobs(
    client: &Client,
    ids: &[String],
) -> Result<BTreeMap<String, JobWithServers>, TaskError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(JOB_IDS_PER_CALL) {
        let filters = DescribeJobsRequestFilters::builder()
            .set_job_ids(Some(chunk.to_vec()))
            .build();
        collect_jobs(client, filters, &mut found).await?;
    }
    Ok(found)
}

/// Every job created since `from`.
pub async fn jobs_since(
    client: &Client,
    from: SystemTime,
) -> Result<BTreeMap<String, JobWithServers>, TaskError> {
    let mut found = BTreeMap::new();
    let filters = DescribeJobsRequestFilters::builder()
        .from_date(super::api_time(from)?)
        .build();
    collect_jobs(client, filters, &mut found).await?;
    Ok(found)
}

async fn collect_jobs(
    client: &Client,
    filters: DescribeJobsRequestFilters,
    found: &mut BTreeMap<String, JobWithServers>,
) -> Result<(), TaskError> {
    let mut pages = client
        .describe_jobs()
        .filters(filters)
        .into_paginator()
        .items()
        .send();
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| classify("DescribeJobs", e))?;
        found.insert(job.job_id().to_owned(), with_servers(&job));
    }
    Ok(())
}

fn with_servers(job: &Job) -> JobWithServers {
    let created = job
        .creation_date_time()
        .and_then(|t| {
            aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime)
                .ok()
        })
        .map(|t| t.secs());
    JobWithServers {
        facts: JobFacts {
            job_id: job.job_id().to_owned(),
            initiated_by: job
                .initiated_by()
                .map(|i| i.as_str().to_owned())
                .unwrap_or_default(),
            tags: job
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            created,
        },
        instances: job
            .participating_servers()
            .iter()
            .filter_map(|s| {
                Some((
                    s.recovery_instance_id()?.to_owned(),
                    s.source_server_id().map(str::to_owned),
                    s.launch_status()
                        .map(|l| l.as_str().to_owned())
                        .unwrap_or_default(),
                ))
            })
            .collect(),
        servers: job
            .participating_servers()
            .iter()
            .map(|s| {
                (
                    s.source_server_id().unwrap_or_default().to_owned(),
                    s.recovery_instance_id().map(str::to_owned),
                    s.launch_status()
                        .map(|l| l.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        completed: job.status().is_some_and(|s| s.as_str() == "COMPLETED"),
    }
}

/// The instances of TERMINATE jobs, as [`crate::cleanup::judge`] reads them.
pub fn terminating(jobs: &BTreeMap<String, JobWithServers>) -> Vec<Terminating> {
    jobs.values()
        .filter(|j| j.facts.initiated_by == "TERMINATE_RECOVERY_INSTANCES")
        .flat_map(|j| {
            j.instances.iter().map(|(id, source, status)| Terminating {
                recovery_instance_id: id.clone(),
                source_server_id: source.clone(),
                launch_status: status.clone(),
                job_completed: j.completed,
            })
        })
        .collect()
}

/// Calls `TerminateRecoveryInstances` for `ids` (at most [`TERMINATE_BATCH`] per call) and
/// returns the TERMINATE jobs. The call has no client token, so the SDK does not retry it: the
/// caller looks for an earlier attempt's TERMINATE job first.
pub async fn terminate(client: &Client, ids: &[String]) -> Result<Vec<String>, TaskError> {
    let mut jobs = Vec::new();
    for chunk in ids.chunks(TERMINATE_BATCH) {
        let out = client
            .terminate_recovery_instances()
            .set_recovery_instance_ids(Some(chunk.to_vec()))
            .customize()
            .config_override(
                aws_sdk_drs::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| classify("TerminateRecoveryInstances", e))?;
        let job = out.job.ok_or_else(|| TaskError::Unexpected {
            message: "TerminateRecoveryInstances answered without a job".into(),
        })?;
        jobs.push(job.job_id().to_owned());
    }
    Ok(jobs)
}
