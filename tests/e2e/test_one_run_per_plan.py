"""One run per plan (issue "Safe on the worst day"): prepare-plan takes the plan's lease before
its run starts anything, the report releases it, and a run that ended without releasing it
loses it to the next run."""

import json
from pathlib import Path

import boto3

from rehearsal.processes import APPROVALS_TABLE, LEASE_TABLE

ROOT = Path(__file__).resolve().parents[2]
APPROVER = "arn:aws:sts::123456789012:assumed-role/DrApprover/e2e"


def plan(name):
    return json.loads((ROOT / "events" / "statemachine" / name).read_text())


def leases(aws):
    items = aws.client("dynamodb").scan(TableName=LEASE_TABLE)["Items"]
    return {i["plan"]["S"]: i["executionId"]["S"] for i in items}


def waiting_approval(aws, arn):
    items = aws.client("dynamodb").scan(TableName=APPROVALS_TABLE)["Items"]
    return [i["approvalId"]["S"] for i in items if i["state"]["S"] == "WAITING" and i["executionId"]["S"] == arn]


def test_a_second_run_of_a_running_plan_is_refused_naming_the_run_and_the_plan_is_free_after(local, run):
    p = plan("real-recovery.json")
    seen = {}

    def second_run(engine, arn):
        """While the first run waits for its approval: a second run of the same plan, then the
        approval that lets the first one go on."""
        if seen or not waiting_approval(engine, arn):
            return
        seen["lease"] = leases(engine)
        second = engine.start("recovery-plan", p, "second")
        seen["second"] = engine.wait(second, timeout=120)
        seen["second notifications"] = [n for n in engine.notifications() if second in json.dumps(n)]
        [approval_id] = waiting_approval(engine, arn)
        body = {"approvalId": approval_id, "decision": "APPROVE", "reason": "go"}
        seen["answer"] = engine.answer_approval(APPROVER, body)

    r = run("recovery-plan", p, approval="never", during=second_run)
    first = r.result["executionArn"]
    assert seen["lease"] == {p["planName"]: first}, seen["lease"]
    second = seen["second"]
    assert (second["status"], second["error"]) == ("FAILED", "PlanBusy"), second
    assert first in second["cause"] and "one run per plan" in second["cause"], second["cause"]
    assert "a real recovery" in second["cause"], second["cause"]
    # The refused run says so to the subscribers, naming the running one.
    assert any("PlanBusy" in json.dumps(n) and first in json.dumps(n) for n in seen["second notifications"]), \
        seen["second notifications"]
    assert seen["answer"][0] == 200, seen["answer"]
    # The first run went on, alone: one job per wave, launched once.
    assert r.status == "SUCCEEDED", r.cause
    assert r.sim["calls"].get("StartRecovery", 0) == 2, r.sim["calls"]
    assert p["planName"] not in leases(local[1]), "the report released the lease"


def test_a_lease_whose_run_has_ended_or_never_existed_is_taken_over_and_released_at_the_end(local, run):
    """A run that ends without its report (stopped from the console, timed out, failed before the
    report) keeps its lease: the next run asks Step Functions whether the holder still runs. (moto
    does not stop an execution that waits on a callback, so the item such a run leaves is written
    here: the holder is a real execution that has ended, then one Step Functions never ran.)"""
    _, aws, _ = local
    p = plan("real-recovery.json")
    p["planName"] = "held by a run that is gone"
    first = run("recovery-plan", p, name="first")
    assert first.status == "SUCCEEDED", first.cause
    assert p["planName"] not in leases(aws), "the report released the lease"
    dynamodb = aws.client("dynamodb")
    gone = [first.result["executionArn"],
            "arn:aws:states:eu-west-1:123456789012:execution:dr-orchestrator-recovery-plan:never-ran"]
    for holder in gone:
        dynamodb.put_item(TableName=LEASE_TABLE, Item={
            "plan": {"S": p["planName"]}, "executionId": {"S": holder}, "what": {"S": "a real recovery"},
            "since": {"S": "2026-12-07T00:00:00Z"}})
        after = run("recovery-plan", p, reset=False, name="after")
        assert after.status == "SUCCEEDED", (holder, after.error, after.cause)
        assert p["planName"] not in leases(aws), holder


def test_a_start_waits_out_a_server_another_job_holds(local, run):
    """DRS allows one active job per server (ConflictException): a start whose server another
    job holds (here a drill started by hand, whose launch takes 20 s) is retried every 30 s, for
    up to 10 minutes, instead of failing its wave, and starts one job once the server is free."""
    sim, _, _ = local
    server = "s-0a1b2c3d4e5f60001"
    sim.reset()
    sim.faults(slowLaunch={server: 20})
    drs = boto3.client("drs", endpoint_url=sim.url, region_name="eu-west-1",
                       aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local")
    held = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": server}])["job"]["jobID"]
    p = {"planName": "held server", "isDrill": True,
         "waves": [{"name": "w", "sourceServers": [{"sourceServerID": server}]}]}
    r = run("recovery-plan", p, reset=False, timeout=300)
    assert r.status == "SUCCEEDED", r.cause
    conflicts = [e for e in r.events if e["type"] == "TaskFailed"
                 and e["taskFailedEventDetails"]["error"] == "Conflict"]
    assert conflicts and server in conflicts[0]["taskFailedEventDetails"]["cause"], conflicts
    assert held in conflicts[0]["taskFailedEventDetails"]["cause"]
    mine = [j for j in r.jobs() if j["jobID"] != held]
    assert len(mine) == 1 and mine[0]["createdMs"] >= max(s["settlesMs"] for j in r.jobs() if j["jobID"] == held
                                                          for s in j["servers"])
    assert r.sim["calls"]["StartRecovery"] == 1 + len(conflicts) + 1, r.sim["calls"]


def test_a_scheduled_drill_while_the_last_drill_runs_is_skipped_with_a_notification(run):
    """The monthly schedule fires while last month's drill still waits at its pause: the new
    drill is skipped (the execution succeeds, RUN_SKIPPED, a report), not failed, so no
    failed-execution alarm pages anyone; the running drill goes on."""
    p = plan("recovery-drill.json")
    p["waves"][0]["pauseBefore"] = True
    seen = {}

    def scheduled_tick(engine, arn):
        if seen or not waiting_approval(engine, arn):
            return
        tick = {"plan": p, "trigger": {"kind": "SCHEDULE", "eventId": "0f3c1c2e-0000-4000-8000-000000000001",
                                      "time": "2026-12-01T06:00:00Z"}}
        second = engine.start("recovery-plan", tick, "monthly-tick")
        seen["second"] = engine.wait(second, timeout=120)
        seen["notifications"] = [n for n in engine.notifications() if second in json.dumps(n)]
        [approval_id] = waiting_approval(engine, arn)
        seen["answer"] = engine.answer_approval(APPROVER, {"approvalId": approval_id, "decision": "APPROVE",
                                                           "reason": "go"})

    r = run("recovery-plan", p, approval="never", during=scheduled_tick)
    second = seen["second"]
    assert second["status"] == "SUCCEEDED", second
    ending = json.loads(second["output"])
    assert ending["outcome"]["state"] == "SKIPPED" and ending["outcome"]["error"] == "PlanBusy", ending
    assert r.result["executionArn"] in ending["outcome"]["cause"], ending
    assert ending["report"]["written"] is True, ending
    [note] = [n for n in seen["notifications"] if n["attributes"].get("kind", {}).get("Value") == "RUN_SKIPPED"]
    assert note["attributes"]["severity"]["Value"] == "WARNING"
    assert note["subject"] == "Drill of payments monthly drill skipped: the last drill still runs", note
    # The running drill was not disturbed.
    assert seen["answer"][0] == 200 and r.status == "SUCCEEDED", r.cause
