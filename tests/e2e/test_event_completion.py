"""Event-driven completion: a round's wait ends when DRS or AWS Backup reports its job ended
(dr-sim's events, through template.yaml's rules, to on-event), and at the poll interval when no
event comes. check-status judges either way."""

import json
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from moto.events.models import EventPattern

from rehearsal.completion import template_rule_patterns
from rehearsal.workflow import Engine, function_arn

RECOVERY = json.loads((ROOT / "events/statemachine/real-recovery.json").read_text())
RESTORES = json.loads((ROOT / "events/statemachine/restores.json").read_text())
# A wait that times out at this interval was not woken by its event (`waits` counts it as
# timed out); short enough that a run whose events are broken fails in a minute, not ten.
LONG_POLL = 30


def sim_events(sim):
    with urllib.request.urlopen(f"{sim.url}/_sim/events", timeout=10) as resp:
        return json.loads(resp.read())["events"]


def test_a_recovery_completes_through_events_without_waiting_for_a_poll(run, local):
    r = run("recovery-plan", RECOVERY, poll=LONG_POLL)
    assert r.status == "SUCCEEDED", r.cause
    # No wait ran to its timeout: each ended when its job's last event came.
    assert r.waits["timedOut"] == 0, r.waits
    assert r.waits["woken"] >= 2, r.waits  # one per wave at least
    # Every server's launch result reached on-event through the launch-result rule.
    servers = sum(len(w["sourceServers"]) for w in RECOVERY["waves"])
    by_rule = [d for d in r.deliveries if d.rule == "DrsLaunchResultRule"]
    assert len(by_rule) == servers, r.deliveries
    assert not r.pump_errors
    # The event is a hint: check-status judged every job as after a poll.
    assert all(s["state"] == "SUCCEEDED" for s in r.statuses.values()), r.statuses


def test_a_restore_completes_through_the_backup_event(run):
    r = run("restore", RESTORES, poll=LONG_POLL)
    assert r.status == "SUCCEEDED", r.cause
    assert r.waits["timedOut"] == 0 and r.waits["woken"] >= 1, r.waits
    assert {d.rule for d in r.deliveries} == {"BackupRestoreEndedRule"}


def test_with_every_event_dropped_the_poll_still_completes_the_run(run):
    r = run("recovery-plan", RECOVERY, poll=1, faults={"events": {"drop": "ALL"}})
    assert r.status == "SUCCEEDED", r.cause
    assert r.waits["woken"] == 0, r.waits
    assert r.waits["timedOut"] >= 2, r.waits
    assert r.deliveries == []


def test_duplicated_and_late_events_do_no_harm(run):
    r = run("recovery-plan", RECOVERY, poll=LONG_POLL,
            faults={"events": {"duplicate": True, "delaySeconds": 1.5}})
    assert r.status == "SUCCEEDED", r.cause
    assert r.waits["timedOut"] == 0, r.waits
    servers = sum(len(w["sourceServers"]) for w in RECOVERY["waves"])
    assert len(r.deliveries) == 2 * servers, r.deliveries
    outcomes = [d.answer["outcome"] for d in r.deliveries]
    # Each job resumed its round once; every other copy found the job already woken.
    assert outcomes.count("RESUMED") == len(r.jobs()), outcomes
    assert set(outcomes) <= {"RESUMED", "NOT_YET"}, outcomes
    # Each job started once: a wake never starts anything.
    assert len(r.jobs()) == len(RECOVERY["waves"])


def launch_result(job, server):
    """DRS's launch result for `server` in `job`, as the rule delivers it to on-event."""
    return {"version": "0", "id": f"test-{job}-{server}", "detail-type": "DRS Source Server Launch Result",
            "source": "aws.drs", "account": "123456789012", "time": "2026-12-06T05:00:00Z",
            "region": "eu-west-1",
            "resources": [f"arn:aws:drs:eu-west-1:123456789012:source-server/{server}"],
            "detail": {"state": "SUCCEEDED", "job-id": job}}


def test_a_job_whose_events_all_came_before_its_wait_is_woken_by_the_registration(local):
    """Events may come before the round's wait registers (the job ended while check-status
    ran). The registration then finds every report in and resumes its own wait at once: the
    task succeeds as woken by the registration, without waiting its timeout."""
    _, aws, handlers = local
    job = "drsjob-00000000000000c03"
    servers = ["s-0a1b2c3d4e5f60001", "s-0a1b2c3d4e5f60002"]
    for server in servers:
        answer, errored = handlers.invoke("on-event", launch_result(job, server))
        assert not errored and json.loads(answer) == {"job": f"drs:{job}", "outcome": "NOT_YET"}, answer
    # The round's wait as the workflow has it, on its own; its timeout would fail the execution.
    wait = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": function_arn("wait-for-jobs"), "Payload": {
                "jobs": [{"kind": "DRS_JOB", "jobID": job, "operation": "DRILL", "sourceServerIDs": servers}],
                "token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 120, "End": True}
    definition = json.dumps({"StartAt": "Wait for jobs", "States": {"Wait for jobs": wait}})
    with Engine(handlers, aws) as engine:
        arn = engine.start_definition("dr-orchestrator-e2e-early-events", definition, {}, "early-events")
        result = engine.wait(arn, timeout=300)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {"wokenBy": "registration", "job": f"drs:{job}"}


def test_an_event_for_another_job_wakes_nothing(local):
    """wait-for-jobs registers a round's token under its job; an event for a job nobody waits
    on is recorded and wakes nothing; the waited job's own event reaches the wake step (the
    token here is not a live task's, so Step Functions answers that it is gone)."""
    _, _, handlers = local
    token = "AAAA" + "x" * 60
    waited = {"kind": "DRS_JOB", "jobID": "drsjob-00000000000000a01", "operation": "DRILL",
              "sourceServerIDs": ["s-0a1b2c3d4e5f60001"]}
    answer, errored = handlers.invoke("wait-for-jobs", {"jobs": [waited], "token": token})
    assert not errored, answer
    assert json.loads(answer) == {"jobs": 1, "wokenAtOnce": False}

    other, errored = handlers.invoke("on-event", launch_result("drsjob-00000000000000b02", "s-0a1b2c3d4e5f60001"))
    assert not errored, other
    assert json.loads(other) == {"job": "drs:drsjob-00000000000000b02", "outcome": "NOT_YET"}
    own, errored = handlers.invoke("on-event", launch_result("drsjob-00000000000000a01", "s-0a1b2c3d4e5f60001"))
    assert not errored, own
    assert json.loads(own) == {"job": "drs:drsjob-00000000000000a01", "outcome": "GONE"}
    # Not an event a round waits for.
    stalled = launch_result("drsjob-00000000000000a01", "s-0a1b2c3d4e5f60001")
    stalled["detail-type"] = "DRS Source Server Data Replication Stalled Change"
    ignored, errored = handlers.invoke("on-event", stalled)
    assert not errored and json.loads(ignored) == {"job": None, "outcome": "IGNORED"}, ignored
    # Not an event at all: the caller's fault, named.
    bad, errored = handlers.invoke("on-event", {"resources": []})
    assert errored and json.loads(bad)["errorType"] == "InvalidInput", bad


def test_the_template_rules_match_dr_sims_events_and_nothing_else(run, local):
    sim, _, _ = local
    r = run("restore", RESTORES, poll=1)
    assert r.status == "SUCCEEDED", r.cause
    run("recovery-plan", RECOVERY, poll=1, reset=False)
    emitted = sim_events(sim)
    kinds = {e["detail-type"] for e in emitted}
    assert kinds == {"DRS Source Server Launch Result", "Restore Job State Change"}, kinds
    rules = {name: EventPattern.load(json.dumps(p)) for name, p in template_rule_patterns().items()}
    for event in emitted:
        matched = [name for name, rule in rules.items() if rule.matches_event(event)]
        assert len(matched) == 1, (event, matched)

    drs = next(e for e in emitted if e["source"] == "aws.drs")
    restore = next(e for e in emitted if e["source"] == "aws.backup")
    others = [
        {**drs, "detail-type": "DRS Source Server Data Replication Stalled Change"},
        {**drs, "account": "210987654321"},
        {**drs, "source": "aws.mgn", "detail-type": "MGN Source Server Launch Result"},
        {**restore, "detail": {**restore["detail"], "status": "RUNNING"}},
        {**restore, "detail-type": "Backup Job State Change"},
    ]
    for event in others:
        matched = [name for name, rule in rules.items() if rule.matches_event(event)]
        assert matched == [], (event, matched)


@pytest.mark.parametrize("name", ["DrsLaunchResultRule", "BackupRestoreEndedRule"])
def test_each_rule_is_limited_to_the_stacks_account(name):
    pattern = template_rule_patterns()[name]
    assert pattern["account"] == ["123456789012"]
