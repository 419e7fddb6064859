//! The definitions in `statemachine/` against the Rust side: every error name they retry,
//! catch or fail with is one of [`ERROR_NAMES`] (or a Lambda service error, or `States.ALL`),
//! and every function they invoke is one of the four handlers.

use std::fs;
use std::path::Path;

use dr_orchestrator::error::ERROR_NAMES;
use serde_json::Value;

const LAMBDA_TRANSIENT: &[&str] = &[
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
];
const FUNCTIONS: &[&str] = &[
    "${StartRecoveryFunctionArn}",
    "${StartFailbackFunctionArn}",
    "${StartRestoreFunctionArn}",
    "${CheckStatusFunctionArn}",
];

fn definitions() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("statemachine");
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                serde_json::from_str(&text).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Walks every state of a definition, nested ones (Map, Parallel) included.
fn states(def: &Value, out: &mut Vec<(String, Value)>) {
    if let Some(map) = def.get("States").and_then(Value::as_object) {
        for (name, state) in map {
            out.push((name.clone(), state.clone()));
            if let Some(p) = state.get("ItemProcessor").or_else(|| state.get("Iterator")) {
                states(p, out);
            }
            for branch in state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                states(branch, out);
            }
        }
    }
}

fn all_states() -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (file, def) in definitions() {
        let mut found = Vec::new();
        states(&def, &mut found);
        all.extend(found.into_iter().map(|(n, s)| (file.clone(), n, s)));
    }
    all
}

#[test]
fn every_error_name_in_the_workflows_is_one_of_ours() {
    let known = |name: &str| {
        ERROR_NAMES.contains(&name) || LAMBDA_TRANSIENT.contains(&name) || name == "States.ALL"
    };
    let mut checked = 0;
    for (file, name, state) in all_states() {
        for list in ["Retry", "Catch"] {
            for rule in state
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for error in rule["ErrorEquals"].as_array().unwrap() {
                    let error = error.as_str().unwrap();
                    assert!(
                        known(error),
                        "{file}: {name}: {list} names {error}, not in ERROR_NAMES"
                    );
                    checked += 1;
                }
            }
        }
        if state["Type"] == "Fail" {
            if let Some(error) = state.get("Error").and_then(Value::as_str) {
                assert!(
                    ERROR_NAMES.contains(&error),
                    "{file}: {name}: Fail.Error {error} not in ERROR_NAMES"
                );
                checked += 1;
            }
        }
        // Results that a Fail raises through ErrorPath carry their error name as a literal.
        if let Some(error) = state.pointer("/Parameters/error").and_then(Value::as_str) {
            assert!(
                ERROR_NAMES.contains(&error),
                "{file}: {name}: result error {error} not in ERROR_NAMES"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} names found: is statemachine/ there?"
    );
}

#[test]
fn workflows_invoke_only_the_four_handlers_and_only_through_the_lambda_integration() {
    let mut tasks = 0;
    for (file, name, state) in all_states() {
        if state["Type"] == "Task" {
            assert_eq!(
                state["Resource"], "arn:aws:states:::lambda:invoke",
                "{file}: {name}"
            );
            let function = state["Parameters"]["FunctionName"].as_str().unwrap();
            assert!(
                FUNCTIONS.contains(&function),
                "{file}: {name}: invokes {function}"
            );
            assert!(
                state.get("Retry").is_some(),
                "{file}: {name}: a task without Retry"
            );
            tasks += 1;
        }
    }
    assert!(tasks >= 8);
}

#[test]
fn waits_come_from_the_runs_input() {
    for (file, name, state) in all_states() {
        if state["Type"] == "Wait" {
            assert_eq!(
                state["SecondsPath"], "$.options.pollIntervalSeconds",
                "{file}: {name}"
            );
        }
    }
}
