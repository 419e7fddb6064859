//! Waking a waiting round early (pure): which jobs a round's wait registers, and which AWS event
//! says that a job has something new to look at.
//!
//! A round waits on a Step Functions task token with a timeout of `pollIntervalSeconds`.
//! `wait-for-jobs` registers the token under each of the round's jobs; `on-event` records, per
//! job, which of its servers (or its restore) AWS reported as ended. When every server of a job
//! has reported, the round is woken once for that job, and `check-status` (the only judge)
//! checks the round as it does after a poll. An event is a hint: a lost one only means the
//! wait times out at the poll interval; a duplicate adds a server that is already counted; a
//! job is woken at most once, so an event that arrives before DRS lists the job as ended cannot
//! make the round spin.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::Tracked;
use crate::error::TaskError;

/// The EventBridge `detail-type` of DRS's per-server launch result.
pub const DRS_LAUNCH_RESULT: &str = "DRS Source Server Launch Result";
/// The EventBridge `detail-type` of an AWS Backup restore job's status change.
pub const BACKUP_RESTORE_STATE_CHANGE: &str = "Restore Job State Change";
/// A restore job's statuses after which it does not change (the Backup model's
/// `RestoreJobStatus` without `PENDING` and `RUNNING`).
pub const RESTORE_ENDED: [&str; 3] = ["COMPLETED", "ABORTED", "FAILED"];
/// How long a registration is kept (DynamoDB TTL): longer than a round can wait
/// (`giveUpAfterSeconds` is at most a day).
pub const REGISTRATION_TTL_SECONDS: u64 = 2 * 24 * 3600;
/// `SendTaskSuccess`'s `taskToken`: 1 to 2048 characters.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// What one wait can register: a round holds at most `maxConcurrentJobs` (20) jobs.
pub const MAX_JOBS_PER_WAIT: usize = 20;

/// Input of `wait-for-jobs`: the round's jobs as `check-status` takes them, and the waiting
/// task's token (`$$.Task.Token`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaitInput {
    pub jobs: Vec<Tracked>,
    pub token: String,
}

/// One job a wait registers its token under: `key` names the job in the wake table,
/// `expected` is how many reports (servers, or one restore) mean it has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub key: String,
    pub expected: u64,
}

/// What an event says: `reporter` (a source server's ARN, or the restore job) of the job
/// `key` has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub key: String,
    pub reporter: String,
}

/// The wake-table key of a DRS job.
pub fn drs_key(job_id: &str) -> String {
    format!("drs:{job_id}")
}

/// The wake-table key of an AWS Backup restore job.
pub fn restore_key(restore_job_id: &str) -> String {
    format!("backup:{restore_job_id}")
}

/// Checks a wait's input before any AWS call.
pub fn validate(input: &WaitInput) -> Result<(), TaskError> {
    let chars = input.token.chars().count();
    if chars == 0 || chars > MAX_TOKEN_CHARS {
        return Err(TaskError::invalid(
            "token",
            format!("must be 1 to {MAX_TOKEN_CHARS} characters (a Step Functions task token), got {chars}"),
        ));
    }
    if input.jobs.len() > MAX_JOBS_PER_WAIT {
        return Err(TaskError::invalid(
            "jobs",
            format!(
                "at most {MAX_JOBS_PER_WAIT} jobs (one round), got {}",
                input.jobs.len()
            ),
        ));
    }
    Ok(())
}

/// The jobs of a round a wait registers under: every started job; a start that failed has
/// nothing to wait for.
pub fn registrations(jobs: &[Tracked]) -> Vec<Registration> {
    jobs.iter()
        .filter_map(|job| match job {
            Tracked::DrsJob(d) => Some(Registration {
                key: drs_key(&d.job_id),
                expected: (d.source_server_ids.len() + d.recovery_instance_ids.len()).max(1) as u64,
            }),
            Tracked::RestoreJob(r) => Some(Registration {
                key: restore_key(&r.restore_job_id),
                expected: 1,
            }),
            Tracked::NotStarted(_) => None,
        })
        .collect()
}

/// What an EventBridge event reports, if anything a round may wait for: a DRS launch result
/// (any `state`: the check judges it) or a restore job that has ended. Anything else, or an
/// event without the fields that name the job, is `None`.
pub fn report_of(event: &CloudWatchEvent<Value>) -> Option<Report> {
    let detail = event.detail.as_ref()?;
    match (event.source.as_deref(), event.detail_type.as_deref()) {
        (Some("aws.drs"), Some(DRS_LAUNCH_RESULT)) => {
            let job_id = detail.get("job-id")?.as_str()?;
            let server = event.resources.first()?;
            Some(Report {
                key: drs_key(job_id),
                reporter: server.clone(),
            })
        }
        (Some("aws.backup"), Some(BACKUP_RESTORE_STATE_CHANGE)) => {
            let id = detail.get("restoreJobId")?.as_str()?;
            let status = detail.get("status")?.as_str()?;
            RESTORE_ENDED.contains(&status).then(|| Report {
                key: restore_key(id),
                reporter: "restore".to_owned(),
            })
        }
        _ => None,
    }
}

/// Reads an EventBridge event from a Lambda payload: a payload that is not one is the
/// caller's fault (`InvalidInput`), named by its field.
pub fn parse_event(payload: Value) -> Result<CloudWatchEvent<Value>, TaskError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        TaskError::invalid(
            if path == "." { "event" } else { &path },
            format!("not an EventBridge event: {}", e.inner()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn drs_event(job: &str, server: &str) -> Value {
        json!({
            "version": "0", "id": "e1", "detail-type": DRS_LAUNCH_RESULT, "source": "aws.drs",
            "account": "123456789012", "time": "2026-12-06T05:00:00Z", "region": "eu-west-1",
            "resources": [format!("arn:aws:drs:eu-west-1:123456789012:source-server/{server}")],
            "detail": {"state": "SUCCEEDED", "job-id": job}
        })
    }

    fn restore_event(id: &str, status: &str) -> Value {
        json!({
            "version": "0", "id": "e2", "detail-type": BACKUP_RESTORE_STATE_CHANGE,
            "source": "aws.backup", "account": "123456789012", "time": "2026-12-06T05:00:00Z",
            "region": "eu-west-1", "resources": [],
            "detail": {"restoreJobId": id, "status": status}
        })
    }

    #[test]
    fn a_launch_result_reports_its_server_under_its_job() {
        let event = parse_event(drs_event("drsjob-1", "s-0a1b2c3d4e5f60001")).unwrap();
        assert_eq!(
            report_of(&event),
            Some(Report {
                key: "drs:drsjob-1".into(),
                reporter: "arn:aws:drs:eu-west-1:123456789012:source-server/s-0a1b2c3d4e5f60001"
                    .into()
            })
        );
    }

    #[test]
    fn only_an_ended_restore_reports() {
        for status in RESTORE_ENDED {
            let event = parse_event(restore_event("R1", status)).unwrap();
            assert_eq!(report_of(&event).unwrap().key, "backup:R1");
        }
        for status in ["PENDING", "RUNNING"] {
            let event = parse_event(restore_event("R1", status)).unwrap();
            assert_eq!(report_of(&event), None, "{status}");
        }
    }

    #[test]
    fn other_events_report_nothing() {
        let mut other = drs_event("drsjob-1", "s-1");
        other["detail-type"] = json!("DRS Source Server Data Replication Stalled Change");
        assert_eq!(report_of(&parse_event(other).unwrap()), None);
        let mut no_job = drs_event("drsjob-1", "s-1");
        no_job["detail"] = json!({"state": "SUCCEEDED"});
        assert_eq!(report_of(&parse_event(no_job).unwrap()), None);
        let mut no_server = drs_event("drsjob-1", "s-1");
        no_server["resources"] = json!([]);
        assert_eq!(report_of(&parse_event(no_server).unwrap()), None);
    }

    #[test]
    fn a_payload_that_is_not_an_event_names_the_field() {
        let err = parse_event(json!({"time": "yesterday", "resources": []})).unwrap_err();
        assert!(
            matches!(&err, TaskError::InvalidInput { field, .. } if field == "time"),
            "{err:?}"
        );
    }

    #[test]
    fn a_round_registers_its_started_jobs_with_their_server_counts() {
        let jobs: Vec<Tracked> = serde_json::from_value(json!([
            {"kind": "DRS_JOB", "jobID": "drsjob-1", "operation": "DRILL",
             "sourceServerIDs": ["s-1", "s-2", "s-3"]},
            {"kind": "RESTORE_JOB", "restoreJobId": "R1", "recoveryPointArn": "arn:rp"},
            {"kind": "NOT_STARTED", "error": "Conflict"},
            {"kind": "DRS_JOB", "jobID": "drsjob-2", "operation": "FAILBACK",
             "recoveryInstanceIDs": ["i-0123456789abcdef0"]}
        ]))
        .unwrap();
        assert_eq!(
            registrations(&jobs),
            vec![
                Registration {
                    key: "drs:drsjob-1".into(),
                    expected: 3
                },
                Registration {
                    key: "backup:R1".into(),
                    expected: 1
                },
                Registration {
                    key: "drs:drsjob-2".into(),
                    expected: 1
                },
            ]
        );
    }

    #[test]
    fn a_wait_without_a_token_or_with_too_many_jobs_is_refused() {
        let empty = WaitInput {
            jobs: vec![],
            token: String::new(),
        };
        assert!(
            matches!(validate(&empty), Err(TaskError::InvalidInput { field, .. }) if field == "token")
        );
        // SendTaskSuccess takes a token of 1 to 2048 characters.
        let long = WaitInput {
            jobs: vec![],
            token: "t".repeat(2049),
        };
        assert!(
            matches!(validate(&long), Err(TaskError::InvalidInput { field, .. }) if field == "token")
        );
        let ok = WaitInput {
            jobs: vec![],
            token: "t".repeat(2048),
        };
        assert!(validate(&ok).is_ok());
        // A round holds at most maxConcurrentJobs (20) jobs: a wait of 21 is not a round's.
        let job = |n: usize| -> Tracked {
            serde_json::from_value(json!({"kind": "DRS_JOB", "jobID": format!("drsjob-{n}"),
                                          "operation": "DRILL", "sourceServerIDs": ["s-1"]}))
            .unwrap()
        };
        let twenty = WaitInput {
            jobs: (0..20).map(job).collect(),
            token: "t".into(),
        };
        assert!(validate(&twenty).is_ok());
        let twenty_one = WaitInput {
            jobs: (0..21).map(job).collect(),
            token: "t".into(),
        };
        let err = validate(&twenty_one).unwrap_err();
        assert!(
            matches!(&err, TaskError::InvalidInput { field, constraint } if field == "jobs" && constraint.contains("got 21")),
            "{err:?}"
        );
    }
}
