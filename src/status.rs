//! Judges where a job stands from what AWS reports, with no I/O. A DRS job counts as
//! `SUCCEEDED` only when it is `COMPLETED` and every server it was asked to launch is
//! `LAUNCHED`; a job that completed without launching everything is `FAILED`. A status value
//! this version does not know is an error, never an endless `IN_PROGRESS`.

use std::collections::BTreeMap;

use crate::contract::{
    DrsJobRef, DrsJobStatus, JobState, LaunchCounts, LaunchStatus, ServerOutcome,
};
use crate::error::TaskError;

/// One participating server as DRS reports it; statuses are the raw wire strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedServer {
    pub source_server_id: String,
    pub recovery_instance_id: Option<String>,
    pub launch_status: String,
}

/// What DRS says about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedJob {
    pub job_id: String,
    pub status: String,
    pub servers: Vec<ObservedServer>,
    pub created: Option<String>,
    pub ended: Option<String>,
}

/// Parses a DRS `LaunchStatus`.
pub fn launch_status(raw: &str) -> Result<LaunchStatus, TaskError> {
    Ok(match raw {
        "PENDING" => LaunchStatus::Pending,
        "IN_PROGRESS" => LaunchStatus::InProgress,
        "LAUNCHED" => LaunchStatus::Launched,
        "FAILED" => LaunchStatus::Failed,
        "TERMINATED" => LaunchStatus::Terminated,
        other => {
            return Err(TaskError::UnknownStatus {
                what: "DRS launch status",
                value: other.to_owned(),
            })
        }
    })
}

/// At most this many servers that did not launch are listed per job (the rest are counted).
pub const MAX_LISTED_SERVERS: usize = 25;
/// A failure reason from AWS is cut to this many characters.
pub const MAX_REASON_CHARS: usize = 300;

/// Judges a DRS job against the servers its reference asked for. Failure reasons are added,
/// and the listing bounded, by [`finish_drs`].
pub fn judge_drs(asked: &DrsJobRef, job: &ObservedJob) -> Result<DrsJobStatus, TaskError> {
    let completed = match job.status.as_str() {
        "PENDING" | "STARTED" => false,
        "COMPLETED" => true,
        other => {
            return Err(TaskError::UnknownStatus {
                what: "DRS job status",
                value: other.to_owned(),
            })
        }
    };

    let mut servers = Vec::with_capacity(job.servers.len());
    let mut counts = LaunchCounts::default();
    for s in &job.servers {
        let status = launch_status(&s.launch_status)?;
        match status {
            LaunchStatus::Pending => counts.pending += 1,
            LaunchStatus::InProgress => counts.in_progress += 1,
            LaunchStatus::Launched => counts.launched += 1,
            LaunchStatus::Failed => counts.failed += 1,
            LaunchStatus::Terminated => counts.terminated += 1,
        }
        servers.push(ServerOutcome {
            source_server_id: s.source_server_id.clone(),
            recovery_instance_id: s.recovery_instance_id.clone(),
            launch_status: status,
            reason: None,
        });
    }

    let unsettled = counts.pending + counts.in_progress > 0;
    if completed {
        for s in servers.iter_mut() {
            if is_unsettled(s.launch_status) {
                s.reason = Some(format!(
                    "the job completed while the server was still {}",
                    wire(s.launch_status)
                ));
            }
        }
        let missing: Vec<&str> = asked_ids(asked)
            .filter(|id| !servers.iter().any(|s| covers(s, id)))
            .collect();
        for missing in missing {
            counts.failed += 1;
            servers.push(ServerOutcome {
                source_server_id: missing.to_owned(),
                recovery_instance_id: None,
                launch_status: LaunchStatus::Failed,
                reason: Some("DRS did not include this server in the job".into()),
            });
        }
    }

    let any_failed = servers.iter().any(|s| {
        s.launch_status != LaunchStatus::Launched && (completed || !is_unsettled(s.launch_status))
    });

    let state = if completed {
        if !any_failed && !servers.is_empty() {
            JobState::Succeeded
        } else {
            JobState::Failed
        }
    } else if !unsettled && any_failed {
        // Every server has settled and some did not launch: the outcome is known already.
        JobState::Failed
    } else {
        JobState::InProgress
    };

    let not_launched: Vec<_> = servers
        .into_iter()
        .filter(|s| s.launch_status != LaunchStatus::Launched)
        .collect();
    Ok(DrsJobStatus {
        label: asked.label.clone(),
        state,
        job_id: job.job_id.clone(),
        operation: asked.operation,
        job_status: job.status.clone(),
        counts,
        not_launched,
        not_launched_omitted: 0,
        started_at: job.created.clone(),
        ended_at: job.ended.clone(),
    })
}

fn is_unsettled(s: LaunchStatus) -> bool {
    matches!(s, LaunchStatus::Pending | LaunchStatus::InProgress)
}

fn asked_ids(asked: &DrsJobRef) -> impl Iterator<Item = &str> {
    asked
        .source_server_ids
        .iter()
        .chain(&asked.recovery_instance_ids)
        .map(String::as_str)
}

fn covers(s: &ServerOutcome, id: &str) -> bool {
    s.source_server_id == id || s.recovery_instance_id.as_deref() == Some(id)
}

/// Adds the job log's reasons (by source server ID) to the servers that did not launch, then
/// bounds the listing: failures first, at most [`MAX_LISTED_SERVERS`], each reason at most
/// [`MAX_REASON_CHARS`], whatever AWS sent.
pub fn finish_drs(status: &mut DrsJobStatus, reasons: &BTreeMap<String, String>) {
    for s in status.not_launched.iter_mut() {
        if let Some(reason) = reasons.get(&s.source_server_id) {
            s.reason = Some(reason.clone());
        }
        if let Some(reason) = s.reason.as_mut() {
            *reason = truncate(reason, MAX_REASON_CHARS);
        }
    }
    status
        .not_launched
        .sort_by_key(|s| is_unsettled(s.launch_status));
    let total = status.not_launched.len();
    status.not_launched.truncate(MAX_LISTED_SERVERS);
    status.not_launched_omitted =
        u32::try_from(total - status.not_launched.len()).unwrap_or(u32::MAX);
}

/// The readable part of a `Catch`'s error as the workflow records it
/// (`{"Error": …, "Cause": "{\"errorType\": …, \"errorMessage\": …}"}`): the Lambda error's
/// message, else the cause, else the text as it is.
pub fn tidy_cause(raw: &str) -> String {
    use serde_json::Value;
    let outer: Option<Value> = serde_json::from_str(raw).ok();
    let cause = match outer.as_ref().and_then(|v| v.get("Cause")) {
        Some(Value::String(c)) => c.clone(),
        _ => return raw.to_owned(),
    };
    let inner: Option<Value> = serde_json::from_str(&cause).ok();
    match inner.as_ref().and_then(|v| v.get("errorMessage")) {
        Some(Value::String(m)) => m.clone(),
        _ => cause,
    }
}

/// True for the errors of a start task whose call AWS may have accepted: a timeout or a crash
/// after the request went out.
pub fn start_may_have_run(error: &str) -> bool {
    matches!(
        error,
        "States.Timeout" | "Sandbox.Timedout" | "Lambda.Unknown" | "AwsOutage"
    )
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// One line for a person: how many servers launched and, on failure, which did not and why.
pub fn drs_summary(status: &DrsJobStatus) -> String {
    let total = status.counts.launched as usize
        + status.not_launched.len()
        + status.not_launched_omitted as usize;
    let c = &status.counts;
    let head = format!("job {} ({}):", status.job_id, status.job_status);
    match status.state {
        JobState::Succeeded => format!("{head} all {total} servers launched"),
        JobState::InProgress => format!(
            "{head} {} of {total} servers launched, {} in progress, {} pending",
            c.launched, c.in_progress, c.pending
        ),
        JobState::Failed => {
            let failed: Vec<String> = status
                .not_launched
                .iter()
                .map(|s| match &s.reason {
                    Some(r) => format!("{} {} ({r})", s.source_server_id, wire(s.launch_status)),
                    None => format!("{} {}", s.source_server_id, wire(s.launch_status)),
                })
                .collect();
            let not = total - status.counts.launched as usize;
            if failed.is_empty() {
                format!("{head} no server was launched")
            } else if status.not_launched_omitted > 0 {
                format!(
                    "{head} {not} of {total} servers did not launch: {}; and {} more",
                    failed.join("; "),
                    status.not_launched_omitted
                )
            } else {
                format!(
                    "{head} {not} of {total} servers did not launch: {}",
                    failed.join("; ")
                )
            }
        }
    }
}

/// Judges an AWS Backup `RestoreJobStatus`.
pub fn judge_restore(status: &str) -> Result<JobState, TaskError> {
    match status {
        "PENDING" | "RUNNING" => Ok(JobState::InProgress),
        "COMPLETED" => Ok(JobState::Succeeded),
        "ABORTED" | "FAILED" => Ok(JobState::Failed),
        other => Err(TaskError::UnknownStatus {
            what: "AWS Backup restore job status",
            value: other.to_owned(),
        }),
    }
}

/// A launch status as DRS spells it.
pub fn wire(s: LaunchStatus) -> &'static str {
    match s {
        LaunchStatus::Pending => "PENDING",
        LaunchStatus::InProgress => "IN_PROGRESS",
        LaunchStatus::Launched => "LAUNCHED",
        LaunchStatus::Failed => "FAILED",
        LaunchStatus::Terminated => "TERMINATED",
    }
}

/// One line for a person about a restore job.
pub fn restore_summary(status: &crate::contract::RestoreJobStatus) -> String {
    let state = status.state;
    let head = format!(
        "restore job {} ({})",
        status.restore_job_id, status.job_status
    );
    match state {
        JobState::Succeeded => match &status.created_resource_arn {
            Some(arn) => format!("{head}: restored to {arn}"),
            None => format!("{head}: completed"),
        },
        JobState::InProgress => match &status.percent_done {
            Some(p) => format!("{head}: {p} done"),
            None => format!("{head}: waiting to start"),
        },
        JobState::Failed => format!(
            "{head}: {}",
            status
                .status_message
                .as_deref()
                .unwrap_or("no status message given")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DrsOperation;

    fn sid(n: usize) -> String {
        format!("s-{n:017}")
    }

    fn asked(n: usize) -> DrsJobRef {
        DrsJobRef {
            job_id: "drsjob-00000000000000001".into(),
            operation: DrsOperation::Drill,
            source_server_ids: (0..n).map(sid).collect(),
            recovery_instance_ids: vec![],
            reused: false,
            label: Some("batch 0".into()),
        }
    }

    fn job(status: &str, launch: &[&str]) -> ObservedJob {
        ObservedJob {
            job_id: "drsjob-00000000000000001".into(),
            status: status.into(),
            servers: launch
                .iter()
                .enumerate()
                .map(|(i, l)| ObservedServer {
                    source_server_id: sid(i),
                    recovery_instance_id: (*l == "LAUNCHED").then(|| format!("i-{i:016x}")),
                    launch_status: (*l).into(),
                })
                .collect(),
            created: Some("2026-11-23T01:00:00Z".into()),
            ended: None,
        }
    }

    #[test]
    fn judges_each_combination_of_job_and_server_status() {
        use JobState::*;
        let cases: &[(&str, &[&str], JobState)] = &[
            ("PENDING", &[], InProgress),
            ("STARTED", &["PENDING", "IN_PROGRESS"], InProgress),
            ("STARTED", &["LAUNCHED", "LAUNCHED"], InProgress), // not COMPLETED yet
            ("STARTED", &["LAUNCHED", "IN_PROGRESS"], InProgress),
            ("STARTED", &["FAILED", "IN_PROGRESS"], InProgress), // wait for the rest to settle
            ("STARTED", &["FAILED", "LAUNCHED"], Failed),        // settled: outcome known
            ("COMPLETED", &["LAUNCHED", "LAUNCHED"], Succeeded),
            ("COMPLETED", &["LAUNCHED", "FAILED"], Failed),
            ("COMPLETED", &["LAUNCHED", "TERMINATED"], Failed),
            ("COMPLETED", &["LAUNCHED", "PENDING"], Failed), // COMPLETED is not LAUNCHED
            ("COMPLETED", &["LAUNCHED", "IN_PROGRESS"], Failed),
        ];
        for (job_status, launch, want) in cases {
            let status = judge_drs(&asked(launch.len()), &job(job_status, launch)).unwrap();
            assert_eq!(status.state, *want, "{job_status} {launch:?}");
        }
    }

    #[test]
    fn completed_job_missing_an_asked_server_fails_naming_it() {
        let status = judge_drs(&asked(3), &job("COMPLETED", &["LAUNCHED", "LAUNCHED"])).unwrap();
        assert_eq!(status.state, JobState::Failed);
        assert_eq!(status.not_launched[0].source_server_id, sid(2));
        assert_eq!(status.counts.failed, 1);
        let summary = drs_summary(&status);
        assert!(summary.contains(&sid(2)), "{summary}");
        assert!(summary.contains("did not include"), "{summary}");
    }

    #[test]
    fn counts_servers_by_launch_status() {
        let status = judge_drs(
            &asked(5),
            &job(
                "STARTED",
                &["PENDING", "IN_PROGRESS", "LAUNCHED", "LAUNCHED", "FAILED"],
            ),
        )
        .unwrap();
        assert_eq!(
            status.counts,
            LaunchCounts {
                pending: 1,
                in_progress: 1,
                launched: 2,
                failed: 1,
                terminated: 0
            }
        );
    }

    #[test]
    fn failed_servers_carry_the_job_log_reason_into_the_summary() {
        let mut status = judge_drs(&asked(2), &job("COMPLETED", &["LAUNCHED", "FAILED"])).unwrap();
        let reasons = [(
            sid(1),
            "LAUNCH_FAILED: InsufficientInstanceCapacity".to_owned(),
        )]
        .into();
        finish_drs(&mut status, &reasons);
        assert_eq!(
            status.not_launched[0].reason.as_deref(),
            Some("LAUNCH_FAILED: InsufficientInstanceCapacity")
        );
        assert_eq!(status.counts.launched, 1);
        assert_eq!(
            drs_summary(&status),
            format!(
                "job drsjob-00000000000000001 (COMPLETED): 1 of 2 servers did not launch: {} FAILED (LAUNCH_FAILED: InsufficientInstanceCapacity)",
                sid(1)
            )
        );
    }

    #[test]
    fn a_completed_job_with_no_servers_is_a_failure() {
        let status = judge_drs(&asked(0), &job("COMPLETED", &[])).unwrap();
        assert_eq!(status.state, JobState::Failed);
    }

    #[test]
    fn unknown_statuses_are_errors_not_waits() {
        let err = judge_drs(&asked(1), &job("PAUSED", &["LAUNCHED"])).unwrap_err();
        assert_eq!(err.name(), "UnknownStatus");
        let err = judge_drs(&asked(1), &job("STARTED", &["HIBERNATING"])).unwrap_err();
        assert_eq!(
            err,
            TaskError::UnknownStatus {
                what: "DRS launch status",
                value: "HIBERNATING".into()
            }
        );
        assert_eq!(
            judge_restore("EXPIRED").unwrap_err().name(),
            "UnknownStatus"
        );
    }

    #[test]
    fn a_thousand_failures_with_long_reasons_stay_bounded() {
        let launch = vec!["FAILED"; 1000];
        let mut status = judge_drs(&asked(1000), &job("COMPLETED", &launch)).unwrap();
        let reasons = (0..1000)
            .map(|i| (sid(i), format!("LAUNCH_FAILED: {}", "x".repeat(5000))))
            .collect();
        finish_drs(&mut status, &reasons);
        // The documented bounds (README: "Every output is bounded"): 25 servers listed, the rest
        // counted, each reason at most 300 characters.
        assert_eq!(status.not_launched.len(), 25);
        assert_eq!(status.not_launched_omitted, 975);
        assert!(status
            .not_launched
            .iter()
            .all(|s| s.reason.as_ref().unwrap().chars().count() == 300));
        let summary = drs_summary(&status);
        assert!(
            summary.contains("1000 of 1000 servers did not launch"),
            "{}",
            &summary[..100]
        );
        assert!(summary.ends_with("and 975 more"), "{summary}");
        assert!(serde_json::to_string(&status).unwrap().len() < 16 * 1024);
    }

    #[test]
    fn a_caught_lambda_error_reads_as_its_message() {
        let raw = r#"{"Error":"Conflict","Cause":"{\"errorType\":\"Conflict\",\"errorMessage\":\"conflict: StartRecovery: ConflictException: busy\"}"}"#;
        assert_eq!(
            tidy_cause(raw),
            "conflict: StartRecovery: ConflictException: busy"
        );
        let states = r#"{"Error":"States.Timeout","Cause":"Task timed out"}"#;
        assert_eq!(tidy_cause(states), "Task timed out");
        assert_eq!(tidy_cause("plain words"), "plain words");
    }

    #[test]
    fn judges_every_restore_status() {
        for (raw, want) in [
            ("PENDING", JobState::InProgress),
            ("RUNNING", JobState::InProgress),
            ("COMPLETED", JobState::Succeeded),
            ("ABORTED", JobState::Failed),
            ("FAILED", JobState::Failed),
        ] {
            assert_eq!(judge_restore(raw).unwrap(), want, "{raw}");
        }
    }
}
