#!/usr/bin/env python3
"""Writes the Amazon States Language definitions in statemachine/.

The three workflows share their retry policy, their validation step and the loop that starts
a job, waits, checks it and judges it; writing them from one description keeps those parts the
same everywhere. The generated JSON is committed and is what SAM deploys and the rehearsal runs;
`--check` fails when a committed file differs from what this script writes.

JSONPath only (Parameters, ResultSelector, ResultPath): the offline interpreters support
neither JSONata nor variables.
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "statemachine"

FUNCTIONS = {
    "start-recovery": "${StartRecoveryFunctionArn}",
    "start-failback": "${StartFailbackFunctionArn}",
    "start-restore": "${StartRestoreFunctionArn}",
    "check-status": "${CheckStatusFunctionArn}",
}

TRANSIENT_LAMBDA_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]

# Only what is transient is retried; everything else is caught and judged.
RETRY = [
    {"ErrorEquals": TRANSIENT_LAMBDA_ERRORS, "IntervalSeconds": 2, "MaxAttempts": 6,
     "BackoffRate": 2.0, "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
    {"ErrorEquals": ["Throttled", "AwsUnavailable"], "IntervalSeconds": 3, "MaxAttempts": 8,
     "BackoffRate": 2.0, "MaxDelaySeconds": 120, "JitterStrategy": "FULL"},
]

DEFAULT_OPTIONS = {
    "pollIntervalSeconds.$": "States.StringToJson('${PollIntervalSeconds}')",
    "giveUpAfterSeconds.$": "States.StringToJson('${GiveUpAfterSeconds}')",
    "batchSize.$": "States.StringToJson('${BatchSize}')",
    "maxConcurrentJobs.$": "States.StringToJson('${MaxConcurrentJobs}')",
    "continueOnWaveFailure": False,
}

# Backup allows 5 StartRestoreJob calls per second.
RESTORE_CONCURRENCY = 5


def invoke(function, payload, result_path, next_state, catch_to=None):
    """An optimised Lambda task with the shared retry policy."""
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": FUNCTIONS[function], **payload},
        "ResultSelector": {"value.$": "$.Payload"},
        "ResultPath": result_path,
        "Retry": RETRY,
    }
    if catch_to:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": catch_to}]
    state.update({"Next": next_state} if next_state else {"End": True})
    return state


def fail_with_cause(error, cause_format, *args):
    """A Pass that formats a cause, and the Fail that raises it."""
    return (
        {"Type": "Pass", "Parameters": {"cause.$": f"States.Format('{cause_format}', {', '.join(args)})"}},
        {"Type": "Fail", "Error": error, "CausePath": "$.cause"},
    )


def option_checks(next_state):
    """Choice rules that reject out-of-range options before anything starts."""
    rules = [
        ("batchSize", "must be a whole number from 1 to 200 (DRS takes at most 200 servers per job; the default quota is 100)",
         {"And": [{"Variable": "$.options.batchSize", "IsNumeric": True},
                  {"Variable": "$.options.batchSize", "NumericGreaterThanEquals": 1},
                  {"Variable": "$.options.batchSize", "NumericLessThanEquals": 200}]}),
        ("pollIntervalSeconds", "must be a number of seconds from 1 to 3600",
         {"And": [{"Variable": "$.options.pollIntervalSeconds", "IsNumeric": True},
                  {"Variable": "$.options.pollIntervalSeconds", "NumericGreaterThanEquals": 1},
                  {"Variable": "$.options.pollIntervalSeconds", "NumericLessThanEquals": 3600}]}),
        ("giveUpAfterSeconds", "must be a number of seconds not smaller than pollIntervalSeconds",
         {"And": [{"Variable": "$.options.giveUpAfterSeconds", "IsNumeric": True},
                  {"Variable": "$.options.giveUpAfterSeconds", "NumericGreaterThanEqualsPath": "$.options.pollIntervalSeconds"}]}),
        ("maxConcurrentJobs", "must be a whole number from 1 to 20 (DRS runs at most 20 jobs at once)",
         {"And": [{"Variable": "$.options.maxConcurrentJobs", "IsNumeric": True},
                  {"Variable": "$.options.maxConcurrentJobs", "NumericGreaterThanEquals": 1},
                  {"Variable": "$.options.maxConcurrentJobs", "NumericLessThanEquals": 20}]}),
        ("continueOnWaveFailure", "must be true or false",
         {"Variable": "$.options.continueOnWaveFailure", "IsBoolean": True}),
    ]
    choices, states = [], {}
    for name, constraint, ok in rules:
        state = f"Invalid option {name}"
        choices.append({"Not": ok, "Next": state})
        states[state] = {"Type": "Fail", "Error": "InvalidInput", "Cause": f"options.{name} {constraint}"}
    states["Check options"] = {"Type": "Choice", "Choices": choices, "Default": next_state}
    return states


def with_defaults(extra_optional, select, next_state):
    """Fills optional top-level fields, then option defaults from the deployment's parameters."""
    return {
        "Add optional fields": {
            "Type": "Pass",
            "Parameters": {"optional": {"tags": {}, "options": {}, **extra_optional}, "input.$": "$"},
            "Next": "Fill optional fields",
        },
        "Fill optional fields": {
            "Type": "Pass",
            "Parameters": {"input.$": "States.JsonMerge($.optional, $.input, false)", "defaults": DEFAULT_OPTIONS},
            "Next": "Apply option defaults",
        },
        "Apply option defaults": {
            "Type": "Pass",
            "Parameters": {
                **select,
                "tags.$": "$.input.tags",
                "options.$": "States.JsonMerge($.defaults, $.input.options, false)",
                "executionId.$": "$$.Execution.Id",
                "startedAt.$": "$$.State.EnteredTime",
            },
            "Next": "Check options",
        },
        **option_checks(next_state),
    }


def job_loop(kind, start_function, start_payload, describe, error):
    """Start a job, then wait / check / judge until it succeeds, fails or runs out of time.

    Every exit is a compact result ({state, error?, cause?, ...}); none fails the Map, so the
    wave waits for all its jobs and reports every one of them.
    """
    start, wait, check, judge = f"Start {kind}", f"Wait for {kind}", f"Check {kind}", f"Is {kind} done"
    ok, failed, timed_out = f"{kind} succeeded", f"{kind} failed", f"{kind} timed out"
    not_started, not_checked = f"{kind} not started", f"{kind} not checked"
    status = "$.check.value"
    result = {"summary.$": f"{status}.summary", "startedAt.$": f"{status}.startedAt",
              "endedAt.$": f"{status}.endedAt", "elapsedSeconds.$": f"{status}.elapsedSeconds",
              **describe(status)}
    return {
        "StartAt": start,
        "States": {
            start: invoke(start_function, start_payload, "$.started", wait, catch_to=not_started),
            wait: {"Type": "Wait", "SecondsPath": "$.options.pollIntervalSeconds", "Next": check},
            check: invoke("check-status", {"Payload.$": "$.started.value"}, "$.check", judge, catch_to=not_checked),
            judge: {
                "Type": "Choice",
                "Choices": [
                    {"Variable": f"{status}.state", "StringEquals": "SUCCEEDED", "Next": ok},
                    {"Variable": f"{status}.state", "StringEquals": "FAILED", "Next": failed},
                    {"Variable": f"{status}.elapsedSeconds", "NumericGreaterThanPath": "$.options.giveUpAfterSeconds",
                     "Next": timed_out},
                ],
                "Default": wait,
            },
            ok: {"Type": "Pass", "Parameters": {"state": "SUCCEEDED", **result}, "End": True},
            failed: {"Type": "Pass", "End": True, "Parameters": {
                "state": "FAILED", "error": error, **result,
                "cause.$": f"States.Format('{{}}: {{}}', $.scope, {status}.summary)"}},
            timed_out: {"Type": "Pass", "End": True, "Parameters": {
                "state": "FAILED", "error": "TimedOut", **result,
                "cause.$": f"States.Format('{{}}: gave up after {{}} s: {{}}', $.scope, {status}.elapsedSeconds, {status}.summary)"}},
            not_started: {"Type": "Pass", "End": True, "Parameters": {
                "state": "FAILED", "error.$": "$.error.Error",
                "cause.$": f"States.Format('{{}}: the {kind.lower()} was not started: {{}}', $.scope, $.error.Cause)"}},
            not_checked: {"Type": "Pass", "End": True, "Parameters": {
                "state": "FAILED", "error.$": "$.error.Error", "job.$": "$.started.value",
                "cause.$": f"States.Format('{{}}: the {kind.lower()} could not be checked: {{}}', $.scope, $.error.Cause)"}},
        },
    }


def drs_result(status):
    return {"jobID.$": f"{status}.jobID", "counts.$": f"{status}.counts",
            "launched.$": f"{status}.launched", "notLaunched.$": f"{status}.notLaunched"}


def restore_result(status):
    return {"restoreJobId.$": f"{status}.restoreJobId", "jobStatus.$": f"{status}.jobStatus",
            "createdResourceArn.$": f"{status}.createdResourceArn", "statusMessage.$": f"{status}.statusMessage"}


def recovery_batches_map(items_path, selector_extra, where):
    return {
        "Type": "Map",
        "ItemsPath": items_path,
        "MaxConcurrencyPath": "$.options.maxConcurrentJobs",
        "ItemSelector": {
            "sourceServers.$": "$$.Map.Item.Value",
            "isDrill.$": "$.isDrill",
            "tags.$": "$.tags",
            "options.$": "$.options",
            "idempotencyKey.$": selector_extra["key"],
            "scope.$": where,
        },
        "ItemProcessor": job_loop(
            "Recovery job", "start-recovery",
            {"Payload": {"isDrill.$": "$.isDrill", "sourceServers.$": "$.sourceServers", "tags.$": "$.tags",
                         "idempotencyKey.$": "$.idempotencyKey"}},
            drs_result, "RecoveryFailed"),
    }


def restores_map(items_path, key, where):
    return {
        "Type": "Map",
        "ItemsPath": items_path,
        "MaxConcurrency": RESTORE_CONCURRENCY,
        "ItemSelector": {
            "restore.$": "$$.Map.Item.Value",
            "key": {"idempotencyKey.$": key},
            "options.$": "$.options",
            "scope.$": where,
        },
        "ItemProcessor": job_loop(
            "Restore job", "start-restore",
            {"Payload.$": "States.JsonMerge($.restore, $.key, false)"},
            restore_result, "RestoreFailed"),
    }


def validation_map(items_path, function, selector, payload):
    """Runs a start handler in validateOnly mode over every item: no AWS call is made."""
    step = f"Validate with {function}"
    return {
        "Type": "Map",
        "ItemsPath": items_path,
        "MaxConcurrency": 5,
        "ItemSelector": selector,
        "ItemProcessor": {
            "StartAt": step,
            "States": {step: invoke(function, payload, None, None)},
        },
        "ResultPath": None,
    }


VALIDATE_KEY = {"validateOnly": True, "idempotencyKey": "validate"}


def judge_and_finish(results_path, error, output):
    """Fails with the first failed item's error and cause, or succeeds with the output."""
    return {
        "Find failures": {
            "Type": "Pass",
            "Comment": "Only failed results carry error and cause.",
            "Parameters": {"causes.$": f"{results_path}[*].cause", "errors.$": f"{results_path}[*].error"},
            "ResultPath": "$.judged",
            "Next": "Any failures",
        },
        "Any failures": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.judged.causes[0]", "IsPresent": True, "Next": error}],
            "Default": "Summarise",
        },
        error: {"Type": "Fail", "ErrorPath": "$.judged.errors[0]", "CausePath": "$.judged.causes[0]"},
        "Summarise": {"Type": "Pass", "Parameters": {**output, "endedAt.$": "$$.State.EnteredTime"}, "End": True},
    }


def recovery_plan():
    wave_where = "States.Format('wave {} ({})', $.waveIndex, $.wave.name)"
    wave_item = {
        "wave.$": "States.JsonMerge($.waveDefaults, $$.Map.Item.Value, false)",
        "waveIndex.$": "$$.Map.Item.Index",
        "isDrill.$": "$.isDrill",
        "tags.$": "$.tags",
        "options.$": "$.options",
        "executionId.$": "$.executionId",
    }
    bad_name = fail_with_cause("InvalidInput", "wave {}: every wave needs a name", "$.waveIndex")
    empty = fail_with_cause("InvalidInput", "wave {} ({}): a wave needs sourceServers or restores", "$.waveIndex", "$.wave.name")
    validate_wave = {
        "StartAt": "Check wave",
        "States": {
            "Check wave": {
                "Type": "Choice",
                "Choices": [
                    {"Not": {"Variable": "$.wave.name", "IsString": True}, "Next": "Wave without a name"},
                    {"And": [{"Not": {"Variable": "$.wave.sourceServers[0]", "IsPresent": True}},
                             {"Not": {"Variable": "$.wave.restores[0]", "IsPresent": True}}],
                     "Next": "Empty wave"},
                ],
                "Default": "Split wave",
            },
            "Wave without a name": {**bad_name[0], "Next": "Invalid wave name"},
            "Invalid wave name": bad_name[1],
            "Empty wave": {**empty[0], "Next": "Invalid empty wave"},
            "Invalid empty wave": empty[1],
            "Split wave": {
                "Type": "Pass",
                "Parameters": {"batches.$": "States.ArrayPartition($.wave.sourceServers, $.options.batchSize)"},
                "ResultPath": "$.split",
                "Next": "Validate wave",
            },
            "Validate wave": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Validate batches", "States": {"Validate batches": {
                        **validation_map("$.split.batches", "start-recovery",
                                         {"sourceServers.$": "$$.Map.Item.Value", "isDrill.$": "$.isDrill", "tags.$": "$.tags"},
                                         {"Payload": {"isDrill.$": "$.isDrill", "sourceServers.$": "$.sourceServers",
                                                      "tags.$": "$.tags", **VALIDATE_KEY}}),
                        "End": True}}},
                    {"StartAt": "Validate restores", "States": {"Validate restores": {
                        **validation_map("$.wave.restores", "start-restore",
                                         {"restore.$": "$$.Map.Item.Value", "check": VALIDATE_KEY},
                                         {"Payload.$": "States.JsonMerge($.restore, $.check, false)"}),
                        "End": True}}},
                ],
                "ResultPath": None,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Describe invalid wave"}],
                "End": True,
            },
            "Describe invalid wave": {
                "Type": "Pass",
                "Parameters": {"cause.$": f"States.Format('{{}}: {{}}', {wave_where}, $.error.Cause)"},
                "Next": "Invalid wave",
            },
            "Invalid wave": {"Type": "Fail", "Error": "InvalidInput", "CausePath": "$.cause"},
        },
    }
    wave_result = {
        "name.$": "$.wave.name",
        "startedAt.$": "$.run.startedAt",
        "endedAt.$": "$$.State.EnteredTime",
        "failures.$": "$.failureCount.count",
        "jobs.$": "$.results.jobs",
        "restores.$": "$.results.restores",
    }
    run_wave = {
        "StartAt": "Start wave",
        "States": {
            "Start wave": {
                "Type": "Pass",
                "Parameters": {
                    "batches.$": "States.ArrayPartition($.wave.sourceServers, $.options.batchSize)",
                    "scope.$": wave_where,
                    "startedAt.$": "$$.State.EnteredTime",
                },
                "ResultPath": "$.run",
                "Next": "Run wave jobs",
            },
            "Run wave jobs": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Recovery jobs", "States": {"Recovery jobs": {
                        **recovery_batches_map(
                            "$.run.batches",
                            {"key": "States.Format('{}#w{}#b{}', $.executionId, $.waveIndex, $$.Map.Item.Index)"},
                            "States.Format('{}, batch {}', $.run.scope, $$.Map.Item.Index)"),
                        "End": True}}},
                    {"StartAt": "Restore jobs", "States": {"Restore jobs": {
                        **restores_map("$.wave.restores",
                                       "States.Format('{}#w{}#r{}', $.executionId, $.waveIndex, $$.Map.Item.Index)",
                                       "States.Format('{}, restore {}', $.run.scope, $$.Map.Item.Index)"),
                        "End": True}}},
                ],
                "ResultSelector": {"jobs.$": "$[0]", "restores.$": "$[1]"},
                "ResultPath": "$.results",
                "Next": "Find wave failures",
            },
            "Find wave failures": {
                "Type": "Pass",
                "Comment": "Only failed results carry error and cause.",
                "Parameters": {
                    "jobCauses.$": "$.results.jobs[*].cause",
                    "jobErrors.$": "$.results.jobs[*].error",
                    "restoreCauses.$": "$.results.restores[*].cause",
                    "restoreErrors.$": "$.results.restores[*].error",
                },
                "ResultPath": "$.judged",
                "Next": "Count wave failures",
            },
            "Count wave failures": {
                "Type": "Pass",
                "Parameters": {"count.$": "States.MathAdd(States.ArrayLength($.judged.jobCauses), States.ArrayLength($.judged.restoreCauses))"},
                "ResultPath": "$.failureCount",
                "Next": "Did the wave fail",
            },
            "Did the wave fail": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.failureCount.count", "NumericEquals": 0, "Next": "Wave result"},
                    {"Variable": "$.options.continueOnWaveFailure", "BooleanEquals": True, "Next": "Wave result with failures"},
                    {"Variable": "$.judged.jobCauses[0]", "IsPresent": True, "Next": "Wave job failed"},
                ],
                "Default": "Wave restore failed",
            },
            "Wave job failed": {"Type": "Fail", "ErrorPath": "$.judged.jobErrors[0]", "CausePath": "$.judged.jobCauses[0]"},
            "Wave restore failed": {"Type": "Fail", "ErrorPath": "$.judged.restoreErrors[0]",
                                    "CausePath": "$.judged.restoreCauses[0]"},
            "Wave result": {"Type": "Pass", "Parameters": wave_result, "End": True},
            "Wave result with failures": {
                "Type": "Pass",
                "Parameters": {**wave_result, "failedWave.$": "$.wave.name"},
                "End": True,
            },
        },
    }
    states = {
        "Check plan": {
            "Type": "Choice",
            "Choices": [
                {"Not": {"And": [{"Variable": "$.isDrill", "IsPresent": True}, {"Variable": "$.isDrill", "IsBoolean": True}]},
                 "Next": "isDrill missing"},
                {"Not": {"Variable": "$.waves[0]", "IsPresent": True}, "Next": "No waves"},
            ],
            "Default": "Add optional fields",
        },
        "isDrill missing": {"Type": "Fail", "Error": "InvalidInput",
                            "Cause": "isDrill is required: true for a drill, false for a real recovery"},
        "No waves": {"Type": "Fail", "Error": "InvalidInput", "Cause": "waves must hold at least one wave"},
        **with_defaults({"planName": "unnamed plan"}, {
            "planName.$": "$.input.planName",
            "isDrill.$": "$.input.isDrill",
            "waves.$": "$.input.waves",
            "waveDefaults": {"sourceServers": [], "restores": []},
        }, "Count servers"),
        "Count servers": {
            "Type": "Pass",
            "Parameters": {
                "all.$": "States.ArrayLength($.waves[*].sourceServers[*].sourceServerID)",
                "distinct.$": "States.ArrayLength(States.ArrayUnique($.waves[*].sourceServers[*].sourceServerID))",
            },
            "ResultPath": "$.serverCount",
            "Next": "Is each server in one wave",
        },
        "Is each server in one wave": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.serverCount.all", "NumericEqualsPath": "$.serverCount.distinct", "Next": "Validate plan"}],
            "Default": "Server in two places",
        },
        "Server in two places": {"Type": "Fail", "Error": "InvalidInput",
                                 "Cause": "a source server appears more than once in the plan: DRS runs one job per server at a time, so each server belongs to exactly one wave"},
        "Validate plan": {
            "Type": "Map",
            "ItemsPath": "$.waves",
            "MaxConcurrency": 4,
            "ItemSelector": wave_item,
            "ItemProcessor": validate_wave,
            "ResultPath": None,
            "Next": "Run waves",
        },
        "Run waves": {
            "Type": "Map",
            "ItemsPath": "$.waves",
            "MaxConcurrency": 1,
            "ItemSelector": wave_item,
            "ItemProcessor": run_wave,
            "Comment": "The wave results replace the plan's waves: the state never carries both.",
            "ResultPath": "$.waves",
            "Next": "Find failed waves",
        },
        "Find failed waves": {
            "Type": "Pass",
            "Comment": "Only waves that failed (and were continued past) carry failedWave.",
            "Parameters": {"names.$": "$.waves[*].failedWave"},
            "ResultPath": "$.judged",
            "Next": "Did any wave fail",
        },
        "Did any wave fail": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.judged.names[0]", "IsPresent": True, "Next": "Describe failed waves"}],
            "Default": "Summarise",
        },
        "Describe failed waves": {
            "Type": "Pass",
            "Parameters": {"cause.$": "States.Format('waves that did not fully recover (the plan continued past them): {}', States.JsonToString($.judged.names))"},
            "Next": "Plan failed",
        },
        "Plan failed": {"Type": "Fail", "Error": "RecoveryFailed", "CausePath": "$.cause"},
        "Summarise": {
            "Type": "Pass",
            "Parameters": {
                "planName.$": "$.planName",
                "isDrill.$": "$.isDrill",
                "executionId.$": "$.executionId",
                "startedAt.$": "$.startedAt",
                "endedAt.$": "$$.State.EnteredTime",
                "waves.$": "$.waves",
            },
            "End": True,
        },
    }
    return {
        "Comment": "Recovery plan: validates the whole plan, then runs its waves strictly in order. Inside a wave, "
                   "source servers are split into DRS jobs of at most options.batchSize and run with AWS Backup "
                   "restores in parallel; the wave ends when every job is judged. A failed wave stops the plan "
                   "unless options.continueOnWaveFailure is true.",
        "StartAt": "Check plan",
        "States": states,
    }


def failback():
    states = {
        "Find instances": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.recoveryInstanceIDs[0]", "IsPresent": True, "Next": "Take the given instances"},
                {"And": [{"Variable": "$.isDrill", "IsPresent": True}, {"Variable": "$.isDrill", "BooleanEquals": True}],
                 "Next": "Drill cannot fail back"},
                {"Variable": "$.waves[0]", "IsPresent": True, "Next": "Take instances from the recovery run"},
            ],
            "Default": "No instances",
        },
        "Take the given instances": {
            "Type": "Pass",
            "Parameters": {"ids.$": "$.recoveryInstanceIDs"},
            "ResultPath": "$.instances",
            "Next": "Add optional fields",
        },
        "Take instances from the recovery run": {
            "Type": "Pass",
            "Parameters": {
                "ids.$": "$.waves[*].jobs[*].launched.*",
            },
            "ResultPath": "$.instances",
            "Next": "Any instances launched",
        },
        "Any instances launched": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.instances.ids[0]", "IsPresent": True, "Next": "Add optional fields"}],
            "Default": "No instances",
        },
        "Drill cannot fail back": {"Type": "Fail", "Error": "InvalidInput",
                                   "Cause": "this recovery run was a drill: drill instances are not failed back, terminate them instead"},
        "No instances": {"Type": "Fail", "Error": "InvalidInput",
                         "Cause": "give recoveryInstanceIDs, or the output of a finished recovery run with at least one LAUNCHED server"},
        **with_defaults({}, {
            "recoveryInstanceIDs.$": "$.input.instances.ids",
        }, "Split instances"),
        "Split instances": {
            "Type": "Pass",
            "Parameters": {"batches.$": "States.ArrayPartition($.recoveryInstanceIDs, $.options.batchSize)"},
            "ResultPath": "$.split",
            "Next": "Validate failback",
        },
        "Validate failback": {
            **validation_map("$.split.batches", "start-failback",
                             {"recoveryInstanceIDs.$": "$$.Map.Item.Value", "tags.$": "$.tags"},
                             {"Payload": {"recoveryInstanceIDs.$": "$.recoveryInstanceIDs", "tags.$": "$.tags", **VALIDATE_KEY}}),
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Describe invalid failback"}],
            "Next": "Fail back",
        },
        "Describe invalid failback": {"Type": "Pass", "Parameters": {"cause.$": "$.error.Cause"}, "Next": "Invalid failback"},
        "Invalid failback": {"Type": "Fail", "Error": "InvalidInput", "CausePath": "$.cause"},
        "Fail back": {
            "Type": "Map",
            "ItemsPath": "$.split.batches",
            "MaxConcurrencyPath": "$.options.maxConcurrentJobs",
            "ItemSelector": {
                "recoveryInstanceIDs.$": "$$.Map.Item.Value",
                "tags.$": "$.tags",
                "options.$": "$.options",
                "idempotencyKey.$": "States.Format('{}#failback#b{}', $.executionId, $$.Map.Item.Index)",
                "scope.$": "States.Format('failback batch {}', $$.Map.Item.Index)",
            },
            "ItemProcessor": job_loop(
                "Failback job", "start-failback",
                {"Payload": {"recoveryInstanceIDs.$": "$.recoveryInstanceIDs", "tags.$": "$.tags",
                             "idempotencyKey.$": "$.idempotencyKey"}},
                drs_result, "FailbackFailed"),
            "ResultPath": "$.results",
            "Next": "Find failures",
        },
        **judge_and_finish("$.results", "Failback failed", {
            "executionId.$": "$.executionId", "startedAt.$": "$.startedAt", "jobs.$": "$.results"}),
    }
    return {
        "Comment": "Failback: launches failback for the recovery instances of a finished (non-drill) recovery run, "
                   "or for explicit recoveryInstanceIDs, in DRS jobs of at most options.batchSize, and waits for each.",
        "StartAt": "Find instances",
        "States": states,
    }


def restore():
    states = {
        "Check restores": {
            "Type": "Choice",
            "Choices": [{"Not": {"Variable": "$.restores[0]", "IsPresent": True}, "Next": "No restores"}],
            "Default": "Add optional fields",
        },
        "No restores": {"Type": "Fail", "Error": "InvalidInput", "Cause": "restores must hold at least one restore"},
        **with_defaults({}, {"restores.$": "$.input.restores"}, "Validate restores"),
        "Validate restores": {
            **validation_map("$.restores", "start-restore",
                             {"restore.$": "$$.Map.Item.Value", "check": VALIDATE_KEY},
                             {"Payload.$": "States.JsonMerge($.restore, $.check, false)"}),
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Describe invalid restore"}],
            "Next": "Restore",
        },
        "Describe invalid restore": {"Type": "Pass", "Parameters": {"cause.$": "$.error.Cause"}, "Next": "Invalid restore"},
        "Invalid restore": {"Type": "Fail", "Error": "InvalidInput", "CausePath": "$.cause"},
        "Restore": {
            **restores_map("$.restores", "States.Format('{}#r{}', $.executionId, $$.Map.Item.Index)",
                           "States.Format('restore {}', $$.Map.Item.Index)"),
            "ResultPath": "$.results",
            "Next": "Find failures",
        },
        **judge_and_finish("$.results", "Restore failed", {
            "executionId.$": "$.executionId", "startedAt.$": "$.startedAt", "restores.$": "$.results"}),
    }
    return {
        "Comment": "Restore: starts AWS Backup restores with bounded concurrency and waits for each.",
        "StartAt": "Check restores",
        "States": states,
    }


DEFINITIONS = {
    "recovery-plan.asl.json": recovery_plan,
    "failback.asl.json": failback,
    "restore.asl.json": restore,
}


def render(build):
    return json.dumps(build(), indent=2) + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for name, build in DEFINITIONS.items():
        path = OUT / name
        text = render(build)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("statemachine/ is out of date, run scripts/generate_asl.py:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
