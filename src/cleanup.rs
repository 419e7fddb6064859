//! Drill cleanup, with no I/O: which recovery instances may be terminated (the guard), and
//! how a cleanup stands once DRS has been asked (the report).
//!
//! The guard is the last word before `TerminateRecoveryInstances`, whoever asks: an instance is
//! terminated only if DRS says it is a drill instance (`isDrill`) and it was launched by a drill
//! job this project started (the job carries [`IDEMPOTENCY_TAG`]); for a run's own cleanup, by a
//! job of that run (the tag's value starts with the run's key base).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::idempotency::IDEMPOTENCY_TAG;

/// Recovery instances per `TerminateRecoveryInstances` call: the API takes 200, but a
/// TERMINATE job counts against DRS's quota of 100 source servers per job (and the 500 servers
/// in all active jobs: a bigger cleanup gets `QuotaExceeded` on a later call and is retried by
/// the workflow, reusing the jobs already started).
pub const TERMINATE_BATCH: usize = 100;
/// Instances listed by name in a report (the rest are counted).
pub const MAX_LISTED: usize = 50;

/// What a run does with its drill instances when it ends (`prepare-plan` decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CleanupAction {
    /// A drill: terminate the instances its jobs launched.
    TerminateDrillInstances,
    /// A real recovery, a failback or a restore: nothing is terminated, ever.
    None,
}

/// The run's cleanup, as the workflow carries it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupPlan {
    pub action: CleanupAction,
    /// How long the drill instances are kept after the drill ends
    /// (`options.keepDrillInstancesMinutes`).
    pub keep_seconds: u64,
    /// The prefix of the idempotency keys of this run's jobs.
    pub key_base: String,
    /// When the run started: its jobs were created after this.
    pub since: String,
}

/// A recovery instance as DRS describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceFacts {
    pub recovery_instance_id: String,
    pub source_server_id: Option<String>,
    /// The job that launched it.
    pub job_id: Option<String>,
    pub is_drill: Option<bool>,
    /// `failback.state` (`FAILBACK_READY_FOR_LAUNCH` when replication back to the source is
    /// done and a failback can be launched), for a failback's preflight.
    pub failback_state: Option<String>,
}

/// A DRS job as the guard needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobFacts {
    pub job_id: String,
    /// `initiatedBy`: `START_DRILL`, `START_RECOVERY`, `TERMINATE_RECOVERY_INSTANCES`...
    pub initiated_by: String,
    pub tags: BTreeMap<String, String>,
    /// `creationDateTime`, seconds since the epoch.
    pub created: Option<i64>,
}

impl JobFacts {
    /// The idempotency key this project tagged the job with, if it started it.
    pub fn key(&self) -> Option<&str> {
        self.tags.get(IDEMPOTENCY_TAG).map(String::as_str)
    }
}

/// Why the guard refused an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Refusal {
    /// DRS does not say `isDrill: true`: a real recovery instance is never terminated here.
    NotADrill,
    /// Its launching job is not a drill job this project started.
    NotOurs,
    /// It is ours, but another run's.
    AnotherRun,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::NotADrill => "DRS does not report it as a drill instance (isDrill is not true): real recovery instances are never terminated by dr-orchestrator",
            Refusal::NotOurs => "it was not launched by a drill job dr-orchestrator started (no dr-orchestrator:idempotency-key tag on a START_DRILL job)",
            Refusal::AnotherRun => "it was launched by another run's job",
        }
    }
}

/// The guard: `Ok` only for a drill instance launched by one of our drill jobs (of the run
/// whose key base is `run`, when given).
pub fn may_terminate(
    instance: &InstanceFacts,
    jobs: &BTreeMap<String, JobFacts>,
    run: Option<&str>,
) -> Result<(), Refusal> {
    if instance.is_drill != Some(true) {
        return Err(Refusal::NotADrill);
    }
    let job = instance
        .job_id
        .as_ref()
        .and_then(|id| jobs.get(id))
        .ok_or(Refusal::NotOurs)?;
    let key = job.key().ok_or(Refusal::NotOurs)?;
    if job.initiated_by != "START_DRILL" {
        return Err(Refusal::NotOurs);
    }
    match run {
        Some(base) if !key.starts_with(&format!("{base}#")) => Err(Refusal::AnotherRun),
        _ => Ok(()),
    }
}

/// An instance named in a report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    #[serde(rename = "recoveryInstanceID")]
    pub recovery_instance_id: String,
    #[serde(
        rename = "sourceServerID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub source_server_id: Option<String>,
    pub reason: String,
}

/// Where a cleanup stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CleanupState {
    /// TERMINATE jobs are running.
    InProgress,
    /// Every instance was terminated (or there was none).
    Cleaned,
    /// An instance failed to terminate, was refused by the guard, or its job did not end in time.
    Failed,
}

/// The drill cleanup as the run carries it (`$.cleanupResult.report`): none was needed (the
/// workflow's `No cleanup`: the run launched nothing to clean up), or what it did.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Cleanup {
    NotNeeded(NoCleanup),
    Ran(Box<CleanupReport>),
}

/// `{"state": "NOT_NEEDED"}` and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoCleanup {
    pub state: NotNeeded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotNeeded {
    NotNeeded,
}

/// The cleanup's report: what the workflow carries between checks and prints at the end.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CleanupReport {
    pub state: CleanupState,
    pub summary: String,
    pub started_at: String,
    #[serde(rename = "terminateJobIDs")]
    pub terminate_job_ids: Vec<String>,
    /// Instances asked to terminate (this call or an earlier attempt).
    pub instances: usize,
    pub terminated: usize,
    pub failed_count: usize,
    pub failed: Vec<Named>,
    pub refused_count: usize,
    pub refused: Vec<Named>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// One instance of a TERMINATE job, as DRS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminating {
    pub recovery_instance_id: String,
    pub source_server_id: Option<String>,
    /// The participating server's `launchStatus` (`TERMINATED` when done).
    pub launch_status: String,
    pub job_completed: bool,
}

/// Judges a cleanup: `refused` from the start, `observed` the TERMINATE jobs' servers now.
pub fn judge(
    mut report: CleanupReport,
    observed: &[Terminating],
    elapsed_seconds: u64,
    give_up_after_seconds: u64,
) -> CleanupReport {
    let mut failed = Vec::new();
    let mut running = Vec::new();
    let mut terminated = 0;
    for t in observed {
        match t.launch_status.as_str() {
            "TERMINATED" => terminated += 1,
            "FAILED" => failed.push(named(t, "its TERMINATE job reports FAILED")),
            other if t.job_completed => failed.push(named(
                t,
                &format!("its TERMINATE job ended with the instance {other}"),
            )),
            _ => running.push(t),
        }
    }
    let timed_out = !running.is_empty() && elapsed_seconds >= give_up_after_seconds;
    if timed_out {
        failed.extend(running.iter().map(|t| {
            named(
                t,
                &format!("still {} after {elapsed_seconds} s", t.launch_status),
            )
        }));
    }
    report.terminated = terminated;
    report.failed_count = failed.len();
    failed.truncate(MAX_LISTED);
    report.failed = failed;
    report.state = if !running.is_empty() && !timed_out {
        CleanupState::InProgress
    } else if report.failed_count == 0 && report.refused_count == 0 {
        CleanupState::Cleaned
    } else {
        CleanupState::Failed
    };
    report.summary = format!(
        "{} of {} drill instances terminated, {} failed, {} refused{}",
        report.terminated,
        report.instances,
        report.failed_count,
        report.refused_count,
        if report.state == CleanupState::InProgress {
            format!(", {} terminating", running.len())
        } else {
            String::new()
        }
    );
    if report.state == CleanupState::Failed {
        report.error = Some(
            if timed_out {
                "TimedOut"
            } else {
                "CleanupFailed"
            }
            .into(),
        );
        let listed: Vec<String> = report
            .failed
            .iter()
            .chain(&report.refused)
            .take(20)
            .map(|n| format!("{}: {}", n.recovery_instance_id, n.reason))
            .collect();
        report.cause = Some(crate::status::truncate(
            &format!(
                "drill cleanup: {}; terminate by hand in the DRS console or with TerminateRecoveryInstances: {}",
                report.summary,
                listed.join("; ")
            ),
            1200,
        ));
    } else {
        report.error = None;
        report.cause = None;
    }
    report
}

fn named(t: &Terminating, reason: &str) -> Named {
    Named {
        recovery_instance_id: t.recovery_instance_id.clone(),
        source_server_id: t.source_server_id.clone(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, by: &str, key: Option<&str>) -> (String, JobFacts) {
        let mut tags = BTreeMap::new();
        if let Some(k) = key {
            tags.insert(IDEMPOTENCY_TAG.to_owned(), k.to_owned());
        }
        (
            id.to_owned(),
            JobFacts {
                job_id: id.into(),
                initiated_by: by.into(),
                tags,
                created: None,
            },
        )
    }

    fn instance(job: &str, is_drill: Option<bool>) -> InstanceFacts {
        InstanceFacts {
            recovery_instance_id: "i-0123456789abcdef0".into(),
            source_server_id: Some("s-1234567890abcdef0".into()),
            job_id: Some(job.into()),
            is_drill,
            failback_state: None,
        }
    }

    #[test]
    fn each_refusal_says_why_as_the_report_shows_it() {
        assert_eq!(
            Refusal::NotADrill.reason(),
            "DRS does not report it as a drill instance (isDrill is not true): real recovery instances are never terminated by dr-orchestrator"
        );
        assert_eq!(
            Refusal::NotOurs.reason(),
            "it was not launched by a drill job dr-orchestrator started (no dr-orchestrator:idempotency-key tag on a START_DRILL job)"
        );
        assert_eq!(
            Refusal::AnotherRun.reason(),
            "it was launched by another run's job"
        );
    }

    #[test]
    fn the_guard_terminates_only_our_drill_instances() {
        let jobs: BTreeMap<_, _> = [
            job("drsjob-ours", "START_DRILL", Some("arn:exec:1#w0#b0")),
            job("drsjob-other-run", "START_DRILL", Some("event:abc#w0#b0")),
            job("drsjob-untagged", "START_DRILL", None),
            job("drsjob-real", "START_RECOVERY", Some("arn:exec:1#w1#b0")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            may_terminate(
                &instance("drsjob-ours", Some(true)),
                &jobs,
                Some("arn:exec:1")
            ),
            Ok(())
        );
        assert_eq!(
            may_terminate(&instance("drsjob-ours", Some(true)), &jobs, None),
            Ok(())
        );
        // isDrill false or missing: refused whatever the job says.
        for flag in [Some(false), None] {
            assert_eq!(
                may_terminate(&instance("drsjob-ours", flag), &jobs, None),
                Err(Refusal::NotADrill)
            );
        }
        assert_eq!(
            may_terminate(&instance("drsjob-untagged", Some(true)), &jobs, None),
            Err(Refusal::NotOurs)
        );
        assert_eq!(
            may_terminate(&instance("drsjob-unknown", Some(true)), &jobs, None),
            Err(Refusal::NotOurs)
        );
        assert_eq!(
            may_terminate(&instance("drsjob-real", Some(true)), &jobs, None),
            Err(Refusal::NotOurs)
        );
        assert_eq!(
            may_terminate(
                &instance("drsjob-other-run", Some(true)),
                &jobs,
                Some("arn:exec:1")
            ),
            Err(Refusal::AnotherRun)
        );
        // A key base that is a prefix of another run's is not that run: "#" ends it.
        assert_eq!(
            may_terminate(
                &instance("drsjob-ours", Some(true)),
                &jobs,
                Some("arn:exec:")
            ),
            Err(Refusal::AnotherRun)
        );
    }

    fn report(instances: usize, refused: usize) -> CleanupReport {
        CleanupReport {
            state: CleanupState::InProgress,
            summary: String::new(),
            started_at: "2026-11-25T00:00:00Z".into(),
            terminate_job_ids: vec![],
            instances,
            terminated: 0,
            failed_count: 0,
            failed: vec![],
            refused_count: refused,
            refused: vec![],
            error: None,
            cause: None,
        }
    }

    fn t(id: &str, status: &str, done: bool) -> Terminating {
        Terminating {
            recovery_instance_id: id.into(),
            source_server_id: None,
            launch_status: status.into(),
            job_completed: done,
        }
    }

    #[test]
    fn a_cleanup_is_cleaned_only_when_every_instance_is_terminated() {
        let r = judge(
            report(2, 0),
            &[t("i-1", "TERMINATED", true), t("i-2", "IN_PROGRESS", false)],
            10,
            600,
        );
        assert_eq!(r.state, CleanupState::InProgress);
        let r = judge(
            r,
            &[t("i-1", "TERMINATED", true), t("i-2", "TERMINATED", true)],
            20,
            600,
        );
        assert_eq!(r.state, CleanupState::Cleaned);
        assert_eq!(r.terminated, 2);
        assert!(r.error.is_none());
        assert_eq!(
            judge(report(0, 0), &[], 0, 600).state,
            CleanupState::Cleaned
        );
    }

    #[test]
    fn failures_refusals_and_timeouts_are_reported_not_swallowed() {
        let r = judge(
            report(2, 0),
            &[t("i-1", "TERMINATED", true), t("i-2", "FAILED", true)],
            10,
            600,
        );
        assert_eq!(r.state, CleanupState::Failed);
        assert_eq!(r.error.as_deref(), Some("CleanupFailed"));
        assert!(r.cause.as_deref().unwrap().contains("i-2"), "{:?}", r.cause);
        let r = judge(report(1, 1), &[t("i-1", "TERMINATED", true)], 10, 600);
        assert_eq!(r.state, CleanupState::Failed);
        let r = judge(report(1, 0), &[t("i-1", "IN_PROGRESS", false)], 700, 600);
        assert_eq!(r.state, CleanupState::Failed);
        assert_eq!(r.error.as_deref(), Some("TimedOut"));
        // A job that completed without terminating the instance failed it.
        let r = judge(report(1, 0), &[t("i-1", "LAUNCHED", true)], 10, 600);
        assert_eq!(r.state, CleanupState::Failed);
        assert_eq!(
            r.failed[0].reason,
            "its TERMINATE job ended with the instance LAUNCHED"
        );
    }

    #[test]
    fn an_instance_drs_reports_failed_is_failed_while_its_job_still_runs() {
        let r = judge(
            report(2, 0),
            &[t("i-1", "FAILED", false), t("i-2", "IN_PROGRESS", false)],
            10,
            600,
        );
        assert_eq!(r.state, CleanupState::InProgress);
        assert_eq!(r.failed_count, 1);
        assert_eq!(r.failed[0].recovery_instance_id, "i-1");
        assert_eq!(r.failed[0].reason, "its TERMINATE job reports FAILED");
        assert_eq!(
            r.summary,
            "0 of 2 drill instances terminated, 1 failed, 0 refused, 1 terminating"
        );
    }
}
