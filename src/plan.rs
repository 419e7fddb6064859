//! A plan's rules, in one place and with no I/O: what a recovery plan, a failback and a restore
//! run look like, their defaults and limits, whole-plan validation (every problem, each naming
//! its path), batching into DRS jobs and rounds that fit the account's quotas, idempotency
//! keys, and the history budget of a Step Functions execution. `prepare-plan` feeds it what AWS
//! reports; the workflows only iterate what it returns.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::approval::{self, ApprovalMode, WaveApproval, WaveCount};
use crate::cleanup::{CleanupAction, CleanupPlan};
use crate::contract::{
    SourceServerSpec, StartFailbackInput, StartRecoveryInput, StartRestoreInput, Tags,
};
use crate::error::TaskError;
use crate::idempotency::EXECUTION_TAG;
use crate::notify;
use crate::preflight::{self, Finding, Inventory, PreflightMode, PreflightReport, Severity};
use crate::report::model::Targets;
use crate::validate;

/// An inclusive range of whole numbers an option may take, with its deployment default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
    pub default: u64,
}

impl Limit {
    /// Checks `value`, naming the option and its range.
    pub fn check(&self, value: u64) -> Result<u64, String> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(format!(
                "must be a whole number from {} to {}, got {value}",
                self.min, self.max
            ))
        }
    }
}

/// Seconds between status checks. The template's `PollIntervalSeconds` has the same range.
pub const POLL_INTERVAL_SECONDS: Limit = Limit {
    name: "pollIntervalSeconds",
    min: 1,
    max: 3600,
    default: 30,
};
/// Seconds after which a job that has not finished fails its wave with `TimedOut`
/// (`GiveUpAfterSeconds`).
pub const GIVE_UP_AFTER_SECONDS: Limit = Limit {
    name: "giveUpAfterSeconds",
    min: 60,
    max: 86_400,
    default: 7200,
};
/// Source servers per DRS job: the API takes 200, the default quota is 100 (`BatchSize`).
pub const BATCH_SIZE: Limit = Limit {
    name: "batchSize",
    min: 1,
    max: 200,
    default: 100,
};
/// DRS jobs a wave runs at once: DRS runs at most 20 per account (`MaxConcurrentJobs`).
pub const MAX_CONCURRENT_JOBS: Limit = Limit {
    name: "maxConcurrentJobs",
    min: 1,
    max: 20,
    default: 10,
};
/// Replication lag a server may have before preflight blocks it.
pub const MAX_REPLICATION_LAG_SECONDS: Limit = Limit {
    name: "maxReplicationLagSeconds",
    min: 0,
    max: 86_400,
    default: 900,
};

/// Seconds a run waits for a person to approve it before it ends with `ApprovalTimedOut`.
pub const APPROVAL_TIMEOUT_SECONDS: Limit = Limit {
    name: "approvalTimeoutSeconds",
    min: 60,
    max: 604_800,
    default: 3600,
};
/// Minutes a drill's recovery instances are kept after the drill ends, before they are
/// terminated (a team that checks its drill application by hand keeps them an hour).
pub const KEEP_DRILL_INSTANCES_MINUTES: Limit = Limit {
    name: "keepDrillInstancesMinutes",
    min: 0,
    max: 1440,
    default: 0,
};

/// A recovery-time target: minutes from the run's start (or the disaster event) until every
/// server has launched; the run report judges each server against it.
pub const RTO_TARGET_MINUTES: Limit = Limit {
    name: "rtoTargetMinutes",
    min: 1,
    max: 10_080,
    default: 0,
};
/// A recovery-point target: the most minutes of data a recovered server may lose (the run's
/// start minus the point in time it launched from).
pub const RPO_TARGET_MINUTES: Limit = Limit {
    name: "rpoTargetMinutes",
    min: 1,
    max: 10_080,
    default: 0,
};

/// The limits the deployment may set defaults for, in the order of `template.yaml`.
pub const DEPLOYMENT_LIMITS: [(&str, Limit); 4] = [
    ("PollIntervalSeconds", POLL_INTERVAL_SECONDS),
    ("GiveUpAfterSeconds", GIVE_UP_AFTER_SECONDS),
    ("BatchSize", BATCH_SIZE),
    ("MaxConcurrentJobs", MAX_CONCURRENT_JOBS),
];

/// Waves in one plan.
pub const MAX_WAVES: usize = 20;
/// Source servers in one plan, after tag selection (DRS replicates at most 300 per account;
/// the rest of a 1,000-server estate is reached through further accounts' jobs).
pub const MAX_SERVERS_PER_PLAN: usize = 1000;
/// Restores in one plan.
pub const MAX_RESTORES_PER_PLAN: usize = 100;
/// DRS: servers in all active jobs of an account.
pub const DRS_MAX_SERVERS_IN_ACTIVE_JOBS: usize = 500;
/// DRS: concurrent jobs per account.
pub const DRS_MAX_CONCURRENT_JOBS: usize = 20;
/// Step Functions: events in one execution's history.
pub const HISTORY_EVENT_LIMIT: u64 = 25_000;
/// Wave and plan names: at most this many characters.
pub const MAX_NAME_LEN: usize = 128;

/// The deployment's defaults for a run's options (from `prepare-plan`'s environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    pub poll_interval_seconds: u64,
    pub give_up_after_seconds: u64,
    pub batch_size: u64,
    pub max_concurrent_jobs: u64,
    /// Whether a real recovery or a failback waits for approval when its plan does not say
    /// (`DR_DEFAULT_APPROVAL`).
    pub approval: ApprovalMode,
    /// `DR_DISASTER_EVENTS_SKIP_APPROVAL`: a real recovery started by a disaster event starts
    /// without approval. Dangerous; off unless the deployment turns it on.
    pub disaster_events_skip_approval: bool,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            poll_interval_seconds: POLL_INTERVAL_SECONDS.default,
            give_up_after_seconds: GIVE_UP_AFTER_SECONDS.default,
            batch_size: BATCH_SIZE.default,
            max_concurrent_jobs: MAX_CONCURRENT_JOBS.default,
            approval: ApprovalMode::Required,
            disaster_events_skip_approval: false,
        }
    }
}

/// Which workflow asks `prepare-plan` to prepare its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Workflow {
    RecoveryPlan,
    Failback,
    Restore,
}

/// Input of `prepare-plan`: the execution's input as given, and the execution it belongs to.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrepareInput {
    pub workflow: Workflow,
    pub input: serde_json::Value,
    pub execution_id: String,
    pub started_at: String,
}

/// What started a run. EventBridge rules send `{"plan": ..., "trigger": ...}`; a plan given
/// as it is (the console) was started by hand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    pub kind: TriggerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The kinds of [`Trigger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerKind {
    Event,
    Schedule,
    Console,
}

impl Trigger {
    fn console() -> Self {
        Trigger {
            kind: TriggerKind::Console,
            event_id: None,
            source: None,
            detail_type: None,
            time: None,
            account: None,
        }
    }
}

/// A run's options as given; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    pub batch_size: Option<u64>,
    pub poll_interval_seconds: Option<u64>,
    pub give_up_after_seconds: Option<u64>,
    pub max_concurrent_jobs: Option<u64>,
    pub continue_on_wave_failure: Option<bool>,
    pub max_replication_lag_seconds: Option<u64>,
    pub preflight: Option<PreflightMode>,
    pub approval: Option<ApprovalMode>,
    pub approval_timeout_seconds: Option<u64>,
    pub keep_drill_instances_minutes: Option<u64>,
    pub rto_target_minutes: Option<u64>,
    pub rpo_target_minutes: Option<u64>,
}

/// A run's options with every default applied and every range checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedOptions {
    pub batch_size: u64,
    pub poll_interval_seconds: u64,
    pub give_up_after_seconds: u64,
    pub max_concurrent_jobs: u64,
    pub continue_on_wave_failure: bool,
    pub max_replication_lag_seconds: u64,
    pub preflight: PreflightMode,
    /// The plan's own answer; the run's approvals are in each wave's `approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalMode>,
    pub approval_timeout_seconds: u64,
    pub keep_drill_instances_minutes: u64,
    /// The plan's recovery targets, if it sets any (the run report judges by them).
    #[serde(default)]
    pub targets: Targets,
}

/// A recovery plan: ordered waves of source servers (listed, or selected by tags) and AWS
/// Backup restores.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoveryPlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    /// Required: `true` for a drill, `false` for a real recovery. Optional here only so that
    /// its absence is reported with the plan's other problems.
    #[serde(default)]
    pub is_drill: Option<bool>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
    #[serde(default)]
    pub waves: Vec<Wave>,
}

/// One wave of a recovery plan.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wave {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub source_servers: Vec<SourceServerSpec>,
    #[serde(default)]
    pub select: Option<Selector>,
    #[serde(default)]
    pub restores: Vec<RestoreSpec>,
    /// The run waits for a person's approval before this wave starts (drills too).
    #[serde(default)]
    pub pause_before: Option<bool>,
    /// This wave's own targets, instead of the plan's `options.rtoTargetMinutes` /
    /// `options.rpoTargetMinutes`.
    #[serde(default)]
    pub rto_target_minutes: Option<u64>,
    #[serde(default)]
    pub rpo_target_minutes: Option<u64>,
}

/// Source servers chosen by what DRS reports about them: every server carrying all of `tags`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub tags: Tags,
}

/// One AWS Backup restore of a plan.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreSpec {
    pub recovery_point_arn: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_source_tags_to_restored_resource: Option<bool>,
}

impl RestoreSpec {
    fn start(&self, idempotency_key: String, label: String) -> StartRestoreInput {
        StartRestoreInput {
            recovery_point_arn: self.recovery_point_arn.clone(),
            metadata: self.metadata.clone(),
            iam_role_arn: self.iam_role_arn.clone(),
            resource_type: self.resource_type.clone(),
            copy_source_tags_to_restored_resource: self.copy_source_tags_to_restored_resource,
            idempotency_key,
            label: Some(label),
        }
    }
}

/// A restore-only run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestorePlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
    #[serde(default)]
    pub restores: Vec<RestoreSpec>,
}

/// A failback run: explicit recovery instances, or those a finished real recovery launched.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailbackPlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    #[serde(rename = "recoveryInstanceIDs", default)]
    pub recovery_instance_ids: Vec<String>,
    /// The DRS jobs of a finished real recovery run (its output): prepare-plan reads from DRS
    /// which recovery instances they launched and fails those back.
    #[serde(skip)]
    pub from_jobs: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
}

/// What the workflows iterate: waves of rounds of tasks, each task one start call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedPlan {
    pub workflow: Workflow,
    pub plan_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_drill: Option<bool>,
    pub execution_id: String,
    pub started_at: String,
    pub trigger: Trigger,
    pub options: ResolvedOptions,
    pub preflight: PreflightReport,
    /// Source servers (recovery) or recovery instances (failback) the run launches.
    pub servers: usize,
    pub restores: usize,
    pub waves: Vec<PreparedWave>,
    /// What happens to the run's drill instances when it ends.
    pub cleanup: CleanupPlan,
    /// What the run publishes to the notifications topic when it starts, and how its last
    /// notification's subject begins.
    #[serde(default)]
    pub notices: notify::RunNotices,
}

/// One wave: its rounds run one after the other; the tasks of a round start together and the
/// round ends when all its jobs have ended.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedWave {
    pub index: usize,
    pub name: String,
    /// How causes name the wave: `wave 0 (data)`.
    pub scope: String,
    /// Whether the wave waits for a person before it starts, and what that person is asked.
    pub approval: WaveApproval,
    /// The recovery targets its servers and restores are judged by (the wave's, else the
    /// plan's).
    #[serde(default)]
    pub targets: Targets,
    pub rounds: Vec<Vec<Task>>,
    /// The subject of the wave's `WAVE_FINISHED` notification, without its state.
    #[serde(default)]
    pub notice: String,
}

/// One start call, with the exact input its handler takes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", content = "start", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Task {
    Recovery(StartRecoveryInput),
    Failback(StartFailbackInput),
    Restore(StartRestoreInput),
}

impl PreparedWave {
    /// Its servers (or recovery instances) and restores.
    pub fn count(&self) -> WaveCount {
        let tasks = || self.rounds.iter().flatten();
        WaveCount {
            name: self.name.clone(),
            servers: tasks().map(Task::servers).sum(),
            restores: tasks().filter(|t| matches!(t, Task::Restore(_))).count(),
        }
    }
}

impl Task {
    /// The servers (or recovery instances) the task launches.
    fn servers(&self) -> usize {
        match self {
            Task::Recovery(r) => r.source_servers.len(),
            Task::Failback(f) => f.recovery_instance_ids.as_ref().map_or(0, Vec::len),
            Task::Restore(_) => 0,
        }
    }
}

/// The account's DRS load before the run starts (`DescribeJobs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveLoad {
    pub jobs: usize,
    pub servers: usize,
}

/// A problem with a plan: where (`waves[1].sourceServers[0].sourceServerID`) and what.
pub type Problem = (String, String);

/// Splits an execution input into the plan and what triggered it: `{"plan", "trigger"}` from
/// an EventBridge rule, or the plan itself (the console).
pub fn split_envelope(input: serde_json::Value) -> Result<(serde_json::Value, Trigger), TaskError> {
    match input {
        serde_json::Value::Object(mut map) if map.contains_key("plan") => {
            let trigger = match map.remove("trigger") {
                Some(t) => crate::contract::parse_at("trigger", t)?,
                None => {
                    return Err(TaskError::invalid(
                        "trigger",
                        "an input with a plan field also names its trigger",
                    ))
                }
            };
            let plan = map.remove("plan").unwrap_or_default();
            if let Some(other) = map.keys().next() {
                return Err(TaskError::invalid(
                    other.clone(),
                    "unknown field next to plan and trigger",
                ));
            }
            Ok((plan, trigger))
        }
        plan => Ok((plan, Trigger::console())),
    }
}

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
                validate::tags(&select.tags),
            );
        }
        for (r, restore) in wave.restores.iter().enumerate() {
            check_restore(&format!("{at}.restores[{r}]"), restore, &mut problems);
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
        ],
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
        check_restore(&format!("restores[{r}]"), restore, &mut problems);
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

/// Reads a failback run's input: explicit `recoveryInstanceIDs`, or the output of a finished
/// real recovery run, whose DRS jobs' launched instances are failed back (prepare-plan reads
/// them from DRS: the run's output names its jobs, not every instance).
pub fn failback_plan(input: serde_json::Value) -> Result<FailbackPlan, TaskError> {
    use serde_json::Value;
    if input.get("recoveryInstanceIDs").is_some() || input.get("waves").is_none() {
        return crate::contract::parse(input);
    }
    if input.get("isDrill") == Some(&Value::Bool(true)) {
        return Err(TaskError::invalid(
            "isDrill",
            "this recovery run was a drill: drill instances are not failed back, terminate them instead",
        ));
    }
    let mut jobs = Vec::new();
    for (w, wave) in input["waves"].as_array().into_iter().flatten().enumerate() {
        for (j, job) in wave["jobs"].as_array().into_iter().flatten().enumerate() {
            if job["kind"] != "DRS_JOB" {
                continue;
            }
            let field = format!("waves[{w}].jobs[{j}].jobID");
            let id = job["jobID"]
                .as_str()
                .ok_or_else(|| TaskError::invalid(&field, "is required for a DRS_JOB"))?;
            validate::job_id(&field, id)?;
            jobs.push(id.to_owned());
        }
    }
    if jobs.is_empty() {
        return Err(TaskError::invalid(
            "waves",
            "this recovery run started no DRS job: give recoveryInstanceIDs, or the output of a finished real recovery run",
        ));
    }
    Ok(FailbackPlan {
        plan_name: input["planName"]
            .as_str()
            .map(|n| format!("failback of {n}")),
        recovery_instance_ids: Vec::new(),
        from_jobs: jobs,
        tags: crate::contract::parse_at("tags", input.get("tags").cloned().unwrap_or_default())
            .or_else(|_| Ok::<_, TaskError>(Tags::new()))?,
        options: match input.get("options") {
            Some(o) => crate::contract::parse_at("options", o.clone())?,
            None => Options::default(),
        },
    })
}

fn check_restore(at: &str, restore: &RestoreSpec, problems: &mut Vec<Problem>) {
    let input = restore.start("check".into(), String::new());
    collect(problems, &format!("{at}."), validate::start_restore(&input));
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

/// What every prepared plan shares.
pub struct RunContext<'a> {
    pub request: &'a PrepareInput,
    pub trigger: Trigger,
    pub options: ResolvedOptions,
    pub active: ActiveLoad,
    pub defaults: Defaults,
}

impl RunContext<'_> {
    /// The prefix of every idempotency key of this run: the triggering event's ID when an
    /// event started it (a re-delivered event then finds the jobs the first delivery started),
    /// the execution otherwise.
    pub fn key_base(&self) -> String {
        match &self.trigger.event_id {
            Some(id) => format!("event:{id}"),
            None => self.request.execution_id.clone(),
        }
    }

    /// The plan's tags, and the execution that starts the job (the drill sweeper asks Step
    /// Functions whether it still runs).
    fn job_tags(&self, plan_tags: &Tags) -> Tags {
        let mut tags = plan_tags.clone();
        tags.insert(EXECUTION_TAG.into(), self.request.execution_id.clone());
        tags
    }
}

/// Prepares a checked recovery plan: resolves selectors against the inventory, runs the
/// preflight, batches the waves and fails (before anything starts) when preflight blocks it.
pub fn prepare_recovery(
    ctx: RunContext<'_>,
    plan: &RecoveryPlan,
    inventory: &Inventory,
) -> Result<PreparedPlan, TaskError> {
    let is_drill = plan.is_drill.unwrap_or(false);
    let (waves_servers, mut findings) = preflight::resolve(&plan.waves, inventory);
    let total: usize = waves_servers.iter().map(Vec::len).sum();
    if total > MAX_SERVERS_PER_PLAN {
        return Err(TaskError::invalid(
            "waves",
            format!("the plan's selectors choose {total} source servers; a plan recovers at most {MAX_SERVERS_PER_PLAN}"),
        ));
    }
    findings.extend(preflight::replication(
        &plan.waves,
        &waves_servers,
        inventory,
        ctx.options.max_replication_lag_seconds,
    ));
    let base = ctx.key_base();
    let batch = usize::try_from(ctx.options.batch_size).unwrap_or(usize::MAX);
    let mut waves = Vec::with_capacity(plan.waves.len());
    for (w, (wave, servers)) in plan.waves.iter().zip(&waves_servers).enumerate() {
        let name = wave.name.clone().unwrap_or_default();
        let mut tasks: Vec<Task> = servers
            .chunks(batch)
            .enumerate()
            .map(|(b, chunk)| {
                Task::Recovery(StartRecoveryInput {
                    is_drill,
                    source_servers: chunk.to_vec(),
                    tags: ctx.job_tags(&plan.tags),
                    idempotency_key: format!("{base}#w{w}#b{b}"),
                    label: Some(format!("batch {b}")),
                })
            })
            .collect();
        tasks.extend(wave.restores.iter().enumerate().map(|(r, restore)| {
            Task::Restore(restore.start(format!("{base}#w{w}#r{r}"), format!("restore {r}")))
        }));
        let scope = format!("wave {w} ({name})");
        let rounds = rounds(tasks, &ctx, &scope, &mut findings);
        waves.push(PreparedWave {
            index: w,
            name,
            scope,
            approval: pause(wave.pause_before),
            targets: Targets {
                rto_minutes: wave.rto_target_minutes.or(ctx.options.targets.rto_minutes),
                rpo_minutes: wave.rpo_target_minutes.or(ctx.options.targets.rpo_minutes),
            },
            rounds,
            notice: String::new(),
        });
    }
    let mode = if is_drill {
        ctx.options.preflight
    } else {
        PreflightMode::Fail
    };
    let restores = plan.waves.iter().map(|w| w.restores.len()).sum();
    finish_prepared(
        ctx,
        Workflow::RecoveryPlan,
        plan.plan_name
            .clone()
            .unwrap_or_else(|| "unnamed plan".into()),
        Some(is_drill),
        findings,
        mode,
        inventory.servers_checked(),
        (total, restores),
        waves,
    )
}

/// Prepares a checked failback run: one wave of failback jobs.
pub fn prepare_failback(
    ctx: RunContext<'_>,
    plan: &FailbackPlan,
) -> Result<PreparedPlan, TaskError> {
    let base = ctx.key_base();
    let batch = usize::try_from(ctx.options.batch_size).unwrap_or(usize::MAX);
    let tasks = plan
        .recovery_instance_ids
        .chunks(batch)
        .enumerate()
        .map(|(b, chunk)| {
            Task::Failback(StartFailbackInput {
                recovery_instance_ids: Some(chunk.to_vec()),
                tags: ctx.job_tags(&plan.tags),
                idempotency_key: format!("{base}#failback#b{b}"),
                label: Some(format!("batch {b}")),
            })
        })
        .collect();
    let mut findings = Vec::new();
    let targets = ctx.options.targets;
    let scope = "failback".to_owned();
    let rounds = rounds(tasks, &ctx, &scope, &mut findings);
    let servers = plan.recovery_instance_ids.len();
    finish_prepared(
        ctx,
        Workflow::Failback,
        plan.plan_name.clone().unwrap_or_else(|| "failback".into()),
        Some(false),
        findings,
        PreflightMode::Fail,
        0,
        (servers, 0),
        vec![PreparedWave {
            index: 0,
            name: "failback".into(),
            scope,
            approval: WaveApproval::not_required(),
            targets,
            rounds,
            notice: String::new(),
        }],
    )
}

/// Prepares a checked restore run: one wave of restores.
pub fn prepare_restore(ctx: RunContext<'_>, plan: &RestorePlan) -> Result<PreparedPlan, TaskError> {
    let base = ctx.key_base();
    let mut findings = Vec::new();
    for (r, restore) in plan.restores.iter().enumerate() {
        findings.extend(preflight::restore(&format!("restores[{r}]"), restore));
    }
    let tasks = plan
        .restores
        .iter()
        .enumerate()
        .map(|(r, restore)| {
            Task::Restore(restore.start(format!("{base}#r{r}"), format!("restore {r}")))
        })
        .collect();
    let targets = ctx.options.targets;
    let scope = "restores".to_owned();
    let rounds = rounds(tasks, &ctx, &scope, &mut findings);
    finish_prepared(
        ctx,
        Workflow::Restore,
        plan.plan_name.clone().unwrap_or_else(|| "restore".into()),
        None,
        findings,
        PreflightMode::Fail,
        0,
        (0, plan.restores.len()),
        vec![PreparedWave {
            index: 0,
            name: "restores".into(),
            scope,
            approval: WaveApproval::not_required(),
            targets,
            rounds,
            notice: String::new(),
        }],
    )
}

/// Groups a wave's tasks into rounds that fit what the account has left: at most
/// `maxConcurrentJobs` (and the DRS job quota) jobs, at most the DRS in-flight server quota.
fn rounds(
    tasks: Vec<Task>,
    ctx: &RunContext<'_>,
    scope: &str,
    findings: &mut Vec<Finding>,
) -> Vec<Vec<Task>> {
    let jobs_left = DRS_MAX_CONCURRENT_JOBS.saturating_sub(ctx.active.jobs);
    let servers_left = DRS_MAX_SERVERS_IN_ACTIVE_JOBS.saturating_sub(ctx.active.servers);
    let per_round = usize::try_from(ctx.options.max_concurrent_jobs)
        .unwrap_or(usize::MAX)
        .min(jobs_left.max(1));
    let mut out: Vec<Vec<Task>> = Vec::new();
    let mut current: Vec<Task> = Vec::new();
    let mut in_flight = 0;
    for task in tasks {
        let n = task.servers();
        if n > servers_left || jobs_left == 0 {
            findings.push(Finding {
                severity: Severity::Blocking,
                code: "QUOTA".into(),
                path: scope.to_owned(),
                source_server_id: None,
                message: format!(
                    "{} active DRS jobs hold {} servers; a job of {n} servers would pass DRS's limits of {DRS_MAX_CONCURRENT_JOBS} jobs and {DRS_MAX_SERVERS_IN_ACTIVE_JOBS} servers in active jobs",
                    ctx.active.jobs, ctx.active.servers
                ),
            });
        }
        if !current.is_empty() && (current.len() >= per_round || in_flight + n > servers_left) {
            out.push(std::mem::take(&mut current));
            in_flight = 0;
        }
        in_flight += n;
        current.push(task);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn finish_prepared(
    ctx: RunContext<'_>,
    workflow: Workflow,
    plan_name: String,
    is_drill: Option<bool>,
    findings: Vec<Finding>,
    mode: PreflightMode,
    servers_checked: usize,
    (servers, restores): (usize, usize),
    waves: Vec<PreparedWave>,
) -> Result<PreparedPlan, TaskError> {
    let report = PreflightReport::new(findings, mode, servers_checked);
    if report.blocks() {
        return Err(TaskError::PreflightBlocked {
            message: report.describe(),
        });
    }
    let drill = is_drill == Some(true);
    let mut waves = waves;
    ask_approvals(&ctx, workflow, &plan_name, drill, &report, &mut waves);
    let cleanup = CleanupPlan {
        action: if workflow == Workflow::RecoveryPlan && drill {
            CleanupAction::TerminateDrillInstances
        } else {
            CleanupAction::None
        },
        keep_seconds: ctx.options.keep_drill_instances_minutes * 60,
        key_base: ctx.key_base(),
        since: ctx.request.started_at.clone(),
    };
    let plan = PreparedPlan {
        workflow,
        plan_name,
        is_drill,
        execution_id: ctx.request.execution_id.clone(),
        started_at: ctx.request.started_at.clone(),
        trigger: ctx.trigger,
        options: ctx.options,
        preflight: report,
        servers,
        restores,
        waves,
        cleanup,
        notices: notify::RunNotices::default(),
    };
    let mut plan = plan;
    notify::annotate(&mut plan);
    check_history_budget(&plan)?;
    Ok(plan)
}

/// A wave's approval before the run's own is known: required when the plan pauses before it.
fn pause(pause_before: Option<bool>) -> WaveApproval {
    WaveApproval {
        required: pause_before == Some(true),
        ask: None,
    }
}

/// Writes the approval request of every wave that waits for a person: the first wave when the
/// run itself needs approval, and every wave the plan pauses before.
fn ask_approvals(
    ctx: &RunContext<'_>,
    workflow: Workflow,
    plan_name: &str,
    is_drill: bool,
    preflight: &PreflightReport,
    waves: &mut [PreparedWave],
) {
    let policy = approval::Policy {
        plan: ctx.options.approval,
        deployment_default: ctx.defaults.approval,
        disaster_events_skip: ctx.defaults.disaster_events_skip_approval,
    };
    let run_reason = approval::run_reason(policy, workflow, is_drill, ctx.trigger.kind);
    let counts: Vec<WaveCount> = waves.iter().map(PreparedWave::count).collect();
    for wave in waves.iter_mut() {
        let reason = match (&run_reason, wave.index, wave.approval.required) {
            (Some(r), 0, _) => r.clone(),
            (_, _, true) => format!("the plan pauses before {} (pauseBefore)", wave.scope),
            _ => continue,
        };
        wave.approval = approval::ask(approval::Request {
            plan_name: plan_name.to_owned(),
            workflow,
            is_drill,
            wave: wave.scope.clone(),
            reason,
            servers: counts.iter().map(|c| c.servers).sum(),
            restores: counts.iter().map(|c| c.restores).sum(),
            waves: counts.clone(),
            preflight: approval::PreflightSummary::of(preflight),
            trigger: ctx.trigger.clone(),
            execution_id: ctx.request.execution_id.clone(),
            timeout_seconds: ctx.options.approval_timeout_seconds,
        });
    }
}

/// The most history events a run of `plan` can write if every round waits until it gives up.
/// Per round: its tasks (about 10 events each) and one wait per interval that no event cut
/// short (the callback task that times out, 6 events; the check, 5; the Choice, 2: 13 events);
/// per wave a final check; plus the fixed states around them (the run report's two tasks among
/// them, and the drill cleanup's polls: a Wait, a task and a Choice, 9 events).
pub fn worst_case_history(plan: &PreparedPlan) -> u64 {
    // A callback task that times out writes TaskStateEntered, TaskScheduled, TaskStarted,
    // TaskSubmitted, TaskTimedOut and TaskStateExited.
    const ROUND_EVENTS_PER_POLL: u64 = 13;
    let polls = plan.options.give_up_after_seconds / plan.options.poll_interval_seconds + 2;
    // The cleanup after a drill polls its TERMINATE jobs like a round; the run's notifications
    // (started, and how it ended: two publish tasks and a Choice) add 12.
    let mut events = 92 + 9 * polls;
    for wave in &plan.waves {
        // Each wave's WAVE_FINISHED is one more publish task (5 events).
        events += if wave.approval.required { 45 } else { 35 };
        for round in &wave.rounds {
            events += 12 + 10 * round.len() as u64 + ROUND_EVENTS_PER_POLL * polls;
        }
    }
    events
}

fn check_history_budget(plan: &PreparedPlan) -> Result<(), TaskError> {
    let events = worst_case_history(plan);
    if events > HISTORY_EVENT_LIMIT {
        let rounds: usize = plan.waves.iter().map(|w| w.rounds.len()).sum();
        return Err(TaskError::invalid(
            "options.giveUpAfterSeconds",
            format!(
                "{rounds} rounds of jobs polled every {} s for up to {} s could write {events} history events, more than Step Functions' {HISTORY_EVENT_LIMIT} per execution: raise pollIntervalSeconds, lower giveUpAfterSeconds, or put more servers in each job (batchSize)",
                plan.options.poll_interval_seconds, plan.options.give_up_after_seconds
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preflight::{ServerInfo, Verdict};

    fn sid(n: usize) -> String {
        format!("s-{n:017}")
    }

    fn inventory(n: usize) -> Inventory {
        Inventory {
            servers: (0..n)
                .map(|i| {
                    let tags = [("dr-wave".to_owned(), (i % 2 + 1).to_string())].into();
                    let info = ServerInfo {
                        tags,
                        replication_state: Some("CONTINUOUS".into()),
                        lag: Some("PT5S".into()),
                    };
                    (sid(i), info)
                })
                .collect(),
            snapshots: BTreeMap::new(),
        }
    }

    fn request() -> PrepareInput {
        PrepareInput {
            workflow: Workflow::RecoveryPlan,
            input: serde_json::Value::Null,
            execution_id: "arn:aws:states:eu-west-1:123456789012:execution:plan:run-1".into(),
            started_at: "2026-11-25T02:00:00Z".into(),
        }
    }

    fn plan(json: serde_json::Value) -> RecoveryPlan {
        crate::contract::parse(json).unwrap()
    }

    fn prepare(
        p: &RecoveryPlan,
        inv: &Inventory,
        trigger: Trigger,
        active: ActiveLoad,
    ) -> Result<PreparedPlan, TaskError> {
        let request = request();
        let options = check_recovery_plan(p, &Defaults::default())?;
        let ctx = RunContext {
            request: &request,
            trigger,
            options,
            active,
            defaults: Defaults::default(),
        };
        prepare_recovery(ctx, p, inv)
    }

    fn servers(from: usize, to: usize) -> serde_json::Value {
        (from..to)
            .map(|i| serde_json::json!({"sourceServerID": sid(i)}))
            .collect()
    }

    fn round_sizes(wave: &PreparedWave) -> Vec<Vec<usize>> {
        wave.rounds
            .iter()
            .map(|r| r.iter().map(Task::servers).collect())
            .collect()
    }

    #[test]
    fn waves_are_batched_into_keyed_jobs_and_restores() {
        let p = plan(serde_json::json!({
            "isDrill": true,
            "options": {"batchSize": 2, "preflight": "CONTINUE"},
            "waves": [
                {"name": "data", "sourceServers": servers(0, 5), "restores": [
                    {"recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0", "metadata": {"availabilityZone": "eu-west-1a"}, "resourceType": "EBS"}
                ]},
                {"name": "app", "select": {"tags": {"dr-wave": "2"}}}
            ]
        }));
        let prepared =
            prepare(&p, &inventory(8), Trigger::console(), ActiveLoad::default()).unwrap();
        let base = &prepared.execution_id;
        assert_eq!(round_sizes(&prepared.waves[0]), [[2, 2, 1, 0]]);
        let Task::Recovery(first) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert!(first.is_drill);
        assert_eq!(first.idempotency_key, format!("{base}#w0#b0"));
        assert_eq!(first.label.as_deref(), Some("batch 0"));
        let Task::Restore(restore) = &prepared.waves[0].rounds[0][3] else {
            panic!()
        };
        assert_eq!(restore.idempotency_key, format!("{base}#w0#r0"));
        // dr-wave 2: servers 1, 3, 5, 7; 1, 3 already in wave 0
        assert_eq!(prepared.preflight.blocking, 2);
        assert_eq!(prepared.preflight.verdict, Verdict::BlockedContinued);
        assert_eq!(round_sizes(&prepared.waves[1]), [[2]], "5 and 7");
    }

    #[test]
    fn a_blocked_real_recovery_fails_and_a_drill_may_continue() {
        let mut inv = inventory(3);
        inv.servers.get_mut(&sid(1)).unwrap().replication_state = Some("STALLED".into());
        let real = plan(
            serde_json::json!({"isDrill": false, "waves": [{"name": "w", "sourceServers": servers(0, 3)}]}),
        );
        let err = prepare(&real, &inv, Trigger::console(), ActiveLoad::default()).unwrap_err();
        assert_eq!(err.name(), "PreflightBlocked");
        assert!(err.to_string().contains(&sid(1)), "{err}");
        assert!(err.to_string().contains("STALLED"), "{err}");

        let mut real_continue = real.clone();
        real_continue.options.preflight = Some(PreflightMode::Continue);
        let err = prepare(
            &real_continue,
            &inv,
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.name(),
            "PreflightBlocked",
            "a real recovery never continues"
        );

        let mut drill = real_continue;
        drill.is_drill = Some(true);
        let prepared = prepare(&drill, &inv, Trigger::console(), ActiveLoad::default()).unwrap();
        assert_eq!(prepared.preflight.verdict, Verdict::BlockedContinued);
        assert_eq!(prepared.servers, 3);
    }

    #[test]
    fn a_real_recovery_waits_before_its_first_wave_and_a_drill_only_where_it_pauses() {
        let waves = serde_json::json!([
            {"name": "db", "sourceServers": servers(0, 2)},
            {"name": "app", "sourceServers": servers(2, 3), "pauseBefore": true}
        ]);
        let real =
            plan(serde_json::json!({"isDrill": false, "planName": "payments", "waves": waves}));
        let prepared = prepare(
            &real,
            &inventory(3),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        let asks: Vec<bool> = prepared.waves.iter().map(|w| w.approval.required).collect();
        assert_eq!(asks, [true, true]);
        let ask = prepared.waves[0].approval.ask.as_ref().unwrap();
        assert!(
            ask.subject.starts_with("Approve REAL recovery of payments"),
            "{}",
            ask.subject
        );
        assert_eq!(ask.request.servers, 3);
        assert_eq!(ask.request.waves.len(), 2);
        assert_eq!(ask.timeout_seconds, APPROVAL_TIMEOUT_SECONDS.default);
        assert!(ask.approve_command.ends_with("--task-token "));
        assert!(prepared.waves[1]
            .approval
            .ask
            .as_ref()
            .unwrap()
            .reason
            .contains("pauseBefore"));
        assert_eq!(prepared.cleanup.action, CleanupAction::None);

        let drill = plan(serde_json::json!({"isDrill": true, "waves": waves,
            "options": {"keepDrillInstancesMinutes": 60, "approvalTimeoutSeconds": 600}}));
        let prepared = prepare(
            &drill,
            &inventory(3),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        let asks: Vec<bool> = prepared.waves.iter().map(|w| w.approval.required).collect();
        assert_eq!(asks, [false, true]);
        assert_eq!(
            prepared.waves[1]
                .approval
                .ask
                .as_ref()
                .unwrap()
                .timeout_seconds,
            600
        );
        assert_eq!(
            prepared.cleanup.action,
            CleanupAction::TerminateDrillInstances
        );
        assert_eq!(prepared.cleanup.keep_seconds, 3600);
        assert_eq!(prepared.cleanup.key_base, prepared.execution_id);
        // Every job names the execution that started it (the sweeper asks whether it runs).
        let Task::Recovery(job) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert_eq!(job.tags[EXECUTION_TAG], prepared.execution_id);
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
    fn an_event_triggered_run_keys_its_jobs_by_the_event() {
        let p = plan(
            serde_json::json!({"isDrill": false, "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}),
        );
        let trigger = Trigger {
            kind: TriggerKind::Event,
            event_id: Some("6a7e8feb-b491-4cf7-a9f1-bf3703467718".into()),
            ..Trigger::console()
        };
        let prepared = prepare(&p, &inventory(1), trigger, ActiveLoad::default()).unwrap();
        let Task::Recovery(job) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert_eq!(
            job.idempotency_key,
            "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718#w0#b0"
        );
        assert_eq!(prepared.trigger.kind, TriggerKind::Event);
        // A disaster event's real recovery waits for a person even if the plan says it need not.
        let waived = plan(
            serde_json::json!({"isDrill": false, "options": {"approval": "NOT_REQUIRED"},
            "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}),
        );
        let prepared = prepare(
            &waived,
            &inventory(1),
            prepared.trigger.clone(),
            ActiveLoad::default(),
        )
        .unwrap();
        assert!(prepared.waves[0].approval.required);
        let console = prepare(
            &waived,
            &inventory(1),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        assert!(!console.waves[0].approval.required);
    }

    #[test]
    fn rounds_fit_the_servers_and_jobs_the_account_has_left() {
        let p = plan(
            serde_json::json!({"isDrill": true, "options": {"batchSize": 100, "maxConcurrentJobs": 10},
            "waves": [{"name": "w", "sourceServers": servers(0, 1000)}]}),
        );
        let inv = inventory(1000);
        let idle = prepare(&p, &inv, Trigger::console(), ActiveLoad::default()).unwrap();
        assert_eq!(round_sizes(&idle.waves[0]), [vec![100; 5], vec![100; 5]]);
        let busy = ActiveLoad {
            jobs: 17,
            servers: 250,
        };
        let prepared = prepare(&p, &inv, Trigger::console(), busy).unwrap();
        let sizes = round_sizes(&prepared.waves[0]);
        assert!(
            sizes
                .iter()
                .all(|r| r.len() <= 3 && r.iter().sum::<usize>() <= 250),
            "{sizes:?}"
        );
        assert_eq!(sizes.iter().flatten().sum::<usize>(), 1000);

        let full = ActiveLoad {
            jobs: 20,
            servers: 10,
        };
        let err = prepare(&p, &inv, Trigger::console(), full).unwrap_err();
        assert_eq!(err.name(), "PreflightBlocked");
        assert!(err.to_string().contains("QUOTA"), "{err}");
    }

    #[test]
    fn a_plan_that_could_exhaust_the_execution_history_is_refused_before_it_starts() {
        let p = plan(
            serde_json::json!({"isDrill": true, "options": {"pollIntervalSeconds": 1, "giveUpAfterSeconds": 7200},
            "waves": [{"name": "w", "sourceServers": servers(0, 3)}]}),
        );
        let err =
            prepare(&p, &inventory(3), Trigger::console(), ActiveLoad::default()).unwrap_err();
        let TaskError::InvalidInput { field, constraint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "options.giveUpAfterSeconds");
        assert!(
            constraint.contains("more than Step Functions' 25000"),
            "{constraint}"
        );
    }

    #[test]
    fn a_thousand_tag_selected_servers_prepare_into_less_than_64_kib() {
        let p = plan(
            serde_json::json!({"planName": "big", "isDrill": true, "tags": {"dr:plan": "big"},
            "waves": [
                {"name": "one", "select": {"tags": {"dr-wave": "1"}}},
                {"name": "two", "select": {"tags": {"dr-wave": "2"}}}
            ]}),
        );
        let prepared = prepare(
            &p,
            &inventory(1000),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        assert_eq!(prepared.servers, 1000);
        let bytes = serde_json::to_vec(&prepared).unwrap().len();
        assert!(bytes < 64 * 1024, "{bytes} bytes");
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

    #[test]
    fn failback_takes_the_drs_jobs_of_a_real_recovery_run_only() {
        let output = serde_json::json!({"planName": "p", "isDrill": false, "waves": [
            {"jobs": [{"kind": "DRS_JOB", "jobID": "drsjob-0123456789abcdef0"}, {"kind": "RESTORE_JOB"}]},
            {"jobs": [{"kind": "NOT_STARTED"}, {"kind": "DRS_JOB", "jobID": "drsjob-0123456789abcdef1"}]}
        ]});
        let fb = failback_plan(output.clone()).unwrap();
        assert_eq!(
            fb.from_jobs,
            ["drsjob-0123456789abcdef0", "drsjob-0123456789abcdef1"]
        );
        assert!(fb.recovery_instance_ids.is_empty());
        assert_eq!(fb.plan_name.as_deref(), Some("failback of p"));
        // The instances are read from DRS later: the plan's other fields are checked now.
        check_failback_plan(&fb, &Defaults::default()).unwrap();
        let mut drill = output.clone();
        drill["isDrill"] = serde_json::json!(true);
        assert_eq!(failback_plan(drill).unwrap_err().name(), "InvalidInput");
        let mut bad = output.clone();
        bad["waves"][1]["jobs"][1]["jobID"] = serde_json::json!("job-1");
        let err = failback_plan(bad).unwrap_err();
        assert!(err.to_string().contains("waves[1].jobs[1].jobID"), "{err}");
        let restores_only =
            serde_json::json!({"isDrill": false, "waves": [{"jobs": [{"kind": "RESTORE_JOB"}]}]});
        let err = failback_plan(restores_only).unwrap_err();
        assert!(err.to_string().contains("started no DRS job"), "{err}");
    }
}
