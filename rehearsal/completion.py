"""AWS's completion events, offline.

DRS and AWS Backup tell EventBridge when a server's launch or a restore ends; the stack's rules
(`DrsLaunchResultRule`, `BackupRestoreEndedRule` in template.yaml) send those events to the
`on-event` function, which resumes the round waiting on that job. Offline, dr-sim emits the
events (`GET /_sim/events`, rehearsal.sim_events.EventPump reads them) and `Delivery` does what
EventBridge does with each: every enabled rule on the local AWS (moto) whose pattern matches
invokes its Lambda targets through moto's
Lambda API, which the LocalAws routes to the real handler. The delivery step is here because
moto's EventBridge delivers rule targets to SQS, logs and buses, not to Lambda functions, and
its TestEventPattern API is not implemented (moto 5.2.1): a rule's pattern is matched by
moto's own matcher (`moto.events.models.EventPattern`, what its PutEvents matches rules with).

The Engine (rehearsal.workflow) creates the two rules from template.yaml's own patterns; the
deploy rehearsal (rehearsal.deploy) gets them from the stack CloudFormation created.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import yaml
from moto.events.models import EventPattern

from .local_aws import ACCOUNT
from .processes import APPROVALS_TABLE, LEASE_TABLE, ROOT, WAKE_TABLE
from .sim_events import EventPump
# The template's rules whose target is the on-event function.
COMPLETION_RULES = ("DrsLaunchResultRule", "BackupRestoreEndedRule")


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref X -> {"Ref": X}, !GetAtt A.B -> {"Fn::GetAtt": [A, B]})."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def _resolve(value):
    """A rule pattern's only reference is the account: {"Ref": "AWS::AccountId"}."""
    if value == {"Ref": "AWS::AccountId"}:
        return ACCOUNT
    if isinstance(value, dict):
        if any(k == "Ref" or k.startswith("Fn::") for k in value):
            raise ValueError(f"a rule pattern this rehearsal cannot resolve: {value}")
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def template_rule_patterns():
    """{rule's logical ID: its EventPattern} for the completion rules, read from template.yaml."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    resources = template["Resources"]
    return {name: _resolve(resources[name]["Properties"]["EventPattern"]) for name in COMPLETION_RULES}


def _create_table(dynamodb, name, key):
    """A table as the template defines its two: one string hash key, TTL on `expiresAt`."""
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expiresAt"})


def create_wake_table(dynamodb):
    """The wake table (key `key`)."""
    _create_table(dynamodb, WAKE_TABLE, "key")


def create_approvals_table(dynamodb):
    """The approvals table (key `approvalId`)."""
    _create_table(dynamodb, APPROVALS_TABLE, "approvalId")


def create_lease_table(dynamodb):
    """The plans' leases (key `plan`)."""
    _create_table(dynamodb, LEASE_TABLE, "plan")


def clear_wake_table(dynamodb):
    """Empties the wake table: dr-sim's job IDs start over after a reset, so what an earlier
    run left under a job ID would be taken for the new job's (in AWS a job ID is never reused)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=WAKE_TABLE, ProjectionExpression="#k",
                                                    ExpressionAttributeNames={"#k": "key"})
    try:
        for page in pages:
            for item in page["Items"]:
                dynamodb.delete_item(TableName=WAKE_TABLE, Key={"key": item["key"]})
    except dynamodb.exceptions.ResourceNotFoundException:
        pass  # not created yet: nothing to clear


def create_rules(events, patterns, target_arn):
    """Puts each rule on the default bus with one Lambda target, as the template does."""
    for name, pattern in patterns.items():
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "OnEvent", "Arn": target_arn}])


class Delivered(NamedTuple):
    """One invocation of a rule's Lambda target: the event, the rule that matched it, the
    function, its answer (parsed JSON when it is JSON), and when the invocation started and
    ended (epoch seconds)."""

    event_id: str
    rule: str
    arn: str
    answer: object
    started: float
    ended: float


class Delivery:
    """What EventBridge does with one event, on a LocalAws: `self(event)`. Like EventBridge,
    which invokes a rule's Lambda target asynchronously, it hands the invocations to `workers`
    threads (the handlers serve 10 at once) and returns; `drain()` waits for those in flight.
    `delivered` lists a `Delivered` per invocation, in the order they were answered;
    `unmatched` the ids of events no rule matched; `errors` what failed.
    The rules and their Lambda targets are read once, at the first event (EventBridge does not
    list its rules per event; re-reading them for each of a wave's 250 launch results made the
    harness, not the design, the bulk of a 1,000-server wave's overhead): create the rules
    before the delivery starts."""

    def __init__(self, aws, workers=10):
        self.events = aws.client("events")
        self.lam = aws.client("lambda")
        self.delivered = []
        self.unmatched = []
        self.errors = []
        self._lock = threading.Lock()
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eventbridge")
        self._routes = None

    def drain(self):
        """Waits for every invocation handed out so far."""
        self._pool.shutdown(wait=True)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="eventbridge")

    def _load_routes(self):
        """(rule name, its pattern, its Lambda target ARNs) of every enabled rule with a pattern."""
        routes = []
        for page in self.events.get_paginator("list_rules").paginate():
            for rule in page["Rules"]:
                if rule.get("State") == "ENABLED" and rule.get("EventPattern"):
                    targets = self.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                    routes.append((rule["Name"], EventPattern.load(rule["EventPattern"]),
                                   [t["Arn"] for t in targets if ":lambda:" in t["Arn"]]))
        return routes

    def __call__(self, event):
        if self._routes is None:
            self._routes = self._load_routes()
        text = json.dumps(event)
        matched = False
        for name, pattern, arns in self._routes:
            if not pattern.matches_event(event):
                continue
            matched = True
            for arn in arns:
                self._pool.submit(self._invoke, event.get("id"), name, arn, text)
        if not matched:
            with self._lock:
                self.unmatched.append(event.get("id"))

    def _invoke(self, event_id, rule, arn, text):
        started = time.time()
        try:
            answer = self.lam.invoke(FunctionName=arn, Payload=text.encode())
            body = answer["Payload"].read().decode()
            try:
                body = json.loads(body)
            except ValueError:
                pass
            with self._lock:
                self.delivered.append(Delivered(event_id, rule, arn, body, started, time.time()))
        except Exception as e:  # noqa: BLE001 - kept for the tests, as EventBridge's failed invocations
            with self._lock:
                self.errors.append(f"{event_id} -> {arn}: {type(e).__name__}: {e}")


class Completion:
    """dr-sim's completion events delivered, from now on, through the rules that exist on `aws`
    to their Lambda targets: the pump that reads them and the delivery that plays EventBridge,
    started and stopped together."""

    def __init__(self, aws, sim_url):
        self.delivery = Delivery(aws)
        self.pump = EventPump(sim_url, self.delivery)

    def start(self):
        """Skips what the sim already emitted, then delivers what comes. Returns self."""
        self.pump.skip_due()
        self.pump.start()
        return self

    def stop(self):
        """Stops reading events and waits for the invocations in flight."""
        self.pump.stop()
        self.delivery.drain()

    @property
    def errors(self):
        return self.pump.errors + self.delivery.errors
