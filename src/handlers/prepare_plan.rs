//! `prepare-plan`: the first task of every workflow. It applies the defaults to the run's
//! input, validates all of it (every problem, each with its path, before any AWS call),
//! resolves tag selectors and runs the preflight against what DRS reports (read-only calls),
//! and returns the prepared plan the workflow iterates: waves of rounds of start tasks. Last, it
//! takes the plan's lease (one run per plan): a plan another run is running is refused with
//! `PlanBusy`, naming that run, before anything starts.

use std::collections::BTreeMap;

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::info;

use crate::aws::lease_table::{Holder, LeaseTable};
use crate::aws::{backup, drs, recovery_instances};
use crate::config::Config;
use crate::contract;
use crate::error::TaskError;
use crate::plan::{
    self, FailbackPlan, PrepareInput, PreparedPlan, RecoveryPlan, RestorePlan, RunContext, Workflow,
};
use crate::preflight::{self, Inventory, RecoveryPoint};

/// The clients prepare-plan reads with: DRS (servers, jobs, recovery instances) and AWS Backup
/// (the restores' recovery points).
#[derive(Debug, Clone)]
pub struct Clients {
    pub drs: aws_sdk_drs::Client,
    pub backup: aws_sdk_backup::Client,
}

/// Handles one invocation; `lease` is the lease table (none: no lease is taken, as in the
/// handler tests that run one plan at a time).
pub async fn handle(
    clients: &Clients,
    lease: Option<&LeaseTable>,
    config: &Config,
    event: LambdaEvent<Value>,
) -> Result<PreparedPlan, TaskError> {
    let client = &clients.drs;
    let request: PrepareInput = contract::parse(event.payload)?;
    let (body, trigger) = plan::split_envelope(request.input.clone())?;
    let ctx = |options, active| RunContext {
        request: &request,
        trigger: trigger.clone(),
        options,
        active,
        defaults: config.defaults.clone(),
    };
    let prepared = match request.workflow {
        Workflow::RecoveryPlan => {
            let plan: RecoveryPlan = contract::parse(body)?;
            let options = plan::check_recovery_plan(&plan, &config.defaults)?;
            let mut inventory = inventory(client, &plan).await?;
            let restores = plan.waves.iter().flat_map(|w| &w.restores);
            inventory.recovery_points = recovery_points(&clients.backup, restores).await?;
            let active = drs::active_load(client, config.job_lookback).await?;
            plan::prepare_recovery(ctx(options, active), &plan, &inventory)?
        }
        Workflow::Failback => {
            let mut plan: FailbackPlan = plan::failback_plan(body)?;
            let mut options = plan::check_failback_plan(&plan, &config.defaults)?;
            if !plan.from_jobs.is_empty() {
                // A recovery run's output names its jobs: DRS says what they launched.
                plan.recovery_instance_ids =
                    drs::launched_instances(client, &plan.from_jobs).await?;
                options = plan::check_failback_plan(&plan, &config.defaults)?;
            }
            // The preflight: what DRS says about each instance, before anyone is asked.
            let asked = std::mem::take(&mut plan.recovery_instance_ids);
            let described = recovery_instances::recovery_instances(client, Some(&asked)).await?;
            let (ready, findings) = preflight::failback(&asked, &described, &plan.from_jobs);
            plan.recovery_instance_ids = ready;
            let active = drs::active_load(client, config.job_lookback).await?;
            plan::prepare_failback(ctx(options, active), &plan, findings, described.len())?
        }
        Workflow::Restore => {
            let plan: RestorePlan = contract::parse(body)?;
            let options = plan::check_restore_plan(&plan, &config.defaults)?;
            let inventory = Inventory {
                recovery_points: recovery_points(&clients.backup, &plan.restores).await?,
                ..Inventory::default()
            };
            plan::prepare_restore(ctx(options, Default::default()), &plan, &inventory)?
        }
    };
    if let Some(lease) = lease {
        let me = Holder {
            execution_id: prepared.execution_id.clone(),
            what: what(&prepared).into(),
            since: prepared.started_at.clone(),
        };
        lease.take(&prepared.plan_name, &me).await?;
    }
    info!(
        workflow = ?prepared.workflow,
        waves = prepared.waves.len(),
        servers = prepared.servers,
        restores = prepared.restores,
        verdict = ?prepared.preflight.verdict,
        "plan prepared"
    );
    Ok(prepared)
}

/// What the run is, as a refusal of another run names it.
fn what(plan: &PreparedPlan) -> &'static str {
    match (plan.workflow, plan.is_drill) {
        (Workflow::Failback, _) => "a failback",
        (Workflow::Restore, _) => "a restore",
        (_, Some(true)) => "a drill",
        _ => "a real recovery",
    }
}

/// What DRS says about the account's servers, and the snapshots of the servers the plan pins
/// one for. A plan without servers asks nothing.
async fn inventory(
    client: &aws_sdk_drs::Client,
    plan: &RecoveryPlan,
) -> Result<Inventory, TaskError> {
    let has_servers = plan
        .waves
        .iter()
        .any(|w| !w.source_servers.is_empty() || w.select.is_some());
    if !has_servers {
        return Ok(Inventory::default());
    }
    let servers = drs::source_servers(client).await?;
    let mut snapshots = BTreeMap::new();
    for wave in &plan.waves {
        for server in &wave.source_servers {
            let known = servers.contains_key(&server.source_server_id);
            if server.recovery_snapshot_id.is_some() && known {
                let ids = drs::recovery_snapshot_ids(client, &server.source_server_id).await?;
                snapshots.insert(server.source_server_id.clone(), ids);
            }
        }
    }
    Ok(Inventory {
        servers,
        snapshots,
        ..Inventory::default()
    })
}

/// What AWS Backup says about each restore's recovery point in the vault the plan names (the
/// plan's check made sure every restore names one of the deployment's vaults).
async fn recovery_points<'a>(
    client: &aws_sdk_backup::Client,
    restores: impl IntoIterator<Item = &'a contract::RestoreSpec>,
) -> Result<BTreeMap<(String, String), Option<RecoveryPoint>>, TaskError> {
    let mut points = BTreeMap::new();
    for restore in restores {
        let Some(vault) = &restore.backup_vault_name else {
            continue;
        };
        let key = (vault.clone(), restore.recovery_point_arn.clone());
        if let std::collections::btree_map::Entry::Vacant(entry) = points.entry(key) {
            let point = backup::recovery_point(client, vault, &restore.recovery_point_arn).await?;
            entry.insert(point);
        }
    }
    Ok(points)
}
