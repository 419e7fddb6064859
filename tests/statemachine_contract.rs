//! The definitions in `statemachine/` against the Rust side: every error name they retry,
//! catch or fail with is one of [`ERROR_NAMES`] (or an error AWS itself names), every function
//! they invoke is one of the five handlers, and every workflow starts by preparing its plan.

use std::fs;
use std::path::Path;

use dr_orchestrator::error::ERROR_NAMES;
use serde_json::{json, Value};

const LAMBDA_TRANSIENT: &[&str] = &[
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
];
/// What Step Functions and Lambda call a task that timed out or whose function crashed.
const AWS_RUNTIME: &[&str] = &["States.Timeout", "Sandbox.Timedout", "Lambda.Unknown"];
const FUNCTIONS: &[&str] = &[
    "${PreparePlanFunctionArn}",
    "${StartRecoveryFunctionArn}",
    "${StartFailbackFunctionArn}",
    "${StartRestoreFunctionArn}",
    "${CheckStatusFunctionArn}",
    "${CleanUpDrillFunctionArn}",
    "${ReportFunctionArn}",
];
/// What Step Functions' SNS integration calls SNS's transient failures.
const SNS_TRANSIENT: &[&str] = &[
    "SNS.ThrottledException",
    "SNS.InternalErrorException",
    "SNS.SdkClientException",
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
        ERROR_NAMES.contains(&name)
            || LAMBDA_TRANSIENT.contains(&name)
            || AWS_RUNTIME.contains(&name)
            || SNS_TRANSIENT.contains(&name)
            || name == "States.ALL"
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
        checked > 15,
        "only {checked} names found: is statemachine/ there?"
    );
}

#[test]
fn workflows_invoke_only_our_handlers_and_only_through_the_lambda_integration() {
    let mut tasks = 0;
    let mut waits = 0;
    let mut notices = 0;
    for (file, name, state) in all_states() {
        if state["Type"] == "Task"
            && state["Resource"] == "arn:aws:states:::sns:publish.waitForTaskToken"
        {
            // The approval request: published to the stack's topic, with a bounded wait.
            assert_eq!(state["Parameters"]["TopicArn"], "${NotificationsTopicArn}");
            assert_eq!(
                state["Parameters"]["Message"]["taskToken.$"],
                "$$.Task.Token"
            );
            assert_eq!(
                state["TimeoutSecondsPath"],
                "$.wave.approval.timeoutSeconds"
            );
            continue;
        }
        if state["Type"] == "Task" && state["Resource"] == "arn:aws:states:::sns:publish" {
            // A notification: to the stack's topic, kind and severity as attributes, retried on
            // SNS's transient errors, and never the end of the run (every failure goes on).
            assert_eq!(state["Parameters"]["TopicArn"], "${NotificationsTopicArn}");
            let attributes = &state["Parameters"]["MessageAttributes"];
            let kind = attributes["kind"]["StringValue"].as_str().unwrap();
            assert_eq!(
                state["Parameters"]["Message"]["kind"].as_str(),
                Some(kind).filter(|_| name != "Announce the run"),
                "{file}: {name}"
            );
            assert!(attributes["severity"]["StringValue"].is_string());
            assert_eq!(state["Retry"][0]["ErrorEquals"], json!(SNS_TRANSIENT));
            assert_eq!(state["Catch"][0]["ErrorEquals"], json!(["States.ALL"]));
            assert_eq!(state["Catch"][0]["Next"], state["Next"], "{file}: {name}");
            notices += 1;
            continue;
        }
        if state["Type"] == "Task"
            && state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        {
            // A round's wait: wait-for-jobs leaves the token for on-event, the task times out
            // at the poll interval, and both ends, like a failure to register, lead to the check.
            assert_eq!(
                state["Parameters"]["FunctionName"], "${WaitForJobsFunctionArn}",
                "{file}: {name}"
            );
            assert_eq!(state["Parameters"]["Payload"]["token.$"], "$$.Task.Token");
            assert_eq!(
                state["TimeoutSecondsPath"], "$.options.pollIntervalSeconds",
                "{file}: {name}"
            );
            assert_eq!(state["Next"], "Check jobs", "{file}: {name}");
            let catches = state["Catch"].as_array().expect("the wait catches");
            assert_eq!(catches[0]["ErrorEquals"], json!(["States.Timeout"]));
            assert_eq!(catches[0]["Next"], "Check jobs");
            assert_eq!(catches[1]["ErrorEquals"], json!(["States.ALL"]));
            let fallback = catches[1]["Next"].as_str().unwrap();
            let (_, _, poll) = all_states()
                .into_iter()
                .find(|(f, n, _)| *f == file && n == fallback)
                .expect("the fallback state");
            assert_eq!(poll["Type"], "Wait");
            assert_eq!(poll["SecondsPath"], "$.options.pollIntervalSeconds");
            assert_eq!(poll["Next"], "Check jobs");
            waits += 1;
            continue;
        }
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
    // recovery-plan and restore wait for events; failback launches polls (see README).
    assert_eq!(waits, 2, "callback waits");
    // Each workflow: started, each wave, failed, finished, refused.
    assert_eq!(notices, 3 * 5, "notification tasks");
}

#[test]
fn every_run_ends_through_its_report() {
    // Every path from the waves to an end passes the report task: the Fail and Succeed ends a
    // prepared run can reach are only the report's routing ("How did the run end") and the
    // waves' own failures inside their Map.
    for (file, def) in definitions() {
        let states = def["States"].as_object().unwrap();
        let write = &states["Write the report"];
        assert_eq!(
            write["Parameters"]["Payload"]["operation"], "WRITE",
            "{file}"
        );
        assert_eq!(write["Parameters"]["Payload"]["run.$"], "$", "{file}");
        assert_eq!(write["Catch"][0]["Next"], "Report not written", "{file}");
        // A run prepare-plan refused is reported too; only a failed report ends without one.
        let prepare = &states[def["StartAt"].as_str().unwrap()];
        assert_eq!(
            prepare["Catch"][0]["Next"], "Report the refused run",
            "{file}"
        );
        let refused = &states["Report the refused run"];
        assert_eq!(
            refused["Parameters"]["Payload"]["operation"], "REFUSED",
            "{file}"
        );
        // Written or not, the refusal is announced before the run fails.
        assert_eq!(refused["Next"], "Announce the refusal", "{file}");
        assert_eq!(
            refused["Catch"][0]["Next"], "Refusal not reported",
            "{file}"
        );
        assert_eq!(
            states["Refusal not reported"]["Next"],
            "Announce the refusal"
        );
        let announce = &states["Announce the refusal"];
        assert_eq!(
            announce["Resource"], "arn:aws:states:::sns:publish",
            "{file}"
        );
        assert_eq!(announce["Next"], "Was the refusal reported", "{file}");
        assert_eq!(
            announce["Catch"][0]["Next"], "Was the refusal reported",
            "{file}"
        );
        let routed = &states["Was the refusal reported"];
        assert_eq!(routed["Choices"][0]["Next"], "Plan refused", "{file}");
        assert_eq!(routed["Default"], "Plan not prepared", "{file}");
        let ends: Vec<&str> = states
            .iter()
            .filter(|(_, s)| s["Type"] == "Fail" || s.get("End") == Some(&Value::Bool(true)))
            .map(|(n, _)| n.as_str())
            .collect();
        let mut expected = vec![
            "Plan not prepared",
            "Plan refused",
            "Run failed",
            "Run failed, no report",
            "Summarise",
        ];
        expected.sort_unstable();
        let mut got = ends.clone();
        got.sort_unstable();
        assert_eq!(got, expected, "{file}");
        // The waves' Map catches everything into the outcome the report reads.
        assert_eq!(states["Run waves"]["ResultPath"], "$.waveResults", "{file}");
        assert_eq!(
            states["Run waves"]["Catch"][0]["ErrorEquals"][0], "States.ALL",
            "{file}"
        );
        assert_eq!(
            states["Summarise"]["Parameters"]["report.$"], "$.report",
            "{file}"
        );
    }
}

#[test]
fn waits_come_from_the_runs_input() {
    for (file, name, state) in all_states() {
        if state["Type"] == "Wait" {
            let path = state["SecondsPath"].as_str().unwrap_or_default();
            assert!(
                ["$.options.pollIntervalSeconds", "$.cleanup.keepSeconds"].contains(&path),
                "{file}: {name} waits {path}"
            );
        }
    }
}

#[test]
fn every_workflow_first_prepares_its_plan_and_nothing_else_holds_rules() {
    for (file, def) in definitions() {
        let first = def["StartAt"].as_str().unwrap();
        let state = &def["States"][first];
        assert_eq!(
            state["Parameters"]["FunctionName"], "${PreparePlanFunctionArn}",
            "{file}: starts with {first}"
        );
        let workflow = state["Parameters"]["Payload"]["workflow"].as_str().unwrap();
        let expected = match file.as_str() {
            "recovery-plan.asl.json" => "RECOVERY_PLAN",
            "failback.asl.json" => "FAILBACK",
            "restore.asl.json" => "RESTORE",
            other => panic!("unexpected definition {other}"),
        };
        assert_eq!(workflow, expected, "{file}");
        let plan: dr_orchestrator::plan::Workflow =
            serde_json::from_value(Value::String(workflow.into())).unwrap();
        assert_eq!(serde_json::to_value(plan).unwrap(), workflow);
    }
    // Choice states route on state values and the task kind only: no option ranges, no names.
    for (file, name, state) in all_states() {
        if state["Type"] == "Choice" {
            let mut rules: Vec<&Value> = state["Choices"].as_array().unwrap().iter().collect();
            while let Some(choice) = rules.pop() {
                if let Some(nested) = choice.get("And").or_else(|| choice.get("Or")) {
                    rules.extend(nested.as_array().unwrap());
                    continue;
                }
                let variable = choice["Variable"].as_str().unwrap_or_default();
                assert!(
                    [
                        "$.task.kind",
                        "$.check.state",
                        "$.verdict.value.state",
                        "$.options.continueOnWaveFailure",
                        "$.judged.anyFailed",
                        "$.wave.approval.required",
                        "$.cleanup.action",
                        "$.cleanupResult.report.state",
                        "$.outcome.state",
                        "$.report.written"
                    ]
                    .contains(&variable),
                    "{file}: {name} routes on {variable}"
                );
            }
        }
    }
}

#[test]
fn the_recovery_plan_reads_in_one_sitting() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("statemachine/recovery-plan.asl.json");
    let lines = fs::read_to_string(path).unwrap().lines().count();
    assert!(lines < 600, "recovery-plan.asl.json has {lines} lines");
}

/// template.yaml's parameter ranges and defaults are the Rust limits, read from its text.
#[test]
fn template_parameter_ranges_are_the_plan_limits() {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml")).unwrap();
    for (parameter, limit) in dr_orchestrator::plan::DEPLOYMENT_LIMITS {
        let start = text
            .find(&format!("\n  {parameter}:\n"))
            .unwrap_or_else(|| panic!("template.yaml has no parameter {parameter}"));
        let block: Vec<&str> = text[start + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect();
        let value = |key: &str| -> u64 {
            block
                .iter()
                .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
                .unwrap_or_else(|| panic!("{parameter} has no {key}"))
                .trim()
                .parse()
                .unwrap()
        };
        assert_eq!(value("MinValue"), limit.min, "{parameter} MinValue");
        assert_eq!(value("MaxValue"), limit.max, "{parameter} MaxValue");
        assert_eq!(value("Default"), limit.default, "{parameter} Default");
    }
}
