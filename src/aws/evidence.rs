//! What the run report reads from DRS and AWS Backup about one run: its DRS jobs (selected by
//! the run's idempotency keys) with their logs, the snapshot times of the instances they
//! launched, and the restore jobs started since the run began. The SDK's types stay in here;
//! [`crate::report::measure`] works on the plain facts returned.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::errors::classify;
use super::recovery_instances;
use crate::error::TaskError;
use crate::report::measure::{DrsJob, Instance, JobServer, LogItem, RestoreJob};

/// `DescribeRecoveryInstances` takes at most this many IDs per call.
const INSTANCE_IDS_PER_CALL: usize = 200;

/// The launch jobs (drill, recovery, failback) created since `since` whose idempotency tag
/// starts with `key_base#`, oldest first, each with its full log.
pub async fn run_jobs(
    client: &aws_sdk_drs::Client,
    key_base: &str,
    since: SystemTime,
) -> Result<Vec<DrsJob>, TaskError> {
    let prefix = format!("{key_base}#");
    let mut found: Vec<_> = recovery_instances::jobs_since(client, since)
        .await?
        .into_values()
        .filter(|j| j.facts.initiated_by != "TERMINATE_RECOVERY_INSTANCES")
        .filter(|j| j.facts.key().is_some_and(|k| k.starts_with(&prefix)))
        .collect();
    found.sort_by_key(|j| j.facts.created);
    let mut jobs = Vec::with_capacity(found.len());
    for job in found {
        jobs.push(DrsJob {
            job_id: job.facts.job_id.clone(),
            created_at: job
                .facts
                .created
                .map(DateTime::from_secs)
                .and_then(|t| t.fmt(Format::DateTime).ok()),
            servers: job
                .servers
                .iter()
                .map(|(source, instance, status)| JobServer {
                    source_server_id: source.clone(),
                    launch_status: status.clone(),
                    recovery_instance_id: instance.clone(),
                })
                .collect(),
            log: log(client, &job.facts.job_id).await?,
        });
    }
    Ok(jobs)
}

async fn log(client: &aws_sdk_drs::Client, job_id: &str) -> Result<Vec<LogItem>, TaskError> {
    let mut items = Vec::new();
    for item in super::drs::job_log(client, job_id).await? {
        let (Some(at), Some(event)) = (item.log_date_time(), item.event()) else {
            continue;
        };
        let data = item.event_data();
        items.push(LogItem {
            at: at.to_owned(),
            event: event.as_str().to_owned(),
            source_server_id: data.and_then(|d| d.source_server_id()).map(str::to_owned),
            raw_error: data.and_then(|d| d.raw_error()).map(str::to_owned),
        });
    }
    Ok(items)
}

/// The recovery instances named that still exist, with the point in time each launched from.
pub async fn instances(
    client: &aws_sdk_drs::Client,
    ids: &[String],
) -> Result<Vec<Instance>, TaskError> {
    let ids: Vec<String> = ids
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(INSTANCE_IDS_PER_CALL) {
        let mut pages = client
            .describe_recovery_instances()
            .filters(
                aws_sdk_drs::types::DescribeRecoveryInstancesRequestFilters::builder()
                    .set_recovery_instance_ids(Some(chunk.to_vec()))
                    .build(),
            )
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| classify("DescribeRecoveryInstances", e))?;
            let Some(id) = item.recovery_instance_id() else {
                continue;
            };
            out.push(Instance {
                recovery_instance_id: id.to_owned(),
                source_server_id: item.source_server_id().map(str::to_owned),
                job_id: item.job_id().map(str::to_owned),
                snapshot_at: item.point_in_time_snapshot_date_time().map(str::to_owned),
            });
        }
    }
    Ok(out)
}

/// The restore jobs created since `since` of the recovery points named.
pub async fn restore_jobs(
    client: &aws_sdk_backup::Client,
    recovery_points: &BTreeSet<&str>,
    since: SystemTime,
) -> Result<Vec<RestoreJob>, TaskError> {
    let mut out = Vec::new();
    if recovery_points.is_empty() {
        return Ok(out);
    }
    let mut pages = client
        .list_restore_jobs()
        .by_created_after(DateTime::from(since))
        .into_paginator()
        .items()
        .send();
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| classify("ListRestoreJobs", e))?;
        let (Some(id), Some(arn)) = (job.restore_job_id(), job.recovery_point_arn()) else {
            continue;
        };
        if !recovery_points.contains(arn) {
            continue;
        }
        let time = |t: Option<&DateTime>| t.and_then(|t| t.fmt(Format::DateTime).ok());
        out.push(RestoreJob {
            restore_job_id: id.to_owned(),
            recovery_point_arn: arn.to_owned(),
            status: job
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            created_at: time(job.creation_date()),
            completed_at: time(job.completion_date()),
            created_resource_arn: job.created_resource_arn().map(str::to_owned),
            recovery_point_created_at: time(job.recovery_point_creation_date()),
            status_message: job.status_message().map(str::to_owned),
        });
    }
    Ok(out)
}

/// Recovery instance IDs of the jobs' servers, for [`instances`].
pub fn instance_ids(jobs: &[DrsJob]) -> Vec<String> {
    let mut ids: BTreeMap<String, ()> = BTreeMap::new();
    for job in jobs {
        for s in &job.servers {
            if let Some(id) = &s.recovery_instance_id {
                ids.insert(id.clone(), ());
            }
        }
    }
    ids.into_keys().collect()
}
