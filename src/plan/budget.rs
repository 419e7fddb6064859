//! The history budget: a Step Functions execution holds at most 25,000 history events, so a
//! prepared plan whose rounds could write more if every job waited until it gave up is refused
//! before it starts.

use super::limits::{HISTORY_EVENT_LIMIT, MAX_PREPARED_PLAN_BYTES, STATE_BYTES_LIMIT};
use super::options::ResolvedOptions;
use super::run_state::PreparedPlan;
use crate::error::TaskError;

/// The history events the definition writes, by what it is doing. `tests/history_budget.rs`
/// reads what e2e runs of the definition wrote, part by part, against these.
pub mod events {
    /// One wait that no event cut short: the callback task that times out (TaskStateEntered,
    /// TaskScheduled, TaskStarted, TaskSubmitted, TaskTimedOut, TaskStateExited: 6), the check
    /// (5) and the Choice (2).
    pub const PER_WAIT: u64 = 13;
    /// A round apart from its waits and its jobs: its Map iteration, the job-start Map and the
    /// state that ends it.
    pub const PER_ROUND: u64 = 12;
    /// Each job a round starts: its iteration of the job-start Map, a Choice and the task.
    pub const PER_JOB: u64 = 10;
    /// A wave apart from its rounds: the loop's Choice and Pass, the one-branch Parallel, the
    /// approval's routing, the judgement and the wave's notification.
    pub const PER_WAVE: u64 = 35;
    /// A wave that asks for approval: the request's publication (at most 6 events), the wait
    /// for the answer (a callback task: 6), the two Choices that take only the approval
    /// endpoint's answer (2 each) and the Pass that records the decision (2).
    pub const PER_APPROVAL: u64 = 18;
    /// The run apart from its waves: preparing, the run's notifications, the measurement, the
    /// settlement, the report and the end.
    pub const PER_RUN: u64 = 92;
    /// Each poll of a drill's cleanup: a Wait, a task and a Choice.
    pub const PER_CLEANUP_POLL: u64 = 9;
    /// Each retry of a task: TaskScheduled, TaskStarted, TaskFailed.
    pub const PER_RETRY: u64 = 3;
}

/// The retries of a start whose server another job holds (`Conflict`: 20, 30 s apart).
pub const CONFLICT_RETRIES: u64 = 20;

/// The retries one step may make while AWS answers throttled or unavailable for a whole
/// outage budget of `budget_seconds`: the workflow backs off from 5 s to at most 60 s with full
/// jitter, 30 s apart on average once it has ramped up; this counts twice that rate, plus the
/// ramp.
pub fn outage_retries(budget_seconds: u64) -> u64 {
    5 + budget_seconds / 15
}

/// The checks of one round (or of the drill's cleanup) that waits until it gives up: one per
/// poll interval, and one either side.
pub fn polls_until_give_up(options: &ResolvedOptions) -> u64 {
    options.give_up_after_seconds / options.poll_interval_seconds.max(1) + 2
}

/// The most history events a run of `plan` can write if every round and the drill's cleanup
/// wait until they give up, no event cutting a wait short, one AWS outage lasts the whole
/// outage budget at the worst place (the largest round's starts, all retrying, then its
/// check), and the largest round's starts wait out servers held by other jobs: the sum of
/// [`events`] over what the plan prepared.
pub fn worst_case_history(plan: &PreparedPlan) -> u64 {
    let polls = polls_until_give_up(&plan.options);
    let largest_round = plan
        .waves
        .iter()
        .flat_map(|w| &w.rounds)
        .map(|r| r.len() as u64)
        .max()
        .unwrap_or(0);
    let outage = (largest_round + 1)
        * outage_retries(plan.options.outage_budget_seconds)
        * events::PER_RETRY;
    // And one round whose every start waits for the servers another job holds.
    let conflict = largest_round * CONFLICT_RETRIES * events::PER_RETRY;
    let mut total = events::PER_RUN + events::PER_CLEANUP_POLL * polls + outage + conflict;
    for wave in &plan.waves {
        total += events::PER_WAVE;
        if wave.approval.required {
            total += events::PER_APPROVAL;
        }
        for round in &wave.rounds {
            total +=
                events::PER_ROUND + events::PER_JOB * round.len() as u64 + events::PER_WAIT * polls;
        }
    }
    total
}

/// A prepared plan over [`MAX_PREPARED_PLAN_BYTES`] is refused before anything starts: the
/// workflow carries it in every state, and a state over Step Functions' 256 KiB ends the run
/// with no report.
pub(super) fn check_size(plan: &PreparedPlan) -> Result<(), TaskError> {
    let bytes = serde_json::to_vec(plan)
        .map_err(|e| TaskError::Unexpected {
            message: format!("the prepared plan does not serialise: {e}"),
        })?
        .len();
    if bytes > MAX_PREPARED_PLAN_BYTES {
        let jobs: usize = plan
            .waves
            .iter()
            .flat_map(|w| &w.rounds)
            .map(|r| r.len())
            .sum();
        return Err(TaskError::invalid(
            "options.batchSize",
            format!(
                "the prepared plan ({} servers, {} restores in {jobs} jobs) is {bytes} bytes, more than the {MAX_PREPARED_PLAN_BYTES} a run may start with (the workflow carries it in every state, and Step Functions holds at most {STATE_BYTES_LIMIT} bytes per state): put more servers in each job (batchSize), or split the plan",
                plan.servers,
                plan.restores
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_history_budget(plan: &PreparedPlan) -> Result<(), TaskError> {
    let events = worst_case_history(plan);
    if events > HISTORY_EVENT_LIMIT {
        let rounds: usize = plan.waves.iter().map(|w| w.rounds.len()).sum();
        return Err(TaskError::invalid(
            "options.giveUpAfterSeconds",
            format!(
                "{rounds} rounds of jobs polled every {} s for up to {} s, and retried through an AWS outage of up to {} s (the deployment's OutageBudgetSeconds), could write {events} history events, more than Step Functions' {HISTORY_EVENT_LIMIT} per execution: raise pollIntervalSeconds, lower giveUpAfterSeconds, or put more servers in each job (batchSize)",
                plan.options.poll_interval_seconds, plan.options.give_up_after_seconds,
                plan.options.outage_budget_seconds
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::worst_case_history;
    use crate::error::TaskError;
    use crate::plan::fixtures::{inventory, plan, prepare, prepare_with, servers};
    use crate::plan::input::Trigger;
    use crate::plan::rounds::ActiveLoad;
    use crate::plan::Defaults;

    #[test]
    fn a_prepared_plan_too_large_to_carry_is_refused_before_it_starts() {
        // 1,000 servers one per job: the figure the limit was set against (about 426 KiB).
        let p = plan(serde_json::json!({"isDrill": true,
            "options": {"batchSize": 1, "maxConcurrentJobs": 20, "giveUpAfterSeconds": 600,
                        "pollIntervalSeconds": 60},
            "waves": [{"name": "a", "sourceServers": servers(0, 500)},
                      {"name": "b", "sourceServers": servers(500, 1000)}]}));
        let err = prepare(
            &p,
            &inventory(1000),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap_err();
        let TaskError::InvalidInput { field, constraint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "options.batchSize");
        assert!(
            constraint.contains("more than the 131072 a run may start with"),
            "{constraint}"
        );
        // The same servers in jobs of 100 fit.
        let p = plan(serde_json::json!({"isDrill": true,
            "waves": [{"name": "a", "sourceServers": servers(0, 500)},
                      {"name": "b", "sourceServers": servers(500, 1000)}]}));
        prepare(
            &p,
            &inventory(1000),
            Trigger::console(),
            ActiveLoad::default(),
        )
        .unwrap();
    }

    #[test]
    fn the_history_keeps_room_for_an_outage_as_long_as_the_deployments_budget() {
        // One round of ten jobs (250 servers, 25 per job): with the default 30-minute budget,
        // an outage at its starts and its check may add (10 + 1) x (5 + 120) x 3 = 4,125 events.
        let p = plan(serde_json::json!({"isDrill": true,
            "options": {"batchSize": 25, "maxConcurrentJobs": 10, "pollIntervalSeconds": 60,
                        "giveUpAfterSeconds": 3600},
            "waves": [{"name": "w", "sourceServers": servers(0, 250)}]}));
        let with = |seconds| {
            let defaults = Defaults {
                outage_budget_seconds: seconds,
                ..Defaults::default()
            };
            prepare_with(
                &p,
                &inventory(250),
                Trigger::console(),
                ActiveLoad::default(),
                defaults,
            )
        };
        let thirty_minutes = with(1800).unwrap();
        // (And its starts waiting out servers other jobs hold: 10 x 20 x 3 = 600.)
        let without = worst_case_history(&thirty_minutes) - 4_125;
        assert_eq!(thirty_minutes.options.outage_budget_seconds, 1800);
        // A four-hour budget: (10 + 1) x (5 + 960) x 3 = 31,845 more, past the 25,000 events.
        let err = with(14_400).unwrap_err();
        let TaskError::InvalidInput { field, constraint } = err else {
            panic!("{err:?}")
        };
        assert_eq!(field, "options.giveUpAfterSeconds");
        assert!(
            constraint.contains("an AWS outage of up to 14400 s")
                && constraint.contains(&format!("could write {} history", without + 31_845)),
            "{constraint}"
        );
    }

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
