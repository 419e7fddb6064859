//! The assembly of a prepared plan from a checked plan and what AWS reports: selectors resolved
//! and the preflight run, servers batched into jobs with their idempotency keys, the jobs
//! grouped into rounds, each wave's approval asked, the drill cleanup planned, the notices
//! written, and the size, the history budget and the longest time checked; a run that preflight
//! blocks fails here, before anything starts.

use super::budget::{check_history_budget, check_size};
use super::duration::check_duration;
use super::input::{FailbackPlan, PrepareInput, RecoveryPlan, RestorePlan, Trigger, Workflow};
use super::limits::MAX_SERVERS_PER_PLAN;
use super::options::{Defaults, PreflightMode, ResolvedOptions};
use super::rounds::{rounds, ActiveLoad};
use super::run_state::{PreparedPlan, PreparedWave, Progress, RunNotices, Task};
use crate::approval::{self, WaveApproval, WaveCount};
use crate::cleanup::{CleanupAction, CleanupPlan};
use crate::contract::{StartFailbackInput, StartRecoveryInput, StartRestoreInput, Tags};
use crate::error::TaskError;
use crate::idempotency::EXECUTION_TAG;
use crate::notify;
use crate::preflight::{self, Finding, Inventory, PreflightReport};
use crate::report::model::Targets;

/// What every prepared plan shares.
pub struct RunContext<'a> {
    pub request: &'a PrepareInput,
    pub trigger: Trigger,
    pub options: ResolvedOptions,
    pub active: ActiveLoad,
    pub defaults: Defaults,
}

impl RunContext<'_> {
    /// The prefix of every idempotency key of this run: the triggering event's ID when an
    /// event started it (a re-delivered event then finds the jobs the first delivery started),
    /// the execution otherwise.
    pub fn key_base(&self) -> String {
        match &self.trigger.event_id {
            Some(id) => format!("event:{id}"),
            None => self.request.execution_id.clone(),
        }
    }

    /// The plan's tags, and the execution that starts the job (the drill sweeper asks Step
    /// Functions whether it still runs).
    fn job_tags(&self, plan_tags: &Tags) -> Tags {
        let mut tags = plan_tags.clone();
        tags.insert(EXECUTION_TAG.into(), self.request.execution_id.clone());
        tags
    }
}

/// Prepares a checked recovery plan: resolves selectors against the inventory, runs the
/// preflight, batches the waves and fails (before anything starts) when preflight blocks it.
pub fn prepare_recovery(
    ctx: RunContext<'_>,
    plan: &RecoveryPlan,
    inventory: &Inventory,
) -> Result<PreparedPlan, TaskError> {
    let is_drill = plan.is_drill.unwrap_or(false);
    let (waves_servers, mut findings) = preflight::resolve(&plan.waves, inventory);
    let total: usize = waves_servers.iter().map(Vec::len).sum();
    if total > MAX_SERVERS_PER_PLAN {
        return Err(TaskError::invalid(
            "waves",
            format!("the plan's selectors choose {total} source servers; a plan recovers at most {MAX_SERVERS_PER_PLAN}"),
        ));
    }
    findings.extend(preflight::replication(
        &plan.waves,
        &waves_servers,
        inventory,
        ctx.options.max_replication_lag_seconds,
    ));
    for (w, wave) in plan.waves.iter().enumerate() {
        for (r, restore) in wave.restores.iter().enumerate() {
            findings.extend(preflight::restore(
                &format!("waves[{w}].restores[{r}]"),
                restore,
                inventory,
            ));
        }
    }
    let base = ctx.key_base();
    let batch = usize::try_from(ctx.options.batch_size).unwrap_or(usize::MAX);
    let mut waves = Vec::with_capacity(plan.waves.len());
    for (w, (wave, servers)) in plan.waves.iter().zip(&waves_servers).enumerate() {
        let name = wave.name.clone().unwrap_or_default();
        let mut tasks: Vec<Task> = servers
            .chunks(batch)
            .enumerate()
            .map(|(b, chunk)| {
                Task::Recovery(StartRecoveryInput {
                    is_drill,
                    source_servers: chunk.to_vec(),
                    tags: ctx.job_tags(&plan.tags),
                    idempotency_key: format!("{base}#w{w}#b{b}"),
                    label: Some(format!("batch {b}")),
                })
            })
            .collect();
        tasks.extend(wave.restores.iter().enumerate().map(|(r, restore)| {
            Task::Restore(StartRestoreInput::of(
                restore,
                format!("{base}#w{w}#r{r}"),
                format!("restore {r}"),
            ))
        }));
        let scope = format!("wave {w} ({name})");
        let rounds = rounds(tasks, ctx.active, &ctx.options, &scope, &mut findings);
        waves.push(PreparedWave {
            index: w,
            name,
            scope,
            approval: pause(wave.pause_before),
            targets: Targets {
                rto_minutes: wave.rto_target_minutes.or(ctx.options.targets.rto_minutes),
                rpo_minutes: wave.rpo_target_minutes.or(ctx.options.targets.rpo_minutes),
            },
            rounds,
            notice: String::new(),
        });
    }
    let mode = if is_drill {
        ctx.options.preflight
    } else {
        PreflightMode::Fail
    };
    let restores = plan.waves.iter().map(|w| w.restores.len()).sum();
    finish_prepared(
        ctx,
        Workflow::RecoveryPlan,
        plan.plan_name
            .clone()
            .unwrap_or_else(|| "unnamed plan".into()),
        Some(is_drill),
        findings,
        mode,
        inventory.servers_checked(),
        (total, restores),
        waves,
    )
}

/// Prepares a checked failback run: one wave of failback jobs, of the recovery instances its
/// preflight found ready (`plan.recovery_instance_ids`, `checked` of them described by DRS,
/// `findings` naming the rest).
pub fn prepare_failback(
    ctx: RunContext<'_>,
    plan: &FailbackPlan,
    mut findings: Vec<Finding>,
    checked: usize,
) -> Result<PreparedPlan, TaskError> {
    let base = ctx.key_base();
    let batch = usize::try_from(ctx.options.batch_size).unwrap_or(usize::MAX);
    let tasks = plan
        .recovery_instance_ids
        .chunks(batch)
        .enumerate()
        .map(|(b, chunk)| {
            Task::Failback(StartFailbackInput {
                recovery_instance_ids: Some(chunk.to_vec()),
                tags: ctx.job_tags(&plan.tags),
                idempotency_key: format!("{base}#failback#b{b}"),
                label: Some(format!("batch {b}")),
            })
        })
        .collect();
    let targets = ctx.options.targets;
    let scope = "failback".to_owned();
    let rounds = rounds(tasks, ctx.active, &ctx.options, &scope, &mut findings);
    let servers = plan.recovery_instance_ids.len();
    finish_prepared(
        ctx,
        Workflow::Failback,
        plan.plan_name.clone().unwrap_or_else(|| "failback".into()),
        Some(false),
        findings,
        PreflightMode::Fail,
        checked,
        (servers, 0),
        vec![PreparedWave {
            index: 0,
            name: "failback".into(),
            scope,
            approval: WaveApproval::not_required(),
            targets,
            rounds,
            notice: String::new(),
        }],
    )
}

/// Prepares a checked restore run: one wave of restores.
pub fn prepare_restore(
    ctx: RunContext<'_>,
    plan: &RestorePlan,
    inventory: &Inventory,
) -> Result<PreparedPlan, TaskError> {
    let base = ctx.key_base();
    let mut findings = Vec::new();
    for (r, restore) in plan.restores.iter().enumerate() {
        findings.extend(preflight::restore(
            &format!("restores[{r}]"),
            restore,
            inventory,
        ));
    }
    let tasks = plan
        .restores
        .iter()
        .enumerate()
        .map(|(r, restore)| {
            Task::Restore(StartRestoreInput::of(
                restore,
                format!("{base}#r{r}"),
                format!("restore {r}"),
            ))
        })
        .collect();
    let targets = ctx.options.targets;
    let scope = "restores".to_owned();
    let rounds = rounds(tasks, ctx.active, &ctx.options, &scope, &mut findings);
    finish_prepared(
        ctx,
        Workflow::Restore,
        plan.plan_name.clone().unwrap_or_else(|| "restore".into()),
        None,
        findings,
        PreflightMode::Fail,
        0,
        (0, plan.restores.len()),
        vec![PreparedWave {
            index: 0,
            name: "restores".into(),
            scope,
            approval: WaveApproval::not_required(),
            targets,
            rounds,
            notice: String::new(),
        }],
    )
}

#[allow(clippy::too_many_arguments)]
fn finish_prepared(
    ctx: RunContext<'_>,
    workflow: Workflow,
    plan_name: String,
    is_drill: Option<bool>,
    findings: Vec<Finding>,
    mode: PreflightMode,
    servers_checked: usize,
    (servers, restores): (usize, usize),
    waves: Vec<PreparedWave>,
) -> Result<PreparedPlan, TaskError> {
    let report = PreflightReport::new(findings, mode, servers_checked);
    if report.blocks() {
        return Err(TaskError::PreflightBlocked {
            message: report.describe(),
        });
    }
    let drill = is_drill == Some(true);
    let mut waves = waves;
    ask_approvals(&ctx, workflow, &plan_name, drill, &report, &mut waves);
    let cleanup = CleanupPlan {
        action: if workflow == Workflow::RecoveryPlan && drill {
            CleanupAction::TerminateDrillInstances
        } else {
            CleanupAction::None
        },
        keep_seconds: ctx.options.keep_drill_instances_minutes * 60,
        key_base: ctx.key_base(),
        since: ctx.request.started_at.clone(),
    };
    let plan = PreparedPlan {
        workflow,
        plan_name,
        is_drill,
        execution_id: ctx.request.execution_id.clone(),
        started_at: ctx.request.started_at.clone(),
        trigger: ctx.trigger,
        options: ctx.options,
        preflight: report,
        servers,
        restores,
        progress: Progress::start(waves.len()),
        waves,
        cleanup,
        notices: RunNotices::default(),
    };
    let mut plan = plan;
    notify::annotate(&mut plan);
    // The size first: its remedy (more servers per job) also shortens the history.
    check_size(&plan)?;
    check_history_budget(&plan)?;
    check_duration(&plan)?;
    Ok(plan)
}

/// A wave's approval before the run's own is known: required when the plan pauses before it.
fn pause(pause_before: Option<bool>) -> WaveApproval {
    WaveApproval {
        required: pause_before == Some(true),
        ask: None,
    }
}

/// Writes the approval request of every wave that waits for a person: the first wave when the
/// run itself needs approval, and every wave the plan pauses before.
fn ask_approvals(
    ctx: &RunContext<'_>,
    workflow: Workflow,
    plan_name: &str,
    is_drill: bool,
    preflight: &PreflightReport,
    waves: &mut [PreparedWave],
) {
    let policy = approval::Policy {
        plan: ctx.options.approval,
        deployment_default: ctx.defaults.approval,
        disaster_events_skip: ctx.defaults.disaster_events_skip_approval,
    };
    let run_reason = approval::run_reason(policy, workflow, is_drill, ctx.trigger.kind);
    let counts: Vec<WaveCount> = waves.iter().map(PreparedWave::count).collect();
    for wave in waves.iter_mut() {
        let reason = match (&run_reason, wave.index, wave.approval.required) {
            (Some(r), 0, _) => r.clone(),
            (_, _, true) => format!("the plan pauses before {} (pauseBefore)", wave.scope),
            _ => continue,
        };
        let id = approval::approval_id(&ctx.request.execution_id, wave.index);
        let request = approval::Request {
            plan_name: plan_name.to_owned(),
            workflow,
            is_drill,
            wave: wave.scope.clone(),
            reason,
            servers: counts.iter().map(|c| c.servers).sum(),
            restores: counts.iter().map(|c| c.restores).sum(),
            waves: counts.clone(),
            preflight: approval::PreflightSummary::of(preflight),
            trigger: ctx.trigger.clone(),
            execution_id: ctx.request.execution_id.clone(),
            timeout_seconds: ctx.options.approval_timeout_seconds,
        };
        wave.approval = approval::ask(request, id, ctx.defaults.approval_endpoint.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{
        inventory, plan, prepare, prepare_with, round_sizes, servers, sid,
    };
    use crate::plan::input::TriggerKind;
    use crate::plan::limits::APPROVAL_TIMEOUT_SECONDS;
    use crate::preflight::Verdict;

    #[test]
    fn waves_are_batched_into_keyed_jobs_and_restores() {
        let p = plan(serde_json::json!({
            "isDrill": true,
            "options": {"batchSize": 2, "preflight": "CONTINUE"},
            "waves": [
                {"name": "data", "sourceServers": servers(0, 5), "restores": [
                    {"recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0", "backupVaultName": "vault-a", "metadata": {"availabilityZone": "eu-west-1a"}, "resourceType": "EBS"}
                ]},
                {"name": "app", "select": {"tags": {"dr-wave": "2"}}}
            ]
        }));
        let prepared =
            prepare(&p, &inventory(8), Trigger::console(), ActiveLoad::default()).unwrap();
        let base = &prepared.execution_id;
        assert_eq!(round_sizes(&prepared.waves[0]), [[2, 2, 1, 0]]);
        let Task::Recovery(first) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert!(first.is_drill);
        assert_eq!(first.idempotency_key, format!("{base}#w0#b0"));
        assert_eq!(first.label.as_deref(), Some("batch 0"));
        let Task::Restore(restore) = &prepared.waves[0].rounds[0][3] else {
            panic!()
        };
        assert_eq!(restore.idempotency_key, format!("{base}#w0#r0"));
        // dr-wave 2: servers 1, 3, 5, 7; 1, 3 already in wave 0
        assert_eq!(prepared.preflight.blocking, 2);
        assert_eq!(prepared.preflight.verdict, Verdict::BlockedContinued);
        assert_eq!(round_sizes(&prepared.waves[1]), [[2]], "5 and 7");
    }

    #[test]
    fn a_blocked_real_recovery_fails_and_a_drill_may_continue() {
        let mut inv = inventory(3);
        inv.servers.get_mut(&sid(1)).unwrap().replication_state = Some("STALLED".into());
        let real = plan(
            serde_json::json!({"isDrill": false, "waves": [{"name": "w", "sourceServers": servers(0, 3)}]}),
        );
        let err = prepare(&real, &inv, Trigger::console(), ActiveLoad::default()).unwrap_err();
        assert_eq!(err.name(), "PreflightBlocked");
        assert!(err.to_string().contains(&sid(1)), "{err}");
        assert!(err.to_string().contains("STALLED"), "{err}");

        let mut real_continue = real.clone();
        real_continue.options.preflight = Some(PreflightMode::Continue);
        let err = prepare(
            &real_continue,
            &inv,
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.name(),
            "PreflightBlocked",
            "a real recovery never continues"
        );

        let mut drill = real_continue;
        drill.is_drill = Some(true);
        let prepared = prepare(&drill, &inv, Trigger::console(), ActiveLoad::default()).unwrap();
        assert_eq!(prepared.preflight.verdict, Verdict::BlockedContinued);
        assert_eq!(prepared.servers, 3);
    }

    #[test]
    fn a_real_recovery_waits_before_its_first_wave_and_a_drill_only_where_it_pauses() {
        let waves = serde_json::json!([
            {"name": "db", "sourceServers": servers(0, 2)},
            {"name": "app", "sourceServers": servers(2, 3), "pauseBefore": true}
        ]);
        let real =
            plan(serde_json::json!({"isDrill": false, "planName": "payments", "waves": waves}));
        let prepared = prepare(
            &real,
            &inventory(3),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        let asks: Vec<bool> = prepared.waves.iter().map(|w| w.approval.required).collect();
        assert_eq!(asks, [true, true]);
        let ask = prepared.waves[0].approval.ask.as_ref().unwrap();
        assert!(
            ask.subject.starts_with("Approve REAL recovery of payments"),
            "{}",
            ask.subject
        );
        assert_eq!(ask.request.servers, 3);
        assert_eq!(ask.request.waves.len(), 2);
        assert_eq!(ask.timeout_seconds, APPROVAL_TIMEOUT_SECONDS.default);
        assert!(
            approval::is_approval_id(&ask.approval_id),
            "{}",
            ask.approval_id
        );
        assert!(ask.message.contains(&ask.approval_id), "{}", ask.message);
        assert!(prepared.waves[1]
            .approval
            .ask
            .as_ref()
            .unwrap()
            .reason
            .contains("pauseBefore"));
        assert_eq!(prepared.cleanup.action, CleanupAction::None);

        let drill = plan(serde_json::json!({"isDrill": true, "waves": waves,
            "options": {"keepDrillInstancesMinutes": 60, "approvalTimeoutSeconds": 600}}));
        let prepared = prepare(
            &drill,
            &inventory(3),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        let asks: Vec<bool> = prepared.waves.iter().map(|w| w.approval.required).collect();
        assert_eq!(asks, [false, true]);
        assert_eq!(
            prepared.waves[1]
                .approval
                .ask
                .as_ref()
                .unwrap()
                .timeout_seconds,
            600
        );
        assert_eq!(
            prepared.cleanup.action,
            CleanupAction::TerminateDrillInstances
        );
        assert_eq!(prepared.cleanup.keep_seconds, 3600);
        assert_eq!(prepared.cleanup.key_base, prepared.execution_id);
        // Every job names the execution that started it (the sweeper asks whether it runs).
        let Task::Recovery(job) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert_eq!(job.tags[EXECUTION_TAG], prepared.execution_id);
    }

    #[test]
    fn an_event_triggered_run_keys_its_jobs_by_the_event() {
        let p = plan(
            serde_json::json!({"isDrill": false, "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}),
        );
        let trigger = Trigger {
            kind: TriggerKind::Event,
            event_id: Some("6a7e8feb-b491-4cf7-a9f1-bf3703467718".into()),
            ..Trigger::console()
        };
        let prepared = prepare(&p, &inventory(1), trigger, ActiveLoad::default()).unwrap();
        let Task::Recovery(job) = &prepared.waves[0].rounds[0][0] else {
            panic!()
        };
        assert_eq!(
            job.idempotency_key,
            "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718#w0#b0"
        );
        assert_eq!(prepared.trigger.kind, TriggerKind::Event);
        // A disaster event's real recovery waits for a person even in a deployment that waives
        // real runs' approval, and with the plan agreeing.
        let waived = plan(
            serde_json::json!({"isDrill": false, "options": {"approval": "NOT_REQUIRED"},
            "waves": [{"name": "w", "sourceServers": servers(0, 1)}]}),
        );
        let waiving = Defaults {
            approval: crate::plan::options::ApprovalMode::NotRequired,
            ..Defaults::default()
        };
        let prepared = prepare_with(
            &waived,
            &inventory(1),
            prepared.trigger.clone(),
            ActiveLoad::default(),
            waiving.clone(),
        )
        .unwrap();
        assert!(prepared.waves[0].approval.required);
        let console = prepare_with(
            &waived,
            &inventory(1),
            Trigger::console(),
            ActiveLoad::default(),
            waiving,
        )
        .unwrap();
        assert!(!console.waves[0].approval.required);
        // In a deployment that requires it, the plan's waiver is refused before anything runs.
        let refused = prepare(
            &waived,
            &inventory(1),
            Trigger::console(),
            ActiveLoad::default(),
        );
        assert!(
            matches!(&refused, Err(TaskError::InvalidInput { field, .. }) if field == "options.approval"),
            "{refused:?}"
        );
    }
}
