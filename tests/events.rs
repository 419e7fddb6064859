//! Every sample payload in `events/` parses into the type its folder claims, and every
//! `invalid-*` sample is rejected by the handler's own parse-and-validate step (for workflow
//! inputs: `prepare-plan`'s checks, which need no AWS call), naming the field this table
//! expects.

use std::fs;
use std::path::Path;

use dr_orchestrator::approval::Approvers;
use dr_orchestrator::contract::{self, StartFailbackInput, StartRecoveryInput, StartRestoreInput};
use dr_orchestrator::error::TaskError;
use dr_orchestrator::handlers::{
    answer_approval, await_approval, check_status, clean_up_drill, report, sweep_drill_instances,
};
use dr_orchestrator::plan::{self, Defaults, RecoveryPlan, RestorePlan};
use dr_orchestrator::{validate, wake};
use serde_json::Value;

/// The field each invalid sample must be rejected for.
const INVALID: &[(&str, &str)] = &[
    ("start-recovery/invalid-missing-is-drill.json", "payload"),
    (
        "start-recovery/invalid-server-id.json",
        "sourceServers[1].sourceServerID",
    ),
    (
        "start-recovery/invalid-duplicate-server.json",
        "sourceServers[1].sourceServerID",
    ),
    ("start-recovery/invalid-empty-servers.json", "sourceServers"),
    (
        "start-recovery/invalid-unknown-field.json",
        "sourceServers[0].sourceServerId",
    ),
    (
        "start-failback/invalid-instance-id.json",
        "recoveryInstanceIDs[0]",
    ),
    ("start-failback/invalid-launched-map.json", "launched"),
    (
        "start-restore/invalid-resource-type.json",
        "restore.resourceType",
    ),
    ("start-restore/invalid-missing-metadata.json", "restore"),
    ("check-status/invalid-job-id.json", "jobs[0].jobID"),
    ("check-status/invalid-kind.json", "jobs[0].kind"),
    ("check-status/invalid-unknown-field.json", "jobs[0]"),
    ("prepare-plan/invalid-unknown-workflow.json", "workflow"),
    ("prepare-plan/invalid-trigger-without-kind.json", "trigger"),
    (
        "clean-up-drill/invalid-real-recovery.json",
        "cleanup.action",
    ),
    ("clean-up-drill/invalid-no-operation.json", "operation"),
    ("sweep-drill-instances/invalid-max-age.json", "maxAgeHours"),
    ("await-approval/invalid-approval-id.json", "approvalId"),
    ("answer-approval/invalid-typed-name.json", "approvedBy"),
    (
        "report/invalid-outcome-state.json",
        "run.settled.outcome.state",
    ),
    ("report/invalid-operation.json", "operation"),
    ("wait-for-jobs/invalid-empty-token.json", "token"),
    ("on-event/invalid-time.json", "time"),
];

/// The field each invalid workflow input must be rejected for.
const INVALID_PLANS: &[(&str, &str)] = &[
    ("invalid-missing-is-drill.json", "isDrill"),
    (
        "invalid-bad-server-in-wave-3.json",
        "waves[2].sourceServers[1].sourceServerID",
    ),
    (
        "invalid-server-in-two-waves.json",
        "waves[1].sourceServers[0].sourceServerID",
    ),
    ("invalid-several-problems.json", "plan"),
];

fn check_plan(name: &str, input: Value) -> Result<(), TaskError> {
    // The deployment the samples are written for: the rehearsal's, restoring from the vault of
    // dr-sim's default seed.
    let defaults = Defaults {
        restore_vaults: vec!["payments-vault".into()],
        ..Defaults::default()
    };
    let (body, _) = plan::split_envelope(input)?;
    match name {
        "restores.json" => {
            plan::check_restore_plan(&contract::parse::<RestorePlan>(body)?, &defaults).map(drop)
        }
        n if n.starts_with("failback") => {
            plan::check_failback_plan(&plan::failback_plan(body)?, &defaults).map(drop)
        }
        _ => {
            plan::check_recovery_plan(&contract::parse::<RecoveryPlan>(body)?, &defaults).map(drop)
        }
    }
}

#[test]
fn every_workflow_sample_passes_prepare_plans_checks_or_is_rejected_as_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/statemachine");
    let mut seen = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let result = check_plan(&name, input);
        match INVALID_PLANS.iter().find(|(n, _)| *n == name) {
            None => assert_eq!(result, Ok(()), "events/statemachine/{name} should be valid"),
            Some((_, field)) => match result {
                Err(TaskError::InvalidInput { field: f, .. }) => assert_eq!(&f, field, "{name}"),
                other => panic!("{name}: expected InvalidInput on {field}, got {other:?}"),
            },
        }
        seen += 1;
    }
    assert!(seen >= 12, "only {seen} workflow samples");
}

#[test]
fn every_problem_of_a_plan_is_reported_at_once() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events/statemachine/invalid-several-problems.json");
    let input: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    let Err(TaskError::InvalidInput { constraint, .. }) = check_plan("x", input) else {
        panic!("not rejected");
    };
    for expected in [
        "7 problems",
        "waves[2].name: wave 0 already has the name \"data\"",
        "options.batchSize: must be a whole number from 1 to 200, got 500",
        "options.pollIntervalSeconds: must be a whole number from 1 to 3600, got 0",
        "isDrill: is required",
        "waves[0].sourceServers[0].sourceServerID: must match ^s-[0-9a-zA-Z]{17}$",
        "waves[1].name: is required",
        "waves[2]: a wave needs sourceServers, select or restores",
    ] {
        assert!(
            constraint.contains(expected),
            "{expected:?} not in {constraint}"
        );
    }
}

#[test]
fn eventbridge_inputs_carry_the_plan_and_its_trigger() {
    let input = serde_json::json!({
        "plan": {"isDrill": false, "waves": [{"name": "w", "sourceServers": [{"sourceServerID": "s-0a1b2c3d4e5f60009"}]}]},
        "trigger": {"kind": "EVENT", "eventId": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "source": "dr-orchestrator"}
    });
    let (body, trigger) = plan::split_envelope(input).unwrap();
    assert_eq!(
        trigger.event_id.as_deref(),
        Some("6a7e8feb-b491-4cf7-a9f1-bf3703467718")
    );
    assert!(body.get("waves").is_some());
    let stray = serde_json::json!({"plan": {}, "trigger": {"kind": "EVENT"}, "extra": 1});
    assert_eq!(
        plan::split_envelope(stray).unwrap_err(),
        TaskError::invalid("extra", "unknown field next to plan and trigger")
    );
}

fn check(handler: &str, payload: Value) -> Result<(), TaskError> {
    match handler {
        "start-recovery" => {
            validate::start_recovery(&contract::parse::<StartRecoveryInput>(payload)?)
        }
        "start-failback" => {
            validate::start_failback(&contract::parse::<StartFailbackInput>(payload)?).map(drop)
        }
        "start-restore" => validate::start_restore(&contract::parse::<StartRestoreInput>(payload)?),
        "check-status" => match check_status::parse(payload)? {
            check_status::Request::Round(input) => validate::wave_check(&input),
            check_status::Request::Wave(_) => Ok(()),
        },
        "prepare-plan" => {
            let request: plan::PrepareInput = contract::parse(payload)?;
            let name = match request.workflow {
                plan::Workflow::RecoveryPlan => "plan.json",
                plan::Workflow::Failback => "failback.json",
                plan::Workflow::Restore => "restores.json",
            };
            check_plan(name, request.input)
        }
        "clean-up-drill" => clean_up_drill::parse_request(payload).map(drop),
        "sweep-drill-instances" => sweep_drill_instances::parse_input(payload, 24).map(drop),
        "report" => report::parse(payload).map(drop),
        "wait-for-jobs" => wake::validate(&contract::parse::<wake::WaitInput>(payload)?),
        // A sample event must also be one a round waits for.
        "on-event" => wake::parse_event(payload).map(|e| {
            assert!(wake::report_of(&e).is_some(), "{e:?} reports no job");
        }),
        "await-approval" => {
            await_approval::validate(&contract::parse::<await_approval::AwaitInput>(payload)?)
        }
        // As the endpoint admits a request before any AWS call: a signed POST of a named
        // approver, with a valid answer.
        "answer-approval" => {
            let request = serde_json::from_value(payload)
                .map_err(|e| TaskError::invalid("payload", e.to_string()))?;
            let approvers = Approvers::parse("arn:aws:iam::123456789012:role/DrApprover").unwrap();
            answer_approval::admit(&approvers, &request)
                .map(drop)
                .map_err(|refused| {
                    let field = refused.body["field"].as_str().unwrap_or("payload");
                    TaskError::invalid(field, refused.body.to_string())
                })
        }
        other => panic!("events/{other}: no handler of that name"),
    }
}

#[test]
fn every_handler_sample_parses_or_is_rejected_as_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut seen = 0;
    for handler in [
        "start-recovery",
        "start-failback",
        "start-restore",
        "check-status",
        "prepare-plan",
        "clean-up-drill",
        "sweep-drill-instances",
        "report",
        "wait-for-jobs",
        "on-event",
        "await-approval",
        "answer-approval",
    ] {
        for entry in fs::read_dir(root.join(handler)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{handler}/{}", path.file_name().unwrap().to_string_lossy());
            let payload: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("events/{name} is not JSON: {e}"));
            let result = check(handler, payload);
            match INVALID.iter().find(|(n, _)| *n == name) {
                None => assert_eq!(result, Ok(()), "events/{name} should be valid"),
                Some((_, field)) => match result {
                    Err(TaskError::InvalidInput { field: f, .. }) => {
                        assert_eq!(&f, field, "events/{name}")
                    }
                    other => {
                        panic!("events/{name}: expected InvalidInput on {field}, got {other:?}")
                    }
                },
            }
            seen += 1;
        }
    }
    assert!(seen >= INVALID.len() + 8, "only {seen} samples found");
}
