//! What `report.json` holds: the measured outcome of one run. Times are ISO 8601 UTC strings
//! as AWS wrote them; durations are whole seconds. Every field a page shows comes from here.

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning; readers of older reports check it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    /// `RECOVERY_PLAN`, `FAILBACK` or `RESTORE`.
    pub workflow: String,
    pub plan_name: String,
    /// `true` for a drill, `false` for a real recovery, absent for failback and restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_drill: Option<bool>,
    pub execution_id: String,
    /// How the run was started: `CONSOLE`, `SCHEDULE`, `EVENT`...
    pub trigger: String,
    /// When the disaster event that started the run happened (EventBridge `time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disaster_at: Option<String>,
    /// When the execution started (`$$.Execution.StartTime` as prepare-plan saw it).
    pub run_started_at: String,
    /// When the report was measured; the run's end for a finished run.
    pub run_ended_at: String,
    pub run_seconds: i64,
    pub outcome: Outcome,
    pub targets: Targets,
    pub verdict: Verdict,
    pub waves: Vec<WaveReport>,
    pub servers: Vec<ServerReport>,
    pub restores: Vec<RestoreReport>,
    pub preflight: serde_json::Value,
    pub approvals: Vec<ApprovalRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<serde_json::Value>,
    /// Where each number came from, for the reader who checks.
    pub method: Vec<String>,
}

/// How the workflow ended: what the run state carries (`$.settled.outcome`) and `report.json`
/// holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub state: OutcomeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeState {
    Succeeded,
    #[default]
    Failed,
    /// A scheduled drill that did not start because the last drill of its plan still runs.
    Skipped,
}

impl OutcomeState {
    /// As `report.json` and the notifications write it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeState::Succeeded => "SUCCEEDED",
            OutcomeState::Failed => "FAILED",
            OutcomeState::Skipped => "SKIPPED",
        }
    }
}

/// Recovery targets in minutes; absent when the plan sets none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Targets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_minutes: Option<u64>,
}

/// `PASS`: within target; `FAIL`: missed, or never launched; `NO_TARGET`: nothing to judge by;
/// `UNKNOWN`: a target exists but AWS did not say enough to measure against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Judgement {
    Pass,
    Fail,
    NoTarget,
    Unknown,
}

/// The run's verdict, first thing on the page.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// `MET`: the run succeeded and every target was met; `MISSED`: a target was missed or
    /// something did not recover; `NO_TARGETS`: the run succeeded and the plan sets no target;
    /// `UNPROVEN`: no target was missed, but AWS gave no time to measure one against.
    pub state: String,
    /// One sentence: what was met or missed, and by how much.
    pub summary: String,
    /// The worst achieved RTO and RPO (seconds), and the server or restore they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_rto: Option<Worst>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_rpo: Option<Worst>,
    /// Servers and restores judged, and how many passed.
    pub judged: usize,
    pub passed: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worst {
    pub seconds: i64,
    /// The server or restore it belongs to.
    pub of: String,
    /// The target in seconds, when there is one; `seconds - target` is the margin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    pub index: usize,
    pub name: String,
    /// `SUCCEEDED`, `FAILED` or `NOT_STARTED` (a run that ended before it).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
    pub targets: Targets,
    pub servers: usize,
    pub launched: usize,
    pub restores: usize,
    pub restored: usize,
    /// The DRS and Backup jobs the wave started.
    pub job_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReport {
    pub source_server_id: String,
    pub wave: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// DRS `launchStatus`, or `NOT_STARTED` when no job of the run included the server.
    pub launch_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_instance_id: Option<String>,
    /// The job's `JOB_START` log item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_started_at: Option<String>,
    /// The server's `LAUNCH_START` log item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_started_at: Option<String>,
    /// When DRS had launched it: the job's `JOB_END` log item (DRS logs no per-server end of a
    /// launch, and its job ends only once every launch has ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_at: Option<String>,
    /// The server's `LAUNCH_FAILED` log item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `pointInTimeSnapshotDateTime` of its recovery instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_at: Option<String>,
    /// `launched_at - run_started_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<i64>,
    /// `launched_at - disaster_at`, when an event started the run: the RTO judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_from_disaster_seconds: Option<i64>,
    /// `run_started_at - snapshot_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<i64>,
    pub targets: Targets,
    pub rto: Judgement,
    pub rpo: Judgement,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    pub label: String,
    pub wave: usize,
    pub recovery_point_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_job_id: Option<String>,
    /// AWS Backup's status, or `NOT_STARTED`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_resource_arn: Option<String>,
    /// `RecoveryPointCreationDate`: when the data was backed up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_from_disaster_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<i64>,
    pub targets: Targets,
    pub rto: Judgement,
    pub rpo: Judgement,
}

/// A person's answer to an approval request, or that none came.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    pub wave: usize,
    /// `APPROVED`, `REJECTED`, `TIMED_OUT` or `NOT_AN_ANSWER`.
    pub decision: String,
    /// Why, as the approver said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The approver's ARN, as AWS verified it at the approval endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When the endpoint recorded the answer (for a time-out: when the wait ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    pub reason: String,
}

/// One line of `runs/index.json`, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub plan_name: String,
    pub execution_id: String,
    pub workflow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_drill: Option<bool>,
    pub run_started_at: String,
    pub outcome: String,
    pub verdict: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_rto_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_rpo_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto_target_minutes: Option<u64>,
    /// The report's HTML, relative to `runs/`.
    pub report: String,
}
