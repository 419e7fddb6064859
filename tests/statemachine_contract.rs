//! The definition in `statemachine/` against the Rust side: every error name it retries,
//! catches or fails with is one of [`ERROR_NAMES`] (or an error AWS itself names) and it retries
//! only transient ones, every function it invokes is one of the handlers, every workflow starts
//! by preparing its plan, and its Choice states route on one value a handler wrote.

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
        if name == "Ask for approval" {
            // The approval request: to the approvals topic, as plain text naming the approval
            // id; the task token is not in it (it stays in the stack, see below).
            assert_eq!(state["Resource"], "arn:aws:states:::sns:publish");
            assert_eq!(state["Parameters"]["TopicArn"], "${ApprovalsTopicArn}");
            assert_eq!(state["Parameters"]["Message.$"], "$.wave.approval.message");
            assert_eq!(
                state["Parameters"]["MessageAttributes"]["approvalId"]["StringValue.$"],
                "$.wave.approval.approvalId"
            );
            assert!(!state.to_string().contains("$$.Task.Token"), "{state}");
            assert_eq!(state["Retry"][0]["ErrorEquals"], json!(SNS_TRANSIENT));
            assert_eq!(state["Next"], "Wait for the answer");
            continue;
        }
        if name == "Wait for the answer" {
            // await-approval keeps the token in the approvals table; the approval's own
            // timeout ends the wait, caught, never retried (a retry would ask again).
            assert_eq!(
                state["Resource"],
                "arn:aws:states:::lambda:invoke.waitForTaskToken"
            );
            assert_eq!(
                state["Parameters"]["FunctionName"],
                "${AwaitApprovalFunctionArn}"
            );
            assert_eq!(state["Parameters"]["Payload"]["token.$"], "$$.Task.Token");
            assert_eq!(
                state["TimeoutSecondsPath"],
                "$.wave.approval.timeoutSeconds"
            );
            for retrier in state["Retry"].as_array().unwrap() {
                assert!(
                    !retrier["ErrorEquals"]
                        .as_array()
                        .unwrap()
                        .contains(&json!("States.Timeout")),
                    "{state}"
                );
            }
            assert_eq!(state["Catch"][0]["ErrorEquals"], json!(["States.Timeout"]));
            assert_eq!(state["Catch"][0]["Next"], "Not answered");
            assert_eq!(state["Next"], "Answered");
            continue;
        }
        if state["Type"] == "Task" && state["Resource"] == "arn:aws:states:::sns:publish" {
            // A notification: to the stack's topic, kind and severity as attributes, retried on
            // SNS's transient errors, and never the end of the run (every failure goes on).
            assert_eq!(state["Parameters"]["TopicArn"], "${NotificationsTopicArn}");
            let attributes = &state["Parameters"]["MessageAttributes"];
            match name.as_str() {
                // The run's end: kind, severity and subject as the report function settled them.
                "Announce the end" => {
                    assert_eq!(attributes["kind"]["StringValue.$"], "$.ending.notice.kind");
                    assert_eq!(
                        state["Parameters"]["Message"]["kind.$"],
                        "$.ending.notice.kind"
                    );
                    assert_eq!(
                        attributes["severity"]["StringValue.$"],
                        "$.ending.notice.severity"
                    );
                }
                // The run's start and each wave's end: the message as a handler wrote it.
                _ => {
                    assert!(attributes["kind"]["StringValue"].is_string(), "{name}");
                    assert!(attributes["severity"]["StringValue"].is_string(), "{name}");
                    assert!(state["Parameters"]["Message.$"].is_string(), "{name}");
                }
            }
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
    // One definition: every round waits for events, the poll is the safety net.
    assert_eq!(waits, 1, "callback waits");
    // Started, each wave, and the end (finished, failed or refused).
    assert_eq!(notices, 3, "notification tasks");
}

#[test]
fn every_run_ends_through_its_report() {
    // Every path from the waves to an end passes the run's settlement and its report: the only
    // Fail states are the report's routing ("How did the run end") and a settlement that could
    // not be invoked at all.
    for (file, def) in definitions() {
        let states = def["States"].as_object().unwrap();
        let write = &states["Write the report"];
        assert_eq!(
            write["Parameters"]["Payload"]["operation"], "WRITE",
            "{file}"
        );
        assert_eq!(write["Parameters"]["Payload"]["run.$"], "$", "{file}");
        assert_eq!(write["ResultPath"], "$.ending", "{file}");
        assert_eq!(write["Catch"][0]["Next"], "Report not written", "{file}");
        assert_eq!(states["Report not written"]["ResultPath"], "$.ending");
        let settle = &states["Settle the run"];
        assert_eq!(settle["Parameters"]["Payload"]["operation"], "SETTLE");
        assert_eq!(settle["Next"], "Write the report");
        // A run prepare-plan refused is reported too, and announced like any other end.
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
        assert_eq!(refused["ResultPath"], "$.ending", "{file}");
        assert_eq!(refused["Next"], "Announce the end", "{file}");
        assert_eq!(
            refused["Catch"][0]["Next"], "Refusal not reported",
            "{file}"
        );
        assert_eq!(states["Refusal not reported"]["Next"], "Announce the end");
        assert_eq!(states["Refusal not reported"]["ResultPath"], "$.ending");
        let announce = &states["Announce the end"];
        assert_eq!(announce["Next"], "How did the run end", "{file}");
        assert_eq!(announce["Catch"][0]["Next"], "How did the run end");
        let mut ends: Vec<&str> = states
            .iter()
            .filter(|(_, s)| s["Type"] == "Fail" || s.get("End") == Some(&Value::Bool(true)))
            .map(|(n, _)| n.as_str())
            .collect();
        ends.sort_unstable();
        assert_eq!(
            ends,
            [
                "Drill skipped",
                "Run failed",
                "Run not settled",
                "Summarise"
            ],
            "{file}"
        );
        // Only a refused run is skipped (the report says so for a scheduled drill whose plan
        // is busy), after its report and its announcement.
        let routes = states["How did the run end"]["Choices"].as_array().unwrap();
        assert!(routes.iter().any(|c| c["StringEquals"] == "SKIPPED"
            && c["Variable"] == "$.ending.outcome.state"
            && c["Next"] == "Drill skipped"));
        assert_eq!(states["Run failed"]["ErrorPath"], "$.ending.outcome.error");
        assert_eq!(states["Run failed"]["CausePath"], "$.ending.outcome.cause");
        // A wave that could not run to its judgement keeps the results so far, and the run
        // still settles, measures and reports.
        let wave = &states["Run wave"];
        assert_eq!(wave["Catch"][0]["ErrorEquals"][0], "States.ALL", "{file}");
        assert_eq!(wave["Catch"][0]["ResultPath"], "$.progress.interrupted");
        assert_eq!(wave["Catch"][0]["Next"], "Measure the run");
        assert_eq!(
            states["Summarise"]["Parameters"]["waves.$"],
            "$.progress.results"
        );
        // Inside a wave, nothing fails the branch: a refused approval and a wave whose jobs
        // could not be checked are judged like any other wave. A round that gives up on an AWS
        // outage fails the rounds' Map (no further round starts), which catches it.
        let branch = &wave["Branches"][0];
        let rounds = &branch["States"]["Run rounds"];
        let mut inside = Vec::new();
        states_of(branch, &mut inside);
        for (name, state) in &inside {
            if state["Type"] != "Fail" {
                continue;
            }
            let caught = rounds["Catch"].as_array().unwrap().iter().any(|c| {
                c["ErrorEquals"] == json!([state["Error"]]) && c["Next"] == "Rounds cut short"
            });
            assert!(
                name == "Outage outlasted the budget" && caught,
                "{file}: {name} fails the wave's branch"
            );
        }
        let cut = &branch["States"]["Rounds cut short"];
        assert_eq!(cut["Next"], "Judge wave", "{file}");
        assert_eq!(cut["ResultPath"], "$.wave.rounds", "{file}");
    }
}

fn states_of(def: &Value, out: &mut Vec<(String, Value)>) {
    states(def, out)
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
fn one_definition_serves_every_workflow_and_first_prepares_its_plan() {
    let defs = definitions();
    assert_eq!(
        defs.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        ["run-plan.asl.json"],
        "one definition for every workflow"
    );
    for (file, def) in defs {
        let first = def["StartAt"].as_str().unwrap();
        let state = &def["States"][first];
        assert_eq!(
            state["Parameters"]["FunctionName"], "${PreparePlanFunctionArn}",
            "{file}: starts with {first}"
        );
        // Which workflow it is comes from the template's substitution.
        assert_eq!(state["Parameters"]["Payload"]["workflow"], "${Workflow}");
        assert_eq!(
            def["States"]["Report the refused run"]["Parameters"]["Payload"]["workflow"],
            "${Workflow}"
        );
    }
    for workflow in ["RECOVERY_PLAN", "FAILBACK", "RESTORE"] {
        let parsed: dr_orchestrator::plan::Workflow =
            serde_json::from_value(Value::String(workflow.into())).unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), workflow);
    }
}

#[test]
fn choice_states_route_on_one_value_a_handler_wrote() {
    // What each Choice reads, and who wrote it.
    let written = [
        "$.task.kind",                  // prepare-plan
        "$.wave.approval.required",     // prepare-plan
        "$.progress.next",              // prepare-plan, then check-status's judgement of a wave
        "$.check.state",                // check-status
        "$.cleanup.action",             // prepare-plan
        "$.cleanupResult.report.state", // clean-up-drill
        "$.ending.outcome.state",       // report (SETTLE, WRITE, REFUSED)
        "$.answer.verdict",             // answer-approval (the approval endpoint)
    ];
    let mut choices = 0;
    for (file, name, state) in all_states() {
        if state["Type"] != "Choice" {
            continue;
        }
        for choice in state["Choices"].as_array().unwrap() {
            assert!(
                choice.get("And").is_none()
                    && choice.get("Or").is_none()
                    && choice.get("Not").is_none(),
                "{file}: {name} combines conditions: a rule, which belongs in a handler"
            );
            let variable = choice["Variable"].as_str().unwrap_or_default();
            assert!(
                written.contains(&variable),
                "{file}: {name} routes on {variable}"
            );
            choices += 1;
        }
    }
    assert!(choices >= 7, "{choices} choices");
}

#[test]
fn causes_are_written_by_handlers_not_by_the_workflow() {
    // The workflow puts no text together: prepare-plan writes the approval request, handlers
    // write every cause.
    for (file, name, mut state) in all_states() {
        // A Map's or a Parallel's own fields: its nested states are walked on their own.
        if let Some(own) = state.as_object_mut() {
            own.remove("Branches");
            own.remove("ItemProcessor");
        }
        let text = state.to_string();
        for intrinsic in [
            "States.Format",
            "States.JsonToString",
            "States.ArrayContains",
        ] {
            assert!(!text.contains(intrinsic), "{file}: {name} uses {intrinsic}");
        }
    }
}

#[test]
fn only_transient_errors_are_retried() {
    // Throttling, AWS being unavailable, a job not listed yet (eventual consistency), a task
    // that timed out or crashed, Lambda's and SNS's own transient errors; and three that clear
    // by waiting: DRS quotas held by other jobs (start, cleanup), a server another job holds
    // (start) and a report history that another run changed at the same moment (report).
    let transient = |name: &str| {
        LAMBDA_TRANSIENT.contains(&name)
            || SNS_TRANSIENT.contains(&name)
            || AWS_RUNTIME.contains(&name)
            || ["Throttled", "AwsUnavailable", "NotListedYet"].contains(&name)
    };
    let mut retried = 0;
    for (file, name, state) in all_states() {
        let function = state
            .pointer("/Parameters/FunctionName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for rule in state
            .get("Retry")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for error in rule["ErrorEquals"].as_array().unwrap() {
                let error = error.as_str().unwrap();
                let waits_out = match error {
                    "QuotaExceeded" => [
                        "${StartRecoveryFunctionArn}",
                        "${StartFailbackFunctionArn}",
                        "${CleanUpDrillFunctionArn}",
                    ]
                    .contains(&function),
                    "Conflict" => [
                        "${ReportFunctionArn}",
                        "${StartRecoveryFunctionArn}",
                        "${StartFailbackFunctionArn}",
                    ]
                    .contains(&function),
                    _ => false,
                };
                assert!(
                    transient(error) || waits_out,
                    "{file}: {name} retries {error}, which is not transient"
                );
                retried += 1;
            }
        }
    }
    assert!(retried > 20, "{retried}");
}

#[test]
fn the_definition_reads_in_the_console() {
    // Canonical form (one member per line, as `jq .` writes it) is checked with the template
    // tests (Python keeps the key order); here: no line a console cannot show whole.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("statemachine/run-plan.asl.json");
    let text = fs::read_to_string(path).unwrap();
    for (n, line) in text.lines().enumerate() {
        assert!(
            line.chars().count() <= 120,
            "run-plan.asl.json:{}: {} characters",
            n + 1,
            line.chars().count()
        );
    }
    assert!(
        text.lines().count() > 100,
        "pretty-printed, one member per line"
    );
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

/// The definition's `TimeoutSeconds` is the longest run a plan may have, and the step times the
/// duration check counts are the template's function timeouts.
#[test]
fn the_state_machine_stops_a_run_no_plan_may_outlast() {
    use dr_orchestrator::plan::duration::seconds;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let definition: Value = serde_json::from_str(
        &fs::read_to_string(root.join("statemachine/run-plan.asl.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        definition["TimeoutSeconds"],
        json!(dr_orchestrator::plan::MAX_RUN_SECONDS)
    );
    let text = fs::read_to_string(root.join("template.yaml")).unwrap();
    let globals = &text[text
        .find("\nGlobals:\n")
        .expect("template.yaml has Globals")..];
    let timeout = |block: &str| -> Option<u64> {
        block
            .lines()
            .take_while(|l| !l.starts_with("Resources:"))
            .find_map(|l| l.trim().strip_prefix("Timeout: "))
            .map(|v| v.trim().parse().unwrap())
    };
    assert_eq!(timeout(globals), Some(seconds::STEP), "Globals Timeout");
    let longest = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Timeout: "))
        .map(|v| v.trim().parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(longest, seconds::RUN_STEP, "the longest function Timeout");
}
