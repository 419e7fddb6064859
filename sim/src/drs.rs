//! The DRS operations, at the paths and with the field names of the service model
//! (`POST /StartRecovery`, camelCase with `ID`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::clock::{iso, now_ms, parse_iso};
use crate::model::{iso_duration, matches_id, replication_error};
use crate::store::{Initiated, Job, Service, Store};
use crate::wire::{ok, ApiError};
use crate::Shared;

type Answer = Result<Response, ApiError>;

fn body(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::validation(
            "Request body is not a JSON object".into(),
            "body",
        )),
    }
}

fn filters(req: &Map<String, Value>) -> Map<String, Value> {
    req.get("filters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn tags(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn page<T: Clone>(
    items: &[T],
    req: &Map<String, Value>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match req.get("nextToken").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::validation(format!("Invalid nextToken {t}"), "nextToken"))?,
    };
    let max = match req.get("maxResults") {
        None => 1000,
        Some(v) => v.as_u64().filter(|&n| n >= 1).ok_or_else(|| {
            ApiError::validation("maxResults must be at least 1".into(), "maxResults")
        })? as usize,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

fn with_page(mut out: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        out["nextToken"] = json!(t);
    }
    out
}

/// A job as the model's `Job` shape.
pub fn job_json(store: &Store, job: &Job, now: i64) -> Value {
    let servers: Vec<Value> = job
        .servers
        .iter()
        .map(|s| {
            let status = job.launch_status(s, now);
            let mut v = json!({"sourceServerID": s.source_server_id, "launchStatus": status});
            let show_instance = job.initiated_by != Initiated::StartRecovery
                && job.initiated_by != Initiated::StartDrill
                || status == "LAUNCHED";
            if show_instance {
                v["recoveryInstanceID"] = json!(s.recovery_instance_id);
            }
            v
        })
        .collect();
    let status = job.status(now);
    let mut v = json!({
        "jobID": job.job_id,
        "arn": store.arn("drs", &format!("job/{}", job.job_id)),
        "type": job.initiated_by.job_type(),
        "initiatedBy": job.initiated_by.wire(),
        "creationDateTime": iso(job.created_ms),
        "status": status,
        "participatingServers": servers,
        "participatingResources": [],
        "tags": job.tags,
    });
    if status == "COMPLETED" {
        v["endDateTime"] = json!(iso(job.ends_ms()));
    }
    v
}

fn start_answer(store: &Store, job_id: &str, now: i64, code: u16) -> Response {
    let job = store
        .jobs
        .iter()
        .find(|j| j.job_id == job_id)
        .expect("job exists");
    ok(code, json!({"job": job_json(store, job, now)}))
}

fn check_count(field: &str, n: usize) -> Result<(), ApiError> {
    if (1..=200).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::validation(
            format!("{field} must contain between 1 and 200 items, got {n}"),
            field,
        ))
    }
}

pub async fn start_recovery(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("StartRecovery", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let is_drill = req.get("isDrill").and_then(Value::as_bool).unwrap_or(false);
    let list = req
        .get("sourceServers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    check_count("sourceServers", list.len())?;
    let mut members = Vec::with_capacity(list.len());
    let mut chosen = Vec::new();
    for s in &list {
        let id = s
            .get("sourceServerID")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !store.servers.contains_key(&id) {
            return Err(ApiError::validation(
                format!("Source server {id:?} does not exist"),
                "sourceServers",
            ));
        }
        if members.iter().any(|(m, _)| m == &id) {
            return Err(ApiError::validation(
                format!("Source server {id} is listed twice"),
                "sourceServers",
            ));
        }
        if let Some(snap) = s.get("recoverySnapshotID") {
            chosen.push((id.clone(), chosen_snapshot(&store, &id, snap, now)?));
        }
        let instance = store.new_instance_id();
        members.push((id, instance));
    }
    let initiated = if is_drill {
        Initiated::StartDrill
    } else {
        Initiated::StartRecovery
    };
    // Without a chosen snapshot, DRS launches from one it takes now: its point in time is the
    // replicated data's, the server's replication lag ago.
    let on_demand: Vec<(String, i64)> = members
        .iter()
        .filter_map(|(id, _)| {
            let server = store.servers.get(id)?;
            let (_, lag) = store.replication(server);
            Some((id.clone(), now - i64::try_from(lag).unwrap_or(0) * 1000))
        })
        .collect();
    let job_id = store
        .create_job(initiated, is_drill, members, tags(req.get("tags")), now)?
        .job_id
        .clone();
    let job = store.jobs.last_mut().expect("just created");
    for (id, at) in on_demand {
        if let Some(m) = job.servers.iter_mut().find(|m| m.source_server_id == id) {
            m.recovery_snapshot = Some(("on-demand".into(), at));
        }
    }
    for (id, snapshot) in chosen {
        if let Some(m) = job.servers.iter_mut().find(|m| m.source_server_id == id) {
            m.recovery_snapshot = Some(snapshot);
        }
    }
    Ok(start_answer(&store, &job_id, now, 202))
}

/// A `recoverySnapshotID` given to `StartRecovery` must be one of that server's current
/// snapshots (`DescribeRecoverySnapshots`). Otherwise the answer is a 400 `ValidationException`
/// (`fieldValidationFailed`): `StartRecovery` models neither it nor `ResourceNotFoundException`,
/// and a validation error is how AWS rejects a bad member of the input and how this endpoint
/// already rejects an unknown source server.
fn chosen_snapshot(
    store: &Store,
    server: &str,
    snap: &Value,
    now: i64,
) -> Result<(String, i64), ApiError> {
    let field = "sourceServers.recoverySnapshotID";
    let snap = snap.as_str().unwrap_or_default();
    if !matches_id(snap, "pit-") {
        return Err(ApiError::validation(
            format!("recoverySnapshotID {snap:?} does not match pit-[0-9a-zA-Z]{{17}}"),
            field,
        ));
    }
    store
        .recovery_snapshots(server, now)
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.snapshot_id == snap)
        .map(|s| (s.snapshot_id, s.taken_ms))
        .ok_or_else(|| {
            ApiError::validation(
                format!("Recovery snapshot {snap} does not exist for source server {server}"),
                field,
            )
        })
}

pub async fn start_failback_launch(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("StartFailbackLaunch", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let ids = strings(req.get("recoveryInstanceIDs"));
    check_count("recoveryInstanceIDs", ids.len())?;
    let existing: BTreeMap<String, (String, bool)> = store
        .recovery_instances(now)
        .into_iter()
        .map(|(j, s)| {
            (
                s.recovery_instance_id.clone(),
                (s.source_server_id.clone(), j.is_drill),
            )
        })
        .collect();
    let mut members = Vec::new();
    for id in ids {
        match existing.get(&id) {
            None => return Err(ApiError::validation(format!("Recovery instance {id} does not exist"), "recoveryInstanceIDs")),
            Some((_, true)) => {
                return Err(ApiError::validation(
                    format!("Recovery instance {id} was launched by a drill; only recovery instances can fail back"),
                    "recoveryInstanceIDs",
                ))
            }
            Some((source, false)) => {
                let state = store.failback_state(&id, false);
                if state != "FAILBACK_READY_FOR_LAUNCH" {
                    return Err(ApiError::validation(
                        format!("Recovery instance {id} is not ready for failback launch ({state})"),
                        "recoveryInstanceIDs",
                    ));
                }
                members.push((source.clone(), id))
            }
        }
    }
    let job_id = store
        .create_job(
            Initiated::Failback,
            false,
            members,
            tags(req.get("tags")),
            now,
        )?
        .job_id
        .clone();
    Ok(start_answer(&store, &job_id, now, 200))
}

pub async fn terminate_recovery_instances(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("TerminateRecoveryInstances", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let ids = strings(req.get("recoveryInstanceIDs"));
    check_count("recoveryInstanceIDs", ids.len())?;
    let existing: BTreeMap<String, String> = store
        .recovery_instances(now)
        .into_iter()
        .map(|(_, s)| (s.recovery_instance_id.clone(), s.source_server_id.clone()))
        .collect();
    let mut members = Vec::new();
    for id in ids {
        let source = existing.get(&id).ok_or_else(|| {
            ApiError::validation(
                format!("Recovery instance {id} does not exist"),
                "recoveryInstanceIDs",
            )
        })?;
        members.push((source.clone(), id));
    }
    let job_id = store
        .create_job(
            Initiated::TerminateRecoveryInstances,
            false,
            members,
            BTreeMap::new(),
            now,
        )?
        .job_id
        .clone();
    Ok(start_answer(&store, &job_id, now, 200))
}

pub async fn describe_jobs(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeJobs", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let filters = filters(&req);
    let ids = strings(filters.get("jobIDs"));
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        match filters.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(s) => parse_iso(s).map(Some).ok_or_else(|| {
                ApiError::validation(format!("{name} {s:?} is not an ISO 8601 date-time"), name)
            }),
        }
    };
    let (from, to) = (date("fromDate")?, date("toDate")?);
    let items: Vec<Value> = store
        .jobs
        .iter()
        .filter(|j| now >= j.listed_from_ms)
        .filter(|j| ids.is_empty() || ids.contains(&j.job_id))
        .filter(|j| from.is_none_or(|f| j.created_ms >= f))
        .filter(|j| to.is_none_or(|t| j.created_ms <= t))
        .map(|j| job_json(&store, j, now))
        .collect();
    let (items, next) = page(&items, &req)?;
    Ok(ok(200, with_page(json!({"items": items}), next)))
}

pub async fn describe_job_log_items(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeJobLogItems", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let job_id = req.get("jobID").and_then(Value::as_str).unwrap_or_default();
    let job = store
        .jobs
        .iter()
        .find(|j| j.job_id == job_id)
        .ok_or_else(|| ApiError::validation(format!("Job {job_id:?} does not exist"), "jobID"))?;
    let mut items: Vec<(i64, Value)> = Vec::new();
    if now >= job.started_ms {
        items.push((
            job.started_ms,
            json!({"logDateTime": iso(job.started_ms), "event": "JOB_START", "eventData": {}}),
        ));
        for s in &job.servers {
            // DRS logs a server's LAUNCH_START when its instance is launched (with the
            // instance's ID); before that, the snapshot and conversion steps.
            let start_event = match job.initiated_by {
                Initiated::TerminateRecoveryInstances => "CLEANUP_START",
                _ => "SNAPSHOT_START",
            };
            items.push((
                job.started_ms,
                json!({"logDateTime": iso(job.started_ms), "event": start_event, "eventData": {"sourceServerID": s.source_server_id}}),
            ));
            if now >= s.settles_at_ms {
                if let Some(reason) = &s.failure {
                    items.push((
                        s.settles_at_ms,
                        json!({"logDateTime": iso(s.settles_at_ms), "event": "LAUNCH_FAILED",
                               "eventData": {"sourceServerID": s.source_server_id, "rawError": reason}}),
                    ));
                } else if job.initiated_by != Initiated::TerminateRecoveryInstances {
                    items.push((
                        s.settles_at_ms,
                        json!({"logDateTime": iso(s.settles_at_ms), "event": "LAUNCH_START",
                               "eventData": {"sourceServerID": s.source_server_id, "targetInstanceID": s.recovery_instance_id}}),
                    ));
                } else {
                    items.push((
                        s.settles_at_ms,
                        json!({"logDateTime": iso(s.settles_at_ms), "event": "CLEANUP_END",
                               "eventData": {"sourceServerID": s.source_server_id}}),
                    ));
                }
            }
        }
        if job.status(now) == "COMPLETED" {
            items.push((
                job.ends_ms(),
                json!({"logDateTime": iso(job.ends_ms()), "event": "JOB_END", "eventData": {}}),
            ));
        }
    }
    items.sort_by_key(|(t, _)| *t);
    let items: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    let (items, next) = page(&items, &req)?;
    Ok(ok(200, with_page(json!({"items": items}), next)))
}

pub async fn describe_source_servers(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeSourceServers", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let filters = filters(&req);
    let ids = strings(filters.get("sourceServerIDs"));
    let instances = store.recovery_instances(now);
    let items: Vec<Value> = store
        .servers
        .values()
        .filter(|s| ids.is_empty() || ids.contains(&s.source_server_id))
        .map(|s| {
            let last = store.jobs.iter().rev().find(|j| {
                matches!(j.initiated_by, Initiated::StartRecovery | Initiated::StartDrill)
                    && j.servers.iter().any(|m| m.source_server_id == s.source_server_id)
            });
            let last_result = match last {
                None => "NOT_STARTED",
                Some(j) => {
                    let m = j.servers.iter().find(|m| m.source_server_id == s.source_server_id).expect("member");
                    match j.launch_status(m, now) {
                        "LAUNCHED" => "SUCCEEDED",
                        "FAILED" => "FAILED",
                        _ => "PENDING",
                    }
                }
            };
            let (state, lag) = store.replication(s);
            let mut replication = json!({"dataReplicationState": state, "lagDuration": iso_duration(lag)});
            let mut life_cycle = json!({"addedToServiceDateTime": "2026-01-05T09:00:00Z"});
            if let Some((error, raw)) = replication_error(&state) {
                replication["dataReplicationError"] = json!({"error": error, "rawError": raw});
                let lag_ms = i64::try_from(lag.saturating_mul(1000)).unwrap_or(now);
                life_cycle["lastSeenByServiceDateTime"] = json!(iso(now - lag_ms.min(now)));
            }
            let mut v = json!({
                "sourceServerID": s.source_server_id,
                "arn": store.arn("drs", &format!("source-server/{}", s.source_server_id)),
                "tags": s.tags,
                "lastLaunchResult": last_result,
                "dataReplicationInfo": replication,
                "lifeCycle": life_cycle,
                "sourceProperties": {"identificationHints": {"hostname": s.hostname, "fqdn": s.hostname}},
                "replicationDirection": "FAILOVER",
            });
            if let Some((_, m)) = instances.iter().rev().find(|(_, m)| m.source_server_id == s.source_server_id) {
                v["recoveryInstanceId"] = json!(m.recovery_instance_id);
            }
            v
        })
        .collect();
    let (items, next) = page(&items, &req)?;
    Ok(ok(200, with_page(json!({"items": items}), next)))
}

pub async fn describe_recovery_instances(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeRecoveryInstances", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let filters = filters(&req);
    let ids = strings(filters.get("recoveryInstanceIDs"));
    let sources = strings(filters.get("sourceServerIDs"));
    let items: Vec<Value> = store
        .recovery_instances(now)
        .into_iter()
        .filter(|(_, s)| ids.is_empty() || ids.contains(&s.recovery_instance_id))
        .filter(|(_, s)| sources.is_empty() || sources.contains(&s.source_server_id))
        .map(|(j, s)| {
            json!({
                "recoveryInstanceID": s.recovery_instance_id,
                "ec2InstanceID": s.recovery_instance_id,
                "ec2InstanceState": "RUNNING",
                "jobID": j.job_id,
                "sourceServerID": s.source_server_id,
                "arn": store.arn("drs", &format!("recovery-instance/{}", s.recovery_instance_id)),
                "tags": {},
                "isDrill": j.is_drill,
                "failback": {"state": store.failback_state(&s.recovery_instance_id, j.is_drill)},
                "originEnvironment": "ON_PREMISES",
                "pointInTimeSnapshotDateTime": iso(s.recovery_snapshot.as_ref().map_or(j.created_ms, |(_, at)| *at)),
            })
        })
        .collect();
    let (items, next) = page(&items, &req)?;
    Ok(ok(200, with_page(json!({"items": items}), next)))
}

/// `POST /DescribeRecoverySnapshots`: one server's snapshots, oldest first unless `order` is
/// `DESC`, filtered by `fromDateTime`/`toDateTime` (inclusive, on `timestamp`). An unknown or
/// missing `sourceServerID` is a 400 `ValidationException`: that is the only client error the
/// model gives this operation (it has no `ResourceNotFoundException`).
pub async fn describe_recovery_snapshots(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeRecoverySnapshots", Service::Drs)?;
    let req = body(&bytes)?;
    let now = now_ms();
    let id = req
        .get("sourceServerID")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches_id(id, "s-") {
        return Err(ApiError::validation(
            format!("sourceServerID {id:?} does not match s-[0-9a-zA-Z]{{17}}"),
            "sourceServerID",
        ));
    }
    let mut snaps = store.recovery_snapshots(id, now).ok_or_else(|| {
        ApiError::validation(
            format!("Source server {id} does not exist"),
            "sourceServerID",
        )
    })?;
    let filters = filters(&req);
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        match filters.get(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(s) => parse_iso(s).map(Some).ok_or_else(|| {
                ApiError::validation(format!("{name} {s:?} is not an ISO 8601 date-time"), name)
            }),
        }
    };
    let (from, to) = (date("fromDateTime")?, date("toDateTime")?);
    snaps.retain(|s| from.is_none_or(|f| s.taken_ms >= f) && to.is_none_or(|t| s.taken_ms <= t));
    match req.get("order").and_then(Value::as_str) {
        None | Some("ASC") => {}
        Some("DESC") => snaps.reverse(),
        Some(other) => {
            return Err(ApiError::validation(
                format!("order {other:?} is not ASC or DESC"),
                "order",
            ))
        }
    }
    let items: Vec<Value> = snaps.iter().map(|s| s.json()).collect();
    let (items, next) = page(&items, &req)?;
    Ok(ok(200, with_page(json!({"items": items}), next)))
}
