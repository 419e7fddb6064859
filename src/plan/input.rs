//! What a person writes, as `prepare-plan` reads it: the workflow and execution it is asked for,
//! what triggered the run, and the three kinds of plan (a recovery plan of waves, a restore run,
//! a failback run) with their parts. Reading only: the rules are checked in
//! [`check`](super::check).

use serde::{Deserialize, Serialize};

use super::options::Options;
use crate::contract::{RestoreSpec, SourceServerSpec, Tags};
use crate::error::TaskError;
use crate::validate;

/// Which workflow asks `prepare-plan` to prepare its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Workflow {
    RecoveryPlan,
    Failback,
    Restore,
}

/// Input of `prepare-plan`: the execution's input as given, and the execution it belongs to.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrepareInput {
    pub workflow: Workflow,
    pub input: serde_json::Value,
    pub execution_id: String,
    pub started_at: String,
}

/// What started a run. EventBridge rules send `{"plan": ..., "trigger": ...}`; a plan given
/// as it is (the console) was started by hand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Trigger {
    pub kind: TriggerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// The kinds of [`Trigger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerKind {
    Event,
    Schedule,
    Console,
}

impl Trigger {
    pub(crate) fn console() -> Self {
        Trigger {
            kind: TriggerKind::Console,
            event_id: None,
            source: None,
            detail_type: None,
            time: None,
            account: None,
        }
    }
}

/// A recovery plan: ordered waves of source servers (listed, or selected by tags) and AWS
/// Backup restores.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecoveryPlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    /// Required: `true` for a drill, `false` for a real recovery. Optional here only so that
    /// its absence is reported with the plan's other problems.
    #[serde(default)]
    pub is_drill: Option<bool>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
    #[serde(default)]
    pub waves: Vec<Wave>,
}

/// One wave of a recovery plan.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Wave {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub source_servers: Vec<SourceServerSpec>,
    #[serde(default)]
    pub select: Option<Selector>,
    #[serde(default)]
    pub restores: Vec<RestoreSpec>,
    /// The run waits for a person's approval before this wave starts (drills too).
    #[serde(default)]
    pub pause_before: Option<bool>,
    /// This wave's own targets, instead of the plan's `options.rtoTargetMinutes` /
    /// `options.rpoTargetMinutes`.
    #[serde(default)]
    pub rto_target_minutes: Option<u64>,
    #[serde(default)]
    pub rpo_target_minutes: Option<u64>,
}

/// Source servers chosen by what DRS reports about them: every server carrying all of `tags`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub tags: Tags,
}

/// A restore-only run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RestorePlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
    #[serde(default)]
    pub restores: Vec<RestoreSpec>,
}

/// A failback run: explicit recovery instances, or those a finished real recovery launched.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FailbackPlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    #[serde(rename = "recoveryInstanceIDs", default)]
    pub recovery_instance_ids: Vec<String>,
    /// The DRS jobs of a finished real recovery run (its output): prepare-plan reads from DRS
    /// which recovery instances they launched and fails those back.
    #[serde(skip)]
    pub from_jobs: Vec<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub options: Options,
}

/// an EventBridge rule, or the plan itself (the console).
pub fn split_envelope(input: serde_json::Value) -> Result<(serde_json::Value, Trigger), TaskError> {
    match input {
        serde_json::Value::Object(mut map) if map.contains_key("plan") => {
            let trigger = match map.remove("trigger") {
                Some(t) => crate::contract::parse_at("trigger", t)?,
                None => {
                    return Err(TaskError::invalid(
                        "trigger",
                        "an input with a plan field also names its trigger",
                    ))
                }
            };
            let plan = map.remove("plan").unwrap_or_default();
            if let Some(other) = map.keys().next() {
                return Err(TaskError::invalid(
                    other.clone(),
                    "unknown field next to plan and trigger",
                ));
            }
            Ok((plan, trigger))
        }
        plan => Ok((plan, Trigger::console())),
    }
}

/// Reads a failback run's input: explicit `recoveryInstanceIDs`, or the output of a finished
/// real recovery run, whose DRS jobs' launched instances are failed back (prepare-plan reads
/// them from DRS: the run's output names its jobs, not every instance).
pub fn failback_plan(input: serde_json::Value) -> Result<FailbackPlan, TaskError> {
    use serde_json::Value;
    if input.get("recoveryInstanceIDs").is_some() || input.get("waves").is_none() {
        return crate::contract::parse(input);
    }
    if input.get("isDrill") == Some(&Value::Bool(true)) {
        return Err(TaskError::invalid(
            "isDrill",
            "this recovery run was a drill: drill instances are not failed back, terminate them instead",
        ));
    }
    let mut jobs = Vec::new();
    for (w, wave) in input["waves"].as_array().into_iter().flatten().enumerate() {
        for (j, job) in wave["jobs"].as_array().into_iter().flatten().enumerate() {
            if job["kind"] != "DRS_JOB" {
                continue;
            }
            let field = format!("waves[{w}].jobs[{j}].jobID");
            let id = job["jobID"]
                .as_str()
                .ok_or_else(|| TaskError::invalid(&field, "is required for a DRS_JOB"))?;
            validate::job_id(&field, id)?;
            jobs.push(id.to_owned());
        }
    }
    if jobs.is_empty() {
        return Err(TaskError::invalid(
            "waves",
            "this recovery run started no DRS job: give recoveryInstanceIDs, or the output of a finished real recovery run",
        ));
    }
    Ok(FailbackPlan {
        plan_name: input["planName"]
            .as_str()
            .map(|n| format!("failback of {n}")),
        recovery_instance_ids: Vec::new(),
        from_jobs: jobs,
        tags: crate::contract::parse_at("tags", input.get("tags").cloned().unwrap_or_default())
            .or_else(|_| Ok::<_, TaskError>(Tags::new()))?,
        options: match input.get("options") {
            Some(o) => crate::contract::parse_at("options", o.clone())?,
            None => Options::default(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::check_failback_plan;
    use crate::plan::options::Defaults;

    #[test]
    fn failback_takes_the_drs_jobs_of_a_real_recovery_run_only() {
        let output = serde_json::json!({"planName": "p", "isDrill": false, "waves": [
            {"jobs": [{"kind": "DRS_JOB", "jobID": "drsjob-0123456789abcdef0"}, {"kind": "RESTORE_JOB"}]},
            {"jobs": [{"kind": "NOT_STARTED"}, {"kind": "DRS_JOB", "jobID": "drsjob-0123456789abcdef1"}]}
        ]});
        let fb = failback_plan(output.clone()).unwrap();
        assert_eq!(
            fb.from_jobs,
            ["drsjob-0123456789abcdef0", "drsjob-0123456789abcdef1"]
        );
        assert!(fb.recovery_instance_ids.is_empty());
        assert_eq!(fb.plan_name.as_deref(), Some("failback of p"));
        // The instances are read from DRS later: the plan's other fields are checked now.
        check_failback_plan(&fb, &Defaults::default()).unwrap();
        let mut drill = output.clone();
        drill["isDrill"] = serde_json::json!(true);
        assert_eq!(failback_plan(drill).unwrap_err().name(), "InvalidInput");
        let mut bad = output.clone();
        bad["waves"][1]["jobs"][1]["jobID"] = serde_json::json!("job-1");
        let err = failback_plan(bad).unwrap_err();
        assert!(err.to_string().contains("waves[1].jobs[1].jobID"), "{err}");
        let restores_only =
            serde_json::json!({"isDrill": false, "waves": [{"jobs": [{"kind": "RESTORE_JOB"}]}]});
        let err = failback_plan(restores_only).unwrap_err();
        assert!(err.to_string().contains("started no DRS job"), "{err}");
    }
}
