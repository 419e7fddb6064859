//! The seed file: inventory (source servers, recovery points), timing, quotas and faults. A
//! realistic default ships in `sim/seed/default.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
    #[serde(default = "continuous")]
    pub replication_state: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
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
}

/// Faults on demand, from the seed or `POST /_sim/faults`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Faults {
    /// Source server ID → the reason its launches fail (written to the job log).
    pub fail_launch: BTreeMap<String, String>,
    /// Operation name → how many of its next calls answer throttled.
    pub throttle: BTreeMap<String, u32>,
    /// Operation name → how many of its next calls answer with a 500.
    pub internal_error: BTreeMap<String, u32>,
    /// The `Retry-After` sent with throttling (seconds).
    pub retry_after_seconds: Option<u32>,
    /// Recovery point ARN → how its restores end.
    pub restore_outcomes: BTreeMap<String, RestoreOutcome>,
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
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The default seed shipped with the endpoint.
    pub fn default_seed() -> Seed {
        serde_json::from_str(include_str!("../seed/default.json"))
            .expect("the shipped default seed parses")
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
                tags: BTreeMap::new(),
            }));
        }
        all
    }
}
