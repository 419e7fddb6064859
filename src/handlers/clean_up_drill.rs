//! `clean-up-drill`: terminates the recovery instances a drill launched, and checks on the
//! termination. The recovery-plan workflow calls it when a drill ends, whether it succeeded or
//! not:
//!
//! - `{"operation": "START", "cleanup": <the prepared plan's cleanup>}` finds the drill jobs of
//!   that run (their idempotency tag starts with the run's key base), the instances they
//!   launched that still exist, passes each through the guard and asks DRS to terminate the
//!   rest, reusing a TERMINATE job an earlier attempt started;
//! - `{"operation": "START", "recoveryInstanceIDs": [...]}` does the same for instances named
//!   by hand (the guard still refuses anything but our own drill instances);
//! - `{"operation": "CHECK", "report": <the last report>, "giveUpAfterSeconds": n}` judges the
//!   TERMINATE jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::Value;
use tracing::info;

use crate::aws::recovery_instances::{self as drs, JobWithServers};
use crate::cleanup::{
    self, CleanupAction, CleanupPlan, CleanupReport, CleanupState, InstanceFacts, JobFacts, Named,
    MAX_LISTED,
};
use crate::error::TaskError;
use crate::{contract, plan, validate};

/// Instances named by hand in one request.
pub const MAX_NAMED_INSTANCES: usize = 1000;
/// How far before a run's start its jobs are looked for (clocks differ).
const CLOCK_SKEW: Duration = Duration::from_secs(300);
/// How far back a by-hand request looks for a TERMINATE job an earlier attempt started.
const BY_HAND_LOOKBACK: Duration = Duration::from_secs(3600);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Start {
    #[allow(dead_code)]
    operation: String,
    #[serde(default)]
    cleanup: Option<CleanupPlan>,
    #[serde(default, rename = "recoveryInstanceIDs")]
    recovery_instance_ids: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Check {
    #[allow(dead_code)]
    operation: String,
    report: CleanupReport,
    give_up_after_seconds: u64,
}

/// A request, parsed and checked: nothing invalid reaches AWS.
pub enum Request {
    Start(Scope),
    Check(CheckRequest),
}

/// What CHECK judges.
pub struct CheckRequest {
    report: CleanupReport,
    give_up_after_seconds: u64,
    started: SystemTime,
}

/// Parses and checks a payload, naming the field and the constraint it breaks.
pub fn parse_request(payload: Value) -> Result<Request, TaskError> {
    match payload.get("operation").and_then(Value::as_str) {
        Some("START") => Ok(Request::Start(scope(contract::parse(payload)?)?)),
        Some("CHECK") => {
            let input: Check = contract::parse(payload)?;
            plan::GIVE_UP_AFTER_SECONDS
                .check(input.give_up_after_seconds)
                .map_err(|e| TaskError::invalid("giveUpAfterSeconds", e))?;
            for (i, id) in input.report.terminate_job_ids.iter().enumerate() {
                validate::job_id(&format!("report.terminateJobIDs[{i}]"), id)?;
            }
            let started = validate::date_time("report.startedAt", &input.report.started_at)?;
            Ok(Request::Check(CheckRequest {
                report: input.report,
                give_up_after_seconds: input.give_up_after_seconds,
                started,
            }))
        }
        _ => Err(TaskError::invalid(
            "operation",
            "is required: START (terminate) or CHECK (judge the termination)",
        )),
    }
}

/// Handles one invocation.
pub async fn handle(
    client: &aws_sdk_drs::Client,
    event: LambdaEvent<Value>,
) -> Result<CleanupReport, TaskError> {
    match parse_request(event.payload)? {
        Request::Start(scope) => start(client, scope).await,
        Request::Check(check_request) => check(client, check_request).await,
    }
}

/// What START is asked to clean up, checked before any AWS call.
pub enum Scope {
    Run { key_base: String, since: SystemTime },
    ByHand(Vec<String>),
}

fn scope(input: Start) -> Result<Scope, TaskError> {
    match (input.cleanup, input.recovery_instance_ids) {
        (Some(c), None) => {
            if c.action != CleanupAction::TerminateDrillInstances {
                return Err(TaskError::invalid(
                    "cleanup.action",
                    "is NONE: only a drill's instances are terminated, never a real recovery's",
                ));
            }
            if c.key_base.trim().is_empty() {
                return Err(TaskError::invalid("cleanup.keyBase", "must not be empty"));
            }
            Ok(Scope::Run {
                key_base: c.key_base,
                since: validate::date_time("cleanup.since", &c.since)?,
            })
        }
        (None, Some(ids)) => {
            if ids.is_empty() || ids.len() > MAX_NAMED_INSTANCES {
                return Err(TaskError::invalid(
                    "recoveryInstanceIDs",
                    format!(
                        "must hold 1 to {MAX_NAMED_INSTANCES} recovery instances, got {}",
                        ids.len()
                    ),
                ));
            }
            for (i, id) in ids.iter().enumerate() {
                validate::recovery_instance_id(&format!("recoveryInstanceIDs[{i}]"), id)?;
            }
            Ok(Scope::ByHand(ids))
        }
        _ => Err(TaskError::invalid(
            "cleanup",
            "give either cleanup (a run's drill) or recoveryInstanceIDs, not both and not neither",
        )),
    }
}

async fn start(client: &aws_sdk_drs::Client, scope: Scope) -> Result<CleanupReport, TaskError> {
    let now = SystemTime::now();
    let since = match &scope {
        Scope::Run { since, .. } => since.checked_sub(CLOCK_SKEW).unwrap_or(*since),
        Scope::ByHand(_) => now.checked_sub(BY_HAND_LOOKBACK).unwrap_or(now),
    };
    // One read of the window's jobs serves both questions: which drill jobs are this run's,
    // and which TERMINATE jobs an earlier attempt already started.
    let recent = drs::jobs_since(client, since).await?;
    let (run, wanted, mut refused) = match &scope {
        Scope::Run { key_base, .. } => {
            let ids: Vec<String> = recent
                .values()
                .filter(|j| j.facts.initiated_by == "START_DRILL")
                .filter(|j| {
                    j.facts
                        .key()
                        .is_some_and(|k| k.starts_with(&format!("{key_base}#")))
                })
                .flat_map(|j| j.instances.iter().map(|(id, _, _)| id.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            (Some(key_base.as_str()), ids, Vec::new())
        }
        Scope::ByHand(ids) => (None, ids.clone(), Vec::new()),
    };
    let existing = drs::recovery_instances(client, Some(&wanted)).await?;
    // A TERMINATE job an earlier attempt started for an instance (and that has not failed it)
    // is reused: the call has no client token, and a second job would be refused anyway. An
    // instance that is gone because such a job terminated it counts as this cleanup's.
    let mut reused: BTreeMap<String, String> = BTreeMap::new();
    for t in recent
        .values()
        .filter(|j| j.facts.initiated_by == "TERMINATE_RECOVERY_INSTANCES")
    {
        for (id, _, status) in &t.instances {
            if status != "FAILED" {
                reused.insert(id.clone(), t.facts.job_id.clone());
            }
        }
    }
    let listed: BTreeSet<&str> = existing
        .iter()
        .map(|i| i.recovery_instance_id.as_str())
        .collect();
    let gone: Vec<&String> = wanted
        .iter()
        .filter(|id| !listed.contains(id.as_str()))
        .collect();
    let terminated_before: Vec<&String> = gone
        .iter()
        .copied()
        .filter(|id| reused.contains_key(*id))
        .collect();
    if let Scope::ByHand(_) = &scope {
        refused.extend(
            gone.iter()
                .filter(|id| !reused.contains_key(**id))
                .map(|id| Named {
                    recovery_instance_id: (*id).clone(),
                    source_server_id: None,
                    reason: "DRS does not list this recovery instance".into(),
                }),
        );
    }
    let launch_job_ids: Vec<String> = existing
        .iter()
        .filter_map(|i| i.job_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let launch_jobs = facts(&drs::jobs(client, &launch_job_ids).await?);
    let mut allowed: Vec<&InstanceFacts> = Vec::new();
    for instance in &existing {
        match cleanup::may_terminate(instance, &launch_jobs, run) {
            Ok(()) => allowed.push(instance),
            Err(refusal) => refused.push(Named {
                recovery_instance_id: instance.recovery_instance_id.clone(),
                source_server_id: instance.source_server_id.clone(),
                reason: refusal.reason().into(),
            }),
        }
    }
    let to_terminate: Vec<String> = allowed
        .iter()
        .map(|i| i.recovery_instance_id.clone())
        .filter(|id| !reused.contains_key(id))
        .collect();
    let mut job_ids: BTreeSet<String> = allowed
        .iter()
        .map(|i| &i.recovery_instance_id)
        .chain(terminated_before.iter().copied())
        .filter_map(|id| reused.get(id).cloned())
        .collect();
    job_ids.extend(drs::terminate(client, &to_terminate).await?);
    info!(
        instances = allowed.len(),
        started = to_terminate.len(),
        reused = allowed.len() - to_terminate.len(),
        terminated_before = terminated_before.len(),
        refused = refused.len(),
        "drill cleanup started"
    );
    let refused_count = refused.len();
    refused.truncate(MAX_LISTED);
    let report = CleanupReport {
        state: CleanupState::InProgress,
        summary: String::new(),
        started_at: crate::aws::api_time(now)?,
        terminate_job_ids: job_ids.into_iter().collect(),
        instances: allowed.len() + terminated_before.len(),
        terminated: 0,
        failed_count: 0,
        failed: Vec::new(),
        refused_count,
        refused,
        error: None,
        cause: None,
    };
    if report.terminate_job_ids.is_empty() {
        return Ok(cleanup::judge(report, &[], 0, u64::MAX));
    }
    // CHECK judges the TERMINATE jobs, those started now and those an earlier attempt started.
    Ok(CleanupReport {
        summary: format!(
            "terminating {} drill instances in {} TERMINATE jobs, {} refused",
            report.instances,
            report.terminate_job_ids.len(),
            report.refused_count
        ),
        ..report
    })
}

async fn check(
    client: &aws_sdk_drs::Client,
    input: CheckRequest,
) -> Result<CleanupReport, TaskError> {
    let elapsed = SystemTime::now()
        .duration_since(input.started)
        .unwrap_or_default()
        .as_secs();
    let jobs = drs::jobs(client, &input.report.terminate_job_ids).await?;
    if let Some(missing) = input
        .report
        .terminate_job_ids
        .iter()
        .find(|id| !jobs.contains_key(*id))
    {
        return Err(TaskError::NotListedYet {
            message: format!("DescribeJobs: no TERMINATE job {missing}"),
        });
    }
    let observed = drs::terminating(&jobs);
    let report = cleanup::judge(
        input.report,
        &observed,
        elapsed,
        input.give_up_after_seconds,
    );
    info!(state = ?report.state, summary = %report.summary, "drill cleanup checked");
    Ok(report)
}

fn facts(jobs: &BTreeMap<String, JobWithServers>) -> BTreeMap<String, JobFacts> {
    jobs.iter()
        .map(|(id, j)| (id.clone(), j.facts.clone()))
        .collect()
}
