//! The run's longest time. Step Functions ends an execution at the definition's
//! `TimeoutSeconds` ([`MAX_RUN_SECONDS`]: the state machine's backstop, which the template's
//! timed-out alarms watch), so a prepared plan that could run longer is refused before it
//! starts, naming the option to shorten.
//!
//! The worst case counted here: every wait lasts until it gives up (each approval its whole
//! `approvalTimeoutSeconds`, each round its `giveUpAfterSeconds` and a poll more, the drill's
//! cleanup likewise), every task takes its function's whole timeout once, each round's starts
//! wait out servers another job holds, and one AWS outage lasts the whole outage budget, as the
//! history budget ([`super::budget`]) counts it.

use super::budget::{polls_until_give_up, CONFLICT_RETRIES};
use super::limits::MAX_RUN_SECONDS;
use super::run_state::PreparedPlan;
use crate::cleanup::CleanupAction;
use crate::error::TaskError;

/// Seconds the definition and the template give the steps; `tests/statemachine_contract.rs`
/// reads them from `template.yaml` and `statemachine/run-plan.asl.json`.
pub mod seconds {
    /// The functions' timeout (the template's `Globals`): one task of a round, a wave or a check.
    pub const STEP: u64 = 30;
    /// The longest function timeout (the report's): each of the run's own steps.
    pub const RUN_STEP: u64 = 120;
    /// The run's own tasks and publications: prepare, announce, measure, settle, report,
    /// announce the end, and the cleanup's first call.
    pub const RUN_STEPS: u64 = 8;
    /// A wave's tasks apart from its rounds: the approval request, the judgement, the record of
    /// an unchecked wave and the wave's announcement.
    pub const WAVE_STEPS: u64 = 4;
    /// Between two retries of a start whose servers another job holds (`Conflict`).
    pub const CONFLICT_INTERVAL: u64 = 30;
}

/// The contributions to a run's longest time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Longest {
    /// Waiting for people: every approval the plan asks for, to its time-out.
    pub approvals: u64,
    /// The waves' rounds, each waiting until it gives up.
    pub rounds: u64,
    /// The drill's instances kept, then their termination polled until it gives up.
    pub cleanup: u64,
    /// The run's and the waves' own steps, and one outage.
    pub steps: u64,
}

impl Longest {
    pub fn total(&self) -> u64 {
        self.approvals + self.rounds + self.cleanup + self.steps
    }
}

/// How long a run of `plan` could take at the worst (see the module's documentation).
pub fn longest_run(plan: &PreparedPlan) -> Longest {
    let options = &plan.options;
    let poll = options.poll_interval_seconds.max(1);
    let polls = polls_until_give_up(options);
    let waiting = polls * (poll + seconds::STEP);
    let round = seconds::STEP + CONFLICT_RETRIES * seconds::CONFLICT_INTERVAL + waiting;
    let mut longest = Longest {
        steps: seconds::RUN_STEPS * seconds::RUN_STEP + options.outage_budget_seconds,
        ..Longest::default()
    };
    for wave in &plan.waves {
        longest.steps += seconds::WAVE_STEPS * seconds::STEP;
        if wave.approval.required {
            longest.approvals += options.approval_timeout_seconds;
        }
        longest.rounds += round * wave.rounds.len() as u64;
    }
    if plan.cleanup.action == CleanupAction::TerminateDrillInstances {
        longest.cleanup = plan.cleanup.keep_seconds + waiting;
    }
    longest
}

/// Refuses a plan that could outlast [`MAX_RUN_SECONDS`], naming the option whose waits
/// weigh most.
pub(super) fn check_duration(plan: &PreparedPlan) -> Result<(), TaskError> {
    let longest = longest_run(plan);
    let total = longest.total();
    if total <= MAX_RUN_SECONDS {
        return Ok(());
    }
    let o = &plan.options;
    let (field, remedy) = if longest.approvals >= longest.rounds.max(longest.cleanup) {
        (
            "options.approvalTimeoutSeconds",
            format!(
                "the approvals could wait {} s in all: lower approvalTimeoutSeconds ({} s) or ask fewer waves",
                longest.approvals, o.approval_timeout_seconds
            ),
        )
    } else if longest.rounds >= longest.cleanup {
        (
            "options.giveUpAfterSeconds",
            format!(
                "{} rounds of jobs could wait {} s in all: lower giveUpAfterSeconds ({} s) or pollIntervalSeconds ({} s), or put more servers in each job (batchSize)",
                plan.waves.iter().map(|w| w.rounds.len()).sum::<usize>(),
                longest.rounds,
                o.give_up_after_seconds,
                o.poll_interval_seconds
            ),
        )
    } else {
        (
            "options.keepDrillInstancesMinutes",
            format!(
                "the drill's cleanup could take {} s: lower keepDrillInstancesMinutes ({}) or giveUpAfterSeconds ({} s)",
                longest.cleanup, o.keep_drill_instances_minutes, o.give_up_after_seconds
            ),
        )
    };
    Err(TaskError::invalid(
        field,
        format!(
            "the run could last {total} s if every wait ran to its end, more than the {MAX_RUN_SECONDS} s (14 days) after which Step Functions stops it: {remedy}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::{longest_run, seconds};
    use crate::error::TaskError;
    use crate::plan::fixtures::{inventory, plan, prepare, servers};
    use crate::plan::input::Trigger;
    use crate::plan::rounds::ActiveLoad;

    #[test]
    fn the_longest_run_counts_every_wait_to_its_end() {
        // A drill of two waves of one job each, the second asking for approval, at a 60 s poll
        // and a 600 s give-up: hand-counted.
        let p = plan(serde_json::json!({"isDrill": true,
            "options": {"pollIntervalSeconds": 60, "giveUpAfterSeconds": 600,
                        "approvalTimeoutSeconds": 900, "keepDrillInstancesMinutes": 10},
            "waves": [{"name": "a", "sourceServers": servers(0, 2)},
                      {"name": "b", "sourceServers": servers(2, 4), "pauseBefore": true}]}));
        let prepared =
            prepare(&p, &inventory(4), Trigger::console(), ActiveLoad::default()).unwrap();
        let longest = longest_run(&prepared);
        // Each round: a start (30), 20 conflict retries 30 s apart (600), and 12 polls
        // (600 / 60 + 2) of a 60 s wait and a 30 s check.
        let round = 30 + 600 + 12 * 90;
        assert_eq!(longest.rounds, 2 * round);
        assert_eq!(longest.approvals, 900);
        assert_eq!(longest.cleanup, 600 + 12 * 90);
        // Eight run steps of 120 s, the 1,800 s outage budget, four steps of 30 s per wave.
        assert_eq!(longest.steps, 8 * 120 + 1800 + 2 * 4 * 30);
        assert_eq!(seconds::STEP, 30);
    }

    #[test]
    fn a_plan_that_could_outlast_the_state_machine_is_refused_naming_what_to_shorten() {
        // Three waves each asking a week for approval: 21 days of waiting.
        let waves: Vec<_> = (0..3)
            .map(|i| {
                serde_json::json!({"name": format!("w{i}"), "pauseBefore": true,
                                        "sourceServers": servers(i * 2, i * 2 + 2)})
            })
            .collect();
        let p = plan(serde_json::json!({"isDrill": true,
            "options": {"approvalTimeoutSeconds": 604_800}, "waves": waves}));
        let err =
            prepare(&p, &inventory(6), Trigger::console(), ActiveLoad::default()).unwrap_err();
        let TaskError::InvalidInput { field, constraint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "options.approvalTimeoutSeconds");
        assert!(
            constraint.contains("more than the 1209600 s (14 days)"),
            "{constraint}"
        );
        assert!(
            constraint.contains("approvals could wait 1814400 s"),
            "{constraint}"
        );

        // Twenty waves whose rounds may each wait a day, polled hourly: 20 × 26 polls of an
        // hour and a half-minute check is about 22 days.
        let twenty = |give_up: u64| {
            let waves: Vec<_> = (0..20)
                .map(|i| serde_json::json!({"name": format!("w{i}"), "sourceServers": servers(i, i + 1)}))
                .collect();
            let p = plan(serde_json::json!({"isDrill": true,
                "options": {"pollIntervalSeconds": 3600, "giveUpAfterSeconds": give_up},
                "waves": waves}));
            prepare(
                &p,
                &inventory(20),
                Trigger::console(),
                ActiveLoad::default(),
            )
        };
        let Err(TaskError::InvalidInput { field, .. }) = twenty(86_400) else {
            panic!("a run of 22 days is refused")
        };
        assert_eq!(field, "options.giveUpAfterSeconds");
        // The same twenty waves giving up after two hours fit.
        twenty(7200).unwrap();
    }
}
