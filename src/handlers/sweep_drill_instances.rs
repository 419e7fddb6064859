//! `sweep-drill-instances`: a run stopped from the console cannot clean up after itself, so a
//! schedule runs this. It terminates the drill recovery instances of this deployment's jobs
//! (their execution tag names one of its drill workflows) that are older than the deployment's
//! `DrillInstanceMaxAgeHours` and whose execution no longer runs, and reports what it
//! terminated and what it left alone, and why: a job without the execution tag, a drill of
//! another deployment, or an execution it may not read is left alone, never guessed at.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::info;

use crate::aws::{self, executions, recovery_instances as drs};
use crate::cleanup::{self, InstanceFacts, JobFacts, Refusal, MAX_LISTED};
use crate::error::TaskError;
use crate::idempotency::EXECUTION_TAG;
use crate::{config, contract};

/// Input: what started the sweep, and optionally a maximum age other than the deployment's.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SweepInput {
    pub trigger: SweepTrigger,
    #[serde(default)]
    pub max_age_hours: Option<u64>,
}

/// Who asked for the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SweepTrigger {
    Schedule,
    Console,
}

/// One instance the sweep terminated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    #[serde(rename = "recoveryInstanceID")]
    pub recovery_instance_id: String,
    #[serde(rename = "sourceServerID", skip_serializing_if = "Option::is_none")]
    pub source_server_id: Option<String>,
    #[serde(rename = "jobID")]
    pub job_id: String,
    pub age_hours: u64,
    pub execution: String,
}

/// What the sweep did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub trigger: SweepTrigger,
    pub max_age_hours: u64,
    pub summary: String,
    pub terminated_count: usize,
    /// At most [`MAX_LISTED`].
    pub terminated: Vec<Swept>,
    #[serde(rename = "terminateJobIDs")]
    pub terminate_job_ids: Vec<String>,
    /// Instances left alone, by reason.
    pub left_alone: BTreeMap<LeftAlone, usize>,
}

/// Why the sweep left an instance alone; serialised as its [`LeftAlone::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeftAlone {
    /// DRS does not say it is a drill instance.
    RealRecoveryInstance,
    /// A drill instance whose job is not a drill job this project started.
    NotLaunchedByDrOrchestrator,
    /// Our drill job, without the execution tag: no run to ask about.
    NoExecutionTag,
    /// The execution tag names a workflow this deployment does not name.
    AnotherDeploymentsDrill,
    /// Not older than the sweep's maximum age.
    YoungerThanMaxAge,
    /// Its run still goes: the run cleans up after itself.
    ExecutionStillRunning,
    /// Its execution could not be read (access denied): never taken for ended.
    ExecutionNotReadable,
    /// A TERMINATE job that has not ended already holds it.
    AlreadyTerminating,
}

impl LeftAlone {
    /// The name the report uses.
    pub fn name(self) -> &'static str {
        match self {
            LeftAlone::RealRecoveryInstance => "REAL_RECOVERY_INSTANCE",
            LeftAlone::NotLaunchedByDrOrchestrator => "NOT_LAUNCHED_BY_DR_ORCHESTRATOR",
            LeftAlone::NoExecutionTag => "NO_EXECUTION_TAG",
            LeftAlone::AnotherDeploymentsDrill => "ANOTHER_DEPLOYMENTS_DRILL",
            LeftAlone::YoungerThanMaxAge => "YOUNGER_THAN_MAX_AGE",
            LeftAlone::ExecutionStillRunning => "EXECUTION_STILL_RUNNING",
            LeftAlone::ExecutionNotReadable => "EXECUTION_NOT_READABLE",
            LeftAlone::AlreadyTerminating => "ALREADY_TERMINATING",
        }
    }
}

impl Serialize for LeftAlone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// What the sweep decided so far: the instances it may terminate, and the others by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sorting {
    pub candidates: Vec<Swept>,
    pub left_alone: BTreeMap<LeftAlone, usize>,
}

impl Sorting {
    fn leave(&mut self, why: LeftAlone) {
        *self.left_alone.entry(why).or_default() += 1;
    }
}

/// The first sort, from what DRS lists (no other call): the drill instances of this
/// deployment's runs (`scope.workflows`) older than `max_age_hours` at `now` (epoch seconds),
/// which the guard ([`cleanup::may_terminate`]) lets a sweep terminate.
pub fn sort_out(
    instances: &[InstanceFacts],
    jobs: &BTreeMap<String, JobFacts>,
    workflows: &[String],
    max_age_hours: u64,
    now: i64,
) -> Sorting {
    let mut sorting = Sorting::default();
    for instance in instances {
        match cleanup::may_terminate(instance, jobs, None) {
            Err(Refusal::NotADrill) => sorting.leave(LeftAlone::RealRecoveryInstance),
            Err(_) => sorting.leave(LeftAlone::NotLaunchedByDrOrchestrator),
            Ok(()) => {
                let job = &jobs[instance.job_id.as_deref().unwrap_or_default()];
                let tag = job.tags.get(EXECUTION_TAG).map(String::as_str);
                let execution = match owner(tag, workflows) {
                    Owner::Untagged => {
                        sorting.leave(LeftAlone::NoExecutionTag);
                        continue;
                    }
                    Owner::Elsewhere => {
                        sorting.leave(LeftAlone::AnotherDeploymentsDrill);
                        continue;
                    }
                    Owner::Ours(execution) => execution,
                };
                let age_hours = job
                    .created
                    .map_or(0, |c| u64::try_from(now - c).unwrap_or(0) / 3600);
                if age_hours < max_age_hours {
                    sorting.leave(LeftAlone::YoungerThanMaxAge);
                    continue;
                }
                sorting.candidates.push(Swept {
                    recovery_instance_id: instance.recovery_instance_id.clone(),
                    source_server_id: instance.source_server_id.clone(),
                    job_id: job.job_id.clone(),
                    age_hours,
                    execution,
                });
            }
        }
    }
    sorting
}

/// The second sort: of the candidates, those whose run has ended (`running`: per execution,
/// whether it runs, `None` when it could not be read) and that no unfinished TERMINATE job
/// holds (`busy`).
pub fn settle(
    mut sorting: Sorting,
    running: &BTreeMap<String, Option<bool>>,
    busy: &BTreeSet<String>,
) -> Sorting {
    let mut swept = Vec::new();
    for c in std::mem::take(&mut sorting.candidates) {
        match running.get(&c.execution).copied().flatten() {
            Some(true) => sorting.leave(LeftAlone::ExecutionStillRunning),
            None => sorting.leave(LeftAlone::ExecutionNotReadable),
            Some(false) if busy.contains(&c.recovery_instance_id) => {
                sorting.leave(LeftAlone::AlreadyTerminating)
            }
            Some(false) => swept.push(c),
        }
    }
    sorting.candidates = swept;
    sorting
}

/// What the sweeper may touch: drills of these workflows, older than this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub max_age_hours: u64,
    /// State machine ARNs (`DR_DRILL_WORKFLOWS`).
    pub workflows: Vec<String>,
}

impl Scope {
    /// The deployment's scope; without drill workflows the sweeper cannot tell its drills
    /// from another deployment's, so its init phase fails.
    pub fn of(config: &config::Config) -> Result<Scope, String> {
        if config.drill_workflows.is_empty() {
            return Err("DR_DRILL_WORKFLOWS is not set: the sweeper touches only the drills of the state machines it names".into());
        }
        Ok(Scope {
            max_age_hours: config.drill_instance_max_age_hours,
            workflows: config.drill_workflows.clone(),
        })
    }
}

/// Whose drill a job was, by its execution tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// No execution tag: not started by a run, or tagged by hand.
    Untagged,
    /// An execution of a state machine this deployment does not name.
    Elsewhere,
    /// An execution of one of this deployment's drill workflows.
    Ours(String),
}

/// The owner of a job tagged with `execution` (an execution ARN,
/// `arn:P:states:R:A:execution:MACHINE:ID`), among `workflows` (state machine ARNs,
/// `arn:P:states:R:A:stateMachine:MACHINE`).
pub fn owner(execution: Option<&str>, workflows: &[String]) -> Owner {
    let Some(execution) = execution else {
        return Owner::Untagged;
    };
    let parts: Vec<&str> = execution.split(':').collect();
    let machine = match parts.as_slice() {
        [arn, partition, "states", region, account, "execution", name, _id] => {
            format!("{arn}:{partition}:states:{region}:{account}:stateMachine:{name}")
        }
        _ => return Owner::Elsewhere,
    };
    if workflows.contains(&machine) {
        Owner::Ours(execution.to_owned())
    } else {
        Owner::Elsewhere
    }
}

/// Parses and checks a payload: the input, and the age limit this sweep applies.
pub fn parse_input(
    payload: Value,
    deployment_max_age: u64,
) -> Result<(SweepInput, u64), TaskError> {
    let input: SweepInput = contract::parse(payload)?;
    let max_age = match input.max_age_hours {
        None => deployment_max_age,
        Some(h) => config::DRILL_INSTANCE_MAX_AGE_HOURS
            .check(h)
            .map_err(|e| TaskError::invalid("maxAgeHours", e))?,
    };
    Ok((input, max_age))
}

/// Handles one invocation.
pub async fn handle(
    drs_client: &aws_sdk_drs::Client,
    sfn: &aws_sdk_sfn::Client,
    scope: &Scope,
    event: LambdaEvent<Value>,
) -> Result<SweepReport, TaskError> {
    let (input, max_age_hours) = parse_input(event.payload, scope.max_age_hours)?;
    let now = i64::try_from(aws::epoch_seconds()).unwrap_or(i64::MAX);

    let instances = drs::recovery_instances(drs_client, None).await?;
    let job_ids: Vec<String> = instances
        .iter()
        .filter(|i| i.is_drill == Some(true))
        .filter_map(|i| i.job_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let jobs: BTreeMap<_, _> = drs::jobs(drs_client, &job_ids)
        .await?
        .into_iter()
        .map(|(id, j)| (id, j.facts))
        .collect();
    let sorting = sort_out(&instances, &jobs, &scope.workflows, max_age_hours, now);

    // One question per execution: is it still running? One the sweeper may not read (its
    // role reads only this deployment's workflows) is left alone, not taken for ended.
    let mut running: BTreeMap<String, Option<bool>> = BTreeMap::new();
    for c in &sorting.candidates {
        if !running.contains_key(&c.execution) {
            let is = match executions::is_running(sfn, &c.execution).await {
                Ok(is) => Some(is),
                Err(TaskError::AccessDenied { .. }) => None,
                Err(other) => return Err(other),
            };
            running.insert(c.execution.clone(), is);
        }
    }

    // An instance already in a TERMINATE job that has not ended is not asked again.
    let since = now - i64::try_from(max_age_hours * 3600).unwrap_or(i64::MAX / 2) - 3600;
    let since =
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(since).unwrap_or(0));
    let recent = drs::jobs_since(drs_client, since).await?;
    let busy: BTreeSet<String> = recent
        .values()
        .filter(|j| j.facts.initiated_by == "TERMINATE_RECOVERY_INSTANCES" && !j.completed)
        .flat_map(|j| j.instances.iter().map(|(id, _, _)| id.clone()))
        .collect();
    let Sorting {
        candidates: mut swept,
        left_alone,
    } = settle(sorting, &running, &busy);
    let ids: Vec<String> = swept
        .iter()
        .map(|s| s.recovery_instance_id.clone())
        .collect();
    let terminate_job_ids = drs::terminate(drs_client, &ids).await?;
    let terminated_count = swept.len();
    swept.truncate(MAX_LISTED);
    let summary = format!(
        "terminated {terminated_count} drill recovery instances older than {max_age_hours} h whose run has ended; left alone: {}",
        if left_alone.is_empty() {
            "none".to_owned()
        } else {
            left_alone
                .iter()
                .map(|(k, v)| format!("{v} {}", k.name()))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    info!(
        terminated = terminated_count,
        ?left_alone,
        "drill sweep done"
    );
    Ok(SweepReport {
        trigger: input.trigger,
        max_age_hours,
        summary,
        terminated_count,
        terminated: swept,
        terminate_job_ids,
        left_alone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECOVERY_PLAN: &str =
        "arn:aws:states:eu-west-1:123456789012:stateMachine:payments-dr-recovery-plan";

    #[test]
    fn only_an_execution_of_a_named_workflow_makes_a_drill_ours() {
        let workflows = vec![RECOVERY_PLAN.to_owned()];
        let ours =
            "arn:aws:states:eu-west-1:123456789012:execution:payments-dr-recovery-plan:drill-7";
        assert_eq!(owner(Some(ours), &workflows), Owner::Ours(ours.into()));
        assert_eq!(owner(None, &workflows), Owner::Untagged);
        for elsewhere in [
            // Another stack whose name begins like this one's.
            "arn:aws:states:eu-west-1:123456789012:execution:payments-dr-recovery-plan-2:drill-7",
            "arn:aws:states:eu-west-1:123456789012:execution:payments-recovery-plan:drill-7",
            // The same name in another account or Region.
            "arn:aws:states:eu-west-1:210987654321:execution:payments-dr-recovery-plan:drill-7",
            "arn:aws:states:us-east-1:123456789012:execution:payments-dr-recovery-plan:drill-7",
            "not an ARN",
            "",
        ] {
            assert_eq!(
                owner(Some(elsewhere), &workflows),
                Owner::Elsewhere,
                "{elsewhere}"
            );
        }
    }

    const OURS: &str =
        "arn:aws:states:eu-west-1:123456789012:execution:payments-dr-recovery-plan:drill-7";
    const NOW: i64 = 1_800_000_000;

    fn job(id: &str, by: &str, key: Option<&str>, execution: Option<&str>, hours: i64) -> JobFacts {
        let mut tags = BTreeMap::new();
        if let Some(key) = key {
            tags.insert(
                crate::idempotency::IDEMPOTENCY_TAG.to_owned(),
                key.to_owned(),
            );
        }
        if let Some(execution) = execution {
            tags.insert(EXECUTION_TAG.to_owned(), execution.to_owned());
        }
        JobFacts {
            job_id: id.into(),
            initiated_by: by.into(),
            tags,
            created: Some(NOW - hours * 3600),
        }
    }

    fn instance(n: usize, job: &str, is_drill: Option<bool>) -> InstanceFacts {
        InstanceFacts {
            recovery_instance_id: format!("i-{n:017}"),
            source_server_id: Some(format!("s-{n:017}")),
            job_id: Some(job.into()),
            is_drill,
            failback_state: None,
        }
    }

    /// One instance per reason, and one to sweep: the jobs, instances, and what each is.
    fn estate() -> (BTreeMap<String, JobFacts>, Vec<InstanceFacts>) {
        let elsewhere = OURS.replace("payments-dr-recovery-plan", "other-stack-recovery-plan");
        let jobs = [
            job("j-old", "START_DRILL", Some("r#w0#b0"), Some(OURS), 30),
            job("j-real", "START_RECOVERY", Some("r#w0#b1"), Some(OURS), 30),
            job("j-hand", "START_DRILL", None, Some(OURS), 30),
            job("j-untagged", "START_DRILL", Some("r#w0#b2"), None, 30),
            job(
                "j-other",
                "START_DRILL",
                Some("r#w0#b3"),
                Some(&elsewhere),
                30,
            ),
            job("j-young", "START_DRILL", Some("r#w0#b4"), Some(OURS), 23),
        ];
        let instances = vec![
            instance(0, "j-old", Some(true)),
            instance(1, "j-real", Some(false)),
            instance(2, "j-real", None),
            instance(3, "j-hand", Some(true)),
            instance(4, "j-gone", Some(true)),
            instance(5, "j-untagged", Some(true)),
            instance(6, "j-other", Some(true)),
            instance(7, "j-young", Some(true)),
        ];
        (
            jobs.into_iter().map(|j| (j.job_id.clone(), j)).collect(),
            instances,
        )
    }

    #[test]
    fn the_first_sort_keeps_only_old_drill_instances_of_this_deployments_runs() {
        let (jobs, instances) = estate();
        let sorting = sort_out(&instances, &jobs, &[RECOVERY_PLAN.to_owned()], 24, NOW);
        assert_eq!(
            sorting.candidates,
            [Swept {
                recovery_instance_id: "i-00000000000000000".into(),
                source_server_id: Some("s-00000000000000000".into()),
                job_id: "j-old".into(),
                age_hours: 30,
                execution: OURS.into(),
            }]
        );
        use LeftAlone::*;
        assert_eq!(
            sorting.left_alone,
            BTreeMap::from([
                (RealRecoveryInstance, 2),
                (NotLaunchedByDrOrchestrator, 2),
                (NoExecutionTag, 1),
                (AnotherDeploymentsDrill, 1),
                (YoungerThanMaxAge, 1),
            ])
        );
        // At exactly the maximum age an instance is old enough; an hour younger it is not.
        let sorting = sort_out(&instances, &jobs, &[RECOVERY_PLAN.to_owned()], 30, NOW);
        assert_eq!(sorting.candidates.len(), 1);
        let sorting = sort_out(&instances, &jobs, &[RECOVERY_PLAN.to_owned()], 31, NOW);
        assert!(sorting.candidates.is_empty());
        assert_eq!(sorting.left_alone[&YoungerThanMaxAge], 2);
    }

    #[test]
    fn the_second_sort_sweeps_only_ended_runs_instances_nobody_is_terminating() {
        let swept = |n: usize, execution: &str| Swept {
            recovery_instance_id: format!("i-{n}"),
            source_server_id: None,
            job_id: "j".into(),
            age_hours: 30,
            execution: execution.into(),
        };
        let sorting = Sorting {
            candidates: vec![
                swept(0, "ended"),
                swept(1, "running"),
                swept(2, "unreadable"),
                swept(3, "ended"),
                swept(4, "never asked"),
            ],
            left_alone: BTreeMap::from([(LeftAlone::NoExecutionTag, 1)]),
        };
        let running = BTreeMap::from([
            ("ended".to_owned(), Some(false)),
            ("running".to_owned(), Some(true)),
            ("unreadable".to_owned(), None),
        ]);
        let busy = BTreeSet::from(["i-3".to_owned()]);
        let settled = settle(sorting, &running, &busy);
        assert_eq!(settled.candidates, [swept(0, "ended")]);
        use LeftAlone::*;
        assert_eq!(
            settled.left_alone,
            BTreeMap::from([
                (NoExecutionTag, 1),
                (ExecutionStillRunning, 1),
                (ExecutionNotReadable, 2),
                (AlreadyTerminating, 1),
            ])
        );
    }

    #[test]
    fn the_report_names_each_reason_as_the_readme_does() {
        use LeftAlone::*;
        for reason in [
            RealRecoveryInstance,
            NotLaunchedByDrOrchestrator,
            NoExecutionTag,
            AnotherDeploymentsDrill,
            YoungerThanMaxAge,
            ExecutionStillRunning,
            ExecutionNotReadable,
            AlreadyTerminating,
        ] {
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                serde_json::json!(reason.name())
            );
        }
        let map = BTreeMap::from([(AlreadyTerminating, 2)]);
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"ALREADY_TERMINATING":2}"#
        );
    }

    #[test]
    fn the_sweeper_will_not_start_without_its_workflows() {
        let config = config::Config::default();
        assert!(Scope::of(&config)
            .unwrap_err()
            .contains("DR_DRILL_WORKFLOWS"));
        let config = config::Config::from_lookup(|name| {
            (name == "DR_DRILL_WORKFLOWS").then(|| format!(" {RECOVERY_PLAN} , {RECOVERY_PLAN}-2"))
        })
        .unwrap();
        let scope = Scope::of(&config).unwrap();
        assert_eq!(
            scope.workflows,
            [RECOVERY_PLAN.to_owned(), format!("{RECOVERY_PLAN}-2")]
        );
        assert_eq!(scope.max_age_hours, 24);
        assert!(config::Config::from_lookup(|name| {
            (name == "DR_DRILL_WORKFLOWS").then(|| "payments-dr-recovery-plan".to_owned())
        })
        .unwrap_err()
        .contains("DR_DRILL_WORKFLOWS"));
    }
}
