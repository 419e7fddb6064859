//! The run state: what `prepare-plan` returns and the workflow carries from task to task, one
//! typed shape written and read back with serde. A prepared plan holds waves of rounds of start
//! tasks, each wave's approval, the drill cleanup, the run's notifications and its progress;
//! the judgement of each wave adds its result ([`WaveResult`], with the approval as it was
//! decided); after the waves come the measurements, the cleanup's result, the settled outcome
//! and the ending ([`RunState`], [`Ending`]). Every path `statemachine/run-plan.asl.json` reads
//! is a field here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::{Trigger, Workflow};
use super::options::ResolvedOptions;
use crate::approval::{ApprovalAnswer, WaveApproval, WaveCount};
use crate::cleanup::Cleanup;
use crate::cleanup::CleanupPlan;
use crate::contract::{
    JobReport, JobState, StartFailbackInput, StartRecoveryInput, StartRestoreInput, Tracked,
};
use crate::preflight::PreflightReport;
use crate::report::model::{Outcome, Targets};

/// What the workflows iterate: waves of rounds of tasks, each task one start call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedPlan {
    pub workflow: Workflow,
    pub plan_name: String,
    /// Null for a failback and a restore (the workflow reads it by path, so it is always there).
    #[serde(default)]
    pub is_drill: Option<bool>,
    pub execution_id: String,
    pub started_at: String,
    pub trigger: Trigger,
    pub options: ResolvedOptions,
    pub preflight: PreflightReport,
    /// Source servers (recovery) or recovery instances (failback) the run launches.
    pub servers: usize,
    pub restores: usize,
    pub waves: Vec<PreparedWave>,
    /// What happens to the run's drill instances when it ends.
    pub cleanup: CleanupPlan,
    /// What the run publishes to the notifications topic when it starts, and how its last
    /// notification's subject begins.
    #[serde(default)]
    pub notices: RunNotices,
    /// Where the run stands between its waves; the judgement of each wave moves it on.
    pub progress: Progress,
}

/// One wave: its rounds run one after the other; the tasks of a round start together and the
/// round ends when all its jobs have ended. As prepared, `rounds` holds each round's tasks; once
/// they ran, the jobs they started ([`RanWave`]).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreparedWave<R = Vec<Vec<Task>>> {
    pub index: usize,
    pub name: String,
    /// How causes name the wave: `wave 0 (data)`.
    pub scope: String,
    /// Whether the wave waits for a person before it starts, and what that person is asked.
    pub approval: WaveApproval,
    /// The recovery targets its servers and restores are judged by (the wave's, else the
    /// plan's).
    #[serde(default)]
    pub targets: Targets,
    pub rounds: R,
    /// The subject of the wave's `WAVE_FINISHED` notification, without its state.
    #[serde(default)]
    pub notice: String,
}

/// One start call, with the exact input its handler takes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", content = "start", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Task {
    Recovery(StartRecoveryInput),
    Failback(StartFailbackInput),
    Restore(StartRestoreInput),
}

impl PreparedWave<Vec<Vec<Task>>> {
    /// Its servers (or recovery instances) and restores.
    pub fn count(&self) -> WaveCount {
        let tasks = || self.rounds.iter().flatten();
        WaveCount {
            name: self.name.clone(),
            servers: tasks().map(Task::servers).sum(),
            restores: tasks().filter(|t| matches!(t, Task::Restore(_))).count(),
        }
    }
}

impl Task {
    /// The servers (or recovery instances) the task launches.
    pub(super) fn servers(&self) -> usize {
        match self {
            Task::Recovery(r) => r.source_servers.len(),
            Task::Failback(f) => f.recovery_instance_ids.as_ref().map_or(0, Vec::len),
            Task::Restore(_) => 0,
        }
    }
}

/// A message ready to publish.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Notice {
    pub subject: String,
    pub message: serde_json::Value,
}

/// The run's own notifications, prepared with the plan ([`crate::notify::annotate`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunNotices {
    /// `RUN_STARTED`, published as it is.
    pub started: Notice,
    /// The subject of `RUN_FINISHED` / `RUN_FAILED` without how the run ended.
    pub ended: String,
}

/// Where a run stands between its waves. prepare-plan writes the first (`RUN_WAVE`, wave 0);
/// check-status's judgement of each wave writes the next; the workflow routes on `next` and
/// runs `waves[wave]`. Every wave judged so far is in `results`, whichever way the run ends.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub next: Next,
    /// The wave `RUN_WAVE` runs.
    pub wave: usize,
    /// How many waves the plan has.
    pub waves: usize,
    pub results: Vec<WaveResult>,
    /// Written by the workflow (the `Catch` of `Run wave`) when a wave could not be run to its
    /// judgement: the results so far stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<TaskFailure>,
}

impl Progress {
    /// A run's progress before its first wave.
    pub fn start(waves: usize) -> Progress {
        Progress {
            next: if waves == 0 { Next::End } else { Next::RunWave },
            wave: 0,
            waves,
            results: Vec::new(),
            interrupted: None,
        }
    }
}

/// What the workflow does next: the value its `What next` Choice routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Next {
    RunWave,
    End,
}

/// A task's error as a Step Functions `Catch` writes it (`ResultPath`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskFailure {
    pub error: String,
    /// Step Functions writes `null` when the failure gave none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub cause: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// One wave's result, as check-status writes it into the progress and the report reads it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveResult {
    pub index: usize,
    pub name: String,
    /// `SUCCEEDED` or `FAILED` (a wave never started because its approval was refused failed).
    pub state: JobState,
    pub summary: String,
    /// Empty unless `FAILED`.
    pub error: String,
    pub cause: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub jobs: Vec<JobReport>,
    /// Whether a person was asked before the wave, and what they answered.
    pub approval: ApprovalDecision,
}

/// A wave's approval as it was decided: the one shape the workflow writes (`$.decision`, in
/// the states after `Wait for the answer`), a wave's result carries and the run report reads.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(
    tag = "state",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum ApprovalDecision {
    /// Nobody was asked.
    NotRequired,
    /// An approver approved it through the approval endpoint.
    Approved {
        reason: String,
        answer: ApprovalAnswer,
        decided_at: String,
    },
    /// An approver rejected it through the approval endpoint; the answer says why.
    Rejected {
        reason: String,
        answer: ApprovalAnswer,
        decided_at: String,
    },
    /// Nobody answered within `approvalTimeoutSeconds`.
    TimedOut { reason: String, decided_at: String },
    /// The wait was resumed with something that is not the approval endpoint's answer (for
    /// example a wake function given the approval's token): not an approval.
    NotAnAnswer { reason: String, decided_at: String },
}

/// The jobs a wave's rounds started (what `Run rounds` writes over the prepared tasks), or
/// none when its approval was refused (`Nothing started`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Started {
    pub started: Vec<Tracked>,
}

/// A wave once its rounds ran (`Run rounds` writes the jobs they started over the prepared
/// tasks): what the judgement reads of it.
pub type RanWave = PreparedWave<Started>;

/// The state of one wave's branch when it is judged (the `Run wave` branch's `$`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveState {
    pub wave: RanWave,
    pub options: ResolvedOptions,
    pub progress: Progress,
    pub decision: ApprovalDecision,
    /// What resumed the wait (`Wait for the answer`): the approval endpoint's
    /// [`ApprovalAnswer`] when the approval was answered, anything else when it was not (which
    /// `Answered` routes to `Not an answer`; only the decision is read from here on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
    /// The approval's time-out (`Wait for the answer`'s `Catch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_error: Option<TaskFailure>,
    /// Set when the wave's jobs could not be checked (`Judge wave`'s `Catch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_error: Option<TaskFailure>,
    /// The judgement (`Judge wave`), until the branch returns its progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged: Option<Judged>,
    /// The wave's notification could not be sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_error: Option<TaskFailure>,
}

/// What the judgement of a wave returns: the run's progress with this wave's result, and the
/// wave's `WAVE_FINISHED` notification.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judged {
    pub progress: Progress,
    pub notice: Notice,
}

/// The body of `WAVE_FINISHED`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveFinished {
    pub kind: String,
    pub wave: String,
    pub state: JobState,
    pub summary: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub error: String,
    pub cause: String,
    pub execution_id: String,
}

/// How the run ended, settled once from the progress and the cleanup (`$.settled`), and the
/// notification that says so.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    pub outcome: Outcome,
    pub notice: EndNotice,
}

/// The kind, severity and subject of a run's last notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndNotice {
    pub kind: String,
    pub severity: String,
    pub subject: String,
}

/// What ends every run (`$.ending`): the outcome (its cause names the report when one was
/// written), the last notification, and where the report is.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ending {
    pub outcome: Outcome,
    pub notice: EndNotice,
    pub report: Written,
}

/// Where a run's report is (`WRITE`, `REFUSED`), or, when it could not be written (the
/// workflow's `Report not written`), `written: false` with the error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Written {
    pub written: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// `s3://bucket/runs/<plan>/<execution>/report.html`, and the same for `report.json`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub html: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub json: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub index: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub verdict: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_rto_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_rpo_seconds: Option<i64>,
    /// The run's cause with the report's location (for a run that succeeded, the location
    /// alone); why it was not written otherwise.
    pub cause: String,
    /// The report function's error, when the report was not written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the drill cleanup wrote (`$.cleanupResult`), or `No cleanup` when there was none.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CleanupResult {
    pub report: Cleanup,
}

/// Where `MEASURE` stored the evidence it read before the cleanup (`$.measured`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    pub key: String,
}

/// The workflow's state after the waves, as the report function reads it: the prepared plan
/// (with the progress) and what the states after the waves added.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    #[serde(flatten)]
    pub plan: PreparedPlan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measured>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_result: Option<CleanupResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_error: Option<TaskFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled: Option<Settled>,
    /// How the run ended, with its report (`Write the report`, `Report not written`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<Ending>,
    /// Failures the workflow caught and went on from: a notification not sent, the
    /// measurements not taken, the report not written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_error: Option<TaskFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure_error: Option<TaskFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_error: Option<TaskFailure>,
}

#[cfg(test)]
mod tests {
    use crate::plan::fixtures::{inventory, plan, prepare};
    use crate::plan::input::Trigger;
    use crate::plan::rounds::ActiveLoad;

    #[test]
    fn a_thousand_tag_selected_servers_prepare_into_less_than_64_kib() {
        let p = plan(
            serde_json::json!({"planName": "big", "isDrill": true, "tags": {"dr:plan": "big"},
            "waves": [
                {"name": "one", "select": {"tags": {"dr-wave": "1"}}},
                {"name": "two", "select": {"tags": {"dr-wave": "2"}}}
            ]}),
        );
        let prepared = prepare(
            &p,
            &inventory(1000),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
        assert_eq!(prepared.servers, 1000);
        let bytes = serde_json::to_vec(&prepared).unwrap().len();
        assert!(bytes < 64 * 1024, "{bytes} bytes");
    }
}
