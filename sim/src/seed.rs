//! The seed file: inventory (source servers, recovery points), timing, quotas and faults. A
//! realistic default ships in `sim/seed/default.json`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::parse_iso;
use crate::model::{is_replication_state, matches_id};

/// Everything the endpoint starts from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default = "default_account")]
    pub account_id: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default)]
    pub timing: Timing,
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub source_servers: Vec<SourceServerSeed>,
    /// Adds `count` source servers named `s-<prefix><n>` (17 characters after `s-`), for plans
    /// with hundreds of servers.
    #[serde(default)]
    pub generated_source_servers: Option<Generated>,
    #[serde(default)]
    pub recovery_points: Vec<RecoveryPointSeed>,
    #[serde(default)]
    pub faults: Faults,
}

fn default_account() -> String {
    "123456789012".into()
}

fn default_region() -> String {
    "eu-west-1".into()
}

/// How long things take, in seconds, all multiplied by `timeScale`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Timing {
    pub time_scale: f64,
    /// A DRS job stays `PENDING` this long before its servers start.
    pub job_pending_seconds: f64,
    /// A server stays `IN_PROGRESS` this long.
    pub server_launch_seconds: f64,
    /// Each further server of a job settles this much later than the one before it.
    pub server_stagger_seconds: f64,
    pub restore_pending_seconds: f64,
    pub restore_running_seconds: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            time_scale: 1.0,
            job_pending_seconds: 5.0,
            server_launch_seconds: 20.0,
            server_stagger_seconds: 0.2,
            restore_pending_seconds: 3.0,
            restore_running_seconds: 15.0,
        }
    }
}

/// DRS service quotas, as the current documentation gives them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Quotas {
    pub max_servers_per_job: usize,
    pub max_servers_in_active_jobs: usize,
    pub max_concurrent_jobs: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_servers_per_job: 100,
            max_servers_in_active_jobs: 500,
            max_concurrent_jobs: 20,
        }
    }
}

/// One replicating source server.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceServerSeed {
    #[serde(rename = "sourceServerID")]
    pub source_server_id: String,
    pub hostname: String,
    /// The model's `DataReplicationState`.
    #[serde(default = "continuous")]
    pub replication_state: String,
    /// Replication lag, reported as `dataReplicationInfo.lagDuration` (ISO 8601 duration). The
    /// generated recovery snapshots end this far in the past.
    #[serde(default)]
    pub lag_seconds: u64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Its point-in-time recovery snapshots, listed verbatim by `DescribeRecoverySnapshots`
    /// (an empty list: none). Absent: generated, see `replication::generated_snapshots`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_snapshots: Option<Vec<RecoverySnapshotSeed>>,
}

/// One recovery snapshot given in the seed.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoverySnapshotSeed {
    /// `pit-` and 17 alphanumerics.
    #[serde(rename = "snapshotID")]
    pub snapshot_id: String,
    /// `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
    pub expected_timestamp: String,
    /// When it was actually taken; the expected timestamp if absent.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// `snap-` and 17 alphanumerics each.
    #[serde(default)]
    pub ebs_snapshots: Vec<String>,
}

fn continuous() -> String {
    "CONTINUOUS".into()
}

/// A block of generated source servers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Generated {
    pub count: usize,
    /// At most 7 alphanumeric characters; the rest of the 17 is the number.
    pub prefix: String,
    /// Tags every generated server carries.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Spreads the generated servers over waves with one more tag.
    #[serde(default)]
    pub wave_tag: Option<WaveTag>,
}

/// Generated server `n` (0-based) gets the tag `key` = `(n % waves) + 1`, so `waves` = 4 puts
/// servers 0, 4, 8, ... in wave "1" and servers 3, 7, 11, ... in wave "4".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaveTag {
    pub key: String,
    pub waves: usize,
}

impl WaveTag {
    /// The wave of generated server `n`, as the tag value.
    pub fn wave_of(&self, n: usize) -> String {
        ((n % self.waves.max(1)) + 1).to_string()
    }
}

/// One AWS Backup recovery point.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoveryPointSeed {
    pub recovery_point_arn: String,
    pub backup_vault_name: String,
    pub resource_type: String,
    #[serde(default)]
    pub source_resource_arn: Option<String>,
    #[serde(default)]
    pub restore_metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub backup_size_in_bytes: i64,
    /// How long before the simulator started the backup was taken: its
    /// `RecoveryPointCreationDate`. Absent: AWS Backup does not say.
    #[serde(default)]
    pub age_seconds: Option<i64>,
}

/// Faults on demand, from the seed or `POST /_sim/faults`.
/// The model's `FailbackState` values.
pub const FAILBACK_STATES: [&str; 7] = [
    "FAILBACK_NOT_STARTED",
    "FAILBACK_IN_PROGRESS",
    "FAILBACK_READY_FOR_LAUNCH",
    "FAILBACK_COMPLETED",
    "FAILBACK_ERROR",
    "FAILBACK_NOT_READY_FOR_LAUNCH",
    "FAILBACK_LAUNCH_STATE_NOT_AVAILABLE",
];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Faults {
    /// Source server ID → the reason its launches fail (written to the job log).
    pub fail_launch: BTreeMap<String, String>,
    /// Source server ID → wall-clock seconds (not scaled by `timeScale`) its launches take
    /// longer: a slow boot, which holds the server in an active job (another job of it gets
    /// `ConflictException`).
    pub slow_launch: BTreeMap<String, f64>,
    /// Source server ID → wall-clock seconds (not scaled) the termination of its recovery
    /// instance takes longer: its TERMINATE job stays active meanwhile.
    pub slow_terminate: BTreeMap<String, f64>,
    /// Source server ID → the reason the termination of its recovery instance fails (its
    /// TERMINATE job reports the instance `FAILED`, and the instance stays).
    pub fail_terminate: BTreeMap<String, String>,
    /// Recovery instance ID → its `failback.state` from now on (a DRS `FailbackState`). By
    /// default a recovery's instance is `FAILBACK_READY_FOR_LAUNCH`, a drill's
    /// `FAILBACK_NOT_STARTED`; `StartFailbackLaunch` refuses one that is not ready.
    pub failback_state: BTreeMap<String, String>,
    /// Operation name → how many of its next calls answer throttled.
    pub throttle: BTreeMap<String, u32>,
    /// Operation name → how many of its next calls answer with a 500.
    pub internal_error: BTreeMap<String, u32>,
    /// The `Retry-After` sent with throttling (seconds).
    pub retry_after_seconds: Option<u32>,
    /// Recovery point ARN → how its restores end.
    pub restore_outcomes: BTreeMap<String, RestoreOutcome>,
    /// Source server ID → its replication state and/or lag from now on (until reset).
    pub replication: BTreeMap<String, ReplicationFault>,
    /// `DescribeJobs` does not list a job until this many wall-clock seconds (not scaled by
    /// `timeScale`) after it was created, like AWS's eventual consistency. Applies to jobs
    /// created after it is set; 0 turns it off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_new_jobs_seconds: Option<f64>,
    /// An AWS outage: every DRS and Backup call answers HTTP 503 for this many wall-clock
    /// seconds (not scaled by `timeScale`) from when the fault is set (from the start, in a
    /// seed); 0 ends one early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_seconds: Option<f64>,
    /// What happens to the EventBridge events `GET /_sim/events` lists (see `events.rs`):
    /// `{"drop": "ALL" | [ID, ...], "delaySeconds": S, "duplicate": true|false}`.
    #[serde(skip_serializing_if = "EventFaults::is_empty")]
    pub events: EventFaults,
}

/// Faults on the EventBridge events (`GET /_sim/events`). They are applied when the events are
/// read, to every event, past ones included; `/_sim/reset` clears them. Merged by
/// `POST /_sim/faults` field by field: `drop` lists add up (and `"ALL"` stays until reset),
/// `delaySeconds` and `duplicate` replace the earlier value (0 and `false` turn them off).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventFaults {
    /// `"ALL"`: no event at all. A list: no event about any of these source server IDs, DRS job
    /// IDs (`drsjob-...`) or restore job IDs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<EventDrop>,
    /// Every event becomes due this many wall-clock seconds (not scaled by `timeScale`) after
    /// it happened; its `time` stays when it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<f64>,
    /// Every event is emitted twice, as AWS sometimes delivers one: the second copy has the
    /// same content but its own `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
}

/// Which events the `events.drop` fault drops.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum EventDrop {
    /// `"ALL"`.
    All,
    /// Source server, DRS job and restore job IDs.
    Ids(BTreeSet<String>),
}

impl TryFrom<Value> for EventDrop {
    type Error = String;

    fn try_from(v: Value) -> Result<Self, String> {
        let bad = || format!("events.drop: {v} is not \"ALL\" or a list of IDs");
        match &v {
            Value::String(s) if s == "ALL" => Ok(EventDrop::All),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
                .collect::<Result<_, _>>()
                .map(EventDrop::Ids),
            _ => Err(bad()),
        }
    }
}

impl From<EventDrop> for Value {
    fn from(d: EventDrop) -> Value {
        match d {
            EventDrop::All => Value::from("ALL"),
            EventDrop::Ids(ids) => Value::from(ids.into_iter().collect::<Vec<_>>()),
        }
    }
}

impl EventFaults {
    pub fn is_empty(&self) -> bool {
        *self == EventFaults::default()
    }

    /// Overlays `later` on `self`: drop lists add up, `"ALL"` wins, the others replace.
    pub fn merge(&mut self, later: EventFaults) {
        self.drop = match (self.drop.take(), later.drop) {
            (earlier, None) => earlier,
            (Some(EventDrop::All), _) | (_, Some(EventDrop::All)) => Some(EventDrop::All),
            (Some(EventDrop::Ids(mut a)), Some(EventDrop::Ids(b))) => {
                a.extend(b);
                Some(EventDrop::Ids(a))
            }
            (None, Some(ids)) => Some(ids),
        };
        if later.delay_seconds.is_some() {
            self.delay_seconds = later.delay_seconds;
        }
        if later.duplicate.is_some() {
            self.duplicate = later.duplicate;
        }
    }

    /// Whether an event about any of `keys` (its source server, job or restore job ID) is
    /// dropped.
    pub fn drops(&self, keys: &[&str]) -> bool {
        match &self.drop {
            None => false,
            Some(EventDrop::All) => true,
            Some(EventDrop::Ids(ids)) => keys.iter().any(|k| ids.contains(*k)),
        }
    }

    /// `delaySeconds` in milliseconds (0 when unset).
    pub fn delay_ms(&self) -> i64 {
        self.delay_seconds
            .map_or(0, |s| (s * 1000.0).round() as i64)
    }

    /// How many copies of each event are emitted.
    pub fn copies(&self) -> u32 {
        if self.duplicate == Some(true) {
            2
        } else {
            1
        }
    }

    /// The drop list's source server IDs (`s-...`), which must exist.
    pub fn dropped_servers(&self) -> impl Iterator<Item = &String> {
        let ids = match &self.drop {
            Some(EventDrop::Ids(ids)) => Some(ids),
            _ => None,
        };
        ids.into_iter().flatten().filter(|id| id.starts_with("s-"))
    }

    /// A finite, non-negative delay, and drop IDs that look like source server (`s-` and 17
    /// alphanumerics), DRS job (`drsjob-` and 17 alphanumerics) or restore job IDs (letters,
    /// digits and `-`).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(s) = self.delay_seconds {
            if !(s >= 0.0 && s.is_finite()) {
                return Err(format!(
                    "events.delaySeconds: {s} is not a number of seconds >= 0"
                ));
            }
        }
        if let Some(EventDrop::Ids(ids)) = &self.drop {
            for id in ids {
                let ok = if id.starts_with("s-") {
                    matches_id(id, "s-")
                } else if id.starts_with("drsjob-") {
                    matches_id(id, "drsjob-")
                } else {
                    !id.is_empty()
                        && id.len() <= 1024
                        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                };
                if !ok {
                    return Err(format!(
                        "events.drop: {id:?} is not a source server, DRS job or restore job ID"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A replication override: either field may be absent and keeps its earlier value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplicationFault {
    /// The model's `DataReplicationState`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<u64>,
}

impl ReplicationFault {
    /// Overlays `later` on `self`.
    pub fn merge(&mut self, later: ReplicationFault) {
        if later.state.is_some() {
            self.state = later.state;
        }
        if later.lag_seconds.is_some() {
            self.lag_seconds = later.lag_seconds;
        }
    }
}

impl Faults {
    /// Checks what the model constrains: replication states, a non-negative hiding time, and
    /// the `events` fault (`EventFaults::validate`).
    pub fn validate(&self) -> Result<(), String> {
        for (id, r) in &self.replication {
            if let Some(state) = &r.state {
                if !is_replication_state(state) {
                    return Err(format!(
                        "replication.{id}.state: {state:?} is not a DataReplicationState"
                    ));
                }
            }
        }
        for (id, state) in &self.failback_state {
            if !FAILBACK_STATES.contains(&state.as_str()) {
                return Err(format!(
                    "failbackState.{id}: {state:?} is not a FailbackState"
                ));
            }
        }
        for (name, slow) in [
            ("slowLaunch", &self.slow_launch),
            ("slowTerminate", &self.slow_terminate),
        ] {
            for (id, s) in slow {
                if !(*s >= 0.0 && s.is_finite()) {
                    return Err(format!("{name}.{id}: {s} is not a number of seconds"));
                }
            }
        }
        for (name, seconds) in [
            ("hideNewJobsSeconds", self.hide_new_jobs_seconds),
            ("outageSeconds", self.outage_seconds),
        ] {
            if let Some(s) = seconds.filter(|s| !(*s >= 0.0 && s.is_finite())) {
                return Err(format!("{name}: {s} is not a number of seconds"));
            }
        }
        self.events.validate()
    }
}

/// A restore that does not complete.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreOutcome {
    /// `FAILED` or `ABORTED`.
    pub status: String,
    pub status_message: String,
}

impl Seed {
    /// Reads a seed file.
    pub fn from_file(path: &std::path::Path) -> Result<Seed, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let seed: Seed =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        seed.validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(seed)
    }

    /// The default seed shipped with the endpoint.
    pub fn default_seed() -> Seed {
        let seed: Seed = serde_json::from_str(include_str!("../seed/default.json"))
            .expect("the shipped default seed parses");
        seed.validate().expect("the shipped default seed is valid");
        seed
    }

    /// Checks the values the service model constrains (IDs, enums, timestamps).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(g) = &self.generated_source_servers {
            if g.prefix.len() > 7 || !g.prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!(
                    "generatedSourceServers.prefix {:?}: at most 7 alphanumerics",
                    g.prefix
                ));
            }
            if g.wave_tag.as_ref().is_some_and(|w| w.waves == 0) {
                return Err("generatedSourceServers.waveTag.waves must be at least 1".into());
            }
        }
        for s in &self.source_servers {
            let id = &s.source_server_id;
            if !matches_id(id, "s-") {
                return Err(format!(
                    "sourceServerID {id:?} is not s- and 17 alphanumerics"
                ));
            }
            if !is_replication_state(&s.replication_state) {
                return Err(format!(
                    "{id}: replicationState {:?} is not a DataReplicationState",
                    s.replication_state
                ));
            }
            for snap in s.recovery_snapshots.iter().flatten() {
                if !matches_id(&snap.snapshot_id, "pit-") {
                    return Err(format!(
                        "{id}: snapshotID {:?} is not pit- and 17 alphanumerics",
                        snap.snapshot_id
                    ));
                }
                for t in std::iter::once(&snap.expected_timestamp).chain(&snap.timestamp) {
                    if parse_iso(t).is_none() {
                        return Err(format!("{id}: {t:?} is not YYYY-MM-DDTHH:MM:SS[.fff]Z"));
                    }
                }
                if let Some(bad) = snap.ebs_snapshots.iter().find(|e| !matches_id(e, "snap-")) {
                    return Err(format!(
                        "{id}: ebsSnapshots {bad:?} is not snap- and 17 alphanumerics"
                    ));
                }
            }
        }
        if let Some(id) = self
            .faults
            .replication
            .keys()
            .find(|id| !self.has_server(id))
        {
            return Err(format!("faults.replication: no source server {id}"));
        }
        if let Some(id) = self
            .faults
            .events
            .dropped_servers()
            .find(|id| !self.has_server(id))
        {
            return Err(format!("faults.events.drop: no source server {id}"));
        }
        self.faults.validate()
    }

    /// Whether the seed has this source server, listed or generated.
    fn has_server(&self, id: &str) -> bool {
        self.source_servers.iter().any(|s| s.source_server_id == id)
            || self.generated_source_servers.as_ref().is_some_and(|g| {
                id.strip_prefix("s-")
                    .and_then(|rest| rest.strip_prefix(g.prefix.as_str()))
                    .and_then(|n| n.parse::<usize>().ok())
                    .is_some_and(|n| n < g.count && id.len() == 19)
            })
    }

    /// Every source server, the listed ones and the generated ones.
    pub fn all_source_servers(&self) -> Vec<SourceServerSeed> {
        let mut all = self.source_servers.clone();
        if let Some(g) = &self.generated_source_servers {
            let width = 17 - g.prefix.len();
            all.extend((0..g.count).map(|n| SourceServerSeed {
                source_server_id: format!("s-{}{n:0width$}", g.prefix),
                hostname: format!("gen-{}-{n:04}", g.prefix.to_lowercase()),
                replication_state: continuous(),
                lag_seconds: 0,
                tags: {
                    let mut tags = g.tags.clone();
                    if let Some(w) = &g.wave_tag {
                        tags.insert(w.key.clone(), w.wave_of(n));
                    }
                    tags
                },
                recovery_snapshots: None,
            }));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S1: &str = "s-0a1b2c3d4e5f60001";

    #[test]
    fn generated_servers_carry_the_tags_and_their_wave() {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "generatedSourceServers": {"count": 9, "prefix": "fleet",
                "tags": {"fleet": "bench", "dr-wave": "ignored"},
                "waveTag": {"key": "dr-wave", "waves": 4}}
        }))
        .unwrap();
        seed.validate().unwrap();
        let all = seed.all_source_servers();
        let waves: Vec<&str> = all.iter().map(|s| s.tags["dr-wave"].as_str()).collect();
        assert_eq!(waves, ["1", "2", "3", "4", "1", "2", "3", "4", "1"]);
        assert!(all.iter().all(|s| s.tags["fleet"] == "bench"));
        assert_eq!(all[5].source_server_id, "s-fleet000000000005");
        let w = WaveTag {
            key: "w".into(),
            waves: 1,
        };
        assert_eq!(w.wave_of(7), "1");
    }

    #[test]
    fn generated_servers_without_tags_have_none() {
        let seed: Seed = serde_json::from_value(
            serde_json::json!({"generatedSourceServers": {"count": 2, "prefix": "x"}}),
        )
        .unwrap();
        assert!(seed.all_source_servers().iter().all(|s| s.tags.is_empty()));
    }

    #[test]
    fn shipped_seeds_are_valid_and_wave_tagged() {
        let seed = Seed::default_seed();
        let all = seed.all_source_servers();
        let wave1 = all
            .iter()
            .filter(|s| s.tags.get("dr-wave").map(String::as_str) == Some("1"));
        assert!(wave1.count() >= 300);
        let bench = Seed::from_file(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/seed.json"),
        )
        .unwrap();
        let all = bench.all_source_servers();
        for wave in ["1", "2", "3", "4"] {
            let n = all
                .iter()
                .filter(|s| s.tags.get("dr-wave").map(String::as_str) == Some(wave))
                .count();
            assert_eq!(n, 250, "wave {wave}");
        }
        assert_eq!(all.len(), 1016);
    }

    #[test]
    fn invalid_values_are_rejected_naming_what_is_wrong() {
        let bad = |v: serde_json::Value| {
            serde_json::from_value::<Seed>(v)
                .unwrap()
                .validate()
                .unwrap_err()
        };
        let server = |extra: serde_json::Value| {
            let mut s = serde_json::json!({"sourceServerID": S1, "hostname": "h"});
            s.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            s
        };
        let cases = [
            (
                serde_json::json!({"sourceServers": [server(serde_json::json!({"replicationState": "BROKEN"}))]}),
                format!("{S1}: replicationState \"BROKEN\" is not a DataReplicationState"),
            ),
            (
                serde_json::json!({"sourceServers": [server(serde_json::json!({"recoverySnapshots": [
                    {"snapshotID": "pit-1", "expectedTimestamp": "2026-01-01T00:00:00Z"}]}))]}),
                format!("{S1}: snapshotID \"pit-1\" is not pit- and 17 alphanumerics"),
            ),
            (
                serde_json::json!({"generatedSourceServers": {"count": 1, "prefix": "f",
                    "waveTag": {"key": "w", "waves": 0}}}),
                "generatedSourceServers.waveTag.waves must be at least 1".to_owned(),
            ),
            (
                serde_json::json!({"sourceServers": [server(serde_json::json!({}))],
                    "faults": {"replication": {S1: {"state": "NOPE"}}}}),
                format!("replication.{S1}.state: \"NOPE\" is not a DataReplicationState"),
            ),
            (
                serde_json::json!({"faults": {"replication": {S1: {"state": "STALLED", "lagSeconds": 60}}}}),
                format!("faults.replication: no source server {S1}"),
            ),
            (
                serde_json::json!({"sourceServers": [server(serde_json::json!({}))],
                    "faults": {"slowTerminate": {S1: -1.0}}}),
                format!("slowTerminate.{S1}: -1 is not a number of seconds"),
            ),
            (
                serde_json::json!({"sourceServers": [server(serde_json::json!({}))],
                    "generatedSourceServers": {"count": 3, "prefix": "fleet"},
                    "faults": {"replication": {"s-fleet000000000003": {}}}}),
                "faults.replication: no source server s-fleet000000000003".to_owned(),
            ),
        ];
        for (seed, expected) in cases {
            assert_eq!(bad(seed.clone()), expected, "{seed}");
        }
        // The same values, each where it is allowed, make a valid seed.
        let seed = serde_json::json!({
            "sourceServers": [server(serde_json::json!({}))],
            "generatedSourceServers": {"count": 3, "prefix": "fleet"},
            "faults": {"replication": {S1: {"state": "STALLED", "lagSeconds": 60},
                                       "s-fleet000000000002": {"lagSeconds": 5}},
                       "slowTerminate": {S1: 0.5}}});
        assert_eq!(
            serde_json::from_value::<Seed>(seed).unwrap().validate(),
            Ok(())
        );
    }
}
