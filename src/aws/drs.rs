//! The DRS calls the handlers make; the SDK's types stay in here. Start calls go out with the
//! SDK's own retries switched off: DRS has no client token, so only the task-level retry, which
//! looks for the job first ([`find_or_start_recovery`], [`find_or_start_failback`]), may send
//! them again.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::{Duration, SystemTime};

use aws_sdk_drs::config::retry::RetryConfig;
use aws_sdk_drs::types::{
    DescribeJobsRequestFilters, InitiatedBy, Job, JobLog, JobType, ParticipatingServer,
    StartRecoveryRequestSourceServer,
};
use aws_sdk_drs::Client;

use super::errors::classify;
use crate::contract::{DrsJobRef, DrsOperation, SourceServerSpec, StartRecoveryInput, Tags};
use crate::error::TaskError;
use crate::idempotency::IDEMPOTENCY_TAG;
use crate::plan::ActiveLoad;
use crate::preflight::ServerInfo;
use crate::status::{ObservedJob, ObservedServer};

/// Returns the recovery or drill job an earlier attempt with the same idempotency key
/// started, or starts it. A job found under the key must be a launch of the same kind (drill
/// or recovery) for the same servers; anything else is a `Conflict` and starts nothing.
pub async fn find_or_start_recovery(
    client: &Client,
    input: &StartRecoveryInput,
    lookback: Duration,
) -> Result<DrsJobRef, TaskError> {
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
    let (job, reused) = match find_job_by_key(client, &input.idempotency_key, lookback).await? {
        Some(job) => {
            check_same_kind(&job, operation)?;
            check_same_servers(&job, &asked, |s| s.source_server_id())?;
            (job, true)
        }
        None => (
            start_recovery(
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
    Ok(DrsJobRef {
        job_id: job.job_id().to_owned(),
        operation,
        source_server_ids: asked,
        recovery_instance_ids: Vec::new(),
        reused,
        label: input.label.clone(),
    })
}

/// Returns the failback job an earlier attempt with the same key started, or starts it.
pub async fn find_or_start_failback(
    client: &Client,
    recovery_instance_ids: &[String],
    tags: &Tags,
    key: &str,
    label: Option<String>,
    lookback: Duration,
) -> Result<DrsJobRef, TaskError> {
    let (job, reused) = match find_job_by_key(client, key, lookback).await? {
        Some(job) => {
            check_same_kind(&job, DrsOperation::Failback)?;
            check_same_servers(&job, recovery_instance_ids, |s| s.recovery_instance_id())?;
            (job, true)
        }
        None => (
            start_failback(client, recovery_instance_ids, tags, key).await?,
            false,
        ),
    };
    Ok(DrsJobRef {
        job_id: job.job_id().to_owned(),
        operation: DrsOperation::Failback,
        source_server_ids: Vec::new(),
        recovery_instance_ids: recovery_instance_ids.to_vec(),
        reused,
        label,
    })
}

/// A job found by idempotency key must be the same kind of launch: a drill job must never
/// satisfy a real recovery's key, nor a recovery a failback's.
fn check_same_kind(job: &Job, operation: DrsOperation) -> Result<(), TaskError> {
    let wanted = match operation {
        DrsOperation::Drill => InitiatedBy::StartDrill,
        DrsOperation::Recovery => InitiatedBy::StartRecovery,
        DrsOperation::Failback => InitiatedBy::Failback,
    };
    let is_launch = job.r#type().is_none_or(|t| *t == JobType::Launch);
    let same = job.initiated_by().is_none_or(|i| *i == wanted);
    if is_launch && same {
        Ok(())
    } else {
        Err(TaskError::Conflict {
            message: format!(
                "job {} already carries this idempotency key but is a {} job initiated by {}, not a {operation:?} launch; use a key unique to each batch",
                job.job_id(),
                job.r#type().map_or("?", |t| t.as_str()),
                job.initiated_by().map_or("?", |i| i.as_str()),
            ),
        })
    }
}

/// A job found by idempotency key must be for the same servers; anything else means the key
/// was reused for a different request, and starting nothing is the only safe answer.
fn check_same_servers(
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

/// Every source server of the account with its tags and replication (`DescribeSourceServers`,
/// all pages).
pub async fn source_servers(client: &Client) -> Result<BTreeMap<String, ServerInfo>, TaskError> {
    let mut out = BTreeMap::new();
    let mut pages = client
        .describe_source_servers()
        .max_results(1000)
        .into_paginator()
        .items()
        .send();
    while let Some(server) = pages.next().await {
        let server = server.map_err(|e| classify("DescribeSourceServers", e))?;
        let Some(id) = server.source_server_id() else {
            continue;
        };
        let replication = server.data_replication_info();
        out.insert(
            id.to_owned(),
            ServerInfo {
                tags: server
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                replication_state: replication
                    .and_then(|r| r.data_replication_state())
                    .map(|s| s.as_str().to_owned()),
                lag: replication
                    .and_then(|r| r.lag_duration())
                    .map(str::to_owned),
            },
        );
    }
    Ok(out)
}

/// The IDs of a source server's recovery snapshots (`DescribeRecoverySnapshots`, all pages).
pub async fn recovery_snapshot_ids(
    client: &Client,
    source_server_id: &str,
) -> Result<BTreeSet<String>, TaskError> {
    let mut out = BTreeSet::new();
    let mut pages = client
        .describe_recovery_snapshots()
        .source_server_id(source_server_id)
        .into_paginator()
        .items()
        .send();
    while let Some(snapshot) = pages.next().await {
        let snapshot = snapshot.map_err(|e| classify("DescribeRecoverySnapshots", e))?;
        out.insert(snapshot.snapshot_id().to_owned());
    }
    Ok(out)
}

/// How many jobs of the account are active (`PENDING` or `STARTED`) and how many servers
/// they hold, among the jobs created in the last `lookback`.
pub async fn active_load(client: &Client, lookback: Duration) -> Result<ActiveLoad, TaskError> {
    let mut load = ActiveLoad::default();
    each_job_since(client, lookback, |job| {
        let active = job
            .status()
            .is_some_and(|s| matches!(s.as_str(), "PENDING" | "STARTED"));
        if active {
            load.jobs += 1;
            load.servers += job.participating_servers().len();
        }
        ControlFlow::Continue(())
    })
    .await?;
    Ok(load)
}

/// Hands every job created in the last `lookback` to `visit` (`DescribeJobs`, all pages) until
/// it says to stop.
async fn each_job_since(
    client: &Client,
    lookback: Duration,
    mut visit: impl FnMut(Job) -> ControlFlow<()>,
) -> Result<(), TaskError> {
    let mut pages = client
        .describe_jobs()
        .filters(
            DescribeJobsRequestFilters::builder()
                .from_date(window_start(lookback)?)
                .build(),
        )
        .into_paginator()
        .items()
        .send();
    while let Some(job) = pages.next().await {
        let job = job.map_err(|e| classify("DescribeJobs", e))?;
        if visit(job).is_break() {
            break;
        }
    }
    Ok(())
}

/// Reads the jobs `job_ids` with `DescribeJobs` (at most 1,000 IDs per call, all pages). A job
/// DRS does not list is `NotListedYet` (a job started moments ago may not be listed yet: the
/// workflow retries).
pub async fn describe_jobs(
    client: &Client,
    job_ids: &[String],
) -> Result<BTreeMap<String, ObservedJob>, TaskError> {
    let mut found = BTreeMap::new();
    for chunk in job_ids.chunks(1000) {
        let mut pages = client
            .describe_jobs()
            .filters(
                DescribeJobsRequestFilters::builder()
                    .set_job_ids(Some(chunk.to_vec()))
                    .build(),
            )
            .into_paginator()
            .items()
            .send();
        while let Some(job) = pages.next().await {
            let job = job.map_err(|e| classify("DescribeJobs", e))?;
            found.insert(job.job_id().to_owned(), observe(&job));
        }
    }
    if let Some(missing) = job_ids.iter().find(|id| !found.contains_key(*id)) {
        return Err(TaskError::NotListedYet {
            message: format!("DescribeJobs: no job {missing}"),
        });
    }
    Ok(found)
}

/// The recovery instances the given jobs launched (each once, in job order): what a failback
/// of a finished recovery run fails back. A job DRS does not list is the input's fault.
pub async fn launched_instances(
    client: &Client,
    job_ids: &[String],
) -> Result<Vec<String>, TaskError> {
    let jobs = match describe_jobs(client, job_ids).await {
        Err(TaskError::NotListedYet { message }) => {
            return Err(TaskError::invalid(
                "waves",
                format!("{message}: the recovery run's jobs are not in this account and Region (give recoveryInstanceIDs instead)"),
            ))
        }
        other => other?,
    };
    let mut seen = std::collections::BTreeSet::new();
    let ids: Vec<String> = job_ids
        .iter()
        .flat_map(|id| &jobs[id].servers)
        .filter(|s| s.launch_status == "LAUNCHED")
        .filter_map(|s| s.recovery_instance_id.clone())
        .filter(|i| seen.insert(i.clone()))
        .collect();
    if ids.is_empty() {
        return Err(TaskError::invalid(
            "waves",
            "no server of this recovery run's jobs is LAUNCHED in DRS: nothing to fail back",
        ));
    }
    Ok(ids)
}

fn window_start(lookback: Duration) -> Result<String, TaskError> {
    let from = SystemTime::now()
        .checked_sub(lookback)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    super::api_time(from)
}

/// Finds a job started in the last `lookback` whose idempotency tag is `key`.
async fn find_job_by_key(
    client: &Client,
    key: &str,
    lookback: Duration,
) -> Result<Option<Job>, TaskError> {
    let mut found = None;
    each_job_since(client, lookback, |job| {
        let tagged = job
            .tags()
            .and_then(|t| t.get(IDEMPOTENCY_TAG))
            .is_some_and(|v| v == key);
        if tagged {
            found = Some(job);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .await?;
    Ok(found)
}

/// Calls `StartRecovery` once, tagging the job with the idempotency key.
async fn start_recovery(
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
async fn start_failback(
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

/// A job's log (`DescribeJobLogItems`, all pages), oldest first.
pub async fn job_log(client: &Client, job_id: &str) -> Result<Vec<JobLog>, TaskError> {
    let mut items = Vec::new();
    let mut pages = client
        .describe_job_log_items()
        .job_id(job_id)
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        items.push(item.map_err(|e| classify("DescribeJobLogItems", e))?);
    }
    Ok(items)
}

/// Why servers of a job failed, from its log: the last failure event per source server.
pub async fn failure_reasons(
    client: &Client,
    job_id: &str,
) -> Result<BTreeMap<String, String>, TaskError> {
    let mut reasons = BTreeMap::new();
    for item in job_log(client, job_id).await? {
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
fn observe(job: &Job) -> ObservedJob {
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
