//! Whole-plan validation, before any AWS call: every problem of a plan that can be seen without
//! asking AWS, each naming its path, reported together; the options are resolved on the way.

use std::collections::{BTreeMap, BTreeSet};

use super::input::{FailbackPlan, RecoveryPlan, RestorePlan, Workflow};
use super::limits::{
    Limit, APPROVAL_TIMEOUT_SECONDS, BATCH_SIZE, GIVE_UP_AFTER_SECONDS,
    KEEP_DRILL_INSTANCES_MINUTES, MAX_CONCURRENT_JOBS, MAX_NAME_LEN, MAX_REPLICATION_LAG_SECONDS,
    MAX_RESTORES_PER_PLAN, MAX_SERVERS_PER_PLAN, MAX_WAVES, POLL_INTERVAL_SECONDS,
    RPO_TARGET_MINUTES, RTO_TARGET_MINUTES,
};
use super::options::{ApprovalMode, Defaults, Options, PreflightMode, ResolvedOptions};
use crate::contract::RestoreSpec;
use crate::contract::Tags;
use crate::error::TaskError;
use crate::report::model::Targets;
use crate::validate;

pub type Problem = (String, String);

/// Applies the defaults and checks every option; `allowed` names the options this workflow
/// reads (the others are reported, not silently ignored).
pub fn resolve_options(
    options: &Options,
    defaults: &Defaults,
    allowed: &[&str],
    problems: &mut Vec<Problem>,
) -> ResolvedOptions {
    let given = [
        ("batchSize", options.batch_size.is_some()),
        (
            "pollIntervalSeconds",
            options.poll_interval_seconds.is_some(),
        ),
        (
            "giveUpAfterSeconds",
            options.give_up_after_seconds.is_some(),
        ),
        ("maxConcurrentJobs", options.max_concurrent_jobs.is_some()),
        (
            "continueOnWaveFailure",
            options.continue_on_wave_failure.is_some(),
        ),
        (
            "maxReplicationLagSeconds",
            options.max_replication_lag_seconds.is_some(),
        ),
        ("preflight", options.preflight.is_some()),
        ("approval", options.approval.is_some()),
        (
            "approvalTimeoutSeconds",
            options.approval_timeout_seconds.is_some(),
        ),
        (
            "keepDrillInstancesMinutes",
            options.keep_drill_instances_minutes.is_some(),
        ),
        ("rtoTargetMinutes", options.rto_target_minutes.is_some()),
        ("rpoTargetMinutes", options.rpo_target_minutes.is_some()),
    ];
    for (name, is_given) in given {
        if is_given && !allowed.contains(&name) {
            problems.push((
                format!("options.{name}"),
                "is not an option of this workflow".into(),
            ));
        }
    }
    let targets = Targets {
        rto_minutes: target(
            RTO_TARGET_MINUTES,
            "options",
            options.rto_target_minutes,
            problems,
        ),
        rpo_minutes: target(
            RPO_TARGET_MINUTES,
            "options",
            options.rpo_target_minutes,
            problems,
        ),
    };
    let mut pick = |limit: Limit, given: Option<u64>, default: u64| match given {
        None => default,
        Some(v) => limit.check(v).unwrap_or_else(|e| {
            problems.push((format!("options.{}", limit.name), e));
            default
        }),
    };
    let resolved = ResolvedOptions {
        batch_size: pick(BATCH_SIZE, options.batch_size, defaults.batch_size),
        poll_interval_seconds: pick(
            POLL_INTERVAL_SECONDS,
            options.poll_interval_seconds,
            defaults.poll_interval_seconds,
        ),
        give_up_after_seconds: pick(
            GIVE_UP_AFTER_SECONDS,
            options.give_up_after_seconds,
            defaults.give_up_after_seconds,
        ),
        max_concurrent_jobs: pick(
            MAX_CONCURRENT_JOBS,
            options.max_concurrent_jobs,
            defaults.max_concurrent_jobs,
        ),
        continue_on_wave_failure: options.continue_on_wave_failure.unwrap_or(false),
        max_replication_lag_seconds: pick(
            MAX_REPLICATION_LAG_SECONDS,
            options.max_replication_lag_seconds,
            MAX_REPLICATION_LAG_SECONDS.default,
        ),
        preflight: options.preflight.unwrap_or(PreflightMode::Fail),
        approval: options.approval,
        approval_timeout_seconds: pick(
            APPROVAL_TIMEOUT_SECONDS,
            options.approval_timeout_seconds,
            APPROVAL_TIMEOUT_SECONDS.default,
        ),
        keep_drill_instances_minutes: pick(
            KEEP_DRILL_INSTANCES_MINUTES,
            options.keep_drill_instances_minutes,
            KEEP_DRILL_INSTANCES_MINUTES.default,
        ),
        targets,
        outage_budget_seconds: defaults.outage_budget_seconds,
    };
    if resolved.give_up_after_seconds < resolved.poll_interval_seconds {
        problems.push((
            "options.giveUpAfterSeconds".into(),
            format!(
                "must not be smaller than pollIntervalSeconds ({})",
                resolved.poll_interval_seconds
            ),
        ));
    }
    resolved
}

/// A recovery target as given, checked: `None` when absent or out of range (then a problem).
fn target(
    limit: Limit,
    at: &str,
    given: Option<u64>,
    problems: &mut Vec<(String, String)>,
) -> Option<u64> {
    let v = given?;
    match limit.check(v) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push((format!("{at}.{}", limit.name), e));
            None
        }
    }
}

/// Every problem of a recovery plan that can be seen without asking AWS.
pub fn check_recovery_plan(
    plan: &RecoveryPlan,
    defaults: &Defaults,
) -> Result<ResolvedOptions, TaskError> {
    let mut problems = Vec::new();
    let options = resolve_options(
        &plan.options,
        defaults,
        &[
            "batchSize",
            "pollIntervalSeconds",
            "giveUpAfterSeconds",
            "maxConcurrentJobs",
            "continueOnWaveFailure",
            "maxReplicationLagSeconds",
            "preflight",
            "approval",
            "approvalTimeoutSeconds",
            "keepDrillInstancesMinutes",
            "rtoTargetMinutes",
            "rpoTargetMinutes",
        ],
        &mut problems,
    );
    if plan.is_drill.is_none() {
        problems.push((
            "isDrill".into(),
            "is required: true for a drill, false for a real recovery".into(),
        ));
    }
    if let Some(is_drill) = plan.is_drill {
        approval_not_waived(
            Workflow::RecoveryPlan,
            is_drill,
            &plan.options,
            defaults,
            &mut problems,
        );
    }
    if plan.is_drill == Some(false) && plan.options.keep_drill_instances_minutes.is_some() {
        problems.push((
            "options.keepDrillInstancesMinutes".into(),
            "is an option of drills: a real recovery's instances are never terminated".into(),
        ));
    }
    name("planName", plan.plan_name.as_deref(), false, &mut problems);
    plan_tags(&plan.tags, &mut problems);
    if plan.waves.is_empty() || plan.waves.len() > MAX_WAVES {
        problems.push((
            "waves".into(),
            format!("must hold 1 to {MAX_WAVES} waves, got {}", plan.waves.len()),
        ));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut servers = 0;
    let mut restores = 0;
    for (w, wave) in plan.waves.iter().enumerate() {
        let at = format!("waves[{w}]");
        name(
            &format!("{at}.name"),
            wave.name.as_deref(),
            true,
            &mut problems,
        );
        if let Some(n) = wave.name.as_deref() {
            if let Some(first) = names.insert(n, w) {
                problems.push((
                    format!("{at}.name"),
                    format!("wave {first} already has the name {n:?}"),
                ));
            }
        }
        target(
            RTO_TARGET_MINUTES,
            &at,
            wave.rto_target_minutes,
            &mut problems,
        );
        target(
            RPO_TARGET_MINUTES,
            &at,
            wave.rpo_target_minutes,
            &mut problems,
        );
        if wave.source_servers.is_empty() && wave.select.is_none() && wave.restores.is_empty() {
            problems.push((
                at.clone(),
                "a wave needs sourceServers, select or restores".into(),
            ));
        }
        for (i, server) in wave.source_servers.iter().enumerate() {
            let field = format!("{at}.sourceServers[{i}].sourceServerID");
            collect(
                &mut problems,
                "",
                validate::source_server_id(&field, &server.source_server_id),
            );
            if let Some(snapshot) = &server.recovery_snapshot_id {
                collect(
                    &mut problems,
                    "",
                    validate::recovery_snapshot_id(
                        &format!("{at}.sourceServers[{i}].recoverySnapshotID"),
                        snapshot,
                    ),
                );
            }
            if let Some(first) = seen.insert(&server.source_server_id, w) {
                problems.push((
                    field,
                    format!(
                        "{} is already in wave {first}: DRS runs one job per server at a time, so each server belongs to exactly one place in the plan",
                        server.source_server_id
                    ),
                ));
            }
        }
        servers += wave.source_servers.len();
        if let Some(select) = &wave.select {
            if select.tags.is_empty() {
                problems.push((
                    format!("{at}.select.tags"),
                    "must name at least one tag".into(),
                ));
            }
            collect(
                &mut problems,
                &format!("{at}.select."),
                validate::tag_count(
                    "tags",
                    select.tags.len(),
                    validate::MAX_TAGS_PER_RESOURCE,
                    "a source server carries at most 50, so more would select nothing",
                ),
            );
            collect(
                &mut problems,
                &format!("{at}.select."),
                validate::tags(&select.tags),
            );
        }
        for (r, restore) in wave.restores.iter().enumerate() {
            check_restore(
                &format!("{at}.restores[{r}]"),
                restore,
                defaults,
                &mut problems,
            );
        }
        restores += wave.restores.len();
    }
    if servers > MAX_SERVERS_PER_PLAN {
        problems.push((
            "waves".into(),
            format!("a plan recovers at most {MAX_SERVERS_PER_PLAN} source servers, got {servers}"),
        ));
    }
    if restores > MAX_RESTORES_PER_PLAN {
        problems.push((
            "waves".into(),
            format!("a plan holds at most {MAX_RESTORES_PER_PLAN} restores, got {restores}"),
        ));
    }
    finish(problems, options)
}

/// Every problem of a restore run.
pub fn check_restore_plan(
    plan: &RestorePlan,
    defaults: &Defaults,
) -> Result<ResolvedOptions, TaskError> {
    let mut problems = Vec::new();
    let options = resolve_options(
        &plan.options,
        defaults,
        &[
            "pollIntervalSeconds",
            "giveUpAfterSeconds",
            "maxConcurrentJobs",
            "approval",
            "approvalTimeoutSeconds",
        ],
        &mut problems,
    );
    approval_not_waived(
        Workflow::Restore,
        false,
        &plan.options,
        defaults,
        &mut problems,
    );
    name("planName", plan.plan_name.as_deref(), false, &mut problems);
    plan_tags(&plan.tags, &mut problems);
    if plan.restores.is_empty() || plan.restores.len() > MAX_RESTORES_PER_PLAN {
        problems.push((
            "restores".into(),
            format!(
                "must hold 1 to {MAX_RESTORES_PER_PLAN} restores, got {}",
                plan.restores.len()
            ),
        ));
    }
    for (r, restore) in plan.restores.iter().enumerate() {
        check_restore(&format!("restores[{r}]"), restore, defaults, &mut problems);
    }
    finish(problems, options)
}

/// Every problem of a failback run.
pub fn check_failback_plan(
    plan: &FailbackPlan,
    defaults: &Defaults,
) -> Result<ResolvedOptions, TaskError> {
    let mut problems = Vec::new();
    let options = resolve_options(
        &plan.options,
        defaults,
        &[
            "batchSize",
            "pollIntervalSeconds",
            "giveUpAfterSeconds",
            "maxConcurrentJobs",
            "approval",
            "approvalTimeoutSeconds",
            "rtoTargetMinutes",
            "rpoTargetMinutes",
        ],
        &mut problems,
    );
    approval_not_waived(
        Workflow::Failback,
        false,
        &plan.options,
        defaults,
        &mut problems,
    );
    name("planName", plan.plan_name.as_deref(), false, &mut problems);
    plan_tags(&plan.tags, &mut problems);
    let ids = &plan.recovery_instance_ids;
    let resolved_later = ids.is_empty() && !plan.from_jobs.is_empty();
    if !resolved_later && (ids.is_empty() || ids.len() > MAX_SERVERS_PER_PLAN) {
        problems.push((
            "recoveryInstanceIDs".into(),
            format!(
                "must hold 1 to {MAX_SERVERS_PER_PLAN} recovery instances, got {}",
                ids.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let field = format!("recoveryInstanceIDs[{i}]");
        collect(
            &mut problems,
            "",
            validate::recovery_instance_id(&field, id),
        );
        if !seen.insert(id.as_str()) {
            problems.push((field, format!("duplicate recovery instance {id}")));
        }
    }
    finish(problems, options)
}

/// A real run's approval is the deployment's to waive (`RealRunApproval`), never the plan's: a
/// plan that says `NOT_REQUIRED` for one while the deployment requires approval is refused.
fn approval_not_waived(
    workflow: Workflow,
    is_drill: bool,
    options: &Options,
    defaults: &Defaults,
    problems: &mut Vec<Problem>,
) {
    if crate::approval::is_real(workflow, is_drill)
        && options.approval == Some(ApprovalMode::NotRequired)
        && defaults.approval == ApprovalMode::Required
    {
        problems.push((
            "options.approval".into(),
            "a plan cannot waive the approval of a real run (a real recovery, a failback or a restore): the deployment's RealRunApproval is REQUIRED; leave options.approval out or set it to REQUIRED".into(),
        ));
    }
}

/// A restore as AWS Backup would take it, from a vault the deployment names: the one rule
/// about restores that needs no AWS call ([`crate::preflight::restore`] checks the rest against
/// what AWS Backup says about the recovery point).
fn check_restore(
    at: &str,
    restore: &RestoreSpec,
    defaults: &Defaults,
    problems: &mut Vec<Problem>,
) {
    collect(problems, &format!("{at}."), validate::restore(restore));
    let field = format!("{at}.backupVaultName");
    match &restore.backup_vault_name {
        None => problems.push((
            field,
            "is required: the AWS Backup vault that holds the recovery point".into(),
        )),
        Some(_) if defaults.restore_vaults.is_empty() => problems.push((
            field,
            "this deployment restores from no vault: its RestoreVaults parameter names none"
                .into(),
        )),
        Some(vault) if !defaults.restore_vaults.contains(vault) => problems.push((
            field,
            format!(
                "{vault:?} is not one of the vaults this deployment restores from (RestoreVaults: {})",
                defaults.restore_vaults.join(", ")
            ),
        )),
        Some(_) => {}
    }
}

fn name(field: &str, value: Option<&str>, required: bool, problems: &mut Vec<Problem>) {
    match value {
        None if required => problems.push((field.into(), "is required".into())),
        None => {}
        Some(v) if v.trim().is_empty() || v.chars().count() > MAX_NAME_LEN => problems.push((
            field.into(),
            format!("must be 1 to {MAX_NAME_LEN} characters, not blank"),
        )),
        Some(_) => {}
    }
}

/// A plan's tags: as DRS takes them, and none under the `dr-orchestrator:` prefix, which the
/// project sets itself (the idempotency key, the execution).
fn plan_tags(tags: &Tags, problems: &mut Vec<Problem>) {
    collect(
        problems,
        "",
        validate::tag_count(
            "tags",
            tags.len(),
            validate::MAX_START_TAGS - 1,
            "a DRS job keeps at most 50, and dr-orchestrator adds the run's execution and idempotency tags",
        ),
    );
    collect(problems, "", validate::tags(tags));
    for key in tags.keys() {
        if key.starts_with("dr-orchestrator:") && key != crate::idempotency::IDEMPOTENCY_TAG {
            problems.push((
                format!("tags.{key}"),
                "the dr-orchestrator: prefix is reserved for the tags dr-orchestrator sets itself"
                    .into(),
            ));
        }
    }
}

fn collect(problems: &mut Vec<Problem>, prefix: &str, result: Result<(), TaskError>) {
    if let Err(TaskError::InvalidInput { field, constraint }) = result {
        problems.push((format!("{prefix}{field}"), constraint));
    }
}

fn finish(problems: Vec<Problem>, options: ResolvedOptions) -> Result<ResolvedOptions, TaskError> {
    if problems.is_empty() {
        Ok(options)
    } else {
        Err(TaskError::invalid_all(&problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{plan, servers};

    #[test]
    fn a_restore_names_a_vault_the_deployment_restores_from() {
        let restores = |vault: Option<&str>| -> RestorePlan {
            let mut restore = serde_json::json!({
                "recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0",
                "metadata": {"availabilityZone": "eu-west-1a"}});
            if let Some(vault) = vault {
                restore["backupVaultName"] = vault.into();
            }
            crate::contract::parse(serde_json::json!({"restores": [restore]})).unwrap()
        };
        let problem = |plan: &RestorePlan, vaults: &[&str]| -> Option<(String, String)> {
            let defaults = Defaults {
                restore_vaults: vaults.iter().map(|v| (*v).to_owned()).collect(),
                ..Defaults::default()
            };
            match check_restore_plan(plan, &defaults) {
                Ok(_) => None,
                Err(TaskError::InvalidInput { field, constraint }) => Some((field, constraint)),
                Err(e) => panic!("{e:?}"),
            }
        };
        assert_eq!(
            problem(&restores(Some("vault-a")), &["vault-a", "vault-b"]),
            None
        );
        let (field, why) = problem(&restores(None), &["vault-a"]).unwrap();
        assert_eq!(field, "restores[0].backupVaultName");
        assert!(why.contains("is required"), "{why}");
        let (field, why) = problem(&restores(Some("vault-c")), &["vault-a", "vault-b"]).unwrap();
        assert_eq!(field, "restores[0].backupVaultName");
        assert!(why.contains("RestoreVaults: vault-a, vault-b"), "{why}");
        let (_, why) = problem(&restores(Some("vault-a")), &[]).unwrap();
        assert!(why.contains("restores from no vault"), "{why}");
        // In a recovery plan's wave, the path names the wave.
        let wave = plan(serde_json::json!({"isDrill": true, "waves": [{"name": "w",
            "restores": [{"recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0",
                          "backupVaultName": "vault-x", "metadata": {"availabilityZone": "eu-west-1a"}}]}]}));
        let Err(TaskError::InvalidInput { field, .. }) =
            check_recovery_plan(&wave, &Defaults::default())
        else {
            panic!("a vault the deployment does not name is refused")
        };
        assert_eq!(field, "waves[0].restores[0].backupVaultName");
    }

    #[test]
    fn tags_are_capped_where_drs_would_refuse_or_nothing_could_match() {
        let tags = |n: usize| -> serde_json::Value {
            (0..n)
                .map(|i| (format!("k{i}"), serde_json::json!("v")))
                .collect()
        };
        let check = |plan_tags: usize, select_tags: usize| {
            check_recovery_plan(
                &plan(serde_json::json!({"isDrill": true, "tags": tags(plan_tags),
                    "waves": [{"name": "w", "select": {"tags": tags(select_tags)}}]})),
                &Defaults::default(),
            )
        };
        // A job carries the plan's tags, the run's execution tag and its idempotency tag:
        // 48 + 2 = 50, DRS's most per resource. A source server carries at most 50.
        check(48, 50).unwrap();
        let Err(TaskError::InvalidInput { field, constraint }) = check(49, 1) else {
            panic!()
        };
        assert_eq!(field, "tags");
        assert!(constraint.starts_with("at most 48 tags"), "{constraint}");
        let Err(TaskError::InvalidInput { field, constraint }) = check(1, 51) else {
            panic!()
        };
        assert_eq!(field, "waves[0].select.tags");
        assert!(constraint.contains("at most 50 tags"), "{constraint}");
    }

    #[test]
    fn approval_and_cleanup_options_are_checked() {
        let bad = plan(serde_json::json!({"isDrill": false,
            "tags": {"dr-orchestrator:execution": "x"},
            "options": {"keepDrillInstancesMinutes": 5, "approvalTimeoutSeconds": 10},
            "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}));
        let Err(TaskError::InvalidInput { constraint, .. }) =
            check_recovery_plan(&bad, &Defaults::default())
        else {
            panic!()
        };
        assert!(constraint.starts_with("3 problems"), "{constraint}");
        for field in [
            "options.keepDrillInstancesMinutes: is an option of drills",
            "options.approvalTimeoutSeconds: must be a whole number from 60 to 604800",
            "tags.dr-orchestrator:execution: the dr-orchestrator: prefix is reserved",
        ] {
            assert!(constraint.contains(field), "{field} in {constraint}");
        }
    }

    #[test]
    fn a_plan_cannot_waive_a_real_runs_approval_only_the_deployment_can() {
        let waiving = |is_drill: bool| {
            plan(serde_json::json!({"isDrill": is_drill,
                "options": {"approval": "NOT_REQUIRED"},
                "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}))
        };
        let Err(TaskError::InvalidInput { field, constraint }) =
            check_recovery_plan(&waiving(false), &Defaults::default())
        else {
            panic!("a real recovery's waiver is refused")
        };
        assert_eq!(field, "options.approval");
        assert!(
            constraint.contains("RealRunApproval is REQUIRED"),
            "{constraint}"
        );
        // A drill may say it; a deployment that waives real runs' approval lets the plan agree.
        assert!(check_recovery_plan(&waiving(true), &Defaults::default()).is_ok());
        let waived = Defaults {
            approval: ApprovalMode::NotRequired,
            ..Defaults::default()
        };
        assert!(check_recovery_plan(&waiving(false), &waived).is_ok());
        let restore: RestorePlan = crate::contract::parse(serde_json::json!({
            "options": {"approval": "NOT_REQUIRED"},
            "restores": [{"recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0",
                          "backupVaultName": "vault-a", "metadata": {"availabilityZone": "eu-west-1a"}}]}))
        .unwrap();
        let vaults = Defaults {
            restore_vaults: vec!["vault-a".into()],
            ..Defaults::default()
        };
        let Err(TaskError::InvalidInput { field, .. }) = check_restore_plan(&restore, &vaults)
        else {
            panic!("a restore's waiver is refused")
        };
        assert_eq!(field, "options.approval");
        let failback: FailbackPlan = crate::contract::parse(serde_json::json!({
            "recoveryInstanceIDs": ["i-0123456789abcdef0"],
            "options": {"approval": "NOT_REQUIRED"}}))
        .unwrap();
        let Err(TaskError::InvalidInput { field, .. }) =
            check_failback_plan(&failback, &Defaults::default())
        else {
            panic!("a failback's waiver is refused")
        };
        assert_eq!(field, "options.approval");
    }

    #[test]
    fn options_are_whole_numbers_in_range_and_belong_to_the_workflow() {
        let mut problems = Vec::new();
        let options = Options {
            batch_size: Some(201),
            give_up_after_seconds: Some(30),
            preflight: Some(PreflightMode::Continue),
            ..Options::default()
        };
        let resolved = resolve_options(
            &options,
            &Defaults::default(),
            &["batchSize", "giveUpAfterSeconds"],
            &mut problems,
        );
        assert_eq!(resolved.batch_size, BATCH_SIZE.default);
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "options.preflight",
                "options.batchSize",
                "options.giveUpAfterSeconds"
            ]
        );
        let fractional: Result<Options, _> =
            crate::contract::parse(serde_json::json!({"pollIntervalSeconds": 1.5}));
        let err = fractional.unwrap_err();
        assert!(err.to_string().contains("pollIntervalSeconds"), "{err}");
    }
}
