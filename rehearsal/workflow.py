"""Runs a definition from statemachine/ on moto's Step Functions interpreter (moto in server
mode on 127.0.0.1, rehearsal.local_aws), with its Lambda tasks routed to the real handlers, and
reads back what happened and what it published."""

import io
import json
import time
import zipfile

from .approval import AUTO_APPROVER, MODES, Approver
from .completion import Completion, create_rules, create_wake_table, template_rule_patterns
from .local_aws import ACCOUNT, REGION, Inbox, LocalAws
from .processes import HANDLERS, REPORT_BUCKET, ROOT

SUBSTITUTION_KEYS = {
    "prepare-plan": "PreparePlanFunctionArn",
    "start-recovery": "StartRecoveryFunctionArn",
    "start-failback": "StartFailbackFunctionArn",
    "start-restore": "StartRestoreFunctionArn",
    "check-status": "CheckStatusFunctionArn",
    "wait-for-jobs": "WaitForJobsFunctionArn",
    "clean-up-drill": "CleanUpDrillFunctionArn",
    "report": "ReportFunctionArn",
}
# The three state machines the template creates from the one definition, statemachine/run-plan.asl.json,
# and the value each gives its ${Workflow} substitution.
WORKFLOWS = {"recovery-plan": "RECOVERY_PLAN", "failback": "FAILBACK", "restore": "RESTORE"}
DEFINITION = "run-plan.asl.json"
TOPIC_NAME = "dr-orchestrator-notifications"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def substitutions(workflow="recovery-plan"):
    """Every ${...} the definition uses, as the Engine fills it for `workflow`: the functions'
    ARNs, the notifications topic's and the workflow's name."""
    values = {key: function_arn(fn) for fn, key in SUBSTITUTION_KEYS.items()}
    values["NotificationsTopicArn"] = TOPIC_ARN
    values["Workflow"] = WORKFLOWS[workflow]
    return values


def load_definition(name):
    """Reads statemachine/run-plan.asl.json and fills its ${...} placeholders as the template does
    for the state machine `name` (function ARNs, the notifications topic and the workflow: the
    deployment's option defaults reach the run through prepare-plan's environment, and the
    rehearsal shortens waits through the run's input, never by editing the definition). A
    placeholder it does not know is an error."""
    if name not in WORKFLOWS:
        raise ValueError(f"unknown workflow {name!r}: one of {', '.join(WORKFLOWS)}")
    text = (ROOT / "statemachine" / DEFINITION).read_text()
    for key, value in substitutions(name).items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        left = sorted(set(part.split("}", 1)[0] for part in text.split("${")[1:]))
        raise ValueError(f"{name}: unfilled placeholder(s) in the definition: {left}")
    return text


class Stats:
    """What the workflow cost: Lambda invocations by function."""

    def __init__(self):
        self.invocations = {}


def forwarder(handlers, stats, resolve=None):
    """A LocalAws route (moto's Lambda backend `invoke`): without Docker, moto's Lambda cannot
    run a function, so the invocation goes to the real handler instead.
    `resolve(backend, function_name)` names the handler of a function (default: the function's
    name, the last part of an ARN) and may raise moto's own Lambda errors; `stats` counts
    invocations by handler."""

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
    """Step Functions on a LocalAws, with Lambda tasks forwarded to `handlers`.

    `aws`: the LocalAws to run on; default the one running in this process (LocalAws.current),
    else one of its own for the Engine's lifetime. The first Engine on a LocalAws creates what
    the definitions refer to: a function per handler (named as the handler), the notifications
    topic `dr-orchestrator-notifications`, and one state machine per workflow
    (`dr-orchestrator-<workflow>`, its definition updated when the file changed); each Engine
    subscribes its own queue to the topic, so `notifications()` is what was published while it
    was open. Any number of executions may run, one after the other or together.

    `wait` answers the approval requests the runs publish (rehearsal.approval.Approver, also
    `self.approver`) by `approval`: "auto" (approve as `approved_by`), "reject", "manual" (print
    how to answer, and wait for a person) or "never"; `out` (e.g. print) shows every
    notification as it arrives and each approval request in full."""

    def __init__(self, handlers, aws=None, approval="auto", out=None, approved_by=AUTO_APPROVER):
        self.handlers = handlers
        self.stats = Stats()
        self._aws = aws
        self._own = None
        self.inbox = None
        self.completion = None
        self._approval = (approval, out, approved_by)
        if approval not in MODES:
            raise ValueError(f"approval {approval!r}: one of {', '.join(MODES)}")

    def __enter__(self):
        aws = self._aws or LocalAws.current
        if aws is None:
            self._own = aws = LocalAws().__enter__()
        self.aws = aws
        self._previous_route = aws.route
        try:
            theirs = getattr(self.handlers, "aws_url", None)
            if theirs and theirs != aws.url:
                raise ValueError(f"the handlers call the local AWS at {theirs}, this Engine runs on {aws.url}")
            aws.route = forwarder(self.handlers, self.stats)
            self.sfn = aws.client("stepfunctions")
            self._create_once()
            self.inbox = Inbox(aws, self.topic_arn)
            sim_url = getattr(self.handlers, "endpoint_url", None)
            if sim_url:
                # dr-sim's completion events, through the template's rules, to on-event.
                self.completion = Completion(aws, sim_url).start()
            approval, out, approved_by = self._approval
            self.approver = Approver(self.sfn, self.notifications, approval, out=out, endpoint=aws.url,
                                     approved_by=approved_by)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.completion:
            self.completion.stop()
            self.completion = None
        if self.inbox:
            self.inbox.close()
            self.inbox = None
        self.aws.route = self._previous_route
        if self._own:
            self._own.__exit__(*exc)
            self._own = None

    @property
    def url(self):
        """The local AWS endpoint (Step Functions, SNS, SQS, ...)."""
        return self.aws.url

    def _create_once(self):
        done = self.aws.state.setdefault("engine", {})
        if not done:
            iam = self.aws.client("iam")
            role = iam.create_role(RoleName="dr-orchestrator-rehearsal",
                                   AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
            done["role_arn"] = role["Role"]["Arn"]
            done["topic_arn"] = self.aws.client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
            assert done["topic_arn"] == TOPIC_ARN, done["topic_arn"]
            s3 = self.aws.client("s3")
            s3.create_bucket(Bucket=REPORT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_versioning(Bucket=REPORT_BUCKET, VersioningConfiguration={"Status": "Enabled"})
            create_wake_table(self.aws.client("dynamodb"))
            done["functions"] = set()
            done["machines"] = {}
        self.role_arn, self.topic_arn = done["role_arn"], done["topic_arn"]
        missing = [n for n in dict.fromkeys(HANDLERS + list(SUBSTITUTION_KEYS)) if n not in done["functions"]]
        if missing:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("bootstrap", "served by cargo lambda watch")
            lam = self.aws.client("lambda")
            for name in missing:
                lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=self.role_arn,
                                    Handler="bootstrap", Code={"ZipFile": buf.getvalue()}, Architectures=["arm64"])
                done["functions"].add(name)
        if "rules" not in done:
            create_rules(self.aws.client("events"), template_rule_patterns(), function_arn("on-event"))
            done["rules"] = True

    def state_machine(self, name, definition):
        """The ARN of state machine `name` with `definition` (created, or updated when the
        definition changed)."""
        machines = self.aws.state["engine"]["machines"]
        if name not in machines:
            arn = self.sfn.create_state_machine(name=name, definition=definition, roleArn=self.role_arn,
                                                type="STANDARD")["stateMachineArn"]
            machines[name] = [arn, definition]
        elif machines[name][1] != definition:
            self.sfn.update_state_machine(stateMachineArn=machines[name][0], definition=definition)
            machines[name][1] = definition
        return machines[name][0]

    def start(self, workflow, plan, name):
        """Starts `workflow` (statemachine/<workflow>.asl.json) with `plan` as its input. The
        execution is called `name`, or `name-2`, ... when that name was used already."""
        if workflow not in WORKFLOWS:
            raise ValueError(f"unknown workflow {workflow!r}: one of {', '.join(WORKFLOWS)}")
        return self.start_definition(f"dr-orchestrator-{workflow}", load_definition(workflow), plan, name)

    def start_definition(self, machine, definition, plan, name):
        arn = self.state_machine(machine, definition)
        return self.sfn.start_execution(stateMachineArn=arn, name=self.aws.execution_name(arn, name),
                                        input=json.dumps(plan))["executionArn"]

    def wait(self, execution_arn, on_tick=None, timeout=900):
        """Waits for the run to end, answering its approval requests (`approver`); `on_tick` is
        called about twice a second meanwhile."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.approver.tick()
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if d["status"] != "RUNNING":
                self.approver.tick()  # what the run published at its end
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

    def notifications(self):
        """Every notification published to the topic since this Engine opened, in order:
        {"subject", "message" (parsed JSON when it is JSON), "attributes" (name -> {"Type",
        "Value"}, as SNS delivers them), "topicArn", "timestamp"}."""
        return self.inbox.read()


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


WAIT_RESOURCE = "invoke.waitForTaskToken"


def waits(events):
    """How the rounds' waits ended (wait-for-jobs' callback tasks): {"woken": an event resumed
    it, "timedOut": it waited the whole poll interval, "failed": it could not register and the
    round polled}."""
    woken = timed_out = failed = 0
    for e in events:
        kind = e["type"]
        details = e.get("taskSucceededEventDetails") or e.get("taskTimedOutEventDetails") \
            or e.get("taskFailedEventDetails") or {}
        if not str(details.get("resource", "")).endswith(WAIT_RESOURCE):
            continue
        if kind == "TaskSucceeded":
            woken += 1
        elif kind == "TaskTimedOut":
            timed_out += 1
        elif kind == "TaskFailed":
            failed += 1
    return {"woken": woken, "timedOut": timed_out, "failed": failed}
