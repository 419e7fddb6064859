//! The AWS Backup operations, at the paths and with the field names of the service model
//! (`PUT /restore-jobs`, PascalCase, timestamps as epoch seconds).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use crate::clock::{now_ms, parse_iso};
use crate::store::{RestoreJob, Service, Store};
use crate::wire::{ok, ApiError};
use crate::Shared;

type Answer = Result<Response, ApiError>;

fn epoch(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn restore_json(store: &Store, r: &RestoreJob, now: i64) -> Value {
    let status = r.status(now);
    let mut v = json!({
        "AccountId": store.account_id,
        "RestoreJobId": r.restore_job_id,
        "RecoveryPointArn": r.recovery_point_arn,
        "CreationDate": epoch(r.created_ms),
        "Status": status,
        "PercentDone": r.percent_done(now),
        "BackupSizeInBytes": r.backup_size_in_bytes,
        "ExpectedCompletionTimeMinutes": ((r.ends_ms - r.created_ms) / 60_000).max(1),
        "ResourceType": r.resource_type,
        "BackupVaultArn": store.arn("backup", "backup-vault:payments-vault"),
        "IsParent": false,
    });
    if let Some(role) = &r.iam_role_arn {
        v["IamRoleArn"] = json!(role);
    }
    if let Some(age) = store
        .recovery_points
        .get(&r.recovery_point_arn)
        .and_then(|rp| rp.age_seconds)
    {
        v["RecoveryPointCreationDate"] = epoch(store.started_ms - age * 1000);
    }
    match status {
        "COMPLETED" => {
            v["CompletionDate"] = epoch(r.ends_ms);
            v["CreatedResourceArn"] = json!(r.created_resource_arn);
        }
        "FAILED" | "ABORTED" => {
            v["CompletionDate"] = epoch(r.ends_ms);
            if let Some(o) = &r.outcome {
                v["StatusMessage"] = json!(o.status_message);
            }
        }
        _ => {}
    }
    v
}

pub async fn start_restore_job(State(shared): State<Shared>, bytes: Bytes) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("StartRestoreJob", Service::Backup)?;
    let req: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::backup_invalid(format!("Request body is not JSON: {e}")))?;
    let arn = req
        .get("RecoveryPointArn")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::backup_missing("RecoveryPointArn is required".into()))?;
    if !req.get("Metadata").is_some_and(Value::is_object) {
        return Err(ApiError::backup_missing("Metadata is required".into()));
    }
    let rp = store.recovery_points.get(arn).cloned().ok_or_else(|| {
        ApiError::backup_not_found(format!("Recovery point {arn} does not exist"))
    })?;
    if let Some(rt) = req.get("ResourceType").and_then(Value::as_str) {
        if rt != rp.resource_type {
            return Err(ApiError::backup_invalid(format!(
                "ResourceType {rt} does not match the recovery point's resource type {}",
                rp.resource_type
            )));
        }
    }
    let role = req
        .get("IamRoleArn")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let token = req
        .get("IdempotencyToken")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let id = store
        .start_restore(rp, role, token, now_ms())
        .restore_job_id
        .clone();
    Ok(ok(200, json!({"RestoreJobId": id})))
}

pub async fn describe_restore_job(State(shared): State<Shared>, Path(id): Path<String>) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("DescribeRestoreJob", Service::Backup)?;
    let now = now_ms();
    let job = store
        .restores
        .iter()
        .find(|r| r.restore_job_id == id)
        .ok_or_else(|| ApiError::backup_not_found(format!("Restore job {id} does not exist")))?;
    Ok(ok(200, restore_json(&store, job, now)))
}

pub async fn list_restore_jobs(
    State(shared): State<Shared>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("ListRestoreJobs", Service::Backup)?;
    let now = now_ms();
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        match q.get(name) {
            None => Ok(None),
            Some(s) => parse_iso(s).map(Some).ok_or_else(|| {
                ApiError::backup_invalid(format!("{name} {s:?} is not an ISO 8601 date-time"))
            }),
        }
    };
    let (after, before) = (date("createdAfter")?, date("createdBefore")?);
    let items: Vec<Value> = store
        .restores
        .iter()
        .filter(|r| q.get("status").is_none_or(|s| r.status(now) == s))
        .filter(|r| q.get("resourceType").is_none_or(|t| &r.resource_type == t))
        .filter(|r| after.is_none_or(|a| r.created_ms >= a))
        .filter(|r| before.is_none_or(|b| r.created_ms <= b))
        .map(|r| restore_json(&store, r, now))
        .collect();
    let start: usize = match q.get("nextToken") {
        None => 0,
        Some(t) => t
            .parse()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::backup_invalid(format!("Invalid NextToken {t}")))?,
    };
    let max: usize = match q.get("maxResults") {
        None => 1000,
        Some(m) => m
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::backup_invalid("MaxResults must be from 1 to 1000".into()))?,
    };
    let end = (start + max).min(items.len());
    let mut out = json!({"RestoreJobs": items[start..end]});
    if end < items.len() {
        out["NextToken"] = json!(end.to_string());
    }
    Ok(ok(200, out))
}

pub async fn get_recovery_point_restore_metadata(
    State(shared): State<Shared>,
    Path((vault, arn)): Path<(String, String)>,
) -> Answer {
    let mut store = shared.lock().expect("store lock");
    store.begin("GetRecoveryPointRestoreMetadata", Service::Backup)?;
    let rp = store
        .recovery_points
        .get(&arn)
        .filter(|rp| rp.backup_vault_name == vault)
        .ok_or_else(|| {
            ApiError::backup_not_found(format!(
                "Recovery point {arn} does not exist in vault {vault}"
            ))
        })?;
    Ok(ok(
        200,
        json!({
            "BackupVaultArn": store.arn("backup", &format!("backup-vault:{vault}")),
            "RecoveryPointArn": rp.recovery_point_arn,
            "RestoreMetadata": rp.restore_metadata,
            "ResourceType": rp.resource_type,
        }),
    ))
}
