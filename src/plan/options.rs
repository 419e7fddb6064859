//! A run's options: as a person gives them ([`Options`], every one optional), the deployment's
//! [`Defaults`] for them, and as the run carries them once every default is applied and every
//! range checked ([`ResolvedOptions`]). The two modes a plan may choose ([`ApprovalMode`],
//! [`PreflightMode`]) live here, beside the options that choose them, so that
//! [`approval`](crate::approval) and [`preflight`](crate::preflight) name them without
//! depending on the rest of the plan.

use serde::{Deserialize, Serialize};

use super::limits::{
    BATCH_SIZE, GIVE_UP_AFTER_SECONDS, MAX_CONCURRENT_JOBS, OUTAGE_BUDGET_SECONDS,
    POLL_INTERVAL_SECONDS,
};
use crate::report::model::Targets;

/// A plan's (or the deployment's) answer to "does this run wait for a person?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalMode {
    Required,
    NotRequired,
}

/// What a drill does when preflight finds a blocking problem. A real recovery always fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PreflightMode {
    Fail,
    Continue,
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
    /// The deployment's outage budget ([`Defaults::outage_budget_seconds`]), as the run had it.
    #[serde(default = "outage_budget_default")]
    pub outage_budget_seconds: u64,
}

fn outage_budget_default() -> u64 {
    OUTAGE_BUDGET_SECONDS.default
}

/// The deployment's defaults for a run's options (from `prepare-plan`'s environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub poll_interval_seconds: u64,
    pub give_up_after_seconds: u64,
    pub batch_size: u64,
    pub max_concurrent_jobs: u64,
    /// Whether a real run (a real recovery, a failback, a restore) waits for approval
    /// (`DR_DEFAULT_APPROVAL`, the stack's `RealRunApproval`): only the deployment waives it.
    pub approval: ApprovalMode,
    /// `DR_DISASTER_EVENTS_SKIP_APPROVAL`: a real recovery started by a disaster event starts
    /// without approval. Dangerous; off unless the deployment turns it on.
    pub disaster_events_skip_approval: bool,
    /// Where approvers answer (`DR_APPROVAL_ENDPOINT`, the stack's approval function URL):
    /// what every approval request tells them.
    pub approval_endpoint: Option<String>,
    /// How long each step keeps retrying AWS answering throttled or unavailable
    /// (`DR_OUTAGE_BUDGET_SECONDS`): every run of the deployment gets it, no plan sets it.
    pub outage_budget_seconds: u64,
    /// The AWS Backup vaults a plan may restore from (`DR_RESTORE_VAULTS`, the stack's
    /// `RestoreVaults`); none: no plan may restore.
    pub restore_vaults: Vec<String>,
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
            approval_endpoint: None,
            outage_budget_seconds: OUTAGE_BUDGET_SECONDS.default,
            restore_vaults: Vec::new(),
        }
    }
}
