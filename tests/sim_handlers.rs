//! The handlers end to end over HTTP: real SDK clients, real serialisation, against the local
//! DRS / AWS Backup endpoint (`dr-sim`). Each test asserts what the handler returned and what
//! the endpoint saw.

mod common;
use common::{check_round, event};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aws_sdk_drs::config::retry::RetryConfig;
use aws_sdk_drs::config::{BehaviorVersion, Credentials, Region};
use dr_orchestrator::aws::drs;
use dr_orchestrator::cleanup::{CleanupReport, CleanupState};
use dr_orchestrator::config::Config;
use dr_orchestrator::contract::{JobRef, JobReport, JobState, WaveReport};
use dr_orchestrator::error::TaskError;
use dr_orchestrator::handlers::check_status::Clients;
use dr_orchestrator::handlers::{
    clean_up_drill, prepare_plan, report, start_failback, start_recovery, start_restore,
};
use dr_sim::seed::{Faults, RestoreOutcome};
use dr_sim::{Running, Seed};
use serde_json::{json, Value};

const S1: &str = "s-0a1b2c3d4e5f60001";
const S2: &str = "s-0a1b2c3d4e5f60002";
const EFS_RP: &str =
    "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45";

struct Env {
    sim: Running,
    clients: Clients,
    config: Config,
}

async fn env(faults: Faults) -> Env {
    let mut seed = Seed::default_seed();
    seed.timing.time_scale = 0.02;
    seed.faults = faults;
    let sim = dr_sim::spawn(seed, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .unwrap();
    let retry = RetryConfig::standard().with_initial_backoff(Duration::from_millis(5));
    let drs = aws_sdk_drs::Client::from_conf(
        aws_sdk_drs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(sim.url())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("AKIDLOCAL", "local", None, None, "test"))
            .retry_config(retry.clone())
            .build(),
    );
    let backup = aws_sdk_backup::Client::from_conf(
        aws_sdk_backup::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(sim.url())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("AKIDLOCAL", "local", None, None, "test"))
            .retry_config(retry)
            .build(),
    );
    Env {
        sim,
        clients: Clients { drs, backup },
        config: Config::default(),
    }
}

impl Env {
    async fn recover(
        &self,
        servers: &[&str],
        is_drill: bool,
        key: &str,
    ) -> Result<JobRef, TaskError> {
        let payload = json!({
            "isDrill": is_drill,
            "sourceServers": servers.iter().map(|s| json!({"sourceServerID": s})).collect::<Vec<_>>(),
            "idempotencyKey": key,
        });
        start_recovery::handle(&self.clients.drs, &self.config, event(payload)).await
    }

    /// Polls `check-status` as the state machine would, until the job is judged.
    async fn wait(&self, job: &JobRef) -> WaveReport {
        let input = json!({"wave": "wave 0 (test)", "giveUpAfterSeconds": 600, "jobs": [job]});
        for _ in 0..200 {
            let report = check_round(&self.clients, event(input.clone()))
                .await
                .unwrap();
            if report.state != JobState::InProgress {
                return report;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job never settled: {job:?}");
    }

    fn calls(&self, op: &str) -> u64 {
        self.sim
            .store
            .lock()
            .unwrap()
            .calls
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    fn jobs_started(&self) -> usize {
        self.sim.store.lock().unwrap().jobs.len()
    }
}

fn drs_detail(r: &WaveReport) -> &dr_orchestrator::contract::DrsJobStatus {
    match &r.jobs[0] {
        JobReport::DrsJob(d) => d,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn drill_succeeds_once_every_server_launched() {
    let env = env(Faults::default()).await;
    let job = env.recover(&[S1, S2], true, "run-1#w0#b0").await.unwrap();
    let report = env.wait(&job).await;
    assert_eq!(report.state, JobState::Succeeded, "{}", report.summary);
    let d = drs_detail(&report);
    assert_eq!(d.counts.launched, 2);
    assert!(d.not_launched.is_empty());
    let store = env.sim.store.lock().unwrap();
    assert_eq!(store.jobs.len(), 1);
    assert!(store.jobs[0].is_drill);
}

#[tokio::test]
async fn a_failed_server_makes_the_job_failed_naming_it_and_why() {
    let faults = Faults {
        fail_launch: [(
            S2.to_owned(),
            "InsufficientInstanceCapacity in eu-west-1a".to_owned(),
        )]
        .into(),
        ..Faults::default()
    };
    let env = env(faults).await;
    let job = env.recover(&[S1, S2], true, "run-2#w0#b0").await.unwrap();
    let report = env.wait(&job).await;
    assert_eq!(report.state, JobState::Failed);
    let d = drs_detail(&report);
    assert_eq!(d.not_launched.len(), 1);
    assert_eq!(d.not_launched[0].source_server_id, S2);
    assert_eq!(report.error, "RecoveryFailed");
    assert!(report.cause.contains(S2), "{}", report.cause);
    assert!(
        report.cause.contains("InsufficientInstanceCapacity"),
        "{}",
        report.cause
    );
    assert!(env.calls("DescribeJobLogItems") >= 1);
}

#[tokio::test]
async fn a_retried_start_does_not_start_a_second_job() {
    let env = env(Faults::default()).await;
    let first = env.recover(&[S1], true, "run-3#w0#b0").await.unwrap();
    let second = env.recover(&[S1], true, "run-3#w0#b0").await.unwrap();
    let (JobRef::DrsJob(a), JobRef::DrsJob(b)) = (&first, &second) else {
        panic!()
    };
    assert_eq!(a.job_id, b.job_id);
    assert!(!a.reused && b.reused);
    assert_eq!(env.calls("StartRecovery"), 1);
    assert_eq!(env.jobs_started(), 1);
}

#[tokio::test]
async fn throttled_lookups_are_retried_and_a_throttled_start_is_left_to_the_workflow() {
    let faults = Faults {
        throttle: [
            ("DescribeJobs".to_owned(), 2),
            ("StartRecovery".to_owned(), 1),
        ]
        .into(),
        retry_after_seconds: Some(3),
        ..Faults::default()
    };
    let env = env(faults).await;
    let err = env.recover(&[S1], true, "run-4#w0#b0").await.unwrap_err();
    assert_eq!(err.name(), "Throttled");
    assert!(
        matches!(
            err,
            TaskError::Throttled {
                retry_after_seconds: Some(3),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        env.calls("DescribeJobs"),
        3,
        "two throttled lookups, then one that answered"
    );
    assert_eq!(
        env.calls("StartRecovery"),
        1,
        "the SDK must not resend StartRecovery"
    );

    // The workflow's Retry runs the task again: now it starts exactly one job.
    env.recover(&[S1], true, "run-4#w0#b0").await.unwrap();
    assert_eq!(env.jobs_started(), 1);
}

#[tokio::test]
async fn a_server_in_an_active_job_is_a_conflict() {
    let env = env(Faults::default()).await;
    env.recover(&[S1, S2], true, "run-5#w0#b0").await.unwrap();
    let err = env.recover(&[S2], true, "run-5#w1#b0").await.unwrap_err();
    assert_eq!(err.name(), "Conflict");
    assert!(err.to_string().contains(S2), "{err}");
}

#[tokio::test]
async fn a_slow_launch_holds_its_server_in_an_active_job_for_longer() {
    let mut faults = Faults::default();
    faults.slow_launch.insert(S1.into(), 2.0);
    let env = env(faults).await;
    env.recover(&[S1, S2], true, "run-6#w0#b0").await.unwrap();
    {
        let store = env.sim.store.lock().unwrap();
        let settles = |id: &str| {
            store.jobs[0]
                .servers
                .iter()
                .find(|s| s.source_server_id == id)
                .unwrap()
                .settles_at_ms
        };
        // Two seconds of wall clock later, less the second server's scaled stagger.
        assert!(
            settles(S1) - settles(S2) > 1900,
            "{} {}",
            settles(S1),
            settles(S2)
        );
    }
    let err = env.recover(&[S1], true, "run-6#w1#b0").await.unwrap_err();
    assert_eq!(err.name(), "Conflict");
}

#[tokio::test]
async fn more_servers_than_the_per_job_quota_is_quota_exceeded() {
    let env = env(Faults::default()).await;
    let servers: Vec<String> = (0..101).map(|n| format!("s-fleet{n:012}")).collect();
    let refs: Vec<&str> = servers.iter().map(String::as_str).collect();
    let err = env.recover(&refs, true, "run-6#w0#b0").await.unwrap_err();
    assert_eq!(err.name(), "QuotaExceeded");
    assert_eq!(env.jobs_started(), 0);
}

#[tokio::test]
async fn a_500_on_describe_is_retried_by_the_sdk() {
    let faults = Faults {
        internal_error: [("DescribeJobs".to_owned(), 1)].into(),
        ..Faults::default()
    };
    let env = env(faults).await;
    env.recover(&[S1], true, "run-7#w0#b0").await.unwrap();
    assert_eq!(env.calls("DescribeJobs"), 2);
    assert_eq!(env.jobs_started(), 1);
}

#[tokio::test]
async fn failback_from_a_recovery_report_launches_the_recovered_instances() {
    let env = env(Faults::default()).await;
    let job = env.recover(&[S1, S2], false, "run-8#w0#b0").await.unwrap();
    // What a failback of a recovery run's output does: DRS says what its jobs launched.
    let instances = launched(&env, &job).await;
    assert_eq!(instances.len(), 2);
    let payload = json!({"recoveryInstanceIDs": instances, "idempotencyKey": "run-8#failback"});

    let failback = start_failback::handle(&env.clients.drs, &env.config, event(payload.clone()))
        .await
        .unwrap();
    let again = start_failback::handle(&env.clients.drs, &env.config, event(payload))
        .await
        .unwrap();
    let report = env.wait(&failback).await;

    assert_eq!(report.state, JobState::Succeeded, "{}", report.summary);
    assert_eq!(env.calls("StartFailbackLaunch"), 1);
    let (JobRef::DrsJob(a), JobRef::DrsJob(b)) = (&failback, &again) else {
        panic!()
    };
    assert_eq!(a.job_id, b.job_id);
    assert_eq!(a.recovery_instance_ids.len(), 2);
}

async fn restore(env: &Env, rp: &str, key: &str) -> Result<JobRef, TaskError> {
    let payload = json!({"restore": {"recoveryPointArn": rp, "metadata": {"newFileSystem": "true"}}, "idempotencyKey": key});
    start_restore::handle(&env.clients.backup, event(payload)).await
}

#[tokio::test]
async fn a_restore_completes_with_its_created_resource_and_a_retry_reuses_it() {
    let env = env(Faults::default()).await;
    let job = restore(&env, EFS_RP, "run-9#r0").await.unwrap();
    assert_eq!(restore(&env, EFS_RP, "run-9#r0").await.unwrap(), job);
    let report = env.wait(&job).await;
    assert_eq!(report.state, JobState::Succeeded);
    let JobReport::RestoreJob(d) = &report.jobs[0] else {
        panic!()
    };
    assert!(d
        .created_resource_arn
        .as_deref()
        .unwrap()
        .starts_with("arn:aws:elasticfilesystem:"));
    assert_eq!(env.sim.store.lock().unwrap().restores.len(), 1);
}

#[tokio::test]
async fn a_failing_restore_reports_its_status_message() {
    let faults = Faults {
        restore_outcomes: [(
            EFS_RP.to_owned(),
            RestoreOutcome {
                status: "FAILED".into(),
                status_message: "Access denied to KMS key".into(),
            },
        )]
        .into(),
        ..Faults::default()
    };
    let env = env(faults).await;
    let job = restore(&env, EFS_RP, "run-10#r0").await.unwrap();
    let report = env.wait(&job).await;
    assert_eq!(report.state, JobState::Failed);
    assert_eq!(report.error, "RestoreFailed");
    assert!(
        report.cause.contains("Access denied to KMS key"),
        "{}",
        report.cause
    );
}

#[tokio::test]
async fn an_unknown_recovery_point_is_not_found() {
    let env = env(Faults::default()).await;
    let err = restore(
        &env,
        "arn:aws:backup:eu-west-1:123456789012:recovery-point:nope",
        "run-11#r0",
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "NotFound");
}

async fn prepare(env: &Env, workflow: &str, input: Value) -> Result<Value, TaskError> {
    let payload = json!({
        "workflow": workflow,
        "input": input,
        "executionId": "arn:aws:states:eu-west-1:123456789012:execution:recovery-plan:run-p",
        "startedAt": "2026-11-25T02:00:00Z"
    });
    let clients = prepare_plan::Clients {
        drs: env.clients.drs.clone(),
        backup: env.clients.backup.clone(),
    };
    prepare_plan::handle(&clients, None, &env.config, event(payload))
        .await
        .map(|p| serde_json::to_value(p).unwrap())
}

fn mutating_calls(env: &Env) -> u64 {
    [
        "StartRecovery",
        "StartFailbackLaunch",
        "TerminateRecoveryInstances",
        "StartRestoreJob",
    ]
    .iter()
    .map(|op| env.calls(op))
    .sum()
}

#[tokio::test]
async fn prepare_plan_selects_servers_by_tags_across_every_page_of_the_inventory() {
    let env = env(Faults::default()).await;
    let input = json!({"isDrill": true, "options": {"batchSize": 100}, "waves": [
        {"name": "fleet one", "select": {"tags": {"fleet": "payments-fleet", "dr-wave": "1"}}},
        {"name": "named", "select": {"tags": {"Tier": "web"}}}
    ]});
    let prepared = prepare(&env, "RECOVERY_PLAN", input).await.unwrap();
    assert_eq!(prepared["servers"], 304);
    assert_eq!(prepared["preflight"]["verdict"], "PASSED");
    assert_eq!(prepared["preflight"]["serversChecked"], 1216);
    let wave0 = &prepared["waves"][0]["rounds"][0];
    assert_eq!(
        wave0.as_array().unwrap().len(),
        3,
        "300 servers in jobs of 100"
    );
    assert_eq!(wave0[0]["kind"], "RECOVERY");
    assert_eq!(
        wave0[0]["start"]["sourceServers"].as_array().unwrap().len(),
        100
    );
    assert_eq!(
        env.calls("DescribeSourceServers"),
        2,
        "1,216 servers in pages of 1,000"
    );
    assert_eq!(mutating_calls(&env), 0);
}

#[tokio::test]
async fn prepare_plan_checks_a_pinned_snapshot_with_describe_recovery_snapshots() {
    let env = env(Faults::default()).await;
    let snapshots = env
        .clients
        .drs
        .describe_recovery_snapshots()
        .source_server_id(S1)
        .send()
        .await
        .unwrap();
    let known = snapshots.items()[0].snapshot_id().to_owned();
    let plan = |snapshot: &str| {
        json!({"isDrill": false, "waves": [{"name": "w", "sourceServers": [
            {"sourceServerID": S1, "recoverySnapshotID": snapshot}, {"sourceServerID": S2}
        ]}]})
    };
    prepare(&env, "RECOVERY_PLAN", plan(&known)).await.unwrap();
    let err = prepare(&env, "RECOVERY_PLAN", plan("pit-00000000000000000"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "PreflightBlocked");
    assert!(err.to_string().contains("SNAPSHOT_NOT_FOUND"), "{err}");
    assert_eq!(mutating_calls(&env), 0);
}

#[tokio::test]
async fn prepare_plan_asks_aws_backup_that_a_restores_recovery_point_is_in_its_vault() {
    let mut env = env(Faults::default()).await;
    env.config.defaults.restore_vaults = vec!["payments-vault".into(), "archive-vault".into()];
    let rds = "arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
    let plan = |rp: &str, vault: &str, metadata: Value| json!({"restores": [{"recoveryPointArn": rp, "backupVaultName": vault, "metadata": metadata}]});
    let efs = json!({"file-system-id": "fs-0123456789abcdef0", "newFileSystem": "true"});
    let prepared = prepare(&env, "RESTORE", plan(EFS_RP, "payments-vault", efs.clone()))
        .await
        .unwrap();
    // AWS Backup's type is the one judged; the plan did not name it.
    assert_eq!(prepared["preflight"]["verdict"], "WARNINGS");
    // A vault the deployment names but that does not hold the recovery point.
    let err = prepare(&env, "RESTORE", plan(EFS_RP, "archive-vault", efs))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "PreflightBlocked");
    assert!(
        err.to_string().contains("RECOVERY_POINT_NOT_FOUND"),
        "{err}"
    );
    // A public database, from a recovery point AWS Backup says is RDS.
    let public = json!({"DBInstanceIdentifier": "payments-drill", "PubliclyAccessible": "true"});
    let err = prepare(&env, "RESTORE", plan(rds, "payments-vault", public))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "PreflightBlocked");
    assert!(
        err.to_string().contains("RESTORE_METADATA_NOT_ALLOWED")
            && err
                .to_string()
                .contains("restores[0].metadata.PubliclyAccessible"),
        "{err}"
    );
    assert_eq!(env.calls("GetRecoveryPointRestoreMetadata"), 3);
    // A vault the deployment does not name: refused before any call.
    let err = prepare(
        &env,
        "RESTORE",
        plan(EFS_RP, "other-vault", json!({"a": "b"})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InvalidInput");
    assert_eq!(env.calls("GetRecoveryPointRestoreMetadata"), 3);
    assert_eq!(mutating_calls(&env), 0);
}

#[tokio::test]
async fn prepare_plan_sees_the_accounts_active_jobs() {
    // 300 servers of another run are launching (slow boots keep their 3 jobs active) when a
    // 300-server wave is prepared: only 200 more fit under the 500 servers DRS allows in active
    // jobs, so the first round holds 200 and the rest waits for the next round. Were the
    // account's active jobs not read, the first round would hold all 300.
    let other: Vec<String> = (0..300)
        .map(|n| format!("s-fleet{:012}", 4 * n + 1)) // dr-wave 2
        .collect();
    let faults = Faults {
        slow_launch: other.iter().map(|s| (s.clone(), 600.0)).collect(),
        ..Faults::default()
    };
    let env = env(faults).await;
    for (b, batch) in other.chunks(100).enumerate() {
        let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
        env.recover(&batch, true, &format!("other-run#w0#b{b}"))
            .await
            .unwrap();
    }
    let input = json!({"isDrill": true, "options": {"batchSize": 100, "maxConcurrentJobs": 20}, "waves": [
        {"name": "fleet", "select": {"tags": {"fleet": "payments-fleet", "dr-wave": "1"}}}
    ]});
    let prepared = prepare(&env, "RECOVERY_PLAN", input).await.unwrap();
    let rounds = prepared["waves"][0]["rounds"].as_array().unwrap();
    let sizes: Vec<usize> = rounds
        .iter()
        .map(|round| {
            round
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["start"]["sourceServers"].as_array().unwrap().len())
                .sum()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 300, "{sizes:?}");
    assert_eq!(sizes[0], 200, "500 - 300 already launching: {sizes:?}");
}

#[tokio::test]
async fn an_invalid_plan_is_rejected_with_every_problem_before_any_aws_call() {
    let env = env(Faults::default()).await;
    let input = json!({"waves": [{"name": "w", "sourceServers": [{"sourceServerID": "s-1"}]}], "options": {"batchSize": 0}});
    let err = prepare(&env, "RECOVERY_PLAN", input).await.unwrap_err();
    let TaskError::InvalidInput { field, constraint } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field, "plan");
    assert!(constraint.starts_with("3 problems"), "{constraint}");
    let calls: u64 = env.sim.store.lock().unwrap().calls.values().sum();
    assert_eq!(calls, 0, "bad input makes no AWS call");
}

// ---- drill cleanup (clean-up-drill) ---------------------------------------------------------

const S3: &str = "s-0a1b2c3d4e5f60003";
const S4: &str = "s-0a1b2c3d4e5f60004";

/// The instance each server of a finished job launched.
async fn launched(env: &Env, job: &JobRef) -> Vec<String> {
    let report = env.wait(job).await;
    assert_eq!(report.state, JobState::Succeeded, "{}", report.summary);
    let JobRef::DrsJob(job) = job else { panic!() };
    drs::launched_instances(&env.clients.drs, std::slice::from_ref(&job.job_id))
        .await
        .unwrap()
}

fn existing_instances(env: &Env) -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    env.sim
        .store
        .lock()
        .unwrap()
        .recovery_instances(now)
        .into_iter()
        .map(|(_, s)| s.recovery_instance_id.clone())
        .collect()
}

async fn clean_up(env: &Env, payload: Value) -> Result<CleanupReport, TaskError> {
    clean_up_drill::handle(&env.clients.drs, event(payload)).await
}

/// Runs START, then CHECK until the cleanup is no longer in progress.
async fn clean_up_to_the_end(env: &Env, start: Value) -> CleanupReport {
    let mut report = clean_up(env, start).await.unwrap();
    for _ in 0..200 {
        if report.state != CleanupState::InProgress {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        report = clean_up(
            env,
            json!({"operation": "CHECK", "report": report, "giveUpAfterSeconds": 600}),
        )
        .await
        .unwrap();
    }
    panic!("cleanup never ended: {report:?}");
}

fn run_cleanup(key_base: &str) -> Value {
    let since = aws_smithy_types::DateTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - 60,
    )
    .fmt(aws_smithy_types::date_time::Format::DateTime)
    .unwrap();
    json!({"operation": "START", "cleanup": {
        "action": "TERMINATE_DRILL_INSTANCES", "keepSeconds": 0, "keyBase": key_base, "since": since}})
}

#[tokio::test]
async fn a_drills_cleanup_terminates_its_own_drill_instances_and_nothing_else() {
    let env = env(Faults::default()).await;
    let ours = env.recover(&[S1, S2], true, "run-1#w0#b0").await.unwrap();
    let other_run = env.recover(&[S3], true, "run-2#w0#b0").await.unwrap();
    let real = env.recover(&[S4], false, "run-1#w1#b0").await.unwrap();
    let ours = launched(&env, &ours).await;
    let kept: Vec<String> = [
        launched(&env, &other_run).await,
        launched(&env, &real).await,
    ]
    .concat();

    let report = clean_up_to_the_end(&env, run_cleanup("run-1")).await;
    assert_eq!(report.state, CleanupState::Cleaned, "{}", report.summary);
    assert_eq!((report.instances, report.terminated), (2, 2));
    assert_eq!(report.refused_count, 0);
    let left = existing_instances(&env);
    assert!(ours.iter().all(|i| !left.contains(i)), "{left:?}");
    assert!(kept.iter().all(|i| left.contains(i)), "{left:?} {kept:?}");
    assert_eq!(env.calls("TerminateRecoveryInstances"), 1);

    // A retried START (say the first answer was lost) starts nothing and reports the
    // instances the first attempt terminated.
    let again = clean_up_to_the_end(&env, run_cleanup("run-1")).await;
    assert_eq!(again.state, CleanupState::Cleaned);
    assert_eq!((again.instances, again.terminated), (2, 2));
    assert_eq!(again.terminate_job_ids, report.terminate_job_ids);
    assert_eq!(env.calls("TerminateRecoveryInstances"), 1);
}

#[tokio::test]
async fn a_start_retried_while_terminating_reuses_the_terminate_job() {
    let env = env(Faults::default()).await;
    let job = env.recover(&[S1], true, "run-1#w0#b0").await.unwrap();
    launched(&env, &job).await;
    let first = clean_up(&env, run_cleanup("run-1")).await.unwrap();
    let second = clean_up(&env, run_cleanup("run-1")).await.unwrap();
    assert_eq!(first.terminate_job_ids, second.terminate_job_ids);
    assert_eq!(env.calls("TerminateRecoveryInstances"), 1);
}

#[tokio::test]
async fn the_guard_refuses_a_real_recovery_instance_even_when_asked_directly() {
    let env = env(Faults::default()).await;
    let real = env.recover(&[S1], false, "run-1#w0#b0").await.unwrap();
    let drill_by_hand = env.recover(&[S2], true, "run-1#w0#b1").await.unwrap();
    let real = launched(&env, &real).await;
    let drill = launched(&env, &drill_by_hand).await;
    let report = clean_up_to_the_end(
        &env,
        json!({"operation": "START", "recoveryInstanceIDs": [real[0], "i-00000000000000bad"]}),
    )
    .await;
    assert_eq!(report.state, CleanupState::Failed);
    assert_eq!(report.refused_count, 2);
    assert!(
        report.refused[0].reason.contains("isDrill")
            || report.refused[1].reason.contains("isDrill")
    );
    assert_eq!(env.calls("TerminateRecoveryInstances"), 0);
    assert!(existing_instances(&env).contains(&real[0]));
    // Our own drill instance, named by hand, is terminated.
    let report = clean_up_to_the_end(
        &env,
        json!({"operation": "START", "recoveryInstanceIDs": [drill[0]]}),
    )
    .await;
    assert_eq!(report.state, CleanupState::Cleaned, "{}", report.summary);
    assert!(!existing_instances(&env).contains(&drill[0]));
}

#[tokio::test]
async fn a_failed_termination_is_reported_with_the_instance_and_the_instance_stays() {
    let faults = Faults {
        fail_terminate: [(S1.to_owned(), "EC2 refused".to_owned())].into(),
        ..Faults::default()
    };
    let env = env(faults).await;
    let job = env.recover(&[S1, S2], true, "run-1#w0#b0").await.unwrap();
    let instances = launched(&env, &job).await;
    let report = clean_up_to_the_end(&env, run_cleanup("run-1")).await;
    assert_eq!(report.state, CleanupState::Failed);
    assert_eq!(report.error.as_deref(), Some("CleanupFailed"));
    assert_eq!((report.terminated, report.failed_count), (1, 1));
    let cause = report.cause.unwrap();
    let left = existing_instances(&env);
    assert_eq!(left.len(), 1);
    assert!(instances.contains(&left[0]));
    assert!(cause.contains(&left[0]), "{cause}");
}

#[tokio::test]
async fn bad_cleanup_requests_are_refused_before_any_aws_call() {
    let env = env(Faults::default()).await;
    for (payload, field) in [
        (json!({}), "operation"),
        (json!({"operation": "START"}), "cleanup"),
        (
            json!({"operation": "START", "recoveryInstanceIDs": ["i-1"]}),
            "recoveryInstanceIDs[0]",
        ),
        (
            json!({"operation": "START", "cleanup": {"action": "NONE", "keepSeconds": 0, "keyBase": "x", "since": "2026-11-25T00:00:00Z"}}),
            "cleanup.action",
        ),
        (
            json!({"operation": "START", "cleanup": {"action": "TERMINATE_DRILL_INSTANCES", "keepSeconds": 0, "keyBase": "x", "since": "yesterday"}}),
            "cleanup.since",
        ),
    ] {
        match clean_up(&env, payload.clone()).await {
            Err(TaskError::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{payload}"),
            other => panic!("{payload}: {other:?}"),
        }
    }
    assert_eq!(mutating_calls(&env), 0);
    assert_eq!(
        env.calls("DescribeJobs") + env.calls("DescribeRecoveryInstances"),
        0
    );
}

// ---- the run report (report) -----------------------------------------------------------------

#[tokio::test]
async fn a_bad_report_request_names_the_field_and_calls_nothing() {
    let env = env(Faults::default()).await;
    // S3 at a closed port: any call would end in a connection error, not InvalidInput.
    let closed = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let s3_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let clients = report::Clients {
        drs: env.clients.drs.clone(),
        backup: env.clients.backup.clone(),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(s3_url)
                .force_path_style(true)
                .region(Region::new("eu-west-1"))
                .credentials_provider(Credentials::new("AKIDLOCAL", "local", None, None, "test"))
                .build(),
        ),
        bucket: "reports".into(),
        lease: None,
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/report");
    for (sample, field) in [
        ("invalid-outcome-state.json", "run.settled.outcome.state"),
        ("invalid-operation.json", "operation"),
    ] {
        let payload: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join(sample)).unwrap()).unwrap();
        let err = report::handle(&clients, event(payload)).await.unwrap_err();
        let TaskError::InvalidInput { field: f, .. } = &err else {
            panic!("{sample}: {err:?}")
        };
        assert_eq!(f, field, "{sample}");
        assert_eq!(err.name(), "InvalidInput");
    }
    let mut payload: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("write-after-a-drill.json")).unwrap(),
    )
    .unwrap();
    payload["run"]["cleanup"]["since"] = json!("yesterday");
    let err = report::handle(&clients, event(payload)).await.unwrap_err();
    assert!(
        matches!(&err, TaskError::InvalidInput { field, .. } if field == "run.cleanup.since"),
        "{err:?}"
    );
    let calls: u64 = env.sim.store.lock().unwrap().calls.values().sum();
    assert_eq!(calls, 0, "bad input makes no AWS call");
}

#[tokio::test]
async fn a_round_checked_during_an_outage_is_retried_within_the_budget_and_named_after_it() {
    let env = env(Faults::default()).await;
    let job = env.recover(&[S1], false, "run-8#w0#b0").await.unwrap();
    env.sim.store.lock().unwrap().outage_until_ms = Some(i64::MAX);
    let round = |entered: &str| {
        event(json!({
            "operation": "ROUND", "wave": "wave 0 (db)", "giveUpAfterSeconds": 600,
            "jobs": [job], "stepEnteredAt": entered,
        }))
    };
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    let just_now = now
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap();
    // Inside the budget: the error the workflow retries.
    let err = check_round(&env.clients, round(&just_now))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "AwsUnavailable", "{err}");
    // Entered more than the budget (30 minutes) ago: the outage, naming the round's job.
    let err = check_round(&env.clients, round("2026-01-01T00:00:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "AwsOutage", "{err}");
    let JobRef::DrsJob(started) = &job else {
        panic!("{job:?}")
    };
    let text = err.to_string();
    assert!(
        text.contains("outage budget (1800 s)")
            && text.contains("DescribeJobs: ServiceUnavailable")
            && text.contains(&format!("may still be running: {}", started.job_id)),
        "{text}"
    );
    // The outage over, the same late step checks the job as usual.
    env.sim.store.lock().unwrap().outage_until_ms = None;
    let report = check_round(&env.clients, round("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_ne!(report.state, JobState::Failed);
}
