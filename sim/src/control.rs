//! The control endpoint under `/_sim/`: add faults, read what the endpoint saw, start over.
//! It is not part of either AWS API.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::clock::{iso, now_ms};
use crate::events;
use crate::seed::Faults;
use crate::wire::ok;
use crate::Shared;

/// `POST /_sim/faults`: merges the given faults into the current ones. A body that is not the
/// faults' JSON (an unknown key, a value of the wrong type, an `events.drop` other than
/// `"ALL"` or a list of IDs), a `replication` entry for an unknown source server or with a
/// state outside the model's `DataReplicationState`, a negative `hideNewJobsSeconds` or
/// `events.delaySeconds`, or an `events.drop` naming an unknown source server, is refused with
/// a 400 and changes nothing.
pub async fn add_faults(State(shared): State<Shared>, bytes: Bytes) -> Response {
    let add: Faults = match serde_json::from_slice(&bytes) {
        Ok(add) => add,
        Err(e) => return ok(400, json!({"error": format!("faults: {e}")})),
    };
    let mut store = shared.lock().expect("store lock");
    let unknown = add
        .replication
        .keys()
        .find(|id| !store.servers.contains_key(*id))
        .map(|id| format!("replication: no source server {id}"))
        .or_else(|| {
            add.events
                .dropped_servers()
                .find(|id| !store.servers.contains_key(*id))
                .map(|id| format!("events.drop: no source server {id}"))
        });
    if let Some(problem) = add.validate().err().or(unknown) {
        return ok(400, json!({"error": problem}));
    }
    if let Some(s) = add.outage_seconds {
        store.outage_until_ms = Some(crate::clock::now_ms() + (s * 1000.0).round() as i64);
    }
    let f = &mut store.faults;
    for (id, r) in add.replication {
        f.replication.entry(id).or_default().merge(r);
    }
    if add.hide_new_jobs_seconds.is_some() {
        f.hide_new_jobs_seconds = add.hide_new_jobs_seconds;
    }
    f.fail_launch.extend(add.fail_launch);
    f.slow_launch.extend(add.slow_launch);
    f.slow_terminate.extend(add.slow_terminate);
    f.fail_terminate.extend(add.fail_terminate);
    f.failback_state.extend(add.failback_state);
    f.throttle.extend(add.throttle);
    f.internal_error.extend(add.internal_error);
    f.restore_outcomes.extend(add.restore_outcomes);
    if add.retry_after_seconds.is_some() {
        f.retry_after_seconds = add.retry_after_seconds;
    }
    f.events.merge(add.events);
    ok(200, json!({"faults": store.faults}))
}

/// `GET /_sim/events`: `{"events": [...]}`, every EventBridge event due now (DRS launch results,
/// AWS Backup restore state changes; see `events.rs`), ordered by due time, then `id`. The
/// same event has the same `id` on every read.
pub async fn events(State(shared): State<Shared>) -> Response {
    let store = shared.lock().expect("store lock");
    let due: Vec<Value> = events::due(&store, now_ms())
        .into_iter()
        .map(|e| e.body)
        .collect();
    ok(200, json!({"events": due}))
}

/// `POST /_sim/age`: `{"jobID", "hours"}` moves a job and everything it did that many hours
/// into the past, as if it had been created then (for tests of what happens to old drill
/// instances). An unknown job is a 404.
pub async fn age_job(State(shared): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut store = shared.lock().expect("store lock");
    let (Some(id), Some(hours)) = (
        body.get("jobID").and_then(Value::as_str),
        body.get("hours").and_then(Value::as_f64),
    ) else {
        return ok(
            400,
            json!({"error": "give jobID (string) and hours (number)"}),
        );
    };
    let shift = (hours * 3_600_000.0).round() as i64;
    let Some(job) = store.jobs.iter_mut().find(|j| j.job_id == id) else {
        return ok(404, json!({"error": format!("no job {id}")}));
    };
    job.created_ms -= shift;
    job.listed_from_ms -= shift;
    job.started_ms -= shift;
    for s in &mut job.servers {
        s.settles_at_ms -= shift;
    }
    ok(200, json!({"jobID": id, "createdMs": job.created_ms}))
}

/// `POST /_sim/reset`: back to the seed.
pub async fn reset(State(shared): State<Shared>) -> Response {
    shared.lock().expect("store lock").reset();
    ok(200, json!({"reset": true}))
}

/// `GET /_sim/state`: calls per operation, every job and restore with its timeline, the current
/// faults, each overridden server's replication (`{"state", "lagSeconds"}` in effect), and
/// `eventsDue`, how many events `GET /_sim/events` lists now.
pub async fn state(State(shared): State<Shared>) -> Response {
    let store = shared.lock().expect("store lock");
    let now = now_ms();
    let jobs: Vec<Value> = store
        .jobs
        .iter()
        .map(|j| {
            json!({
                "jobID": j.job_id,
                "initiatedBy": j.initiated_by.wire(),
                "isDrill": j.is_drill,
                "status": j.status(now),
                "createdAt": iso(j.created_ms),
                "createdMs": j.created_ms,
                "listedFromMs": j.listed_from_ms,
                "listed": now >= j.listed_from_ms,
                "startedMs": j.started_ms,
                "endsMs": j.ends_ms(),
                "tags": j.tags,
                "servers": j.servers.iter().map(|s| json!({
                    "sourceServerID": s.source_server_id,
                    "recoveryInstanceID": s.recovery_instance_id,
                    "launchStatus": j.launch_status(s, now),
                    "settlesMs": s.settles_at_ms,
                    "snapshotMs": s.recovery_snapshot.as_ref().map(|(_, at)| *at),
                    "failure": s.failure,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let restores: Vec<Value> = store
        .restores
        .iter()
        .map(|r| {
            json!({
                "restoreJobId": r.restore_job_id,
                "recoveryPointArn": r.recovery_point_arn,
                "idempotencyToken": r.idempotency_token,
                "status": r.status(now),
                "createdMs": r.created_ms,
                "endsMs": r.ends_ms,
                "recoveryPointCreatedMs": store
                    .recovery_points
                    .get(&r.recovery_point_arn)
                    .and_then(|rp| rp.age_seconds)
                    .map(|age| store.started_ms - age * 1000),
            })
        })
        .collect();
    let replication: serde_json::Map<String, Value> = store
        .faults
        .replication
        .keys()
        .filter_map(|id| store.servers.get(id))
        .map(|s| {
            let (state, lag) = store.replication(s);
            (
                s.source_server_id.clone(),
                json!({"state": state, "lagSeconds": lag}),
            )
        })
        .collect();
    ok(
        200,
        json!({"nowMs": now, "calls": store.calls, "faulted": store.faulted, "faults": store.faults,
               "outageUntilMs": store.outage_until_ms,
               "replication": replication, "jobs": jobs, "restoreJobs": restores,
               "eventsDue": events::due(&store, now).len()}),
    )
}
