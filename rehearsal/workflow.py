"""Runs a definition from statemachine/ on moto's Step Functions interpreter, with its Lambda
tasks routed to the real handlers, and reads back what happened."""

import io
import json
import logging
import time
import zipfile

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from .processes import HANDLERS, ROOT

REGION = "eu-west-1"
ACCOUNT = "123456789012"
SUBSTITUTION_KEYS = {
    "prepare-plan": "PreparePlanFunctionArn",
    "start-recovery": "StartRecoveryFunctionArn",
    "start-failback": "StartFailbackFunctionArn",
    "start-restore": "StartRestoreFunctionArn",
    "check-status": "CheckStatusFunctionArn",
}
WORKFLOWS = ("recovery-plan", "failback", "restore")


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def load_definition(name):
    """Reads statemachine/<name>.asl.json and fills every ${...} placeholder (function ARNs:
    the deployment's option defaults reach the run through prepare-plan's environment, and the
    rehearsal shortens waits through the run's input, never by editing the definition)."""
    text = (ROOT / "statemachine" / f"{name}.asl.json").read_text()
    values = {key: function_arn(fn) for fn, key in SUBSTITUTION_KEYS.items()}
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        raise ValueError(f"{name}: unfilled placeholder in the definition")
    return text


class Stats:
    """What the workflow cost: Lambda invocations by function."""

    def __init__(self):
        self.invocations = {}


def forwarder(handlers, stats, resolve=None):
    """A replacement for moto's Lambda backend `invoke`: without Docker, moto's Lambda only
    echoes, so the invocation goes to the real handler instead. `resolve(backend, function_name)`
    names the handler of a function (default: the function's name, the last part of an ARN) and
    may raise moto's own Lambda errors; `stats` counts invocations by handler."""

    def forward(backend, function_name, qualifier, body, headers, response_headers):
        name = resolve(backend, function_name) if resolve else function_name.rsplit(":", 1)[-1]
        payload = json.loads(body or "{}")
        stats.invocations[name] = stats.invocations.get(name, 0) + 1
        answer, errored = handlers.invoke(name, payload)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        return answer.encode()

    return forward


class Engine:
    """moto's Step Functions with Lambda tasks forwarded to `handlers`."""

    def __init__(self, handlers):
        self.handlers = handlers
        self.stats = Stats()
        self._mock = mock_aws(config={
            "stepfunctions": {"execute_state_machine": True},
            "lambda": {"use_docker": False},
        })
        self._original = LambdaSimpleBackend.invoke

    def __enter__(self):
        # moto logs every interpreter error with the whole parsed definition; the run's own
        # error and cause are what a person needs, and the summary prints them.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        self._mock.start()
        LambdaSimpleBackend.invoke = forwarder(self.handlers, self.stats)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self._create_functions()
        return self

    def __exit__(self, *exc):
        LambdaSimpleBackend.invoke = self._original
        self._mock.stop()

    def _create_functions(self):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="dr-orchestrator-rehearsal",
                               AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
        self.role_arn = role["Role"]["Arn"]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "served by cargo lambda watch")
        lam = boto3.client("lambda", region_name=REGION)
        for name in HANDLERS:
            lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=self.role_arn,
                                Handler="bootstrap", Code={"ZipFile": buf.getvalue()}, Architectures=["arm64"])

    def start(self, workflow, plan, name):
        if workflow not in WORKFLOWS:
            raise ValueError(f"unknown workflow {workflow!r}: one of {', '.join(WORKFLOWS)}")
        arn = self.sfn.create_state_machine(
            name=f"dr-orchestrator-{workflow}-{name}", definition=load_definition(workflow),
            roleArn=self.role_arn, type="STANDARD")["stateMachineArn"]
        return self.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(plan))["executionArn"]

    def wait(self, execution_arn, on_tick=None, timeout=900):
        deadline = time.time() + timeout
        while time.time() < deadline:
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                return d
            if on_tick:
                on_tick()
            time.sleep(0.5)
        raise TimeoutError(f"{execution_arn} still running after {timeout} s")

    def history(self, execution_arn):
        events, token = [], None
        while True:
            kw = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kw["nextToken"] = token
            page = self.sfn.get_execution_history(**kw)
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events


def last_statuses(events):
    """The last state check-status reported for every job, from the history (also for failed
    runs): job ID (or restore job ID, or label of a job never started) -> its report."""
    latest = {}
    for e in events:
        details = e.get("taskSucceededEventDetails")
        if not details:
            continue
        try:
            payload = json.loads(details.get("output", "{}")).get("Payload")
        except (ValueError, AttributeError):
            continue
        if isinstance(payload, dict) and "state" in payload and isinstance(payload.get("jobs"), list):
            for job in payload["jobs"]:
                latest[job.get("jobID") or job.get("restoreJobId") or job.get("label")] = job
    return latest


def cost(events):
    """History events, state transitions and the largest state payload of a run."""
    largest = 0
    transitions = 0
    for e in events:
        for key, value in e.items():
            if key.endswith("EventDetails") and isinstance(value, dict):
                for field in ("input", "output"):
                    if isinstance(value.get(field), str):
                        largest = max(largest, len(value[field].encode()))
        if e["type"].endswith("StateEntered"):
            transitions += 1
    return {"historyEvents": len(events), "stateTransitions": transitions, "largestPayloadBytes": largest}
