//! Configuration read once per cold start from the function's environment, so that a bad value
//! fails the init phase instead of the first invocation.

use std::time::Duration;

use crate::plan::{ApprovalMode, Defaults, Limit, DEPLOYMENT_LIMITS, OUTAGE_BUDGET_SECONDS};

/// How far back a start handler looks for a job an earlier attempt of the same task started,
/// unless `DR_JOB_LOOKBACK_HOURS` says otherwise.
pub const DEFAULT_JOB_LOOKBACK_HOURS: u64 = 48;

/// Hours after which the sweeper terminates a drill instance whose run has ended
/// (`DR_DRILL_INSTANCE_MAX_AGE_HOURS`, the template's `DrillInstanceMaxAgeHours`).
pub const DRILL_INSTANCE_MAX_AGE_HOURS: Limit = Limit {
    name: "maxAgeHours",
    min: 1,
    max: 720,
    default: 24,
};

/// The handlers' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `DescribeJobs` window searched for a job already started with the same key.
    pub job_lookback: Duration,
    /// The deployment's defaults for a run's options (`prepare-plan`).
    pub defaults: Defaults,
    /// The drill sweeper's age limit, in hours.
    pub drill_instance_max_age_hours: u64,
    /// The bucket the run reports go to (`DR_REPORT_BUCKET`; the report function's only).
    pub report_bucket: Option<String>,
    /// The table where waiting rounds leave their task tokens (`DR_WAKE_TABLE`; the two wake
    /// functions' only).
    pub wake_table: Option<String>,
    /// The table where approval waits keep their task tokens (`DR_APPROVALS_TABLE`; the two
    /// approval functions' only).
    pub approvals_table: Option<String>,
    /// The table of the plans' leases, one run per plan (`DR_LEASE_TABLE`; prepare-plan's and
    /// the report's).
    pub lease_table: Option<String>,
    /// Who may answer approval requests, unparsed (`DR_APPROVERS`; the endpoint's only, which
    /// fails its init phase on a bad or empty list).
    pub approvers: Option<String>,
    /// The state machines whose drills the sweeper may clean up after (`DR_DRILL_WORKFLOWS`,
    /// ARNs separated by commas or spaces: the stack's recovery-plan workflow; the sweeper's only, which fails
    /// its init phase without them).
    pub drill_workflows: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            job_lookback: Duration::from_secs(DEFAULT_JOB_LOOKBACK_HOURS * 3600),
            defaults: Defaults::default(),
            drill_instance_max_age_hours: DRILL_INSTANCE_MAX_AGE_HOURS.default,
            report_bucket: None,
            wake_table: None,
            approvals_table: None,
            lease_table: None,
            approvers: None,
            drill_workflows: Vec::new(),
        }
    }
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut config = Config::default();
        if let Some(raw) = lookup("DR_JOB_LOOKBACK_HOURS") {
            let hours: u64 = raw
                .trim()
                .parse()
                .ok()
                .filter(|h| (1..=8760).contains(h))
                .ok_or_else(|| {
                    format!("DR_JOB_LOOKBACK_HOURS must be a whole number of hours from 1 to 8760, got {raw:?}")
                })?;
            config.job_lookback = Duration::from_secs(hours * 3600);
        }
        let [poll, give_up, batch, concurrent] = DEPLOYMENT_LIMITS.map(|(_, limit)| limit);
        let d = &mut config.defaults;
        d.poll_interval_seconds = default_of(&lookup, "DR_DEFAULT_POLL_INTERVAL_SECONDS", poll)?;
        d.give_up_after_seconds = default_of(&lookup, "DR_DEFAULT_GIVE_UP_AFTER_SECONDS", give_up)?;
        d.batch_size = default_of(&lookup, "DR_DEFAULT_BATCH_SIZE", batch)?;
        d.max_concurrent_jobs = default_of(&lookup, "DR_DEFAULT_MAX_CONCURRENT_JOBS", concurrent)?;
        config.drill_instance_max_age_hours = default_of(
            &lookup,
            "DR_DRILL_INSTANCE_MAX_AGE_HOURS",
            DRILL_INSTANCE_MAX_AGE_HOURS,
        )?;
        config.defaults.outage_budget_seconds =
            default_of(&lookup, "DR_OUTAGE_BUDGET_SECONDS", OUTAGE_BUDGET_SECONDS)?;
        let name = |var| {
            lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        config.report_bucket = name("DR_REPORT_BUCKET");
        config.wake_table = name("DR_WAKE_TABLE");
        config.approvals_table = name("DR_APPROVALS_TABLE");
        config.lease_table = name("DR_LEASE_TABLE");
        config.defaults.approval_endpoint = name("DR_APPROVAL_ENDPOINT");
        config.approvers = lookup("DR_APPROVERS");
        config.drill_workflows = list(&lookup, "DR_DRILL_WORKFLOWS");
        if let Some(bad) = config
            .drill_workflows
            .iter()
            .find(|arn| !arn.starts_with("arn:") || !arn.contains(":states:"))
        {
            return Err(format!(
                "DR_DRILL_WORKFLOWS must list state machine ARNs, got {bad:?}"
            ));
        }
        config.defaults.restore_vaults = list(&lookup, "DR_RESTORE_VAULTS");
        if let Some(bad) = config
            .defaults
            .restore_vaults
            .iter()
            .find(|vault| crate::validate::backup_vault_name("", vault).is_err())
        {
            return Err(format!(
                "DR_RESTORE_VAULTS must list AWS Backup vault names (2 to 50 letters, digits, - and _), got {bad:?}"
            ));
        }
        let d = &mut config.defaults;
        if let Some(raw) = lookup("DR_DEFAULT_APPROVAL") {
            d.approval = match raw.trim() {
                "REQUIRED" => ApprovalMode::Required,
                "NOT_REQUIRED" => ApprovalMode::NotRequired,
                _ => {
                    return Err(format!(
                        "DR_DEFAULT_APPROVAL must be REQUIRED or NOT_REQUIRED, got {raw:?}"
                    ))
                }
            };
        }
        if let Some(raw) = lookup("DR_DISASTER_EVENTS_SKIP_APPROVAL") {
            d.disaster_events_skip_approval = match raw.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(format!(
                        "DR_DISASTER_EVENTS_SKIP_APPROVAL must be true or false, got {raw:?}"
                    ))
                }
            };
        }
        Ok(config)
    }
}

/// A setting only some functions have (`value`, read from `variable`), or why `who` cannot
/// start without it: checked before the first event, so its absence fails the init phase.
pub fn required(value: &Option<String>, variable: &str, who: &str) -> Result<String, String> {
    value
        .clone()
        .ok_or_else(|| format!("{variable} is not set: {who}"))
}

/// A setting that lists names, separated by commas or whitespace (cargo lambda watch splits
/// `--env-var` values at commas, so the rehearsal uses spaces; the template, commas).
fn list(lookup: &impl Fn(&str) -> Option<String>, var: &str) -> Vec<String> {
    lookup(var)
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A deployment default from `name`, checked against the option's own range.
fn default_of(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    limit: Limit,
) -> Result<u64, String> {
    match lookup(name) {
        None => Ok(limit.default),
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("{name} must be a whole number, got {raw:?}"))
            .and_then(|v| limit.check(v).map_err(|e| format!("{name} {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookback_defaults_to_48_hours_and_rejects_nonsense() {
        assert_eq!(Config::from_lookup(|_| None).unwrap(), Config::default());
        let one = Config::from_lookup(|n: &str| (n == "DR_JOB_LOOKBACK_HOURS").then(|| "1".into()))
            .unwrap();
        assert_eq!(one.job_lookback, Duration::from_secs(3600));
        for bad in ["0", "8761", "-3", "two", ""] {
            let err =
                Config::from_lookup(|n: &str| (n == "DR_JOB_LOOKBACK_HOURS").then(|| bad.into()))
                    .unwrap_err();
            assert!(err.contains("DR_JOB_LOOKBACK_HOURS"), "{err}");
        }
    }

    #[test]
    fn deployment_defaults_are_read_and_checked_against_the_plan_limits() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = Config::from_lookup(env(&[
            ("DR_DEFAULT_POLL_INTERVAL_SECONDS", "5"),
            ("DR_DEFAULT_BATCH_SIZE", "50"),
        ]))
        .unwrap();
        assert_eq!(c.defaults.poll_interval_seconds, 5);
        assert_eq!(c.defaults.batch_size, 50);
        assert_eq!(c.defaults.max_concurrent_jobs, 10);
        assert_eq!(c.defaults.outage_budget_seconds, 1800);
        let short = Config::from_lookup(env(&[("DR_OUTAGE_BUDGET_SECONDS", "20")])).unwrap();
        assert_eq!(short.defaults.outage_budget_seconds, 20);
        for (name, bad) in [
            ("DR_DEFAULT_POLL_INTERVAL_SECONDS", "0"),
            ("DR_DEFAULT_GIVE_UP_AFTER_SECONDS", "86401"),
            ("DR_DEFAULT_BATCH_SIZE", "201"),
            ("DR_DEFAULT_MAX_CONCURRENT_JOBS", "1.5"),
            ("DR_OUTAGE_BUDGET_SECONDS", "9"),
            ("DR_OUTAGE_BUDGET_SECONDS", "14401"),
        ] {
            let err =
                Config::from_lookup(|n: &str| (n == name).then(|| bad.to_owned())).unwrap_err();
            assert!(err.starts_with(name), "{err}");
        }
    }

    #[test]
    fn restore_vaults_are_listed_names_and_none_by_default() {
        assert!(Config::from_lookup(|_| None)
            .unwrap()
            .defaults
            .restore_vaults
            .is_empty());
        let c = Config::from_lookup(|n: &str| {
            (n == "DR_RESTORE_VAULTS").then(|| "payments-vault, ledger_vault\tarchive".into())
        })
        .unwrap();
        assert_eq!(
            c.defaults.restore_vaults,
            ["payments-vault", "ledger_vault", "archive"]
        );
        let err = Config::from_lookup(|n: &str| {
            (n == "DR_RESTORE_VAULTS").then(|| "payments-vault arn:aws:backup:x".into())
        })
        .unwrap_err();
        assert!(
            err.starts_with("DR_RESTORE_VAULTS") && err.contains("arn:aws:backup:x"),
            "{err}"
        );
    }

    #[test]
    fn approval_settings_default_to_asking_and_reject_anything_but_their_values() {
        let d = Config::from_lookup(|_| None).unwrap().defaults;
        assert_eq!(d.approval, ApprovalMode::Required);
        assert!(!d.disaster_events_skip_approval);
        let c = Config::from_lookup(|n: &str| match n {
            "DR_DEFAULT_APPROVAL" => Some("NOT_REQUIRED".into()),
            "DR_DISASTER_EVENTS_SKIP_APPROVAL" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.defaults.approval, ApprovalMode::NotRequired);
        assert!(c.defaults.disaster_events_skip_approval);
        for (name, bad) in [
            ("DR_DEFAULT_APPROVAL", "yes"),
            ("DR_DISASTER_EVENTS_SKIP_APPROVAL", "TRUE"),
        ] {
            let err =
                Config::from_lookup(|n: &str| (n == name).then(|| bad.to_owned())).unwrap_err();
            assert!(err.starts_with(name), "{err}");
        }
    }
}
