"""Tests of the rehearsal harness itself, without dr-sim or the handlers (seconds):
python3 -m pytest -q rehearsal. The local AWS (moto in server mode) runs small definitions that
use what the workflows use: a Lambda task forwarded to a handler, and an approval request
published with sns:publish.waitForTaskToken, answered, rejected or left to time out."""

import json
import re
import shlex
import sys
import time

import pytest

from rehearsal import __main__ as cli
from rehearsal.approval import Approver, describe, is_approval_request, short_line
from rehearsal.local_aws import LocalAws, parse_notification
from rehearsal.processes import handler_environment
from rehearsal.workflow import TOPIC_ARN, WORKFLOWS, Engine, load_definition, substitutions

TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAT0k+token/with=odd+chars"

REQUEST = {
    "kind": "APPROVAL_NEEDED",
    "request": {
        "planName": "payments-dr", "isDrill": False, "workflow": "RECOVERY_PLAN", "servers": 12, "restores": 1,
        "waves": [{"name": "data", "servers": 4, "restores": 1}, {"name": "app", "servers": 8, "restores": 0}],
        "preflight": {"verdict": "WARNINGS", "findings": [
            {"severity": "WARNING", "code": "NOT_REPLICATING", "path": "waves[0].sourceServers[1]",
             "sourceServerID": "s-0a1b2c3d4e5f60006", "message": "dataReplicationState is BACKLOG"}]},
        "trigger": {"kind": "EVENT", "eventId": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
                    "source": "dr-orchestrator", "detailType": "Disaster Declared"},
        "reason": "a real recovery launches production instances", "timeoutSeconds": 3600,
        "executionId": "arn:aws:states:eu-west-1:123456789012:execution:x:y", "approvalId": "a-1",
    },
    "taskToken": TOKEN,
    "approve": f"aws stepfunctions send-task-success --task-output '{{\"approvedBy\":\"YOUR NAME\"}}' --task-token {TOKEN}",
    "reject": f"aws stepfunctions send-task-failure --error Rejected --cause 'WHY' --task-token {TOKEN}",
}
SUBJECT = "Approve real recovery of payments-dr: 2 waves, 12 servers"


def envelope(message, subject=SUBJECT, attributes=None):
    """An SNS notification as an SQS subscriber receives it."""
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": TOPIC_ARN, "Subject": subject,
                       "Message": message if isinstance(message, str) else json.dumps(message),
                       "Timestamp": "2026-11-25T06:00:00.000Z",
                       "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in (attributes or {}).items()}})


def test_a_notification_is_read_with_its_message_parsed_and_its_attributes():
    n = parse_notification(envelope(REQUEST, attributes={"kind": "APPROVAL_NEEDED", "severity": "ACTION_REQUIRED"}))
    assert n["subject"] == SUBJECT and n["message"] == REQUEST
    assert n["attributes"] == {"kind": {"Type": "String", "Value": "APPROVAL_NEEDED"},
                               "severity": {"Type": "String", "Value": "ACTION_REQUIRED"}}
    assert is_approval_request(n)
    plain = parse_notification(envelope("Run FAILED: wave 0", subject="dr-orchestrator: run failed",
                                        attributes={"kind": "RUN_FAILED"}))
    assert plain["message"] == "Run FAILED: wave 0" and not is_approval_request(plain)
    assert short_line(plain) == "notification [RUN_FAILED] dr-orchestrator: run failed"


def test_an_approval_request_is_printed_with_what_will_happen_and_how_to_answer():
    n = parse_notification(envelope(REQUEST, attributes={"kind": "APPROVAL_NEEDED", "severity": "ACTION_REQUIRED"}))
    text = "\n".join(describe(n, "http://127.0.0.1:5000"))
    assert f"APPROVAL NEEDED: {SUBJECT}" in text
    assert "a REAL RECOVERY of plan 'payments-dr' (workflow RECOVERY_PLAN)" in text
    assert "data: 4 servers, 1 restore" in text and "app: 8 servers, 0 restores" in text
    assert "in all:      12 servers, 1 restore" in text
    assert "WARNINGS, 1 finding(s)" in text
    assert "WARNING  NOT_REPLICATING at waves[0].sourceServers[1]: dataReplicationState is BACKLOG" in text
    assert "the EventBridge event 6a7e8feb-b491-4cf7-a9f1-bf3703467718 (source dr-orchestrator" in text
    assert "answer within 3600 s" in text and "ApprovalTimedOut" in text
    assert 'approvalId: "a-1"' in text, "a field not shown otherwise is still shown"
    assert "run:         arn:aws:states:eu-west-1:123456789012:execution:x:y" in text
    quoted = shlex.quote(TOKEN)
    assert f"python3 -m rehearsal approve --endpoint http://127.0.0.1:5000 --token {quoted}" in text
    assert f"python3 -m rehearsal reject --endpoint http://127.0.0.1:5000 --token {quoted}" in text
    assert "aws --endpoint-url http://127.0.0.1:5000 --region eu-west-1 stepfunctions send-task-success" in text
    assert "send-task-failure --error Rejected" in text
    # Without an endpoint: the message's own commands (for AWS).
    assert f"approve (in AWS): {REQUEST['approve']}" in "\n".join(describe(n))


def test_the_handlers_reach_dr_sim_for_drs_and_backup_and_the_local_aws_for_the_rest():
    env = handler_environment("http://127.0.0.1:1111", "http://127.0.0.1:2222")
    assert env["AWS_ENDPOINT_URL"] == env["AWS_ENDPOINT_URL_DRS"] == env["AWS_ENDPOINT_URL_BACKUP"] == "http://127.0.0.1:1111"
    for service in ("SFN", "SNS", "SQS", "DYNAMODB", "S3"):
        assert env[f"AWS_ENDPOINT_URL_{service}"] == "http://127.0.0.1:2222"
    assert "AWS_ENDPOINT_URL_SFN" not in handler_environment("http://127.0.0.1:1111")


def test_every_workflow_definition_is_filled_and_an_unknown_placeholder_is_an_error(tmp_path, monkeypatch):
    for workflow in WORKFLOWS:
        assert "${" not in load_definition(workflow)
    assert substitutions()["NotificationsTopicArn"] == TOPIC_ARN
    assert substitutions()["CleanUpDrillFunctionArn"].endswith(":function:clean-up-drill")
    assert [json.loads(load_definition(w))["States"]["Prepare plan"]["Parameters"]["Payload"]["workflow"]
            for w in WORKFLOWS] == ["RECOVERY_PLAN", "FAILBACK", "RESTORE"]
    with pytest.raises(ValueError, match="unknown workflow"):
        load_definition("x")
    (tmp_path / "statemachine").mkdir()
    (tmp_path / "statemachine" / "run-plan.asl.json").write_text('{"a": "${NotificationsTopicArn}", "b": "${Nope}"}')
    monkeypatch.setattr("rehearsal.workflow.ROOT", tmp_path)
    with pytest.raises(ValueError, match="Nope"):
        load_definition("restore")


class FakeHandlers:
    """Answers every function with its name and payload."""

    def __init__(self):
        self.calls = []

    def invoke(self, name, payload):
        self.calls.append(name)
        return json.dumps({"handled": name, "planName": payload.get("planName")}), False


def approval_definition(timeout=30, then=None):
    """A Lambda task, then an approval request as the workflows publish it (and `then`, a state
    after it, if given)."""
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "${PreparePlanFunctionArn}", "Payload.$": "$"},
                    "ResultSelector": {"plan.$": "$.Payload"}, "Next": "Approve"},
        "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                    "Parameters": {"TopicArn": "${NotificationsTopicArn}", "Subject": SUBJECT,
                                   "Message": {"kind": "APPROVAL_NEEDED",
                                               "request": {"planName.$": "$.plan.planName", "isDrill": False,
                                                           "timeoutSeconds": timeout},
                                               "taskToken.$": "$$.Task.Token"},
                                   "MessageAttributes": {
                                       "kind": {"DataType": "String", "StringValue": "APPROVAL_NEEDED"},
                                       "severity": {"DataType": "String", "StringValue": "ACTION_REQUIRED"}}},
                    "TimeoutSeconds": timeout, "ResultPath": "$.approval",
                    "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "End": True},
        "TimedOut": {"Type": "Fail", "Error": "ApprovalTimedOut", "Cause": "nobody answered"}}}
    if then:
        definition["States"]["Approve"].pop("End")
        definition["States"]["Approve"]["Next"] = "Then"
        definition["States"]["Then"] = then
    return json.dumps(definition)


def start(engine, name, timeout=30, then=None):
    definition = approval_definition(timeout, then)
    for key, value in substitutions().items():
        definition = definition.replace("${" + key + "}", value)
    return engine.start_definition("approval-test", definition, {"planName": "payments-dr"}, name)


def the_request(engine, until=None):
    """The one approval request the engine has read, once it has (and `until()` holds)."""
    for _ in range(200):
        engine.approver.tick()
        if engine.approver.requests and (until is None or until()):
            break
        time.sleep(0.05)
    (request,) = engine.approver.requests
    return request


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as aws:
        yield aws


def test_approve_reject_and_no_answer_on_one_local_aws(aws):
    handlers = FakeHandlers()
    with Engine(handlers, aws, approved_by="tester") as engine:
        assert engine.url.startswith("http://127.0.0.1:")
        approved = engine.wait(start(engine, "run"), timeout=60)
        assert approved["status"] == "SUCCEEDED", approved
        assert json.loads(approved["output"])["approval"] == {"approvedBy": "tester"}
        assert handlers.calls == ["prepare-plan"] and engine.stats.invocations == {"prepare-plan": 1}
        (n,) = engine.notifications()
        assert n["subject"] == SUBJECT and n["attributes"]["severity"]["Value"] == "ACTION_REQUIRED"
        assert n["message"]["request"] == {"planName": "payments-dr", "isDrill": False, "timeoutSeconds": 30}

        engine.approver.mode = "reject"
        rejected_arn = start(engine, "run")
        assert rejected_arn.endswith(":run-2"), "a used execution name gets a suffix"
        rejected = engine.wait(rejected_arn, timeout=60)
        assert (rejected["status"], rejected["error"]) == ("FAILED", "Rejected")

        engine.approver.mode = "never"
        ignored = engine.wait(start(engine, "run", timeout=2), timeout=60)
        assert (ignored["status"], ignored["error"]) == ("FAILED", "ApprovalTimedOut")
        assert [a for _, a in engine.approver.answers] == ["approved", "rejected"]
        assert len(engine.notifications()) == 3


def test_a_person_answers_from_another_terminal(aws, capsys):
    with Engine(FakeHandlers(), aws, approval="manual", out=print) as engine:
        arn = start(engine, "manual")
        request = the_request(engine)
        printed = capsys.readouterr().out
        assert "python3 -m rehearsal approve --endpoint " + aws.url in printed
        assert cli.main(["approve", "--endpoint", aws.url, "--token", request["message"]["taskToken"],
                         "--by", "Ada"]) == 0
        done = engine.wait(arn, timeout=60)
        assert json.loads(done["output"])["approval"] == {"approvedBy": "Ada"}
        # A token the endpoint does not know is refused, with a message and exit status 1.
        assert cli.main(["reject", "--endpoint", aws.url, "--token", "not-a-token"]) == 1
    with pytest.raises(SystemExit):
        cli.main(["approve", "--endpoint", "https://states.eu-west-1.amazonaws.com", "--token", "t"])


def test_the_context_object_times_are_written_as_step_functions_writes_them(aws):
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Pass", "Parameters": {
        "entered.$": "$$.State.EnteredTime", "started.$": "$$.Execution.StartTime"}, "End": True}}})
    with Engine(FakeHandlers(), aws) as engine:
        done = engine.wait(engine.start_definition("times", definition, {}, "t"), timeout=30)
    times = json.loads(done["output"])
    for name in ("entered", "started"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", times[name]), times
    assert times["started"] <= times["entered"], times


def test_a_task_token_answers_once_as_in_step_functions(aws):
    """Adjustment 7: moto would accept a second answer for a closed task; Step Functions says
    TaskTimedOut, which is what on-event's wake relies on."""
    with Engine(FakeHandlers(), aws, approval="manual") as engine:
        # The run goes on after the answer: the second answer finds its execution running.
        arn = start(engine, "once", then={"Type": "Wait", "Seconds": 3, "End": True})
        request = the_request(engine)
        token = request["message"]["taskToken"]
        engine.sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": "first"}))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": "second"}))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_failure(taskToken=token, error="Rejected", cause="late")
        done = engine.wait(arn, timeout=60)
        assert json.loads(done["output"])["approval"] == {"approvedBy": "first"}


def test_an_answer_after_the_task_timed_out_is_refused_and_never_written(aws):
    """Adjustment 7, the timeout: Step Functions answers TaskTimedOut and writes nothing; moto
    accepted it and wrote a TaskSucceeded after the TaskTimedOut."""
    definition = json.loads(approval_definition(timeout=1))
    definition["States"]["Approve"]["Catch"][0]["Next"] = "Linger"
    definition["States"]["Linger"] = {"Type": "Wait", "Seconds": 3, "End": True}
    text = json.dumps(definition)
    for key, value in substitutions().items():
        text = text.replace("${" + key + "}", value)
    with Engine(FakeHandlers(), aws, approval="never") as engine:
        arn = engine.start_definition("late-answer", text, {"planName": "payments-dr"}, "late")
        request = the_request(engine, until=lambda: any(e["type"] == "TaskTimedOut" for e in engine.history(arn)))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_success(taskToken=request["message"]["taskToken"],
                                         output=json.dumps({"approvedBy": "late"}))
        done = engine.wait(arn, timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert [e["type"] for e in engine.history(arn) if e["type"] in ("TaskSucceeded", "TaskTimedOut")] \
            == ["TaskSucceeded", "TaskTimedOut"]  # the Lambda task's, then the approval's: nothing after


def test_of_many_conditional_writes_at_the_same_moment_exactly_one_wins(aws):
    """Adjustment 6: the wake's claim is a conditional UpdateItem; on DynamoDB exactly one of
    concurrent claims passes its condition. 40 claims race on each of 10 items, from as many
    threads as the server answers on."""
    import threading

    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(TableName="claims", KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    wins = []
    ITEMS = 30
    barrier = threading.Barrier(20)

    def claim(by):
        client = aws.client("dynamodb")
        barrier.wait()
        for item in range(ITEMS):
            try:
                client.update_item(TableName="claims", Key={"key": {"S": f"job-{item}"}},
                                   UpdateExpression="SET woken = :by", ConditionExpression="attribute_not_exists(woken)",
                                   ExpressionAttributeValues={":by": {"S": by}})
                wins.append((item, by))
            except client.exceptions.ConditionalCheckFailedException:
                pass

    threads = [threading.Thread(target=claim, args=(f"t{i}",)) for i in range(20)]
    # Threads switch as often as the interpreter can: moto's writes interleave as on a loaded host.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert sorted(item for item, _ in wins) == list(range(ITEMS)), wins


def test_an_unknown_approval_mode_is_refused():
    with pytest.raises(ValueError):
        Engine(FakeHandlers(), approval="sometimes")
    with pytest.raises(ValueError):
        Approver(None, list, "sometimes")


def test_the_printed_report_counts_a_waves_restores_in_its_rto_and_rpo(tmp_path):
    from rehearsal.report import print_report
    report = {
        "verdict": {"state": "MET", "summary": "every target met"},
        "waves": [{"index": 0, "name": "data", "state": "SUCCEEDED", "servers": 1, "launched": 1,
                   "restores": 1, "restored": 1}],
        "servers": [{"wave": 0, "sourceServerID": "s-1", "rtoSeconds": 3, "rpoSeconds": 0}],
        "restores": [{"wave": 0, "label": "restore 0", "rtoSeconds": 5, "rpoSeconds": 622}],
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    lines = []
    print_report(tmp_path / "report.html", out=lines.append)
    wave = next(line for line in lines if line.strip().startswith("data:"))
    assert wave.endswith("RTO 5s, RPO 10m 22s"), wave
