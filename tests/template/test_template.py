"""template.yaml against the rest of the project: substitutions and definitions agree both ways,
each state machine invokes only its own functions, the functions are the four binaries, and
the EventBridge rules route the samples in events/eventbridge/ as intended, checked by moto's
EventBridge (an implementation nobody here wrote) rather than a matcher of ours."""

import json
import re
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

ROOT = Path(__file__).resolve().parents[2]


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as {"Fn": value}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {suffix: value}


CfnLoader.add_multi_constructor("!", _tag)
TEMPLATE = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
RESOURCES = TEMPLATE["Resources"]


def of_type(kind):
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


STATE_MACHINES = of_type("AWS::Serverless::StateMachine")
FUNCTIONS = of_type("AWS::Serverless::Function")


def test_every_placeholder_has_a_substitution_and_every_substitution_a_placeholder():
    assert len(STATE_MACHINES) == 3
    for name, sm in STATE_MACHINES.items():
        props = sm["Properties"]
        text = (ROOT / props["DefinitionUri"]).read_text()
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
        assert placeholders == set(props["DefinitionSubstitutions"]), name


def test_each_state_machine_may_invoke_only_the_functions_its_definition_uses():
    for name, sm in STATE_MACHINES.items():
        props = sm["Properties"]
        used = {v["Fn::GetAtt"].split(".")[0] if isinstance(v.get("Fn::GetAtt"), str) else v["GetAtt"].split(".")[0]
                for k, v in props["DefinitionSubstitutions"].items() if k.endswith("FunctionArn")}
        allowed = {p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in props["Policies"] if "LambdaInvokePolicy" in p}
        assert allowed == used, name
        assert props["Type"] == "STANDARD"
        assert props["Tracing"] == {"Enabled": True} and props["Logging"]["Level"] == "ALL"


def test_functions_are_the_four_binaries_on_arm64_with_json_logs():
    binaries = {f["Metadata"]["BuildProperties"]["Binary"] for f in FUNCTIONS.values()}
    assert binaries == {p.stem for p in (ROOT / "src" / "bin").glob("*.rs")}
    assert all(f["Metadata"]["BuildMethod"] == "rust-cargolambda" for f in FUNCTIONS.values())
    g = TEMPLATE["Globals"]["Function"]
    assert g["Architectures"] == ["arm64"] and g["Runtime"] == "provided.al2023"
    assert g["LoggingConfig"]["LogFormat"] == "JSON"


def test_only_the_restore_function_may_pass_a_role_to_backup_and_only_the_parameters_role():
    for name, f in FUNCTIONS.items():
        statements = [s for p in f["Properties"]["Policies"] for s in p.get("Statement", [])]
        for s in statements:
            if "If" in s:
                s = s["If"][1]
            if s.get("Action") == "iam:PassRole":
                service = s["Condition"]["StringEquals"]["iam:PassedToService"]
                if service == "backup.amazonaws.com":
                    assert name == "StartRestoreFunction" and s["Resource"] == {"Ref": "RestoreRoleArn"}
                else:
                    assert (name, service) == ("StartRecoveryFunction", "ec2.amazonaws.com")


def events_of(kind):
    sm = STATE_MACHINES["RecoveryPlanStateMachine"]["Properties"]
    return {n: e["Properties"] for n, e in sm["Events"].items() if e["Type"] == kind}


def resolve(value):
    """Fills the template's parameter defaults into a pattern."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return TEMPLATE["Parameters"][value["Ref"]]["Default"]
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return value


SAMPLES = {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "events" / "eventbridge").glob("*.json"))}
# Which rule each sample must reach (None: no rule).
EXPECTED = {
    "disaster-declared.json": "DisasterDeclared",
    "disaster-declared-unconfirmed.json": None,
    "scheduled-drill.json": None,
}


def test_every_sample_has_an_expectation():
    assert set(SAMPLES) == set(EXPECTED)


@mock_aws
def test_rule_patterns_route_each_sample_to_its_rule_and_no_other():
    region = "eu-west-1"
    events = boto3.client("events", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    queues = {}
    for name, props in events_of("EventBridgeRule").items():
        events.put_rule(Name=name, EventPattern=json.dumps(resolve(props["Pattern"])), State="ENABLED")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_targets(Rule=name, Targets=[{"Id": "1", "Arn": arn, "InputPath": props["InputPath"]}])
        queues[name] = url
    assert queues, "no EventBridge rule in template.yaml"

    for sample, expected in EXPECTED.items():
        e = SAMPLES[sample]
        entry = {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]),
                 "Resources": e["resources"]}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
        for rule, url in queues.items():
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if rule == expected:
                assert len(got) == 1, f"{sample} did not reach {rule}"
                delivered = json.loads(got[0]["Body"])
                assert delivered["detail"] == e["detail"]
                # The state machine gets what InputPath selects: the plan, a real recovery that
                # the event asked for explicitly.
                assert events_of("EventBridgeRule")[rule]["InputPath"] == "$.detail.plan"
                assert delivered["detail"]["plan"]["isDrill"] is False
                sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            else:
                assert got == [], f"{sample} reached {rule}"


def test_the_scheduled_drill_can_only_start_a_drill():
    (props,) = events_of("Schedule").values()
    template = props["Input"]["Sub"]
    drill_waves = TEMPLATE["Parameters"]["DrillWaves"]
    allowed = re.compile(drill_waves["AllowedPattern"])
    for waves in [drill_waves["Default"], '[{"name": "w", "sourceServers": [{"sourceServerID": "s-0a1b2c3d4e5f60001"}]}]']:
        assert allowed.match(waves)
        assert json.loads(template.replace("${DrillWaves}", waves))["isDrill"] is True
    # A parameter that tries to smuggle in its own isDrill is refused by CloudFormation...
    smuggled = '[], "isDrill": false, "more": []'
    assert not allowed.match(smuggled)
    # ...and the rule's own isDrill comes last, so it would win a duplicate key anyway.
    assert template.rstrip("}").rstrip().endswith('"isDrill": true')
    assert TEMPLATE["Parameters"]["DrillScheduleEnabled"]["Default"] == "false"
