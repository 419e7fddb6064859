//! What the workflow carries, read back into the run state's types: every state a run wrote
//! (the input of each state it entered, from its execution history) deserialises into
//! [`RunState`] (the run's own states) or [`WaveState`] (a wave's branch), and serialises back
//! to the same fields and values. A field the definition writes that the types do not know would
//! be dropped, and a field whose shape differs would not parse: either fails here.
//!
//! The states come from `events/run-state/*.json`, written from e2e runs of every kind of run
//! (`python3 -m rehearsal.capture`), or from the file `DR_RUN_STATES` names: the e2e test runs
//! this test on the states of the runs it has just made.

mod captured;

use dr_orchestrator::plan::{RunState, WaveState};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// States of a wave's branch once its approval is decided (before, `decision` is not there).
const WAVE_STATES: &[&str] = &[
    "Judge wave",
    "Record the unchecked wave",
    "Announce the wave",
    "Wave done",
];
/// The run's own states that a prepared run enters (the refused path carries the input as it
/// was given, and the first state, the plan as a person wrote it). `Move on` is left out: it
/// takes the branch's progress from where `Run wave` put it (`$.progress.progress`) to its place.
const RUN_STATES: &[&str] = &[
    "Announce the run",
    "What next",
    "Measure the run",
    "After the run",
    "No cleanup",
    "Keep drill instances",
    "Terminate drill instances",
    "Is the cleanup done",
    "Wait for termination",
    "Check termination",
    "Settle the run",
    "Write the report",
    "Report not written",
    "Announce the end",
    "How did the run end",
    "Run failed",
    "Summarise",
];

/// `sub` holds nothing that `full` does not hold with the same value (a `null` the workflow
/// wrote may come back empty: Step Functions writes `"Cause": null` when a failure gave none).
fn contained(sub: &Value, full: &Value, path: &str) -> Result<(), String> {
    let empty = |v: &Value| v.is_null() || v == "";
    match (sub, full) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(there) => contained(v, there, &format!("{path}.{k}"))?,
                    None if v.is_null() => {}
                    None => return Err(format!("{path}.{k}: not in the types")),
                }
            }
            Ok(())
        }
        (Value::Null, b) if empty(b) => Ok(()),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| contained(x, y, &format!("{path}[{i}]"))),
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: {a} came back as {b}")),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(state: &Value) -> Result<(), String> {
    let typed: T = serde_path_to_error::deserialize(state.clone())
        .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    contained(state, &back, "$")
}

#[test]
fn every_state_a_run_writes_reads_back_into_the_run_states_types() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in captured::files("DR_RUN_STATES", "run-state") {
        let runs: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (run, states) in runs.as_object().expect("{run: [{state, input}]}") {
            for entry in states.as_array().unwrap() {
                let name = entry["state"].as_str().unwrap();
                let input = &entry["input"];
                let result = if WAVE_STATES.contains(&name) {
                    round_trip::<WaveState>(input)
                } else if RUN_STATES.contains(&name) {
                    round_trip::<RunState>(input)
                } else {
                    continue;
                };
                checked += 1;
                if let Err(e) = result {
                    failures.push(format!("{}: {run}: {name}: {e}", file.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} states checked");
}
