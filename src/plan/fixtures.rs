//! Test fixtures shared by the plan's unit tests: an inventory of replicating servers, a
//! `prepare-plan` request, and a shortcut from plan JSON to a prepared plan.

use std::collections::BTreeMap;

use super::check::check_recovery_plan;
use super::input::{PrepareInput, RecoveryPlan, Trigger, Workflow};
use super::options::Defaults;
use super::prepare::{prepare_recovery, RunContext};
use super::rounds::ActiveLoad;
use super::run_state::{PreparedPlan, PreparedWave, Task};
use crate::error::TaskError;
use crate::preflight::{Inventory, RecoveryPoint, ServerInfo};

pub(super) fn sid(n: usize) -> String {
    format!("s-{n:017}")
}

pub(super) fn inventory(n: usize) -> Inventory {
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
        recovery_points: [(
            (VAULT.to_owned(), EBS_RP.to_owned()),
            Some(RecoveryPoint {
                resource_type: Some("EBS".into()),
            }),
        )]
        .into(),
    }
}

/// The vault the fixtures' deployment restores from, and an EBS recovery point in it.
pub(super) const VAULT: &str = "vault-a";
pub(super) const EBS_RP: &str = "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0";

/// The deployment's defaults in the fixtures: as shipped, restoring from [`VAULT`].
pub(super) fn defaults() -> Defaults {
    Defaults {
        restore_vaults: vec![VAULT.into()],
        ..Defaults::default()
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

pub(super) fn plan(json: serde_json::Value) -> RecoveryPlan {
    crate::contract::parse(json).unwrap()
}

pub(super) fn prepare(
    p: &RecoveryPlan,
    inv: &Inventory,
    trigger: Trigger,
    active: ActiveLoad,
) -> Result<PreparedPlan, TaskError> {
    prepare_with(p, inv, trigger, active, defaults())
}

/// [`prepare`] in a deployment with these defaults.
pub(super) fn prepare_with(
    p: &RecoveryPlan,
    inv: &Inventory,
    trigger: Trigger,
    active: ActiveLoad,
    defaults: Defaults,
) -> Result<PreparedPlan, TaskError> {
    let request = request();
    let options = check_recovery_plan(p, &defaults)?;
    let ctx = RunContext {
        request: &request,
        trigger,
        options,
        active,
        defaults,
    };
    prepare_recovery(ctx, p, inv)
}

pub(super) fn servers(from: usize, to: usize) -> serde_json::Value {
    (from..to)
        .map(|i| serde_json::json!({"sourceServerID": sid(i)}))
        .collect()
}

pub(super) fn round_sizes(wave: &PreparedWave) -> Vec<Vec<usize>> {
    wave.rounds
        .iter()
        .map(|r| r.iter().map(Task::servers).collect())
        .collect()
}
