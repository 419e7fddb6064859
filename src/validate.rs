//! Checks every constraint the DRS and AWS Backup service models put on a request (patterns,
//! lengths, counts), plus this project's own rules (no duplicate servers, no reserved tags),
//! before any AWS call is made. Each failure names the field and the constraint it broke.

use std::collections::BTreeSet;

use crate::contract::{
    RestoreSpec, StartFailbackInput, StartRecoveryInput, StartRestoreInput, Tags, Tracked,
    WaveCheckInput,
};
use crate::error::TaskError;
use crate::idempotency::IDEMPOTENCY_TAG;

/// `StartRecoveryRequestSourceServers` and `StartFailbackRequestRecoveryInstanceIDs`: 1 to 200.
pub const MAX_SERVERS_PER_CALL: usize = 200;
/// `TagKey` and `TagValue`: at most 256 characters.
pub const MAX_TAG_LEN: usize = 256;
/// Tags a DRS resource may carry ("Each resource can have a maximum of 50 tags": DRS API
/// Reference, TagResource).
pub const MAX_TAGS_PER_RESOURCE: usize = 50;
/// Tags a start call may ask for: the job also gets dr-orchestrator's idempotency tag.
pub const MAX_START_TAGS: usize = MAX_TAGS_PER_RESOURCE - 1;

/// At most `max` tags in `field`, saying why.
pub fn tag_count(field: &str, n: usize, max: usize, why: &str) -> Result<(), TaskError> {
    if n > max {
        return Err(TaskError::invalid(
            field,
            format!("at most {max} tags ({why}), got {n}"),
        ));
    }
    Ok(())
}

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
            recovery_snapshot_id(&format!("sourceServers[{i}].recoverySnapshotID"), snapshot)?;
        }
    }
    start_tags(&input.tags)
}

fn start_tags(tags: &crate::contract::Tags) -> Result<(), TaskError> {
    tag_count(
        "tags",
        tags.len(),
        MAX_START_TAGS,
        "a DRS job keeps at most 50, and dr-orchestrator adds its idempotency tag",
    )?;
    self::tags(tags)
}

/// `RecoverySnapshotID`: `^pit-[0-9a-zA-Z]{17}$`.
pub fn recovery_snapshot_id(field: &str, value: &str) -> Result<(), TaskError> {
    prefixed_id(field, value, "pit-", 17, "^pit-[0-9a-zA-Z]{17}$")
}

/// Validates a `start-failback` input and returns the recovery instance IDs to fail back.
pub fn start_failback(input: &StartFailbackInput) -> Result<Vec<String>, TaskError> {
    idempotency_key(&input.idempotency_key)?;
    let field = "recoveryInstanceIDs";
    let ids = input
        .recovery_instance_ids
        .clone()
        .ok_or_else(|| TaskError::invalid(field, "is required"))?;
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
    start_tags(&input.tags)?;
    Ok(ids)
}

/// Validates a `start-restore` input; the restore's fields are named under `restore.`.
pub fn start_restore(input: &StartRestoreInput) -> Result<(), TaskError> {
    idempotency_key(&input.idempotency_key)?;
    restore(&input.restore).map_err(|e| e.within("restore."))
}

/// Validates one restore of a plan, with its fields named as the plan names them.
pub fn restore(restore: &RestoreSpec) -> Result<(), TaskError> {
    arn("recoveryPointArn", &restore.recovery_point_arn)?;
    if let Some(vault) = &restore.backup_vault_name {
        backup_vault_name("backupVaultName", vault)?;
    }
    if let Some(role) = &restore.iam_role_arn {
        iam_role_arn("iamRoleArn", role)?;
    }
    if let Some(rt) = &restore.resource_type {
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
    if restore.metadata.keys().any(String::is_empty) {
        return Err(TaskError::invalid("metadata", "keys must not be empty"));
    }
    Ok(())
}

/// An AWS Backup vault's name as the service model constrains it: `^[a-zA-Z0-9\-\_]{2,50}$`.
pub fn backup_vault_name(field: &str, name: &str) -> Result<(), TaskError> {
    let ok = (2..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(TaskError::invalid(
            field,
            format!(
                "must match ^[a-zA-Z0-9\\-\\_]{{2,50}}$ (a Backup vault's name), got {}",
                quoted(name)
            ),
        ))
    }
}

/// At most this many jobs are checked in one `check-status` call (a 1,000-server wave in
/// jobs of 1 server, plus its restores).
pub const MAX_TRACKED_JOBS: usize = 1100;

/// Validates the input of `check-status`.
pub fn wave_check(input: &WaveCheckInput) -> Result<(), TaskError> {
    if input.jobs.is_empty() || input.jobs.len() > MAX_TRACKED_JOBS {
        return Err(TaskError::invalid(
            "jobs",
            format!(
                "must hold 1 to {MAX_TRACKED_JOBS} jobs, got {}",
                input.jobs.len()
            ),
        ));
    }
    for (i, job) in input.jobs.iter().enumerate() {
        match job {
            Tracked::DrsJob(j) => prefixed_id(
                &format!("jobs[{i}].jobID"),
                &j.job_id,
                "drsjob-",
                17,
                "^drsjob-[0-9a-zA-Z]{17}$",
            )?,
            Tracked::RestoreJob(j) => {
                if j.restore_job_id.trim().is_empty() {
                    return Err(TaskError::invalid(
                        format!("jobs[{i}].restoreJobId"),
                        "must not be empty",
                    ));
                }
                arn(
                    &format!("jobs[{i}].recoveryPointArn"),
                    &j.recovery_point_arn,
                )?;
            }
            Tracked::NotStarted(_) => {}
        }
    }
    Ok(())
}

/// `JobID`: `^drsjob-[0-9a-zA-Z]{17}$`, 24 characters.
pub fn job_id(field: &str, value: &str) -> Result<(), TaskError> {
    prefixed_id(field, value, "drsjob-", 17, "^drsjob-[0-9a-zA-Z]{17}$")
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

/// Tags: keys and values of at most 256 characters, none of the reserved ones.
pub fn tags(tags: &Tags) -> Result<(), TaskError> {
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

/// An ISO 8601 date-time a payload carries (`2026-11-25T06:00:00Z`, as Step Functions and the
/// handlers write them), named by `field` when it is not one.
pub fn date_time(field: &str, text: &str) -> Result<std::time::SystemTime, TaskError> {
    aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime)
        .ok()
        .and_then(|t| std::time::SystemTime::try_from(t).ok())
        .ok_or_else(|| {
            TaskError::invalid(
                field,
                "must be an ISO 8601 date-time (2026-11-25T06:00:00Z)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SourceServerSpec;

    fn server(n: usize) -> String {
        format!("s-{n:017}")
    }

    fn recovery(servers: Vec<SourceServerSpec>) -> StartRecoveryInput {
        StartRecoveryInput {
            is_drill: true,
            source_servers: servers,
            tags: Tags::new(),
            idempotency_key: "exec#w0#b0".into(),
            label: None,
        }
    }

    fn specs(n: usize) -> Vec<SourceServerSpec> {
        (0..n)
            .map(|i| SourceServerSpec {
                source_server_id: server(i),
                recovery_snapshot_id: None,
            })
            .collect()
    }

    fn field_of(r: Result<(), TaskError>) -> Option<String> {
        match r {
            Ok(()) => None,
            Err(TaskError::InvalidInput { field, .. }) => Some(field),
            Err(other) => panic!("not an InvalidInput: {other:?}"),
        }
    }

    #[test]
    fn a_start_asks_for_at_most_49_tags_as_drs_keeps_50_per_job_with_the_idempotency_tag() {
        let mut input = recovery(specs(1));
        input.tags = (0..49).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(start_recovery(&input), Ok(()));
        input.tags.insert("one-more".into(), "v".into());
        let err = start_recovery(&input).unwrap_err();
        assert_eq!(field_of(Err(err.clone())).as_deref(), Some("tags"), "{err}");
        assert!(err.to_string().contains("at most 49 tags"), "{err}");
    }

    #[test]
    fn source_server_count_is_1_to_200() {
        for (n, ok) in [(0, false), (1, true), (200, true), (201, false)] {
            let r = start_recovery(&recovery(specs(n)));
            assert_eq!(field_of(r).is_none(), ok, "{n} servers");
        }
        let err = start_recovery(&recovery(specs(201))).unwrap_err();
        assert_eq!(
            err,
            TaskError::invalid("sourceServers", "must hold 1 to 200 items, got 201")
        );
    }

    #[test]
    fn source_server_id_follows_the_model_pattern() {
        let cases = [
            ("s-1234567890abcdefg", true),
            ("s-1234567890ABCDEFG", true),
            ("s-1234567890abcdef", false),   // 18 characters
            ("s-1234567890abcdefgh", false), // 20 characters
            ("s-1234567890abcdef_", false),  // not alphanumeric
            ("x-1234567890abcdefg", false),  // wrong prefix
            ("", false),
        ];
        for (id, ok) in cases {
            let mut input = recovery(specs(1));
            input.source_servers[0].source_server_id = id.into();
            let r = field_of(start_recovery(&input));
            assert_eq!(r.is_none(), ok, "{id:?}");
            if !ok {
                assert_eq!(r.unwrap(), "sourceServers[0].sourceServerID");
            }
        }
    }

    #[test]
    fn recovery_snapshot_id_follows_the_model_pattern() {
        for (id, ok) in [
            ("pit-1234567890abcdefg", true),
            ("pit-1234567890abcdef", false),
            ("pit-1234567890abcdefgh", false),
            ("snap-1234567890abcdef", false),
        ] {
            let mut input = recovery(specs(2));
            input.source_servers[1].recovery_snapshot_id = Some(id.into());
            let r = field_of(start_recovery(&input));
            assert_eq!(r.is_none(), ok, "{id:?}");
            if !ok {
                assert_eq!(r.unwrap(), "sourceServers[1].recoverySnapshotID");
            }
        }
    }

    #[test]
    fn rejects_duplicate_source_servers() {
        let mut input = recovery(specs(3));
        input.source_servers[2].source_server_id = server(0);
        let err = start_recovery(&input).unwrap_err();
        assert_eq!(
            err,
            TaskError::invalid(
                "sourceServers[2].sourceServerID",
                format!("duplicate source server {}", server(0))
            )
        );
    }

    #[test]
    fn tag_keys_and_values_are_at_most_256_characters() {
        let cases = [
            ("k".repeat(256), "v".repeat(256), true),
            ("k".repeat(257), "v".into(), false),
            ("k".into(), "v".repeat(257), false),
            (String::new(), String::new(), true),
            ("é".repeat(256), "é".repeat(256), true), // characters, not bytes
            (IDEMPOTENCY_TAG.into(), "x".into(), false),
            ("aws:cloudformation:stack-name".into(), "x".into(), false),
        ];
        for (k, v, ok) in cases {
            let mut input = recovery(specs(1));
            input.tags.insert(k.clone(), v);
            let r = field_of(start_recovery(&input));
            assert_eq!(r.is_none(), ok, "key of {} chars", k.chars().count());
            if !ok {
                assert_eq!(r.unwrap(), format!("tags.{k}"));
            }
        }
    }

    #[test]
    fn idempotency_key_is_1_to_256_characters() {
        for (n, ok) in [(0, false), (1, true), (256, true), (257, false)] {
            let mut input = recovery(specs(1));
            input.idempotency_key = "k".repeat(n);
            let r = field_of(start_recovery(&input));
            assert_eq!(r.is_none(), ok, "{n} characters");
            if !ok {
                assert_eq!(r.unwrap(), "idempotencyKey");
            }
        }
    }

    fn failback(ids: Option<Vec<String>>) -> StartFailbackInput {
        StartFailbackInput {
            recovery_instance_ids: ids,
            tags: Tags::new(),
            idempotency_key: "exec#failback".into(),
            label: None,
        }
    }

    #[test]
    fn recovery_instance_id_is_i_dash_8_or_more_hex_and_10_to_19_long() {
        let cases = [
            ("i-0123abcd".to_owned(), true),          // 10
            ("i-0123abc".to_owned(), false),          // 9
            (format!("i-{}", "a".repeat(17)), true),  // 19
            (format!("i-{}", "a".repeat(18)), false), // 20
            ("i-0123abcg".to_owned(), false),         // not hex
            ("I-0123abcd".to_owned(), false),
        ];
        for (id, ok) in cases {
            let r = start_failback(&failback(Some(vec![id.clone()])));
            assert_eq!(r.is_ok(), ok, "{id:?}");
            if !ok {
                assert_eq!(
                    r.unwrap_err(),
                    TaskError::invalid(
                        "recoveryInstanceIDs[0]",
                        format!(
                            "must match ^i-[0-9a-fA-F]{{8,}}$ with length 10 to 19, got {id:?}"
                        )
                    )
                );
            }
        }
    }

    #[test]
    fn failback_count_is_1_to_200_and_rejects_duplicates() {
        let ids = |n: usize| (0..n).map(|i| format!("i-{i:016x}")).collect::<Vec<_>>();
        for (n, ok) in [(0, false), (1, true), (200, true), (201, false)] {
            assert_eq!(start_failback(&failback(Some(ids(n)))).is_ok(), ok, "{n}");
        }
        let mut dup = ids(3);
        dup[2] = dup[0].clone();
        let err = start_failback(&failback(Some(dup))).unwrap_err();
        assert_eq!(err.name(), "InvalidInput");
        assert!(err.to_string().contains("recoveryInstanceIDs[2]"), "{err}");
    }

    #[test]
    fn failback_needs_its_recovery_instances() {
        let err = start_failback(&failback(None)).unwrap_err();
        assert_eq!(
            err,
            TaskError::invalid("recoveryInstanceIDs", "is required")
        );
    }

    fn restore() -> StartRestoreInput {
        StartRestoreInput {
            restore: RestoreSpec {
                recovery_point_arn: "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45".into(),
                backup_vault_name: Some("payments-vault".into()),
                metadata: [("file-system-id".to_owned(), "fs-0123456789abcdef0".to_owned())].into(),
                iam_role_arn: Some("arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole".into()),
                resource_type: Some("EFS".into()),
                copy_source_tags_to_restored_resource: None,
            },
            idempotency_key: "exec#restore-0".into(),
            label: None,
        }
    }

    #[test]
    fn restore_arns_are_checked() {
        assert_eq!(start_restore(&restore()), Ok(()));
        let cases = [
            (
                "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0",
                true,
            ),
            (
                "arn:aws-us-gov:rds:us-gov-west-1:123456789012:snapshot:awsbackup:job-1",
                true,
            ),
            (
                "arn:aws:backup:eu-west-1:12345678901:recovery-point:x",
                false,
            ), // 11-digit account
            ("arn:aws:backup:eu-west-1:123456789012:", false),
            ("rp-123", false),
            (
                "arn:aws:backup:eu-west-1:123456789012:recovery point",
                false,
            ),
        ];
        for (arn_value, ok) in cases {
            let mut input = restore();
            input.restore.recovery_point_arn = arn_value.into();
            let r = field_of(start_restore(&input));
            assert_eq!(r.is_none(), ok, "{arn_value:?}");
            if !ok {
                assert_eq!(r.unwrap(), "restore.recoveryPointArn");
            }
        }
        let long = format!(
            "arn:aws:backup:eu-west-1:123456789012:recovery-point:{}",
            "a".repeat(2048)
        );
        let mut input = restore();
        input.restore.recovery_point_arn = long;
        assert_eq!(
            field_of(start_restore(&input)).unwrap(),
            "restore.recoveryPointArn"
        );
    }

    #[test]
    fn a_restores_vault_is_named_as_aws_backup_names_vaults() {
        for (vault, ok) in [
            ("payments-vault", true),
            ("a_b-9", true),
            ("v", false),
            ("payments vault", false),
            ("vault:payments", false),
        ] {
            let mut input = restore();
            input.restore.backup_vault_name = Some(vault.into());
            let got = field_of(start_restore(&input));
            assert_eq!(
                got,
                (!ok).then(|| "restore.backupVaultName".to_owned()),
                "{vault}"
            );
        }
        let long = "v".repeat(51);
        assert!(backup_vault_name("backupVaultName", &long).is_err());
        assert!(backup_vault_name("backupVaultName", &"v".repeat(50)).is_ok());
    }

    #[test]
    fn restore_role_must_be_an_iam_role() {
        for (role, ok) in [
            ("arn:aws:iam::123456789012:role/Restore", true),
            ("arn:aws:iam::123456789012:user/Restore", false),
            ("arn:aws:iam:eu-west-1:123456789012:role/Restore", false),
            ("arn:aws:iam::123456789012:role/", false),
        ] {
            let mut input = restore();
            input.restore.iam_role_arn = Some(role.into());
            let r = field_of(start_restore(&input));
            assert_eq!(r.is_none(), ok, "{role:?}");
        }
    }

    #[test]
    fn resource_type_matches_the_model_pattern() {
        for (rt, ok) in [
            ("a".repeat(50), true),
            ("a".repeat(51), false),
            (String::new(), false),
            ("Aurora.DSQL-cluster_1".into(), true),
            ("EBS volume".into(), false),
        ] {
            let mut input = restore();
            input.restore.resource_type = Some(rt.clone());
            let r = field_of(start_restore(&input));
            assert_eq!(r.is_none(), ok, "{rt:?}");
            if !ok {
                assert_eq!(r.unwrap(), "restore.resourceType");
            }
        }
    }

    #[test]
    fn restore_metadata_keys_are_not_empty() {
        let mut input = restore();
        input.restore.metadata.insert(String::new(), "x".into());
        assert_eq!(field_of(start_restore(&input)).unwrap(), "restore.metadata");
    }

    #[test]
    fn job_ids_are_checked_before_any_status_call() {
        use crate::contract::{DrsJobRef, DrsOperation};
        let check = |ids: &[&str]| WaveCheckInput {
            wave: "wave 0 (data)".into(),
            jobs: ids
                .iter()
                .map(|id| {
                    Tracked::DrsJob(DrsJobRef {
                        job_id: (*id).into(),
                        operation: DrsOperation::Drill,
                        source_server_ids: vec![],
                        recovery_instance_ids: vec![],
                        reused: false,
                        label: None,
                    })
                })
                .collect(),
            give_up_after_seconds: 60,
            is_final: false,
        };
        assert_eq!(wave_check(&check(&["drsjob-1234567890abcdefg"])), Ok(()));
        assert_eq!(
            field_of(wave_check(&check(&[
                "drsjob-1234567890abcdefg",
                "drsjob-1234567890abcdef"
            ])))
            .unwrap(),
            "jobs[1].jobID"
        );
        assert_eq!(field_of(wave_check(&check(&[]))).unwrap(), "jobs");
    }
}
