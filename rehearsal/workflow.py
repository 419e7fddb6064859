"""Runs a definition from statemachine/ on moto's Step Functions interpreter (moto in server
mode on 127.0.0.1, rehearsal.local_aws), with its Lambda tasks routed to the real handlers, and
reads back what happened and what it published."""

import io
import json
import zipfile

from .completion import (create_approvals_table, create_lease_table, create_rules, create_wake_table,
                         template_rule_patterns)
from .harness import Harness
from .local_aws import ACCOUNT, REGION
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
    "await-approval": "AwaitApprovalFunctionArn",
}
# The three state machines the template creates from the one definition, statemachine/run-plan.asl.json,
# and the value each gives its ${Workflow} substitution.
WORKFLOWS = {"recovery-plan": "RECOVERY_PLAN", "failback": "FAILBACK", "restore": "RESTORE"}
DEFINITION = "run-plan.asl.json"
TOPIC_NAME = "dr-orchestrator-notifications"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
APPROVALS_TOPIC_NAME = "dr-orchestrator-approvals"
APPROVALS_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{APPROVALS_TOPIC_NAME}"


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def substitutions(workflow="recovery-plan"):
    """Every ${...} the definition uses, as the Engine fills it for `workflow`: the functions'
    ARNs, the notifications topic's and the workflow's name."""
    values = {key: function_arn(fn) for fn, key in SUBSTITUTION_KEYS.items()}
    values["NotificationsTopicArn"] = TOPIC_ARN
    values["ApprovalsTopicArn"] = APPROVALS_TOPIC_ARN
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


class Engine(Harness):
    """Step Functions on a LocalAws, with Lambda tasks forwarded to `handlers` (the lifecycle,
    the approvals and the reading back are rehearsal.harness.Harness's).

    The first Engine on a LocalAws creates what the definitions refer to: a function per handler
    (named as the handler), the notifications topic `dr-orchestrator-notifications`, the rules
    and one state machine per workflow (`dr-orchestrator-<workflow>`, its definition updated
    when the file changed); each Engine subscribes its own queue to the topic, so
    `notifications()` is what was published while it was open. Any number of executions may
    run, one after the other or together."""

    def _set_up(self, aws):
        self._create_once()
        return [self.topic_arn, APPROVALS_TOPIC_ARN]

    def _create_once(self):
        done = self.aws.state.setdefault("engine", {})
        if not done:
            iam = self.aws.client("iam")
            role = iam.create_role(RoleName="dr-orchestrator-rehearsal",
                                   AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
            done["role_arn"] = role["Role"]["Arn"]
            done["topic_arn"] = self.aws.client("sns").create_topic(Name=TOPIC_NAME)["TopicArn"]
            assert done["topic_arn"] == TOPIC_ARN, done["topic_arn"]
            approvals = self.aws.client("sns").create_topic(Name=APPROVALS_TOPIC_NAME)["TopicArn"]
            assert approvals == APPROVALS_TOPIC_ARN, approvals
            s3 = self.aws.client("s3")
            s3.create_bucket(Bucket=REPORT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_bucket_versioning(Bucket=REPORT_BUCKET, VersioningConfiguration={"Status": "Enabled"})
            create_wake_table(self.aws.client("dynamodb"))
            create_approvals_table(self.aws.client("dynamodb"))
            create_lease_table(self.aws.client("dynamodb"))
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
        return self.start_execution(self.state_machine(machine, definition), plan, name)


def run_states(events):
    """Every state a prepared run entered, with its input, in order (a refused run carries the
    input as it was given, which the run state's types do not describe): what tests/run_state.rs
    reads back."""
    states = [{"state": e["stateEnteredEventDetails"]["name"], "input": json.loads(e["stateEnteredEventDetails"]["input"])}
              for e in events if e["type"].endswith("StateEntered")]
    return [] if any(s["state"] == "Report the refused run" for s in states) else states


def budgeted(events):
    """A history as tests/history_budget.rs reads it: each event's type and its details' name."""
    def cut(event):
        kept = {"type": event["type"]}
        for key, value in event.items():
            if key.endswith("EventDetails") and isinstance(value, dict) and "name" in value:
                kept[key] = {"name": value["name"]}
        return kept
    return [cut(e) for e in events]


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
    task = None  # the task state the run is in (one at a time: rounds and waves run in order)
    for e in events:
        kind = e["type"]
        if kind == "TaskStateEntered":
            task = e["stateEnteredEventDetails"]["name"]
        details = e.get("taskSucceededEventDetails") or e.get("taskTimedOutEventDetails") \
            or e.get("taskFailedEventDetails") or {}
        # The approval's wait is a callback task too; only the rounds' waits count here.
        if task != "Wait for jobs" or not str(details.get("resource", "")).endswith(WAIT_RESOURCE):
            continue
        if kind == "TaskSucceeded":
            woken += 1
        elif kind == "TaskTimedOut":
            timed_out += 1
        elif kind == "TaskFailed":
            failed += 1
    return {"woken": woken, "timedOut": timed_out, "failed": failed}
