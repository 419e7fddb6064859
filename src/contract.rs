//! The JSON contract between the state machines and the handlers. Inputs reject unknown fields,
//! so a typo in a state's `Parameters` fails loudly instead of being ignored; outputs are small
//! references and summaries, never whole AWS responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Tags as given by the plan; sent to AWS as they are, plus the idempotency tag.
pub type Tags = BTreeMap<String, String>;

/// Input of `start-recovery`: one DRS `StartRecovery` call (one batch of a wave).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRecoveryInput {
    /// Required with no default: a real recovery must be asked for explicitly.
    pub is_drill: bool,
    pub source_servers: Vec<SourceServerSpec>,
    #[serde(default)]
    pub tags: Tags,
    /// Unique per execution and batch, identical across retries of that batch.
    pub idempotency_key: String,
    /// Check the input and return without calling AWS (the workflow validates the whole plan
    /// this way before the first job starts).
    #[serde(default)]
    pub validate_only: bool,
}

/// One source server to recover, optionally from a given point-in-time snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceServerSpec {
    #[serde(rename = "sourceServerID")]
    pub source_server_id: String,
    #[serde(
        rename = "recoverySnapshotID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recovery_snapshot_id: Option<String>,
}

/// Input of `start-failback`: either explicit recovery instance IDs, or the `launched` map of
/// a finished recovery job (source server ID → recovery instance ID, as `check-status`
/// reports it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartFailbackInput {
    #[serde(rename = "recoveryInstanceIDs", default)]
    pub recovery_instance_ids: Option<Vec<String>>,
    #[serde(default)]
    pub launched: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub tags: Tags,
    pub idempotency_key: String,
    /// Check the input and return without calling AWS (the workflow validates the whole plan
    /// this way before the first job starts).
    #[serde(default)]
    pub validate_only: bool,
}

/// Input of `start-restore`: one AWS Backup `StartRestoreJob` call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRestoreInput {
    pub recovery_point_arn: String,
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub iam_role_arn: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub copy_source_tags_to_restored_resource: Option<bool>,
    pub idempotency_key: String,
    /// Check the input and return without calling AWS (the workflow validates the whole plan
    /// this way before the first job starts).
    #[serde(default)]
    pub validate_only: bool,
}

/// What a start handler returns: the job it started (or found), or, for `validateOnly`, the
/// confirmation that the input is valid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum StartOutput {
    Job(JobRef),
    Validated(Validated),
}

impl StartOutput {
    /// The job reference, unless this was a `validateOnly` call.
    pub fn into_job(self) -> Option<JobRef> {
        match self {
            StartOutput::Job(job) => Some(job),
            StartOutput::Validated(_) => None,
        }
    }
}

/// The answer to a `validateOnly` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validated {
    /// Always true: invalid input is an `InvalidInput` error.
    pub valid: bool,
    /// How many servers, instances or restores the call would start.
    pub items: usize,
}

/// What a start handler returns and `check-status` takes: enough to find and judge the job.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobRef {
    DrsJob(DrsJobRef),
    RestoreJob(RestoreJobRef),
}

/// Why a DRS launch job was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DrsOperation {
    Drill,
    Recovery,
    Failback,
}

/// A DRS launch job started by `start-recovery` or `start-failback`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrsJobRef {
    #[serde(rename = "jobID")]
    pub job_id: String,
    pub operation: DrsOperation,
    /// The source servers asked for (recovery and drill).
    #[serde(
        rename = "sourceServerIDs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source_server_ids: Vec<String>,
    /// The recovery instances asked for (failback).
    #[serde(
        rename = "recoveryInstanceIDs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub recovery_instance_ids: Vec<String>,
    /// True when a retried task found the job its earlier attempt started.
    #[serde(default)]
    pub reused: bool,
}

/// An AWS Backup restore job started by `start-restore`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreJobRef {
    pub restore_job_id: String,
    pub recovery_point_arn: String,
}

/// The normalised state a `Choice` state routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    InProgress,
    Succeeded,
    Failed,
}

/// A DRS server's launch status, as the service model lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchStatus {
    Pending,
    InProgress,
    Launched,
    Failed,
    Terminated,
}

/// What became of one server in a DRS job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerOutcome {
    #[serde(rename = "sourceServerID")]
    pub source_server_id: String,
    #[serde(
        rename = "recoveryInstanceID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recovery_instance_id: Option<String>,
    pub launch_status: LaunchStatus,
    /// Why the server did not launch, from the job log where it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Servers of a DRS job counted by launch status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchCounts {
    pub pending: u32,
    pub in_progress: u32,
    pub launched: u32,
    pub failed: u32,
    pub terminated: u32,
}

/// Output of `check-status`: the state to route on and a compact summary.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub state: JobState,
    /// One line a person can read: what happened, and why when it failed.
    pub summary: String,
    /// Seconds since AWS created the job; the workflow gives up on a job past its limit.
    pub elapsed_seconds: u64,
    #[serde(flatten)]
    pub detail: StatusDetail,
}

/// The service-specific part of a [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusDetail {
    DrsJob(DrsJobStatus),
    RestoreJob(RestoreJobStatus),
}

/// Where a DRS job stands.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrsJobStatus {
    #[serde(rename = "jobID")]
    pub job_id: String,
    /// The job's own status (`PENDING`, `STARTED`, `COMPLETED`).
    pub job_status: String,
    pub counts: LaunchCounts,
    /// Source server ID → recovery instance ID of every server that launched: the compact
    /// per-server record a 1,000-server plan can carry through its states.
    pub launched: BTreeMap<String, String>,
    /// Every server that has not launched (yet), with its status and, on failure, why.
    pub not_launched: Vec<ServerOutcome>,
    #[serde(rename = "failedServerIDs", default)]
    pub failed_server_ids: Vec<String>,
    /// Null until AWS reports it; always present, since the workflows read it by path.
    #[serde(default)]
    pub started_at: Option<String>,
    /// Null until the job has ended.
    #[serde(default)]
    pub ended_at: Option<String>,
}

/// Where an AWS Backup restore job stands.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreJobStatus {
    pub restore_job_id: String,
    /// The job's own status (`PENDING`, `RUNNING`, `COMPLETED`, `ABORTED`, `FAILED`).
    pub job_status: String,
    /// The fields below are null when AWS has not reported them; they are always present,
    /// since the workflows read them by path.
    #[serde(default)]
    pub percent_done: Option<String>,
    #[serde(default)]
    pub created_resource_arn: Option<String>,
    #[serde(default)]
    pub status_message: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub ended_at: Option<String>,
}

/// Parses a task payload into its contract type. A payload that does not fit names the path
/// of the offending field (`sourceServers[2].sourceServerID`) in an `InvalidInput` error.
pub fn parse<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, crate::error::TaskError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "payload".to_owned()
        } else {
            path
        };
        crate::error::TaskError::invalid(field, e.into_inner().to_string())
    })
}
