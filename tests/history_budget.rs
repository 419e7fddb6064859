//! The history budget against what the definition writes: the events of e2e runs, split into
//! the parts [`worst_case_history`](dr_orchestrator::plan::worst_case_history) adds up (each
//! wait, each round apart from its waits, each wave apart from its rounds, the run apart from
//! its waves), each within what `plan::budget::events` allows it.
//!
//! The histories come from `events/history/*.json` (written from e2e runs of each kind of run
//! by `python3 -m rehearsal.capture`), or from the file `DR_RUN_HISTORIES` names: the e2e
//! tests run this test on the history of every run they make. A history is what
//! `GetExecutionHistory` returns, each event cut to its `type` and its details' `name`.
//!
//! Retried tasks are not budgeted (the budget is for a run whose rounds wait until they give
//! up, not for a bad hour at AWS): a part that holds a retried task's failure is left out.

mod captured;

use std::collections::BTreeMap;
use std::path::Path;

use dr_orchestrator::plan::budget::events as budget;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    details: BTreeMap<String, Value>,
}

impl Event {
    /// The state (or the Map, for an iteration's events) the event is about.
    fn name(&self) -> Option<&str> {
        self.details
            .iter()
            .find(|(key, _)| key.ends_with("EventDetails"))
            .and_then(|(_, details)| details.get("name")?.as_str())
    }

    fn is(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name() == Some(name)
    }

    fn enters(&self) -> bool {
        self.kind.ends_with("StateEntered")
    }

    fn failed(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "TaskFailed" | "LambdaFunctionFailed" | "TaskTimedOut"
        )
    }
}

#[derive(Debug, Default)]
struct Part {
    events: u64,
    /// A task failed and was scheduled again before its state exited: a Retry.
    retried: bool,
    failed: bool,
    /// A callback task of this part wrote its TaskSubmitted.
    submitted: bool,
}

impl Part {
    fn add(&mut self, event: &Event) {
        self.events += 1;
        if event.failed() {
            self.failed = true;
        } else if event.kind.ends_with("StateExited") {
            self.failed = false;
        } else if event.kind == "TaskScheduled" && self.failed {
            self.retried = true;
        }
    }
}

#[derive(Debug, Default)]
struct Round {
    own: Part,
    jobs: u64,
    waits: Vec<Part>,
    waiting: bool,
    /// A task of the wait is scheduled and has not ended yet.
    task_open: bool,
}

#[derive(Debug, Default)]
struct Wave {
    own: Part,
    approval: bool,
    rounds: Vec<Round>,
    in_round: bool,
}

#[derive(Debug, Default)]
struct Run {
    own: Part,
    cleanup_polls: u64,
    waves: Vec<Wave>,
}

/// Splits a history into the budget's parts. Waves run one after the other (the loop on
/// `What next`), and so do a wave's rounds (`Run rounds` runs one iteration at a time): an event
/// belongs to the innermost part open when it was written.
fn split(events: &[Event]) -> Run {
    let mut run = Run::default();
    // `What next` belongs to the wave it starts, or to the run when it ends the loop.
    let mut deciding: Vec<&Event> = Vec::new();
    let mut in_wave = false;
    for event in events {
        if event.is("ChoiceStateEntered", "What next") {
            in_wave = false;
            deciding.push(event);
            continue;
        }
        if !deciding.is_empty() && event.enters() {
            if event.is("ParallelStateEntered", "Run wave") {
                let mut wave = Wave::default();
                deciding.drain(..).for_each(|e| wave.own.add(e));
                run.waves.push(wave);
                in_wave = true;
            } else {
                deciding.drain(..).for_each(|e| run.own.add(e));
            }
        } else if !deciding.is_empty() {
            deciding.push(event);
            continue;
        }
        if !in_wave {
            if event.is("WaitStateEntered", "Wait for termination") {
                run.cleanup_polls += 1;
            }
            run.own.add(event);
            continue;
        }
        let wave = run.waves.last_mut().expect("a wave is open");
        if event.is("TaskStateEntered", "Ask for approval") {
            wave.approval = true;
        }
        if event.is("MapIterationStarted", "Run rounds") {
            wave.rounds.push(Round::default());
            wave.in_round = true;
        }
        if !wave.in_round {
            wave.own.add(event);
            continue;
        }
        let round = wave.rounds.last_mut().expect("a round is open");
        if event.kind.starts_with("MapIteration") && event.name() == Some("Run rounds") {
            if event.kind != "MapIterationStarted" {
                wave.in_round = false;
            }
            round.waiting = false;
            round.own.add(event);
            continue;
        }
        if event.is("MapIterationStarted", "Start jobs") {
            round.jobs += 1;
        }
        if event.is("TaskStateEntered", "Wait for jobs") && !round.waiting {
            round.waits.push(Part::default());
            round.waiting = true;
        }
        if round.waiting && event.kind == "TaskScheduled" {
            round.task_open = true;
        }
        if round.waiting && ending(&event.kind) {
            // An ending with no task open: moto 5.2.1 may write both TaskSucceeded and
            // TaskTimedOut for one callback task when the answer and the timeout race (the
            // rehearsal's adjustment 7 narrows, not closes, that window); Step Functions writes
            // one of them.
            if !round.task_open {
                continue;
            }
            round.task_open = false;
        }
        if round.waiting && event.kind == "TaskSubmitted" {
            // Each wait's callback task writes one TaskSubmitted when the wait-for-jobs invoke
            // returns; under load moto writes it after that task timed out, inside the next
            // wait. It belongs to the earliest wait of the round that has none yet.
            let owner = round
                .waits
                .iter_mut()
                .find(|w| !w.submitted)
                .expect("a wait is open");
            owner.submitted = true;
            owner.add(event);
            continue;
        }
        if round.waiting {
            round.waits.last_mut().expect("a wait is open").add(event);
            if event.is("ChoiceStateExited", "Have the jobs ended") {
                round.waiting = false;
            }
        } else {
            round.own.add(event);
        }
    }
    deciding.drain(..).for_each(|e| run.own.add(e));
    run
}

fn ending(kind: &str) -> bool {
    matches!(kind, "TaskSucceeded" | "TaskFailed" | "TaskTimedOut")
}

/// The most events of each part the runs wrote, and the parts over budget.
#[derive(Debug, Default)]
struct Findings {
    most: BTreeMap<&'static str, u64>,
    /// The least room any part of each kind left in its budget.
    least_room: BTreeMap<&'static str, u64>,
    over: Vec<String>,
    parts: u64,
}

impl Findings {
    fn check(&mut self, run: &str, what: &'static str, part: &Part, allowed: u64, at: String) {
        if part.retried {
            return;
        }
        self.parts += 1;
        let events = part.events;
        let most = self.most.entry(what).or_default();
        *most = (*most).max(events);
        let room = self.least_room.entry(what).or_insert(u64::MAX);
        *room = (*room).min(allowed.saturating_sub(events));
        if events > allowed {
            self.over
                .push(format!("{run}: {at}: {events} events, {allowed} budgeted"));
        }
    }
}

fn check_run(name: &str, events: &[Event], findings: &mut Findings) {
    let run = split(events);
    assert!(
        !run.waves.is_empty() || run.own.events > 0,
        "{name}: empty history"
    );
    let allowed = budget::PER_RUN + budget::PER_CLEANUP_POLL * run.cleanup_polls;
    findings.check(name, "run", &run.own, allowed, "the run".into());
    for (w, wave) in run.waves.iter().enumerate() {
        let allowed = budget::PER_WAVE + u64::from(wave.approval) * budget::PER_APPROVAL;
        findings.check(name, "wave", &wave.own, allowed, format!("wave {w}"));
        for (r, round) in wave.rounds.iter().enumerate() {
            let allowed = budget::PER_ROUND + budget::PER_JOB * round.jobs;
            let at = format!("wave {w} round {r} ({} jobs)", round.jobs);
            findings.check(name, "round", &round.own, allowed, at);
            for (i, wait) in round.waits.iter().enumerate() {
                let at = format!("wave {w} round {r} wait {i}");
                findings.check(name, "wait", wait, budget::PER_WAIT, at);
            }
        }
    }
}

fn histories(path: &Path) -> BTreeMap<String, Vec<Event>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn every_part_of_every_run_writes_no_more_events_than_the_budget_gives_it() {
    let mut findings = Findings::default();
    for file in captured::files("DR_RUN_HISTORIES", "history") {
        for (name, events) in histories(&file) {
            check_run(&name, &events, &mut findings);
        }
    }
    assert!(findings.parts > 0, "no history to check");
    println!(
        "most events written: {:?}; least room left: {:?}",
        findings.most, findings.least_room
    );
    assert!(findings.over.is_empty(), "{}", findings.over.join("\n"));
}

/// The committed histories hold every part, at its worst: a wait that ran to its timeout, a
/// wave that asked for approval, a drill's cleanup that polled. Without them the check above
/// would pass on runs that never wrote a full part.
#[test]
fn the_committed_histories_reach_the_budget_of_a_wait_and_of_an_approval() {
    if std::env::var("DR_RUN_HISTORIES").is_ok() {
        return;
    }
    let mut findings = Findings::default();
    let mut approvals = 0;
    let mut cleanup_polls = 0;
    for file in captured::files("DR_RUN_HISTORIES", "history") {
        for (name, events) in histories(&file) {
            let run = split(&events);
            approvals += run.waves.iter().filter(|w| w.approval).count();
            cleanup_polls += run.cleanup_polls;
            check_run(&name, &events, &mut findings);
        }
    }
    assert_eq!(findings.most.get("wait"), Some(&budget::PER_WAIT));
    assert!(
        approvals > 0 && cleanup_polls > 0,
        "{approvals} {cleanup_polls}"
    );
}

#[cfg(test)]
mod split_tests {
    use super::*;

    fn event(kind: &str, name: Option<&str>) -> Event {
        let mut details = BTreeMap::new();
        if let Some(name) = name {
            details.insert(
                "stateEnteredEventDetails".to_owned(),
                serde_json::json!({ "name": name }),
            );
        }
        Event {
            kind: kind.to_owned(),
            details,
        }
    }

    #[test]
    fn each_event_goes_to_the_innermost_part_open_when_it_was_written() {
        let events = [
            event("TaskStateEntered", Some("Prepare plan")),
            event("ChoiceStateEntered", Some("What next")),
            event("ChoiceStateExited", Some("What next")),
            event("ParallelStateEntered", Some("Run wave")),
            event("TaskStateEntered", Some("Ask for approval")),
            event("MapIterationStarted", Some("Run rounds")),
            event("MapIterationStarted", Some("Start jobs")),
            event("MapIterationStarted", Some("Start jobs")),
            event("TaskStateEntered", Some("Wait for jobs")),
            event("TaskScheduled", None),
            event("TaskTimedOut", None),
            // A late answer moto wrote after the timeout: not counted.
            event("TaskSucceeded", None),
            event("ChoiceStateExited", Some("Have the jobs ended")),
            event("TaskStateEntered", Some("Wait for jobs")),
            event("ChoiceStateExited", Some("Have the jobs ended")),
            event("MapIterationSucceeded", Some("Run rounds")),
            event("PassStateEntered", Some("Move on")),
            event("ChoiceStateEntered", Some("What next")),
            event("ChoiceStateExited", Some("What next")),
            event("TaskStateEntered", Some("Measure the run")),
            event("WaitStateEntered", Some("Wait for termination")),
        ];
        let run = split(&events);
        assert_eq!(run.own.events, 5);
        assert_eq!(run.cleanup_polls, 1);
        assert_eq!(run.waves.len(), 1);
        let wave = &run.waves[0];
        assert!(wave.approval);
        assert_eq!(wave.own.events, 5);
        assert_eq!(wave.rounds.len(), 1);
        let round = &wave.rounds[0];
        assert_eq!((round.own.events, round.jobs), (4, 2));
        let waits: Vec<u64> = round.waits.iter().map(|w| w.events).collect();
        assert_eq!(waits, [4, 2]);
    }
}
