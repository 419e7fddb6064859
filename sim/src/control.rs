//! The control endpoint under `/_sim/`: add faults, read what the endpoint saw, start over.
//! It is not part of either AWS API.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::clock::{iso, now_ms};
use crate::seed::Faults;
use crate::wire::ok;
use crate::Shared;

/// `POST /_sim/faults`: merges the given faults into the current ones.
pub async fn add_faults(State(shared): State<Shared>, Json(add): Json<Faults>) -> Response {
    let mut store = shared.lock().expect("store lock");
    let f = &mut store.faults;
    f.fail_launch.extend(add.fail_launch);
    f.throttle.extend(add.throttle);
    f.internal_error.extend(add.internal_error);
    f.restore_outcomes.extend(add.restore_outcomes);
    if add.retry_after_seconds.is_some() {
        f.retry_after_seconds = add.retry_after_seconds;
    }
    ok(200, json!({"faults": store.faults}))
}

/// `POST /_sim/reset`: back to the seed.
pub async fn reset(State(shared): State<Shared>) -> Response {
    shared.lock().expect("store lock").reset();
    ok(200, json!({"reset": true}))
}

/// `GET /_sim/state`: calls per operation, and every job and restore with its timeline.
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
                "endsMs": j.ends_ms(),
                "tags": j.tags,
                "servers": j.servers.iter().map(|s| json!({
                    "sourceServerID": s.source_server_id,
                    "recoveryInstanceID": s.recovery_instance_id,
                    "launchStatus": j.launch_status(s, now),
                    "settlesMs": s.settles_at_ms,
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
            })
        })
        .collect();
    ok(
        200,
        json!({"nowMs": now, "calls": store.calls, "faulted": store.faulted, "jobs": jobs, "restoreJobs": restores}),
    )
}
