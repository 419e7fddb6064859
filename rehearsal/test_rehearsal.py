"""Tests of the rehearsal harness itself, without dr-sim or the handlers (seconds):
python3 -m pytest -q rehearsal. The local AWS (moto in server mode) runs small definitions that
use what the workflows use: a Lambda task forwarded to a handler, and an approval request
published to the approvals topic and waited for with lambda:invoke.waitForTaskToken, answered
through the approval endpoint, rejected or left to time out."""

import base64
import json
import re
import shlex
import sys
import time

import pytest

from rehearsal import __main__ as cli
from rehearsal.approval import Approver, describe, function_url_event, is_approval_request, short_line
from rehearsal.local_aws import LocalAws, parse_notification
from rehearsal.processes import handler_environment
from rehearsal.workflow import APPROVALS_TOPIC_ARN, TOPIC_ARN, WORKFLOWS, Engine, load_definition, substitutions

APPROVAL_ID = "apr-0123456789abcdef0123"
REQUEST = """APPROVAL NEEDED: REAL recovery of plan "payments-dr"

Next wave:   wave 0 (data)
Why asked:   a real recovery waits for a person
Approval id: apr-0123456789abcdef0123
"""
ATTRIBUTES = {"kind": "APPROVAL_NEEDED", "severity": "ACTION_REQUIRED", "approvalId": APPROVAL_ID}
SUBJECT = "Approve REAL recovery of payments-dr: wave 0 (data) before it starts (12 servers)"


def envelope(message, subject=SUBJECT, attributes=None):
    """An SNS notification as an SQS subscriber receives it."""
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": TOPIC_ARN, "Subject": subject,
                       "Message": message if isinstance(message, str) else json.dumps(message),
                       "Timestamp": "2026-11-25T06:00:00.000Z",
                       "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in (attributes or {}).items()}})


def test_a_notification_is_read_with_its_message_parsed_and_its_attributes():
    n = parse_notification(envelope(REQUEST, attributes=ATTRIBUTES))
    assert n["subject"] == SUBJECT and n["message"] == REQUEST
    assert n["attributes"]["approvalId"] == {"Type": "String", "Value": APPROVAL_ID}
    assert is_approval_request(n)
    assert not is_approval_request(parse_notification(envelope(REQUEST, attributes={"kind": "APPROVAL_NEEDED"}))), \
        "a request without its approval id cannot be answered"
    plain = parse_notification(envelope("Run FAILED: wave 0", subject="dr-orchestrator: run failed",
                                        attributes={"kind": "RUN_FAILED"}))
    assert plain["message"] == "Run FAILED: wave 0" and not is_approval_request(plain)
    assert short_line(plain) == "notification [RUN_FAILED] dr-orchestrator: run failed"
    structured = parse_notification(envelope({"kind": "RUN_FAILED", "a": 1}, subject=""))
    assert short_line(structured) == 'notification [RUN_FAILED] {"kind":"RUN_FAILED","a":1}'


def test_an_approval_request_is_printed_as_its_text_with_how_to_answer():
    n = parse_notification(envelope(REQUEST, attributes=ATTRIBUTES))
    text = "\n".join(describe(n, "http://127.0.0.1:5000"))
    assert f"APPROVAL NEEDED: {SUBJECT}" in text
    assert '  APPROVAL NEEDED: REAL recovery of plan "payments-dr"' in text
    assert "  Approval id: apr-0123456789abcdef0123" in text
    assert (f"python3 -m rehearsal approve --endpoint http://127.0.0.1:5000 --approval-id {APPROVAL_ID} "
            "--reason 'WHY'") in text
    assert f"python3 -m rehearsal reject --endpoint http://127.0.0.1:5000 --approval-id {APPROVAL_ID}" in text
    assert "--as ARN" in text
    # Without an endpoint: the message alone (it says how to answer in AWS).
    assert "python3 -m rehearsal" not in "\n".join(describe(n))


def test_a_request_reaches_the_endpoint_as_a_function_url_hands_it_over():
    event = function_url_event("arn:aws:sts::123456789012:assumed-role/DrApprover/ada", {"approvalId": APPROVAL_ID})
    assert event["requestContext"]["authorizer"]["iam"]["userArn"].endswith("/DrApprover/ada")
    assert event["requestContext"]["http"]["method"] == "POST" and event["isBase64Encoded"]
    assert json.loads(base64.b64decode(event["body"])) == {"approvalId": APPROVAL_ID}
    assert "authorizer" not in function_url_event(None, {})["requestContext"], "unsigned: no IAM authorizer"


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
    assert substitutions()["ApprovalsTopicArn"] == APPROVALS_TOPIC_ARN
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
    """Answers every function with its name and payload, except the two approval functions,
    which do what the real ones do, in short (their own tests are tests/e2e and the Rust tests):
    await-approval keeps the token under the approval id, answer-approval resumes that wait with
    the approval endpoint's answer shape, the caller taken from the function URL's IAM context."""

    def __init__(self, aws):
        self.calls = []
        self.tokens = {}
        self.sfn = aws.client("stepfunctions")

    def invoke(self, name, payload):
        self.calls.append(name)
        if name == "await-approval":
            self.tokens[payload["approvalId"]] = payload["token"]
            return json.dumps({"approvalId": payload["approvalId"]}), False
        if name == "answer-approval":
            return json.dumps(self._answer(payload)), False
        return json.dumps({"handled": name, "planName": payload.get("planName")}), False

    def _answer(self, event):
        body = json.loads(base64.b64decode(event["body"]))
        token = self.tokens.pop(body["approvalId"], None)
        if token is None:
            return {"statusCode": 404, "body": json.dumps({"error": "NotWaiting"})}
        answer = {"approvalId": body["approvalId"],
                  "verdict": "APPROVED" if body["decision"] == "APPROVE" else "REJECTED",
                  "by": event["requestContext"]["authorizer"]["iam"]["userArn"], "at": "2026-12-07T00:00:00Z",
                  "reason": body["reason"]}
        try:
            self.sfn.send_task_success(taskToken=token, output=json.dumps(answer))
        except self.sfn.exceptions.TaskTimedOut:
            return {"statusCode": 410, "body": json.dumps({"error": "NoLongerWaiting"})}
        return {"statusCode": 200, "body": json.dumps({"answered": answer})}


def approval_definition(timeout=30, then=None):
    """A Lambda task, then an approval request as the workflow asks it (published, then waited
    for by await-approval), and `then`, a state after an approval, if given."""
    definition = {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "${PreparePlanFunctionArn}", "Payload.$": "$"},
                    "ResultSelector": {"plan.$": "$.Payload"}, "Next": "Ask"},
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": "${ApprovalsTopicArn}", "Subject": SUBJECT, "Message": REQUEST,
                               "MessageAttributes": {k: {"DataType": "String", "StringValue": v}
                                                     for k, v in ATTRIBUTES.items()}},
                "ResultPath": None, "Next": "Wait"},
        "Wait": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                 "Parameters": {"FunctionName": "${AwaitApprovalFunctionArn}",
                                "Payload": {"approvalId": APPROVAL_ID, "token.$": "$$.Task.Token"}},
                 "TimeoutSeconds": timeout, "ResultPath": "$.approval",
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "Next": "Verdict"},
        "Verdict": {"Type": "Choice", "Choices": [{"Variable": "$.approval.verdict", "StringEquals": "REJECTED",
                                                   "Next": "Rejected"}], "Default": "Approved"},
        "Approved": {"Type": "Pass", "End": True},
        "Rejected": {"Type": "Fail", "Error": "Rejected", "Cause": "rejected"},
        "TimedOut": {"Type": "Fail", "Error": "ApprovalTimedOut", "Cause": "nobody answered"}}}
    if then:
        definition["States"]["Approved"] = {"Type": "Pass", "Next": "Then"}
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


def the_token(handlers):
    """The task token of the one waiting approval, as await-approval kept it (a person never
    sees it: the tests of Step Functions' own rules on answers need it)."""
    for _ in range(200):
        if APPROVAL_ID in handlers.tokens:
            return handlers.tokens[APPROVAL_ID]
        time.sleep(0.05)
    raise AssertionError("the wait never started")


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as aws:
        yield aws


def test_approve_reject_and_no_answer_on_one_local_aws(aws):
    handlers = FakeHandlers(aws)
    with Engine(handlers, aws, approved_by="arn:aws:sts::123456789012:assumed-role/DrApprover/tester") as engine:
        assert engine.url.startswith("http://127.0.0.1:")
        approved = engine.wait(start(engine, "run"), timeout=60)
        assert approved["status"] == "SUCCEEDED", approved
        answer = json.loads(approved["output"])["approval"]
        assert (answer["verdict"], answer["by"]) == ("APPROVED", "arn:aws:sts::123456789012:assumed-role/DrApprover/tester")
        assert handlers.calls == ["prepare-plan", "await-approval", "answer-approval"]
        (n,) = engine.notifications()
        assert n["subject"] == SUBJECT and n["attributes"]["approvalId"]["Value"] == APPROVAL_ID
        assert n["topicArn"] == APPROVALS_TOPIC_ARN and n["message"] == REQUEST

        engine.approver.mode = "reject"
        rejected_arn = start(engine, "run")
        assert rejected_arn.endswith(":run-2"), "a used execution name gets a suffix"
        rejected = engine.wait(rejected_arn, timeout=60)
        assert (rejected["status"], rejected["error"]) == ("FAILED", "Rejected")

        engine.approver.mode = "never"
        ignored = engine.wait(start(engine, "run", timeout=2), timeout=60)
        assert (ignored["status"], ignored["error"]) == ("FAILED", "ApprovalTimedOut")
        assert [status for _, status, _ in engine.approver.answers] == [200, 200]
        assert len(engine.notifications()) == 3


def test_a_person_answers_from_another_terminal(aws, capsys):
    handlers = FakeHandlers(aws)
    with Engine(handlers, aws, approval="manual", out=print) as engine:
        arn = start(engine, "manual")
        the_request(engine)
        the_token(handlers)
        printed = capsys.readouterr().out
        assert "python3 -m rehearsal approve --endpoint " + aws.url in printed
        assert cli.main(["approve", "--endpoint", aws.url, "--approval-id", APPROVAL_ID, "--reason", "go",
                         "--as", "arn:aws:sts::123456789012:assumed-role/DrApprover/ada"]) == 0
        done = engine.wait(arn, timeout=60)
        answer = json.loads(done["output"])["approval"]
        assert (answer["by"], answer["reason"]) == ("arn:aws:sts::123456789012:assumed-role/DrApprover/ada", "go")
        # An approval nobody waits for is refused, with the endpoint's answer and exit status 1.
        assert cli.main(["reject", "--endpoint", aws.url, "--approval-id", APPROVAL_ID, "--reason", "late"]) == 1
        assert "HTTP 404" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["approve", "--endpoint", "https://states.eu-west-1.amazonaws.com", "--approval-id", "a",
                  "--reason", "r"])


def test_the_context_object_times_are_written_as_step_functions_writes_them(aws):
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Pass", "Parameters": {
        "entered.$": "$$.State.EnteredTime", "started.$": "$$.Execution.StartTime"}, "End": True}}})
    with Engine(FakeHandlers(aws), aws) as engine:
        done = engine.wait(engine.start_definition("times", definition, {}, "t"), timeout=30)
    times = json.loads(done["output"])
    for name in ("entered", "started"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", times[name]), times
    assert times["started"] <= times["entered"], times


def test_a_task_token_answers_once_as_in_step_functions(aws):
    """Adjustment 7: moto would accept a second answer for a closed task; Step Functions says
    TaskTimedOut, which is what on-event's wake and the approval endpoint rely on."""
    handlers = FakeHandlers(aws)
    with Engine(handlers, aws, approval="manual") as engine:
        # The run goes on after the answer: the second answer finds its execution running.
        arn = start(engine, "once", then={"Type": "Wait", "Seconds": 3, "End": True})
        token = the_token(handlers)
        engine.sfn.send_task_success(taskToken=token, output=json.dumps({"verdict": "APPROVED", "by": "first"}))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_success(taskToken=token, output=json.dumps({"verdict": "APPROVED", "by": "second"}))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_failure(taskToken=token, error="Rejected", cause="late")
        done = engine.wait(arn, timeout=60)
        assert json.loads(done["output"])["approval"]["by"] == "first"


def test_an_answer_after_the_task_timed_out_is_refused_and_never_written(aws):
    """Adjustment 7, the timeout: Step Functions answers TaskTimedOut and writes nothing; moto
    accepted it and wrote a TaskSucceeded after the TaskTimedOut."""
    definition = json.loads(approval_definition(timeout=1))
    definition["States"]["Wait"]["Catch"][0]["Next"] = "Linger"
    definition["States"]["Linger"] = {"Type": "Wait", "Seconds": 3, "End": True}
    text = json.dumps(definition)
    for key, value in substitutions().items():
        text = text.replace("${" + key + "}", value)
    handlers = FakeHandlers(aws)
    with Engine(handlers, aws, approval="never") as engine:
        arn = engine.start_definition("late-answer", text, {"planName": "payments-dr"}, "late")
        token = the_token(handlers)
        the_request(engine, until=lambda: any(e["type"] == "TaskTimedOut" for e in engine.history(arn)))
        with pytest.raises(engine.sfn.exceptions.TaskTimedOut):
            engine.sfn.send_task_success(taskToken=token, output=json.dumps({"verdict": "APPROVED"}))
        done = engine.wait(arn, timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert [e["type"] for e in engine.history(arn) if e["type"] in ("TaskSucceeded", "TaskTimedOut")] \
            == ["TaskSucceeded", "TaskSucceeded", "TaskTimedOut"]  # the two tasks', then the wait's: nothing after


def test_a_timeout_is_computed_on_a_frame_that_has_ended(aws):
    """Adjustment 8: moto skips every evaluation on an ended frame, so a task whose thread
    started after its timeout had run out (a 1 s poll interval on a starved CPU) popped the
    state's input as its timeout and wrote it into the history, which then could not be read."""
    import types

    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    state_input = {"options": {"pollIntervalSeconds": 1}}
    ended = types.SimpleNamespace(stack=[state_input], is_running=lambda: False)
    TimeoutSeconds(timeout_seconds=7).eval(ended)
    assert ended.stack == [state_input, 7]


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
        Engine(None, approval="sometimes")
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
