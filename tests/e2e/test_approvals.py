"""Approvals that only the named approvers can give, end to end (issue "Safe on the worst day").

The approval request names an approval id; the wait's task token stays in the approvals table.
The approval endpoint (the answer-approval handler, as its Lambda function URL with AWS_IAM auth
hands requests over: rehearsal.approval.function_url_event carries the caller ARN that AWS would
have verified) takes the answer only from a caller the deployment names (DR_APPROVERS, here any
session of rehearsal.processes.APPROVER_ROLE), records it once, and only then resumes the run.
Anything else that resumes the wait is not an approval."""

import json
from pathlib import Path

from rehearsal.processes import APPROVALS_TABLE

ROOT = Path(__file__).resolve().parents[2]
APPROVER = "arn:aws:sts::123456789012:assumed-role/DrApprover/ada"
INTRUDER = "arn:aws:sts::123456789012:assumed-role/DrOperator/mallory"


def plan(name):
    return json.loads((ROOT / "events" / "statemachine" / name).read_text())


def waiting(engine, arn):
    """The approvals the run `arn` waits on: {approval id: task token}, as the approvals table
    holds them."""
    items = engine.client("dynamodb").scan(TableName=APPROVALS_TABLE)["Items"]
    return {i["approvalId"]["S"]: i["token"]["S"] for i in items
            if i["state"]["S"] == "WAITING" and i["executionId"]["S"] == arn}


def once(action):
    """A `during` hook that runs `action(engine, approval_id, token)` once, when the run waits."""
    seen = {}

    def during(engine, arn):
        if seen:
            return
        for approval_id, token in waiting(engine, arn).items():
            seen["result"] = action(engine, approval_id, token)
            return

    during.seen = seen
    return during


def test_only_a_named_approver_approves_at_the_endpoint_and_the_report_names_the_verified_caller(run):
    def answers(engine, approval_id, token):
        body = {"approvalId": approval_id, "decision": "APPROVE", "reason": "failover agreed on the bridge call"}
        got = {
            "unsigned": engine.answer_approval(None, body),
            "intruder": engine.answer_approval(INTRUDER, body),
            "typed name": engine.answer_approval(APPROVER, {**body, "approvedBy": "the CEO"}),
            "no reason": engine.answer_approval(APPROVER, {**body, "reason": " "}),
            "unknown id": engine.answer_approval(APPROVER, {**body, "approvalId": "apr-00000000000000000000"}),
        }
        got["token"] = token
        got["approver"] = engine.answer_approval(APPROVER, body)
        # The approver sends it again (a lost reply): safe, nothing changes.
        got["retry"] = engine.answer_approval(APPROVER, body)
        got["second answer"] = engine.answer_approval(
            "arn:aws:sts::123456789012:assumed-role/DrApprover/bob", {**body, "decision": "REJECT"})
        return got

    during = once(answers)
    r = run("recovery-plan", plan("real-recovery.json"), approval="never", during=during)
    got = during.seen["result"]
    assert got["unsigned"][0] == 401, got
    assert got["intruder"] == (403, got["intruder"][1]) and got["intruder"][1]["error"] == "NotAnApprover", got
    assert got["intruder"][1]["caller"] == INTRUDER
    assert got["typed name"][0] == 400 and got["typed name"][1]["field"] == "approvedBy", got
    assert got["no reason"][0] == 400 and got["no reason"][1]["field"] == "reason", got
    assert got["unknown id"][0] == 404 and got["unknown id"][1]["error"] == "NotWaiting", got
    assert got["approver"][0] == 200, got
    assert got["retry"][0] == 200 and "retry" in got["retry"][1]["message"], got
    assert got["retry"][1]["answered"] == got["approver"][1]["answered"], "the recorded answer, unchanged"
    assert got["second answer"][0] == 409, got
    assert got["second answer"][1]["answer"]["by"] == APPROVER, "the first answer stands"

    assert r.status == "SUCCEEDED", r.cause
    [request] = r.approval_requests
    assert got["token"] not in json.dumps(request), "the task token never leaves the stack"
    [approval] = r.report["approvals"]
    assert (approval["decision"], approval["by"]) == ("APPROVED", APPROVER), approval
    assert approval["note"] == "failover agreed on the bridge call" and approval["answeredAt"], approval
    html = r.report_html.read_text()
    assert APPROVER in html and "failover agreed on the bridge call" in html


def test_an_approvals_token_given_to_a_wake_function_does_not_approve(run):
    """Someone who reads the approvals table (or guesses how the stack works) and can invoke
    wait-for-jobs hands it the approval's token under a job whose reports are all in: the wake
    function resumes the wait at once, with its own output. That is not the endpoint's answer:
    the wave does not start, and the run says why."""
    job = {"kind": "DRS_JOB", "jobID": "drsjob-0f0f0f0f0f0f0f0f0", "operation": "RECOVERY",
           "sourceServerIDs": ["s-0f0f0f0f0f0f0f0f0"]}

    def wake_with(engine, approval_id, token):
        engine.client("dynamodb").put_item(TableName="dr-orchestrator-wake-rehearsal", Item={
            "key": {"S": f"drs:{job['jobID']}"}, "reported": {"SS": job["sourceServerIDs"]}})
        return engine.handlers.invoke("wait-for-jobs", {"jobs": [job], "token": token})

    during = once(wake_with)
    r = run("recovery-plan", plan("real-recovery.json"), approval="never", during=during)
    answer, errored = during.seen["result"]
    assert not errored and json.loads(answer)["wokenAtOnce"] is True, answer
    assert r.status == "FAILED" and r.error == "NotAnAnswer", (r.status, r.error, r.cause)
    assert "not an approval" in r.cause and "wave 0 (data)" in r.cause, r.cause
    assert r.sim["calls"].get("StartRecovery", 0) == 0 and r.jobs() == []
    [approval] = r.report["approvals"]
    assert approval["decision"] == "NOT_AN_ANSWER" and "by" not in approval, approval
