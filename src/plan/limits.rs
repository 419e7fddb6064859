//! The ranges of a run's options and the fixed limits of a plan, DRS and Step Functions: each
//! limit lives here once, and the deployment's template parameters are checked against
//! [`DEPLOYMENT_LIMITS`] by a test.

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
/// How long one step of a run keeps retrying AWS answering throttled or unavailable
/// (`DR_OUTAGE_BUDGET_SECONDS`, the template's `OutageBudgetSeconds`; [`crate::outage`]): the
/// deployment's, not a plan's. The lower end lets a test outlast it in seconds; the template
/// asks for at least a minute.
pub const OUTAGE_BUDGET_SECONDS: Limit = Limit {
    name: "outageBudgetSeconds",
    min: 10,
    max: 14_400,
    default: 1_800,
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
/// The longest a run may last: the definition's `TimeoutSeconds` (14 days), after which Step
/// Functions stops the execution (`ExecutionsTimedOut`, which the template's alarms watch). A
/// plan that could run longer is refused ([`super::duration`]). Step Functions allows a year;
/// a recovery that waits two weeks has stopped being one.
pub const MAX_RUN_SECONDS: u64 = 14 * 24 * 3600;
/// Step Functions: bytes of one state's input or output (256 KiB). A larger state fails the
/// execution with `States.DataLimitExceeded`, which no `States.ALL` catches: no report, no
/// notification.
pub const STATE_BYTES_LIMIT: usize = 262_144;
/// The prepared plan's largest size: half a state, the other half left for what the run adds
/// to it (each wave's result, the measurements' key, the settlement, the ending).
pub const MAX_PREPARED_PLAN_BYTES: usize = STATE_BYTES_LIMIT / 2;
/// Wave and plan names: at most this many characters.
pub const MAX_NAME_LEN: usize = 128;
