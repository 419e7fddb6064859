//! A plan's rules, in one place and with no I/O: what a recovery plan, a failback and a restore
//! run look like ([`input`]), their options, defaults and limits ([`options`], [`limits`]),
//! whole-plan validation, every problem naming its path ([`check`]), the run state the workflow
//! carries ([`run_state`]), batching into DRS jobs and rounds that fit the account's quotas
//! ([`rounds`]), the assembly with its idempotency keys ([`prepare`]), the history budget of a
//! Step Functions execution ([`budget`]) and the run's longest time ([`duration`]).
//! `prepare-plan` feeds it what AWS reports; the workflows only iterate what it returns.

pub mod budget;
pub mod check;
pub mod duration;
pub mod input;
pub mod limits;
pub mod options;
pub mod prepare;
pub mod rounds;
pub mod run_state;

#[cfg(test)]
mod fixtures;

pub use budget::worst_case_history;
pub use check::{
    check_failback_plan, check_recovery_plan, check_restore_plan, resolve_options, Problem,
};
pub use input::{
    failback_plan, split_envelope, FailbackPlan, PrepareInput, RecoveryPlan, RestorePlan, Selector,
    Trigger, TriggerKind, Wave, Workflow,
};
pub use limits::{
    Limit, APPROVAL_TIMEOUT_SECONDS, BATCH_SIZE, DEPLOYMENT_LIMITS, DRS_MAX_CONCURRENT_JOBS,
    DRS_MAX_SERVERS_IN_ACTIVE_JOBS, GIVE_UP_AFTER_SECONDS, HISTORY_EVENT_LIMIT,
    KEEP_DRILL_INSTANCES_MINUTES, MAX_CONCURRENT_JOBS, MAX_NAME_LEN, MAX_REPLICATION_LAG_SECONDS,
    MAX_RESTORES_PER_PLAN, MAX_RUN_SECONDS, MAX_SERVERS_PER_PLAN, MAX_WAVES, OUTAGE_BUDGET_SECONDS,
    POLL_INTERVAL_SECONDS, RPO_TARGET_MINUTES, RTO_TARGET_MINUTES,
};
pub use options::{ApprovalMode, Defaults, Options, PreflightMode, ResolvedOptions};
pub use prepare::{prepare_failback, prepare_recovery, prepare_restore, RunContext};
pub use rounds::ActiveLoad;
pub use run_state::{
    ApprovalDecision, CleanupResult, EndNotice, Ending, Judged, Measured, Next, Notice,
    PreparedPlan, PreparedWave, Progress, RanWave, RunNotices, RunState, Settled, Started, Task,
    TaskFailure, WaveFinished, WaveResult, WaveState, Written,
};
