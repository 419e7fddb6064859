//! The JSON contract between the state machines and the handlers. Inputs reject unknown fields,
//! so a typo in a state's `Parameters` fails loudly instead of being ignored; outputs are small
//! references and bounded reports, never whole AWS responses. The workflow's own input (the
//! plan a person writes) and the prepared plan are in [`crate::plan`].

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
    /// Unique per run and batch, identical across retries of that batch.
    pub idempotency_key: String,
    /// What the plan calls this job ("batch 2"); echoed in the job reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
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
    #[serde(
        rename = "recoveryInstanceIDs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recovery_instance_ids: Option<Vec<String>>,
    #[serde(default)]
    pub tags: Tags,
    pub idempotency_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One AWS Backup restore of a plan: what `StartRestoreJob` is given.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreSpec {
    pub recovery_point_arn: String,
    /// The vault that holds the recovery point: one of the deployment's `RestoreVaults`, and
    /// AWS Backup must say the recovery point is in it (prepare-plan asks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_name: Option<String>,
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_source_tags_to_restored_resource: Option<bool>,
}

/// Input of `start-restore`: one AWS Backup `StartRestoreJob` call, the plan's restore with
/// the run's idempotency key and label.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartRestoreInput {
    pub restore: RestoreSpec,
    pub idempotency_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl StartRestoreInput {
    /// The plan's `restore`, started under `idempotency_key` and shown as `label`.
    pub fn of(restore: &RestoreSpec, idempotency_key: String, label: String) -> Self {
        StartRestoreInput {
            restore: restore.clone(),
            idempotency_key,
            label: Some(label),
        }
    }
}

/// What a start handler returns and `check-status` takes: enough to find and judge the job.
/// A start task that failed is recorded by the workflow as [`Tracked::NotStarted`].
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

impl DrsOperation {
    /// The error name a failed job of this kind fails its run with.
    pub fn failure_error(self) -> &'static str {
        match self {
            DrsOperation::Drill | DrsOperation::Recovery => "RecoveryFailed",
            DrsOperation::Failback => "FailbackFailed",
        }
    }
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// An AWS Backup restore job started by `start-restore`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestoreJobRef {
    pub restore_job_id: String,
    pub recovery_point_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One item a wave tracks: a started job, or a start task that failed (written by the
/// workflow's `Catch` from the task's error).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tracked {
    DrsJob(DrsJobRef),
    RestoreJob(RestoreJobRef),
    NotStarted(NotStarted),
}

/// A job the workflow could not start.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotStarted {
    #[serde(default)]
    pub label: Option<String>,
    /// The key the start call carried: a job DRS accepted before its task timed out carries it.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub error: String,
    #[serde(default)]
    pub cause: Option<String>,
}

/// Input of `check-status`: every job of a wave (or of one round of it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaveCheckInput {
    /// How the wave is named in causes and summaries: `wave 0 (data)`.
    pub wave: String,
    pub jobs: Vec<Tracked>,
    /// A wave whose jobs have run longer than this fails with `TimedOut`.
    pub give_up_after_seconds: u64,
    /// The last check of a wave: a job still running is reported as a failure to finish.
    #[serde(default, rename = "final")]
    pub is_final: bool,
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
    /// Why the server did not launch, from the job log where it says (bounded in length).
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

/// Output of `check-status`: the state to route on, and on failure the error name and the
/// cause a `Fail` state raises, all bounded in size whatever AWS reports.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveReport {
    pub state: JobState,
    /// One line a person can read.
    pub summary: String,
    /// The error name a failed wave fails its run with; empty unless `FAILED`.
    pub error: String,
    /// Wave, job, server and reason of every failure (bounded); empty unless `FAILED`.
    pub cause: String,
    /// Seconds since AWS created the wave's oldest job.
    pub elapsed_seconds: u64,
    /// When AWS created the wave's first job and ended its last (null until known).
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub jobs: Vec<JobReport>,
}

/// Where one tracked job stands.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobReport {
    DrsJob(DrsJobStatus),
    RestoreJob(RestoreJobStatus),
    NotStarted(NotStartedStatus),
}

impl JobReport {
    /// The judged state of this job.
    pub fn state(&self) -> JobState {
        match self {
            JobReport::DrsJob(j) => j.state,
            JobReport::RestoreJob(r) => r.state,
            JobReport::NotStarted(_) => JobState::Failed,
        }
    }
}

/// Where a DRS job stands.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrsJobStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub state: JobState,
    #[serde(rename = "jobID")]
    pub job_id: String,
    pub operation: DrsOperation,
    /// The job's own status (`PENDING`, `STARTED`, `COMPLETED`).
    pub job_status: String,
    /// How many servers are in each launch status. Which recovery instance each launched
    /// server got is not carried through the workflow's states (a 1,000-server plan would not
    /// fit its state budget): DRS keeps it, and the run report and a failback read it there.
    pub counts: LaunchCounts,
    /// Servers that have not launched (yet), with status and reason; failures first, at most
    /// [`crate::status::MAX_LISTED_SERVERS`].
    pub not_launched: Vec<ServerOutcome>,
    /// How many more servers did not launch than `notLaunched` lists.
    #[serde(default)]
    pub not_launched_omitted: u32,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub state: JobState,
    pub restore_job_id: String,
    pub recovery_point_arn: String,
    /// The job's own status (`PENDING`, `RUNNING`, `COMPLETED`, `ABORTED`, `FAILED`).
    pub job_status: String,
    /// The fields below are null when AWS has not reported them.
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

/// A job that was never started, and why.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotStartedStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub state: JobState,
    pub error: String,
    pub cause: String,
    /// True when the start task timed out or crashed: AWS may have accepted the call, so the
    /// job may be running although the workflow never learnt its ID.
    #[serde(default)]
    pub may_be_running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// Takes the `operation` out of a payload that names one (`{"operation": "WAVE", ...}`), for a
/// handler that serves several; `None` when the payload names none. The rest is parsed as the
/// operation's own input, with [`parse`].
pub fn take_operation<Op: serde::de::DeserializeOwned>(
    payload: &mut serde_json::Value,
) -> Result<Option<Op>, crate::error::TaskError> {
    match payload.as_object_mut().and_then(|o| o.remove("operation")) {
        Some(op) => parse_at("operation", op).map(Some),
        None => Ok(None),
    }
}

/// Parses a task payload into its contract type. A payload that does not fit names the path
/// of the offending field (`sourceServers[2].sourceServerID`) in an `InvalidInput` error.
pub fn parse<T: serde::de::DeserializeOwned>(
    payload: serde_json::Value,
) -> Result<T, crate::error::TaskError> {
    parse_at("", payload)
}

/// Like [`parse`], with `prefix` put before the path of the offending field.
pub fn parse_at<T: serde::de::DeserializeOwned>(
    prefix: &str,
    payload: serde_json::Value,
) -> Result<T, crate::error::TaskError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path == ".") {
            (true, true) => "payload".to_owned(),
            (true, false) => path,
            (false, true) => prefix.to_owned(),
            (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
            (false, false) => format!("{prefix}.{path}"),
        };
        crate::error::TaskError::invalid(field, e.into_inner().to_string())
    })
}
