//! The history budget: a Step Functions execution holds at most 25,000 history events, so a
//! prepared plan whose rounds could write more if every job waited until it gave up is refused
//! before it starts.

use super::limits::HISTORY_EVENT_LIMIT;
use super::run_state::PreparedPlan;
use crate::error::TaskError;

/// The most history events a run of `plan` can write if every round waits until it gives up.
/// Per round: its tasks (about 10 events each) and one wait per interval that no event cut
/// short (the callback task that times out, 6 events; the check, 5; the Choice, 2: 13 events);
/// per wave a final check; plus the fixed states around them (the run report's two tasks among
/// them, and the drill cleanup's polls: a Wait, a task and a Choice, 9 events).
pub fn worst_case_history(plan: &PreparedPlan) -> u64 {
    // A callback task that times out writes TaskStateEntered, TaskScheduled, TaskStarted,
    // TaskSubmitted, TaskTimedOut and TaskStateExited.
    const ROUND_EVENTS_PER_POLL: u64 = 13;
    let polls = plan.options.give_up_after_seconds / plan.options.poll_interval_seconds + 2;
    // The cleanup after a drill polls its TERMINATE jobs like a round; the run's notifications
    // (started, and how it ended: two publish tasks and a Choice) add 12.
    let mut events = 92 + 9 * polls;
    for wave in &plan.waves {
        // Each wave's WAVE_FINISHED is one more publish task (5 events).
        events += if wave.approval.required { 45 } else { 35 };
        for round in &wave.rounds {
            events += 12 + 10 * round.len() as u64 + ROUND_EVENTS_PER_POLL * polls;
        }
    }
    events
}

pub(super) fn check_history_budget(plan: &PreparedPlan) -> Result<(), TaskError> {
    let events = worst_case_history(plan);
    if events > HISTORY_EVENT_LIMIT {
        let rounds: usize = plan.waves.iter().map(|w| w.rounds.len()).sum();
        return Err(TaskError::invalid(
            "options.giveUpAfterSeconds",
            format!(
                "{rounds} rounds of jobs polled every {} s for up to {} s could write {events} history events, more than Step Functions' {HISTORY_EVENT_LIMIT} per execution: raise pollIntervalSeconds, lower giveUpAfterSeconds, or put more servers in each job (batchSize)",
                plan.options.poll_interval_seconds, plan.options.give_up_after_seconds
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::error::TaskError;
    use crate::plan::fixtures::{inventory, plan, prepare, servers};
    use crate::plan::input::Trigger;
    use crate::plan::rounds::ActiveLoad;

    #[test]
    fn a_plan_that_could_exhaust_the_execution_history_is_refused_before_it_starts() {
        let p = plan(
            serde_json::json!({"isDrill": true, "options": {"pollIntervalSeconds": 1, "giveUpAfterSeconds": 7200},
            "waves": [{"name": "w", "sourceServers": servers(0, 3)}]}),
        );
        let err =
            prepare(&p, &inventory(3), Trigger::console(), ActiveLoad::default()).unwrap_err();
        let TaskError::InvalidInput { field, constraint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "options.giveUpAfterSeconds");
        assert!(
            constraint.contains("more than Step Functions' 25000"),
            "{constraint}"
        );
    }
}
