"""The drill lifecycle end to end: a person approves what is real (the approval request is a
real SNS message on the local AWS, answered with SendTaskSuccess / SendTaskFailure), and every
drill terminates what it launched. What exists afterwards is read from the local endpoint's own
state, not from the run's output."""

import json
import re
import time
from pathlib import Path

import boto3

from rehearsal.processes import E2E_DRILL_WORKFLOW

ROOT = Path(__file__).resolve().parents[2]
IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"
EXECUTION_TAG = "dr-orchestrator:execution"
APPROVED_BY = "arn:aws:sts::123456789012:assumed-role/DrApprover/e2e"  # tests/e2e/conftest.py's approver


def plan(name):
    return json.loads((ROOT / "events" / "statemachine" / name).read_text())


def existing_instances(sim_state):
    """Recovery instances that exist in dr-sim: launched by a launch job, not terminated since."""
    terminated = {s["recoveryInstanceID"] for j in sim_state["jobs"]
                  if j["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
                  for s in j["servers"] if s["launchStatus"] == "TERMINATED"}
    return {s["recoveryInstanceID"]: j for j in sim_state["jobs"]
            if j["initiatedBy"] in ("START_DRILL", "START_RECOVERY")
            for s in j["servers"]
            if s["launchStatus"] == "LAUNCHED" and s["recoveryInstanceID"] not in terminated}


def launched_by(sim_state, initiated_by):
    return {s["recoveryInstanceID"] for j in sim_state["jobs"] if j["initiatedBy"] == initiated_by
            for s in j["servers"] if s["launchStatus"] == "LAUNCHED"}


def test_a_drill_ends_with_every_instance_it_launched_terminated(run):
    r = run("recovery-plan", plan("recovery-drill.json"))
    assert r.status == "SUCCEEDED", r.cause
    cleanup = r.output["cleanup"]
    assert cleanup["state"] == "CLEANED", cleanup
    launched = launched_by(r.sim, "START_DRILL")
    assert len(launched) == 13
    assert cleanup["instances"] == cleanup["terminated"] == 13
    assert existing_instances(r.sim) == {}
    terminate_jobs = r.jobs("TERMINATE_RECOVERY_INSTANCES")
    assert {s["recoveryInstanceID"] for j in terminate_jobs for s in j["servers"]} == launched
    assert r.approval_requests == [], "a drill does not wait for approval unless its plan says so"


def test_a_drill_keeps_its_instances_the_minutes_its_plan_says_then_terminates_them(run, local):
    p = plan("recovery-drill.json")
    p.setdefault("options", {})["keepDrillInstancesMinutes"] = 1
    # The local Step Functions waits a tenth of each Wait: 6 s for the minute.
    with local[1].time_scaled(0.1):
        r = run("recovery-plan", p)
    assert r.status == "SUCCEEDED", r.cause
    assert r.output["cleanup"]["state"] == "CLEANED", r.output["cleanup"]
    assert existing_instances(r.sim) == {}
    # The run waited its minute (scaled) after the last wave, and only then started terminating.
    names = [(e["type"], (e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails") or {}).get("name"))
             for e in r.events]
    entered_keep = names.index(("WaitStateEntered", "Keep drill instances"))
    exited_keep = names.index(("WaitStateExited", "Keep drill instances"))
    keep = json.loads(r.events[entered_keep]["stateEnteredEventDetails"]["input"])
    assert keep["cleanup"]["keepSeconds"] == 60, keep["cleanup"]
    waited = (r.events[exited_keep]["timestamp"] - r.events[entered_keep]["timestamp"]).total_seconds()
    assert waited >= 5, waited
    last_wave = max(i for i, n in enumerate(names) if n[1] == "Judge wave")
    first_cleanup = names.index(("TaskStateEntered", "Terminate drill instances"))
    assert last_wave < entered_keep < exited_keep < first_cleanup, names[last_wave:first_cleanup + 1]


def test_a_drill_whose_second_wave_fails_terminates_the_first_waves_instances_then_fails(run):
    bad = "s-0a1b2c3d4e5f60005"  # wave 1 (application)
    r = run("recovery-plan", plan("recovery-drill.json"),
            faults={"failLaunch": {bad: "InsufficientInstanceCapacity: no capacity"}})
    assert r.status == "FAILED"
    assert r.error == "RecoveryFailed"
    assert bad in r.cause and "wave 1 (application)" in r.cause
    assert r.wave_jobs(2) == [], "wave 3 must never start"
    launched = launched_by(r.sim, "START_DRILL")
    assert len(launched) == 3 + 5, "wave 0's three servers and wave 1's five that launched"
    assert existing_instances(r.sim) == {}, "every launched drill instance is terminated"


def test_a_real_recovery_waits_for_approval_and_rejection_launches_nothing(run):
    r = run("recovery-plan", plan("real-recovery.json"), approval="reject")
    assert r.status == "FAILED"
    assert r.error == "Rejected"
    assert "wave 0 (data)" in r.cause
    assert r.sim["calls"].get("StartRecovery", 0) == 0
    assert r.sim["calls"].get("StartRestoreJob", 0) == 0
    assert r.jobs() == []
    [request] = r.approval_requests
    assert request["attributes"]["kind"]["Value"] == "APPROVAL_NEEDED"
    approval_id = request["attributes"]["approvalId"]["Value"]
    assert re.fullmatch(r"apr-[0-9a-f]{20}", approval_id), approval_id
    assert "REAL recovery" in request["subject"]
    # Plain text for a person: what will happen and how to answer; never the task token.
    text = request["message"]
    assert text.startswith("APPROVAL NEEDED: REAL recovery of plan"), text
    assert f"Approval id: {approval_id}" in text and "Started by:  Console" in text
    assert re.search(r"Preflight:   (Passed|Warnings)", text), text
    assert "taskToken" not in text and "send-task" not in text, text
    # The report of the failed run: who rejected it, as the endpoint verified, and why.
    [rejected] = r.report["approvals"]
    assert (rejected["decision"], rejected["by"]) == ("REJECTED", APPROVED_BY), rejected
    assert rejected["note"] and rejected["answeredAt"], rejected


def test_an_approved_real_recovery_records_who_approved_and_is_never_cleaned_up(run):
    r = run("recovery-plan", plan("real-recovery.json"))
    assert r.status == "SUCCEEDED", r.cause
    assert len(r.approval_requests) == 1
    first = r.output["waves"][0]["approval"]
    assert first["state"] == "APPROVED"
    answer = first["answer"]
    assert (answer["verdict"], answer["by"]) == ("APPROVED", APPROVED_BY)
    assert answer["approvalId"] == r.approval_requests[0]["attributes"]["approvalId"]["Value"]
    assert answer["at"] and answer["reason"] and first["decidedAt"] and first["reason"]
    assert r.output["waves"][1]["approval"] == {"state": "NOT_REQUIRED"}
    assert r.output["cleanup"] == {"state": "NOT_NEEDED"}
    assert r.jobs("TERMINATE_RECOVERY_INSTANCES") == []
    assert len(existing_instances(r.sim)) == len(launched_by(r.sim, "START_RECOVERY")) > 0


def test_a_drill_wave_marked_pause_before_waits_and_a_rejection_still_cleans_up(run):
    p = plan("recovery-drill.json")
    p["waves"][2]["pauseBefore"] = True
    r = run("recovery-plan", p, approval="reject")
    assert r.status == "FAILED" and r.error == "Rejected", r.cause
    assert "wave 2 (web)" in r.cause
    [request] = r.approval_requests
    assert "(pauseBefore)" in request["message"]
    assert r.wave_jobs(2) == []
    assert len(launched_by(r.sim, "START_DRILL")) == 9
    assert existing_instances(r.sim) == {}


def test_an_unanswered_approval_ends_the_run_with_approval_timed_out(run, local):
    p = plan("real-recovery.json")
    p.setdefault("options", {})["approvalTimeoutSeconds"] = 60  # the shortest allowed
    # The local Step Functions waits a tenth of each timeout: 6 s for the approval's minute.
    with local[1].time_scaled(0.1):
        r = run("recovery-plan", p, approval="never")
    assert r.status == "FAILED"
    assert r.error == "ApprovalTimedOut"
    assert "within 60 s" in r.cause
    assert r.jobs() == []


def test_the_guard_refuses_a_real_recovery_instance_even_when_asked_directly(run, local):
    _, _, handlers = local
    r = run("recovery-plan", plan("real-recovery.json"))
    assert r.status == "SUCCEEDED", r.cause
    real = sorted(launched_by(r.sim, "START_RECOVERY"))
    answer, errored = handlers.invoke("clean-up-drill", {"operation": "START", "recoveryInstanceIDs": real})
    report = json.loads(answer)
    assert not errored, report
    assert report["state"] == "FAILED"
    assert report["refusedCount"] == len(real)
    assert all("isDrill" in n["reason"] for n in report["refused"])
    state = local[0].state()
    assert state["calls"].get("TerminateRecoveryInstances", 0) == 0
    assert set(real) <= set(existing_instances(state))


def test_a_failed_termination_fails_the_drill_and_names_the_instance(run):
    stuck = "s-0a1b2c3d4e5f60001"  # wave 2 (web)
    r = run("recovery-plan", plan("recovery-drill.json"),
            faults={"failTerminate": {stuck: "UnauthorizedOperation: ec2:TerminateInstances"}})
    assert r.status == "FAILED"
    assert r.error == "CleanupFailed"
    left = existing_instances(r.sim)
    assert len(left) == 1
    [(instance, job)] = left.items()
    [server] = [s for s in job["servers"] if s["recoveryInstanceID"] == instance]
    assert server["sourceServerID"] == stuck
    assert instance in r.cause and "12 of 13" in r.cause


# ---- the sweeper --------------------------------------------------------------------------------

def drs_client(sim):
    return boto3.client("drs", endpoint_url=sim.url, region_name="eu-west-1",
                        aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local")


def start_job(sim, server, is_drill, execution, key):
    drs = drs_client(sim)
    tags = {**({IDEMPOTENCY_TAG: key} if key else {}), **({EXECUTION_TAG: execution} if execution else {})}
    job = drs.start_recovery(isDrill=is_drill, sourceServers=[{"sourceServerID": server}], tags=tags)["job"]
    return job["jobID"]


def age(sim, job_id, hours):
    sim._call("POST", "/_sim/age", {"jobID": job_id, "hours": hours})


def instance_of(sim, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for j in sim.state()["jobs"]:
            if j["jobID"] == job_id and j["servers"][0]["launchStatus"] == "LAUNCHED":
                return j["servers"][0]["recoveryInstanceID"]
        time.sleep(0.2)
    raise TimeoutError(job_id)


def test_the_sweeper_terminates_an_orphaned_old_drill_instance_and_leaves_the_rest_alone(local):
    sim, aws, handlers = local
    sim.reset()
    sfn = aws.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/dr-orchestrator-e2e"
    # A workflow of this deployment (the harness names it in DR_DRILL_WORKFLOWS, as the template
    # names the recovery-plan workflow) that waits: moto cannot stop a real run waiting on a
    # callback, so this one stands for a drill that still runs, and for one stopped from the
    # console (an ABORTED execution that still exists).
    machine = sfn.create_state_machine(
        name=E2E_DRILL_WORKFLOW, roleArn=role,
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 300, "End": True}}}),
    )["stateMachineArn"]
    running = sfn.start_execution(stateMachineArn=machine, name="still-running")["executionArn"]
    stopped = sfn.start_execution(stateMachineArn=machine, name="stopped-from-the-console")["executionArn"]
    sfn.stop_execution(executionArn=stopped)
    assert sfn.describe_execution(executionArn=stopped)["status"] == "ABORTED"
    # An execution Step Functions no longer knows (past its retention): ExecutionDoesNotExist.
    expired = machine.replace(":stateMachine:", ":execution:") + ":past-its-retention"
    # A drill of another deployment (its recovery-plan workflow, in the same account), ended.
    elsewhere = expired.replace(":execution:dr-orchestrator-", ":execution:other-stack-")

    orphan = start_job(sim, "s-0a1b2c3d4e5f60001", True, stopped, "old-run#w0#b0")
    expired_orphan = start_job(sim, "s-0a1b2c3d4e5f60007", True, expired, "older-run#w0#b0")
    real = start_job(sim, "s-0a1b2c3d4e5f60002", False, stopped, "old-run#w1#b0")
    young = start_job(sim, "s-0a1b2c3d4e5f60003", True, stopped, "new-run#w0#b0")
    in_use = start_job(sim, "s-0a1b2c3d4e5f60004", True, running, "long-run#w0#b0")
    other = start_job(sim, "s-0a1b2c3d4e5f60005", True, elsewhere, "their-run#w0#b0")
    untagged = start_job(sim, "s-0a1b2c3d4e5f60006", True, None, "by-hand#w0#b0")
    # A drill job with our execution tag but not our idempotency key: not launched by us.
    not_ours = start_job(sim, "s-0a1b2c3d4e5f60008", True, stopped, None)
    # An orphan whose termination someone already asked for, and which has not ended.
    terminating = start_job(sim, "s-0a1b2c3d4e5f60009", True, stopped, "old-run#w0#b1")
    jobs = (orphan, expired_orphan, real, young, in_use, other, untagged, not_ours, terminating)
    instances = {job: instance_of(sim, job) for job in jobs}
    for job in jobs:
        if job != young:
            age(sim, job, 30)
    sim.faults(slowTerminate={"s-0a1b2c3d4e5f60009": 120})
    asked = drs_client(sim).terminate_recovery_instances(recoveryInstanceIDs=[instances[terminating]])["job"]

    answer, errored = handlers.invoke("sweep-drill-instances", {"trigger": "CONSOLE"})
    report = json.loads(answer)
    assert not errored, report
    swept = {instances[orphan], instances[expired_orphan]}
    assert {t["recoveryInstanceID"] for t in report["terminated"]} == swept, report
    assert all(t["ageHours"] >= 30 for t in report["terminated"])
    assert report["leftAlone"] == {"REAL_RECOVERY_INSTANCE": 1, "YOUNGER_THAN_MAX_AGE": 1,
                                   "EXECUTION_STILL_RUNNING": 1, "ANOTHER_DEPLOYMENTS_DRILL": 1,
                                   "NO_EXECUTION_TAG": 1, "NOT_LAUNCHED_BY_DR_ORCHESTRATOR": 1,
                                   "ALREADY_TERMINATING": 1}, report
    state = sim.state()
    terminate = [j for j in state["jobs"] if j["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"]
    assert {j["jobID"] for j in terminate} == {asked["jobID"], *report["terminateJobIDs"]}
    by_sweeper = [s["recoveryInstanceID"] for j in terminate if j["jobID"] in report["terminateJobIDs"]
                  for s in j["servers"]]
    assert sorted(by_sweeper) == sorted(swept)
    sfn.stop_execution(executionArn=running)

    # Bad input: a clear error and no AWS call at all.
    before = sum(sim.state()["calls"].values())
    answer, errored = handlers.invoke("sweep-drill-instances", {"trigger": "CONSOLE", "maxAgeHours": 0})
    assert errored and json.loads(answer)["errorType"] == "InvalidInput"
    assert sum(sim.state()["calls"].values()) == before
