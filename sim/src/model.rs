//! The DRS service model's own vocabulary, with no state: the `DataReplicationState` enum and
//! the errors that go with it, `lagDuration` as an ISO 8601 duration, and the shape of IDs.
//! The seed checks its servers with it and the DRS routes answer with it.

/// The model's `DataReplicationState` (botocore `drs/2020-02-26/service-2.json`).
pub const REPLICATION_STATES: [&str; 10] = [
    "STOPPED",
    "INITIATING",
    "INITIAL_SYNC",
    "BACKLOG",
    "CREATING_SNAPSHOT",
    "CONTINUOUS",
    "PAUSED",
    "RESCAN",
    "STALLED",
    "DISCONNECTED",
];

pub fn is_replication_state(s: &str) -> bool {
    REPLICATION_STATES.contains(&s)
}

/// The `dataReplicationError.error` (the model's `DataReplicationErrorString`) reported with a
/// state that means replication is broken; `None` for the others.
pub fn replication_error(state: &str) -> Option<(&'static str, &'static str)> {
    match state {
        "STALLED" => Some((
            "UNSTABLE_NETWORK",
            "Replication stalled: the network between the agent and the replication server is unstable",
        )),
        "DISCONNECTED" => Some((
            "AGENT_NOT_SEEN",
            "The replication agent has not been seen by the service",
        )),
        _ => None,
    }
}

/// Seconds as an ISO 8601 duration, the model's `ISO8601DurationString` (1..64 characters):
/// `PT0S`, `PT15M`, `PT1H2M3S`, `P1DT2H`. Zero components are left out.
pub fn iso_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "PT0S".into();
    }
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let mut out = String::from("P");
    if d > 0 {
        out += &format!("{d}D");
    }
    if h + m + s > 0 {
        out.push('T');
        for (n, unit) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if n > 0 {
                out += &format!("{n}{unit}");
            }
        }
    }
    out
}

/// Whether `id` is `prefix` followed by 17 ASCII alphanumerics (`s-`, `pit-`, `snap-` IDs).
pub fn matches_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 17 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_an_iso_8601_duration() {
        assert_eq!(iso_duration(0), "PT0S");
        assert_eq!(iso_duration(59), "PT59S");
        assert_eq!(iso_duration(900), "PT15M");
        assert_eq!(iso_duration(3600), "PT1H");
        assert_eq!(iso_duration(3723), "PT1H2M3S");
        assert_eq!(iso_duration(3603), "PT1H3S");
        assert_eq!(iso_duration(86_400), "P1D");
        assert_eq!(iso_duration(93_784), "P1DT2H3M4S");
        assert!(
            iso_duration(u64::MAX).len() <= 64,
            "{}",
            iso_duration(u64::MAX)
        );
    }

    #[test]
    fn ids_are_checked_against_the_model_pattern() {
        assert!(matches_id("s-0a1b2c3d4e5f60001", "s-"));
        assert!(!matches_id("s-0a1b2c3d4e5f6000", "s-"));
        assert!(!matches_id("s-0a1b2c3d4e5f6000_", "s-"));
        assert!(matches_id("pit-0123456789abcdefA", "pit-"));
    }
}
