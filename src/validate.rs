//! Checks every constraint the DRS and AWS Backup service models put on a request (patterns,
//! lengths, counts), plus this project's own rules (no duplicate servers, no reserved tags),
//! before any AWS call is made. Each failure names the field and the constraint it broke.

use std::collections::BTreeSet;

use crate::contract::{
    JobRef, LaunchStatus, StartFailbackInput, StartRecoveryInput, StartRestoreInput, Tags,
};
use crate::error::TaskError;
use crate::idempotency::IDEMPOTENCY_TAG;

/// `StartRecoveryRequestSourceServers` and `StartFailbackRequestRecoveryInstanceIDs`: 1 to 200.
pub const MAX_SERVERS_PER_CALL: usize = 200;
/// `TagKey` and `TagValue`: at most 256 characters.
pub const MAX_TAG_LEN: usize = 256;

/// Validates a `start-recovery` input.
pub fn start_recovery(input: &StartRecoveryInput) -> Result<(), TaskError> {
    idempotency_key(&input.idempotency_key)?;
    count("sourceServers", input.source_servers.len())?;
    let mut seen = BTreeSet::new();
    for (i, server) in input.source_servers.iter().enumerate() {
        let field = format!("sourceServers[{i}].sourceServerID");
        source_server_id(&field, &server.source_server_id)?;
        if !seen.insert(server.source_server_id.as_str()) {
            return Err(TaskError::invalid(
                field,
                format!("duplicate source server {}", server.source_server_id),
            ));
        }
        if let Some(snapshot) = &server.recovery_snapshot_id {
            prefixed_id(
                &format!("sourceServers[{i}].recoverySnapshotID"),
                snapshot,
                "pit-",
                17,
                "^pit-[0-9a-zA-Z]{17}$",
            )?;
        }
    }
    tags(&input.tags)
}

/// Validates a `start-failback` input and returns the recovery instance IDs to fail back.
pub fn start_failback(input: &StartFailbackInput) -> Result<Vec<String>, TaskError> {
    idempotency_key(&input.idempotency_key)?;
    let (field, ids) = match (&input.recovery_instance_ids, &input.recovered_servers) {
        (Some(ids), None) => ("recoveryInstanceIDs", ids.clone()),
        (None, Some(servers)) => (
            "recoveredServers",
            servers
                .iter()
                .filter(|s| s.launch_status == LaunchStatus::Launched)
                .filter_map(|s| s.recovery_instance_id.clone())
                .collect(),
        ),
        _ => {
            return Err(TaskError::invalid(
                "recoveryInstanceIDs",
                "give exactly one of recoveryInstanceIDs or recoveredServers",
            ))
        }
    };
    if field == "recoveredServers" && ids.is_empty() {
        return Err(TaskError::invalid(
            field,
            "no server in it was LAUNCHED with a recovery instance: nothing to fail back",
        ));
    }
    count(field, ids.len())?;
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let f = format!("{field}[{i}]");
        recovery_instance_id(&f, id)?;
        if !seen.insert(id.as_str()) {
            return Err(TaskError::invalid(
                f,
                format!("duplicate recovery instance {id}"),
            ));
        }
    }
    tags(&input.tags)?;
    Ok(ids)
}

/// Validates a `start-restore` input.
pub fn start_restore(input: &StartRestoreInput) -> Result<(), TaskError> {
    idempotency_key(&input.idempotency_key)?;
    arn("recoveryPointArn", &input.recovery_point_arn)?;
    if let Some(role) = &input.iam_role_arn {
        iam_role_arn("iamRoleArn", role)?;
    }
    if let Some(rt) = &input.resource_type {
        let ok = (1..=50).contains(&rt.chars().count())
            && rt
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(TaskError::invalid(
                "resourceType",
                format!(
                    "must match ^[a-zA-Z0-9\\-\\_\\.]{{1,50}}$, got {}",
                    quoted(rt)
                ),
            ));
        }
    }
    if input.metadata.keys().any(String::is_empty) {
        return Err(TaskError::invalid("metadata", "keys must not be empty"));
    }
    Ok(())
}

/// Validates a job reference given to `check-status`.
pub fn job_ref(job: &JobRef) -> Result<(), TaskError> {
    match job {
        JobRef::DrsJob(j) => prefixed_id(
            "jobID",
            &j.job_id,
            "drsjob-",
            17,
            "^drsjob-[0-9a-zA-Z]{17}$",
        ),
        JobRef::RestoreJob(j) => {
            if j.restore_job_id.trim().is_empty() {
                return Err(TaskError::invalid("restoreJobId", "must not be empty"));
            }
            arn("recoveryPointArn", &j.recovery_point_arn)
        }
    }
}

/// `SourceServerID`: `^s-[0-9a-zA-Z]{17}$`, 19 characters.
pub fn source_server_id(field: &str, value: &str) -> Result<(), TaskError> {
    prefixed_id(field, value, "s-", 17, "^s-[0-9a-zA-Z]{17}$")
}

/// `RecoveryInstanceID`: `^i-[0-9a-fA-F]{8,}$`, 10 to 19 characters.
pub fn recovery_instance_id(field: &str, value: &str) -> Result<(), TaskError> {
    let hex = value.strip_prefix("i-").unwrap_or("");
    let ok = (10..=19).contains(&value.len())
        && hex.len() >= 8
        && hex.chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!(
                "must match ^i-[0-9a-fA-F]{{8,}}$ with length 10 to 19, got {}",
                quoted(value)
            ),
        ))
    }
}

fn prefixed_id(
    field: &str,
    value: &str,
    prefix: &str,
    body_len: usize,
    pattern: &str,
) -> Result<(), TaskError> {
    let ok = value.strip_prefix(prefix).is_some_and(|body| {
        body.len() == body_len && body.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!("must match {pattern}, got {}", quoted(value)),
        ))
    }
}

fn count(field: &str, n: usize) -> Result<(), TaskError> {
    if (1..=MAX_SERVERS_PER_CALL).contains(&n) {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!("must hold 1 to {MAX_SERVERS_PER_CALL} items, got {n}"),
        ))
    }
}

fn idempotency_key(value: &str) -> Result<(), TaskError> {
    let n = value.chars().count();
    if n == 0 || n > MAX_TAG_LEN {
        return Err(TaskError::invalid(
            "idempotencyKey",
            format!("must be 1 to {MAX_TAG_LEN} characters (it is stored as a tag value), got {n}"),
        ));
    }
    Ok(())
}

fn tags(tags: &Tags) -> Result<(), TaskError> {
    for (key, value) in tags {
        let field = format!("tags.{key}");
        if key.chars().count() > MAX_TAG_LEN {
            return Err(TaskError::invalid(
                field,
                format!("tag keys are at most {MAX_TAG_LEN} characters"),
            ));
        }
        if value.chars().count() > MAX_TAG_LEN {
            return Err(TaskError::invalid(
                field,
                format!("tag values are at most {MAX_TAG_LEN} characters"),
            ));
        }
        if key == IDEMPOTENCY_TAG {
            return Err(TaskError::invalid(
                field,
                "this tag is set by dr-orchestrator itself",
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(TaskError::invalid(
                field,
                "the aws: prefix is reserved for AWS",
            ));
        }
    }
    Ok(())
}

/// An ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, at most 2048 characters. Region and
/// account may be empty (EC2 snapshot and AMI recovery points have no account).
pub fn arn(field: &str, value: &str) -> Result<(), TaskError> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let ok = value.len() <= 2048
        && parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[1].chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !parts[2].is_empty()
        && parts[2]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && parts[3]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && (parts[4].is_empty()
            || (parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit())))
        && !parts[5].is_empty()
        && !value.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!(
                "must be an ARN (arn:partition:service:region:account-id:resource, at most 2048 characters), got {}",
                quoted(value)
            ),
        ))
    }
}

/// An IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
pub fn iam_role_arn(field: &str, value: &str) -> Result<(), TaskError> {
    arn(field, value)?;
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let name_ok = parts[5].strip_prefix("role/").is_some_and(|name| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
    });
    if parts[2] == "iam" && parts[3].is_empty() && !parts[4].is_empty() && name_ok {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!(
                "must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME), got {}",
                quoted(value)
            ),
        ))
    }
}

fn quoted(value: &str) -> String {
    const SHOWN: usize = 80;
    if value.chars().count() > SHOWN {
        format!("{:?}…", value.chars().take(SHOWN).collect::<String>())
    } else {
        format!("{value:?}")
    }
}
