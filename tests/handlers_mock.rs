//! Handler tests through the real SDK clients with `aws-smithy-mocks`: the requests each
//! handler sends, how each AWS error class is named, that a retried start finds its job instead
//! of starting a second one, and that bad input makes no call at all.

mod common;
use common::{check_round, event};
use std::time::Duration;

use aws_sdk_backup::operation::describe_restore_job::DescribeRestoreJobOutput;
use aws_sdk_backup::operation::start_restore_job::StartRestoreJobOutput;
use aws_sdk_backup::types::RestoreJobStatus;
use aws_sdk_drs::config::retry::RetryConfig;
use aws_sdk_drs::operation::describe_job_log_items::DescribeJobLogItemsOutput;
use aws_sdk_drs::operation::describe_jobs::DescribeJobsOutput;
use aws_sdk_drs::operation::start_failback_launch::StartFailbackLaunchOutput;
use aws_sdk_drs::operation::start_recovery::StartRecoveryOutput;
use aws_sdk_drs::types::{
    Job, JobLog, JobLogEvent, JobLogEventData, JobStatus, LaunchStatus, ParticipatingServer,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use dr_orchestrator::config::Config;
use dr_orchestrator::contract::{JobRef, JobReport, JobState};
use dr_orchestrator::error::TaskError;
use dr_orchestrator::handlers::check_status::Clients;
use dr_orchestrator::handlers::{start_failback, start_recovery, start_restore};
use dr_orchestrator::idempotency::IDEMPOTENCY_TAG;
use serde_json::{json, Value};

const JOB: &str = "drsjob-1234567890abcdefg";
const S1: &str = "s-1111111111aaaaaaa";
const S2: &str = "s-2222222222bbbbbbb";
const KEY: &str = "arn:aws:states:eu-west-1:123456789012:execution:recovery-plan:run-1#w0#b0";

fn drs(rules: &[&Rule]) -> aws_sdk_drs::Client {
    mock_client!(aws_sdk_drs, RuleMode::MatchAny, rules, |c| c.retry_config(
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1))
    ))
}

fn backup(rules: &[&Rule]) -> aws_sdk_backup::Client {
    mock_client!(aws_sdk_backup, RuleMode::MatchAny, rules)
}

fn clients(drs_rules: &[&Rule], backup_rules: &[&Rule]) -> Clients {
    Clients {
        drs: drs(drs_rules),
        backup: backup(backup_rules),
    }
}

fn recovery_payload() -> Value {
    json!({
        "isDrill": true,
        "sourceServers": [{"sourceServerID": S1}, {"sourceServerID": S2, "recoverySnapshotID": "pit-1234567890abcdefg"}],
        "tags": {"team": "sre"},
        "idempotencyKey": KEY
    })
}

fn server(id: &str, status: LaunchStatus, instance: Option<&str>) -> ParticipatingServer {
    ParticipatingServer::builder()
        .source_server_id(id)
        .launch_status(status)
        .set_recovery_instance_id(instance.map(str::to_owned))
        .build()
}

fn job(status: JobStatus, servers: Vec<ParticipatingServer>, key: &str) -> Job {
    Job::builder()
        .job_id(JOB)
        .status(status)
        .creation_date_time("2026-11-23T01:00:00Z")
        .set_participating_servers(Some(servers))
        .tags(IDEMPOTENCY_TAG, key)
        .build()
        .unwrap()
}

fn no_jobs() -> Rule {
    mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| DescribeJobsOutput::builder().build())
}

fn http_error(
    status: u16,
    error_type: &'static str,
    retry_after: Option<&'static str>,
) -> aws_sdk_drs::config::http::HttpResponse {
    let mut resp = aws_sdk_drs::config::http::HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(format!(r#"{{"message":"{error_type} from the mock"}}"#)),
    );
    resp.headers_mut().insert("x-amzn-errortype", error_type);
    resp.headers_mut()
        .insert("content-type", "application/json");
    if let Some(secs) = retry_after {
        resp.headers_mut().insert("Retry-After", secs);
    }
    resp
}

#[tokio::test]
async fn start_recovery_sends_the_servers_drill_flag_and_idempotency_tag() {
    let start = mock!(aws_sdk_drs::Client::start_recovery)
        .match_requests(|r| {
            r.is_drill() == Some(true)
                && r.source_servers().len() == 2
                && r.source_servers()[1].recovery_snapshot_id() == Some("pit-1234567890abcdefg")
                && r.tags()
                    .and_then(|t| t.get(IDEMPOTENCY_TAG))
                    .map(String::as_str)
                    == Some(KEY)
                && r.tags().and_then(|t| t.get("team")).map(String::as_str) == Some("sre")
        })
        .then_output(|| {
            StartRecoveryOutput::builder()
                .job(job(JobStatus::Pending, vec![], KEY))
                .build()
        });
    let lookup = no_jobs();
    let client = drs(&[&lookup, &start]);

    let out = start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap();

    assert_eq!(start.num_calls(), 1);
    assert_eq!(lookup.num_calls(), 1);
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"kind": "DRS_JOB", "jobID": JOB, "operation": "DRILL", "sourceServerIDs": [S1, S2], "reused": false})
    );
}

#[tokio::test]
async fn retried_start_returns_the_existing_job_without_a_second_start_recovery() {
    let lookup = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(JobStatus::Started, vec![], "some other run#w0#b0"))
            .items(job(
                JobStatus::Started,
                vec![
                    server(S2, LaunchStatus::InProgress, None),
                    server(S1, LaunchStatus::Pending, None),
                ],
                KEY,
            ))
            .build()
    });
    let start = mock!(aws_sdk_drs::Client::start_recovery).then_output(|| {
        StartRecoveryOutput::builder()
            .job(job(JobStatus::Pending, vec![], KEY))
            .build()
    });
    let client = drs(&[&lookup, &start]);

    let out = start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap();

    assert_eq!(
        start.num_calls(),
        0,
        "a second StartRecovery would launch the servers twice"
    );
    match out {
        JobRef::DrsJob(j) => {
            assert!(j.reused);
            assert_eq!(j.job_id, JOB);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_key_found_on_a_job_for_other_servers_is_a_conflict_and_starts_nothing() {
    let lookup = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(
                JobStatus::Started,
                vec![server("s-9999999999zzzzzzz", LaunchStatus::Pending, None)],
                KEY,
            ))
            .build()
    });
    let start = mock!(aws_sdk_drs::Client::start_recovery)
        .then_output(|| StartRecoveryOutput::builder().build());
    let client = drs(&[&lookup, &start]);

    let err = start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap_err();

    assert_eq!(err.name(), "Conflict");
    assert_eq!(start.num_calls(), 0);
}

#[tokio::test]
async fn bad_input_makes_zero_aws_calls() {
    let lookup = no_jobs();
    let start = mock!(aws_sdk_drs::Client::start_recovery)
        .then_output(|| StartRecoveryOutput::builder().build());
    let failback = mock!(aws_sdk_drs::Client::start_failback_launch)
        .then_output(|| StartFailbackLaunchOutput::builder().build());
    let restore = mock!(aws_sdk_backup::Client::start_restore_job)
        .then_output(|| StartRestoreJobOutput::builder().restore_job_id("r").build());
    let drs_client = drs(&[&lookup, &start, &failback]);
    let backup_client = backup(&[&restore]);
    let config = Config::default();

    let mut bad_server = recovery_payload();
    bad_server["sourceServers"][1]["sourceServerID"] = json!("s-short");
    let mut no_drill_flag = recovery_payload();
    no_drill_flag.as_object_mut().unwrap().remove("isDrill");
    let mut typo = recovery_payload();
    typo["isDril"] = json!(true);
    for (payload, field) in [
        (bad_server, "sourceServers[1].sourceServerID"),
        (no_drill_flag, "payload"),
        (typo, "isDril"),
        (json!("not an object"), "payload"),
    ] {
        let err = start_recovery::handle(&drs_client, &config, event(payload))
            .await
            .unwrap_err();
        match &err {
            TaskError::InvalidInput { field: f, .. } => assert_eq!(f, field, "{err}"),
            other => panic!("{other:?}"),
        }
    }
    let err = start_failback::handle(
        &drs_client,
        &config,
        event(json!({"recoveryInstanceIDs": ["i-123"], "idempotencyKey": KEY})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InvalidInput");
    let err = start_restore::handle(
        &backup_client,
        event(json!({"restore": {"recoveryPointArn": "not-an-arn", "metadata": {}}, "idempotencyKey": KEY})),
    )
    .await
    .unwrap_err();
    assert_eq!(err.name(), "InvalidInput");

    for rule in [&lookup, &start, &failback, &restore] {
        assert_eq!(rule.num_calls(), 0);
    }
}

#[tokio::test]
async fn unparseable_payload_names_the_field_and_the_problem() {
    let client = drs(&[]);
    let mut payload = recovery_payload();
    payload["sourceServers"][0]["sourceServerID"] = json!(42);
    let err = start_recovery::handle(&client, &Config::default(), event(payload))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "InvalidInput");
    let text = err.to_string();
    assert!(text.contains("sourceServers[0].sourceServerID"), "{text}");
    assert!(text.contains("expected a string"), "{text}");

    let mut missing = recovery_payload();
    missing.as_object_mut().unwrap().remove("isDrill");
    let err = start_recovery::handle(&client, &Config::default(), event(missing))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing field `isDrill`"), "{err}");
}

async fn start_recovery_error(
    status: u16,
    error_type: &'static str,
    retry_after: Option<&'static str>,
) -> (TaskError, usize) {
    let lookup = no_jobs();
    let start = mock!(aws_sdk_drs::Client::start_recovery)
        .then_http_response(move || http_error(status, error_type, retry_after));
    let client = drs(&[&lookup, &start]);
    let err = start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap_err();
    (err, start.num_calls())
}

#[tokio::test]
async fn each_aws_error_class_has_its_step_functions_name() {
    for (status, error_type, name) in [
        (409, "ConflictException", "Conflict"),
        (402, "ServiceQuotaExceededException", "QuotaExceeded"),
        (429, "ThrottlingException", "Throttled"),
        (500, "InternalServerException", "AwsUnavailable"),
        (400, "UninitializedAccountException", "AccessDenied"),
        (400, "ValidationException", "AwsRejected"),
    ] {
        let (err, calls) = start_recovery_error(status, error_type, None).await;
        assert_eq!(err.name(), name, "{error_type}: {err}");
        assert!(err.to_string().contains(error_type), "{err}");
        assert_eq!(
            calls, 1,
            "{error_type}: StartRecovery must not be retried inside the SDK"
        );
    }
}

#[tokio::test]
async fn throttled_start_carries_retry_after_seconds() {
    let (err, _) = start_recovery_error(429, "ThrottlingException", Some("12")).await;
    assert_eq!(
        err,
        TaskError::Throttled {
            message: "StartRecovery: ThrottlingException: ThrottlingException from the mock".into(),
            retry_after_seconds: Some(12),
        }
    );
}

#[tokio::test]
async fn throttled_describe_jobs_is_retried_by_the_sdk() {
    let lookup = mock!(aws_sdk_drs::Client::describe_jobs)
        .sequence()
        .http_response(|| http_error(429, "ThrottlingException", Some("1")))
        .output(|| DescribeJobsOutput::builder().build())
        .build();
    let start = mock!(aws_sdk_drs::Client::start_recovery).then_output(|| {
        StartRecoveryOutput::builder()
            .job(job(JobStatus::Pending, vec![], KEY))
            .build()
    });
    let client = drs(&[&lookup, &start]);

    start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap();

    assert_eq!(lookup.num_calls(), 2);
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn start_failback_names_a_field_it_does_not_take_and_calls_nothing() {
    let lookup = no_jobs();
    let start = mock!(aws_sdk_drs::Client::start_failback_launch).then_output(|| {
        StartFailbackLaunchOutput::builder()
            .job(job(JobStatus::Pending, vec![], KEY))
            .build()
    });
    let client = drs(&[&lookup, &start]);
    // Recovery reports no longer carry a launched map: a payload with one is refused by name.
    let payload = json!({
        "launched": {S1: "i-00000000000000a1"},
        "idempotencyKey": "run-1#failback"
    });

    let err = start_failback::handle(&client, &Config::default(), event(payload))
        .await
        .unwrap_err();

    assert_eq!(err.name(), "InvalidInput");
    assert!(err.to_string().contains("launched"), "{err}");
    assert_eq!((lookup.num_calls(), start.num_calls()), (0, 0));
}

#[tokio::test]
async fn start_restore_sends_the_same_token_on_every_retry() {
    let start = mock!(aws_sdk_backup::Client::start_restore_job).then_compute_output(|r| {
        StartRestoreJobOutput::builder()
            .restore_job_id(format!("token:{}", r.idempotency_token().unwrap_or("none")))
            .build()
    });
    let client = backup(&[&start]);
    let payload = json!({
        "restore": {
            "recoveryPointArn": "arn:aws:backup:eu-west-1:123456789012:recovery-point:abc",
            "metadata": {"file-system-id": "fs-0123456789abcdef0", "newFileSystem": "true"},
            "resourceType": "EFS"
        },
        "idempotencyKey": KEY
    });

    let first = start_restore::handle(&client, event(payload.clone()))
        .await
        .unwrap();
    let second = start_restore::handle(&client, event(payload))
        .await
        .unwrap();

    assert_eq!(first, second);
    let JobRef::RestoreJob(r) = first else {
        panic!()
    };
    assert_eq!(r.restore_job_id.len(), "token:".len() + 32);
    assert_ne!(
        r.restore_job_id, "token:00000000-0000-4000-8000-000000000000",
        "the SDK's default token was sent"
    );
}

fn wave_of(job: Value) -> Value {
    json!({"wave": "wave 0 (data)", "giveUpAfterSeconds": 600, "jobs": [job]})
}

fn drs_ref() -> Value {
    wave_of(
        json!({"kind": "DRS_JOB", "jobID": JOB, "operation": "DRILL", "sourceServerIDs": [S1, S2], "label": "batch 0"}),
    )
}

#[tokio::test]
async fn check_status_reports_a_failed_server_with_its_job_log_reason() {
    let describe = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(
                JobStatus::Completed,
                vec![
                    server(S1, LaunchStatus::Launched, Some("i-00000000000000a1")),
                    server(S2, LaunchStatus::Failed, None),
                ],
                KEY,
            ))
            .build()
    });
    let log = mock!(aws_sdk_drs::Client::describe_job_log_items)
        .match_requests(|r| r.job_id() == Some(JOB))
        .then_output(|| {
            DescribeJobLogItemsOutput::builder()
                .items(JobLog::builder().event(JobLogEvent::JobStart).build())
                .items(
                    JobLog::builder()
                        .event(JobLogEvent::LaunchFailed)
                        .event_data(
                            JobLogEventData::builder()
                                .source_server_id(S2)
                                .raw_error("InsufficientInstanceCapacity")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let c = clients(&[&describe, &log], &[]);

    let report = check_round(&c, event(drs_ref())).await.unwrap();

    assert_eq!(report.state, JobState::Failed);
    assert_eq!(report.error, "RecoveryFailed");
    let JobReport::DrsJob(d) = &report.jobs[0] else {
        panic!()
    };
    assert_eq!(d.not_launched[0].source_server_id, S2);
    assert_eq!(d.counts.launched, 1);
    assert_eq!(
        d.not_launched[0].reason.as_deref(),
        Some("LAUNCH_FAILED: InsufficientInstanceCapacity")
    );
    assert!(
        report.cause.contains(&format!(
            "wave 0 (data): 1 of 1 jobs failed: batch 0 (job {JOB}): 1 of 2 servers did not launch: {S2} FAILED (LAUNCH_FAILED: InsufficientInstanceCapacity)"
        )),
        "{}",
        report.cause
    );
    let wire = serde_json::to_value(&report).unwrap();
    assert_eq!(wire["state"], "FAILED");
    assert_eq!(wire["jobs"][0]["kind"], "DRS_JOB");
}

#[tokio::test]
async fn check_status_does_not_trust_completed_alone() {
    let describe = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(
                JobStatus::Completed,
                vec![
                    server(S1, LaunchStatus::Launched, Some("i-00000000000000a1")),
                    server(S2, LaunchStatus::Pending, None),
                ],
                KEY,
            ))
            .build()
    });
    let log = mock!(aws_sdk_drs::Client::describe_job_log_items)
        .then_output(|| DescribeJobLogItemsOutput::builder().build());
    let report = check_round(&clients(&[&describe, &log], &[]), event(drs_ref()))
        .await
        .unwrap();
    assert_eq!(report.state, JobState::Failed);
}

#[tokio::test]
async fn check_status_succeeds_when_completed_and_all_launched_without_reading_the_log() {
    let describe = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(
                JobStatus::Completed,
                vec![
                    server(S1, LaunchStatus::Launched, Some("i-00000000000000a1")),
                    server(S2, LaunchStatus::Launched, Some("i-00000000000000a2")),
                ],
                KEY,
            ))
            .build()
    });
    let log = mock!(aws_sdk_drs::Client::describe_job_log_items)
        .then_output(|| DescribeJobLogItemsOutput::builder().build());
    let report = check_round(&clients(&[&describe, &log], &[]), event(drs_ref()))
        .await
        .unwrap();
    assert_eq!(report.state, JobState::Succeeded);
    assert_eq!(log.num_calls(), 0);
}

#[tokio::test]
async fn check_status_names_an_unknown_launch_status() {
    let describe = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        DescribeJobsOutput::builder()
            .items(job(
                JobStatus::Started,
                vec![server(S1, LaunchStatus::from("HIBERNATING"), None)],
                KEY,
            ))
            .build()
    });
    let err = check_round(&clients(&[&describe], &[]), event(drs_ref()))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "UnknownStatus");
    assert!(err.to_string().contains("HIBERNATING"), "{err}");
}

#[tokio::test]
async fn check_status_of_a_job_drs_does_not_list_yet_is_retryable_not_listed_yet() {
    let describe = no_jobs();
    let err = check_round(&clients(&[&describe], &[]), event(drs_ref()))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "NotListedYet");
}

#[tokio::test]
async fn check_status_reports_restores() {
    let restore_ref = wave_of(
        json!({"kind": "RESTORE_JOB", "restoreJobId": "r-1", "recoveryPointArn": "arn:aws:backup:eu-west-1:123456789012:recovery-point:abc"}),
    );
    for (status, message, created, state) in [
        (RestoreJobStatus::Running, None, None, JobState::InProgress),
        (
            RestoreJobStatus::Completed,
            None,
            Some("arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/fs-1"),
            JobState::Succeeded,
        ),
        (
            RestoreJobStatus::Failed,
            Some("Access denied to KMS key"),
            None,
            JobState::Failed,
        ),
        (
            RestoreJobStatus::Aborted,
            Some("Aborted by user"),
            None,
            JobState::Failed,
        ),
    ] {
        let label = status.as_str().to_owned();
        let describe = mock!(aws_sdk_backup::Client::describe_restore_job)
            .match_requests(|r| r.restore_job_id() == Some("r-1"))
            .then_output(move || {
                DescribeRestoreJobOutput::builder()
                    .status(status.clone())
                    .percent_done("40.00%")
                    .set_status_message(message.map(str::to_owned))
                    .set_created_resource_arn(created.map(str::to_owned))
                    .build()
            });
        let report = check_round(&clients(&[], &[&describe]), event(restore_ref.clone()))
            .await
            .unwrap();
        assert_eq!(report.state, state, "{label}");
        if let Some(m) = message {
            assert_eq!(report.error, "RestoreFailed");
            assert!(report.cause.contains(m), "{}", report.cause);
        }
        let JobReport::RestoreJob(r) = &report.jobs[0] else {
            panic!()
        };
        assert_eq!(r.created_resource_arn.as_deref(), created, "{label}");
    }
}

#[tokio::test]
async fn a_drill_job_never_satisfies_a_real_recoverys_key() {
    let lookup = mock!(aws_sdk_drs::Client::describe_jobs).then_output(|| {
        let mut drill = job(
            JobStatus::Started,
            vec![
                server(S1, LaunchStatus::InProgress, None),
                server(S2, LaunchStatus::InProgress, None),
            ],
            KEY,
        );
        drill.initiated_by = Some(aws_sdk_drs::types::InitiatedBy::StartDrill);
        drill.r#type = Some(aws_sdk_drs::types::JobType::Launch);
        DescribeJobsOutput::builder().items(drill).build()
    });
    let start = mock!(aws_sdk_drs::Client::start_recovery)
        .then_output(|| StartRecoveryOutput::builder().build());
    let client = drs(&[&lookup, &start]);
    let mut real = recovery_payload();
    real["isDrill"] = json!(false);

    let err = start_recovery::handle(&client, &Config::default(), event(real))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "Conflict");
    assert!(err.to_string().contains("START_DRILL"), "{err}");
    assert_eq!(start.num_calls(), 0);

    let reused = start_recovery::handle(&client, &Config::default(), event(recovery_payload()))
        .await
        .unwrap();
    assert!(matches!(reused, JobRef::DrsJob(j) if j.reused));
}
