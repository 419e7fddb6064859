//! Configuration read once per cold start from the function's environment, so that a bad value
//! fails the init phase instead of the first invocation.

use std::time::Duration;

/// How far back a start handler looks for a job an earlier attempt of the same task started,
/// unless `DR_JOB_LOOKBACK_HOURS` says otherwise.
pub const DEFAULT_JOB_LOOKBACK_HOURS: u64 = 48;

/// The handlers' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `DescribeJobs` window searched for a job already started with the same key.
    pub job_lookback: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            job_lookback: Duration::from_secs(DEFAULT_JOB_LOOKBACK_HOURS * 3600),
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
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookback_defaults_to_48_hours_and_rejects_nonsense() {
        assert_eq!(Config::from_lookup(|_| None).unwrap(), Config::default());
        let one = Config::from_lookup(|_| Some("1".into())).unwrap();
        assert_eq!(one.job_lookback, Duration::from_secs(3600));
        for bad in ["0", "8761", "-3", "two", ""] {
            let err = Config::from_lookup(|_| Some(bad.into())).unwrap_err();
            assert!(err.contains("DR_JOB_LOOKBACK_HOURS"), "{err}");
        }
    }
}
