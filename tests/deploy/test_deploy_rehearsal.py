"""The deploy rehearsal: the stack as moto's CloudFormation creates it from the transformed
template, and the workflows as deployed, run against the real handlers and dr-sim. What these
tests check is read from the deployed resources (DescribeStackResources, the services' own APIs),
never taken from the template, which only says what to expect: the substitutions, ARNs, roles
and rule targets as deployed."""

import ast
import fnmatch
import json
import re
from pathlib import Path

import pytest
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser

from rehearsal.deploy import FUNCTIONS, LOCAL_APPROVAL_ENDPOINT, WORKFLOW_FUNCTIONS as USES, for_moto
from rehearsal.processes import (APPROVALS_TABLE, APPROVER_ROLE, LEASE_TABLE, REPORT_BUCKET, RESTORE_VAULTS,
                                 WAKE_TABLE)
from rehearsal.workflow import waits

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"

# The resource types of the template, as the README names them: those moto's CloudFormation
# creates, and those it skips (checked instead on the transformed template by tests/template,
# cfn-lint and checkov). A new type in the template fails here until the README says which.
CREATED_BY_MOTO = {
    "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine", "AWS::Events::Rule",
    "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::Lambda::Permission",
    "AWS::S3::Bucket", "AWS::DynamoDB::Table",
}
NOT_CREATED_BY_MOTO = {
    "AWS::CloudWatch::Alarm", "AWS::SNS::Subscription", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy", "AWS::Lambda::Url",
}
WORKFLOWS = {"RecoveryPlanStateMachine": "recovery-plan", "FailbackStateMachine": "failback",
             "RestoreStateMachine": "restore"}


def sample(path):
    return json.loads((ROOT / path).read_text())


def function_arns(deployed):
    """Logical ID -> the ARN of the function the stack created, from Lambda itself."""
    lam = deployed.client("lambda")
    return {logical: lam.get_function(FunctionName=deployed.physical_id(logical))["Configuration"]["FunctionArn"]
            for logical in FUNCTIONS}


def substituted(deployed, arns, value):
    """What a DefinitionSubstitutions value became in the deployment: a function's ARN
    (Fn::GetAtt X.Arn), the notifications topic's ARN (Ref: a topic's physical ID is its ARN), or
    a plain value (the workflow's name)."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return arns[value["Fn::GetAtt"][0]]
    return deployed.physical_id(value["Ref"])


def role_arn(deployed, logical):
    return deployed.client("iam").get_role(RoleName=deployed.physical_id(logical))["Role"]["Arn"]


def allowed(deployed, role_logical, action):
    """The resources a role's inline policies (as deployed) allow `action` on."""
    iam = deployed.client("iam")
    name = deployed.physical_id(role_logical)
    resources = []
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(doc, str):
            # moto's CloudFormation stores an inline policy as the Python repr of the document.
            doc = json.loads(doc) if doc.startswith('{"') else ast.literal_eval(doc)
        for st in doc["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if st["Effect"] == "Allow" and action in actions:
                resources += st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
    return resources


def delivered(target, event):
    """What the target receives for `event`: the deployed transformer, applied by moto's
    EventTemplateParser (which wants the ingestion time moto's put_events stamps on an event)."""
    transformer = target["InputTransformer"]
    return EventTemplateParser.parse(transformer["InputTemplate"], transformer["InputPathsMap"],
                                     {**event, "ingestion-time": 0})


def run(deployed, plan, name, poll=1, give_up=300):
    deployed.sim.reset()
    deployed.restart_completion()
    plan = json.loads(json.dumps(plan))
    body = plan["plan"] if "plan" in plan else plan
    options = body.setdefault("options", {})
    options.setdefault("pollIntervalSeconds", poll)
    options.setdefault("giveUpAfterSeconds", give_up)
    before = dict(deployed.stats.invocations)
    arn = deployed.start(plan, name)
    result = deployed.wait(arn, timeout=300)
    invoked = {k: v - before.get(k, 0) for k, v in deployed.stats.invocations.items() if v != before.get(k, 0)}
    return arn, result, deployed.history(arn), deployed.sim.state(), invoked


def test_the_stack_is_created_and_every_resource_type_is_accounted_for(deployed, transformed):
    assert deployed.status == "CREATE_COMPLETE"
    created = {r["ResourceType"] for r in deployed.resources.values()}
    assert created == CREATED_BY_MOTO, "a type moto now creates, or no longer does: update the README"
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in deployed.resources.values())
    assert set(deployed.skipped) <= NOT_CREATED_BY_MOTO
    assert "AWS::CloudWatch::Alarm" in deployed.skipped
    # Every resource of the template is created, skipped as a type moto cannot create, or left
    # out by a condition (none: the e-mail subscriptions have none since NotificationEmail is
    # required).
    template_types = {r["Type"] for r in transformed["Resources"].values()}
    unnamed = template_types - CREATED_BY_MOTO - NOT_CREATED_BY_MOTO
    assert not unnamed, f"resource types the README does not place: {unnamed}"
    skipped = {n for names in deployed.skipped.values() for n in names}
    left_out = set(transformed["Resources"]) - set(deployed.resources) - skipped
    assert left_out == set()
    assert {"NotificationsEmail", "ApprovalsEmail"} <= set(deployed.skipped["AWS::SNS::Subscription"])
    assert set(FUNCTIONS) | set(WORKFLOWS) <= set(deployed.resources)
    # The outputs name what the stack created.
    assert deployed.outputs["RecoveryPlanStateMachineArn"] == deployed.state_machine_arn()
    assert deployed.outputs["NotificationsTopicArn"] == deployed.physical_id("NotificationsTopic")
    assert deployed.outputs["ApprovalsTopicArn"] == deployed.physical_id("ApprovalsTopic")
    # The approval endpoint's URL: the placeholder that stands for it (moto cannot create it).
    assert deployed.outputs["ApprovalEndpointUrl"] == LOCAL_APPROVAL_ENDPOINT
    assert deployed.physical_id("ApprovalsTable") == APPROVALS_TABLE
    assert deployed.physical_id("LeaseTable") == LEASE_TABLE
    bucket = deployed.physical_id("ReportBucket")  # a bucket's physical ID is its name
    assert deployed.outputs["ReportBucketName"] == bucket
    assert deployed.outputs["ReportsIndex"] == f"s3://{bucket}/runs/index.html"


def test_deployed_definitions_are_the_workflows_with_the_stack_functions_and_roles(deployed, transformed):
    sfn = deployed.client("stepfunctions")
    arns = function_arns(deployed)
    for logical, workflow in WORKFLOWS.items():
        d = sfn.describe_state_machine(stateMachineArn=deployed.state_machine_arn(logical))
        assert d["name"] == f"dr-orchestrator-{workflow}" and d["type"] == "STANDARD"
        assert "${" not in d["definition"], f"{logical}: a substitution was not filled in"
        named = set(re.findall(r'"FunctionName":\s*"([^"]*)"', d["definition"]))
        assert named and named <= set(arns.values()), f"{logical} names functions the stack did not create"
        # The definition is the committed one, with each placeholder replaced by what the
        # template's substitution names (the function's ARN, the topic, the workflow's name), and
        # nothing else changed.
        substitutions = transformed["Resources"][logical]["Properties"]["DefinitionSubstitutions"]
        text = (ROOT / "statemachine" / "run-plan.asl.json").read_text()
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", substituted(deployed, arns, value))
        assert json.loads(d["definition"]) == json.loads(text)
        # Its role is the stack's role for it, and that role may invoke the functions of its own
        # workflow and no other (the one definition names them all; prepare-plan decides which
        # tasks a workflow runs).
        assert d["roleArn"] == role_arn(deployed, f"{logical}Role")
        patterns = allowed(deployed, f"{logical}Role", "lambda:InvokeFunction")
        mine = {arns[f] for f in USES[logical]}
        for fn in mine:
            assert any(fnmatch.fnmatchcase(fn, p) for p in patterns), f"{logical}'s role may not invoke {fn}"
        others = set(arns.values()) - mine
        assert not any(fnmatch.fnmatchcase(fn, p) for fn in others for p in patterns), \
            f"{logical}'s role may invoke functions its workflow never calls"


def test_the_default_drill_runs_on_the_deployed_state_machine(deployed):
    plan = sample("events/statemachine/recovery-drill.json")
    # A poll of 10 s: the rounds' waits are for the completion events to cut short (with 1 s,
    # whether an event beat the poll was a race, lost once in a loaded CI run).
    arn, result, events, sim, invoked = run(deployed, plan, "deployed-drill", poll=10)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert arn.startswith(deployed.state_machine_arn().replace(":stateMachine:", ":execution:") + ":")
    # Every Lambda task went to a function of the stack, by the ARN the deployment gave it.
    arns = function_arns(deployed)
    scheduled = [json.loads(e["taskScheduledEventDetails"]["parameters"])
                 for e in events if e["type"] == "TaskScheduled"]
    functions = [p["FunctionName"] for p in scheduled if "FunctionName" in p]
    assert functions and set(functions) <= set(arns.values())
    # Every other task published to the stack's topic: the run's notifications.
    topic = deployed.physical_id("NotificationsTopic")
    published = [p for p in scheduled if "FunctionName" not in p]
    assert published and {p["TopicArn"] for p in published} == {topic}
    assert [p["MessageAttributes"]["kind"]["StringValue"] for p in published] == \
        ["RUN_STARTED", "WAVE_FINISHED", "WAVE_FINISHED", "WAVE_FINISHED", "RUN_FINISHED"]
    assert set(invoked) == {"prepare-plan", "start-recovery", "start-restore", "check-status", "clean-up-drill",
                            "report", "wait-for-jobs", "on-event"}
    # dr-sim's completion events reached on-event through the stack's own two rules, and woke
    # the rounds.
    assert {d.rule for d in deployed.completion.delivery.delivered} == {
        deployed.physical_id("DrsLaunchResultRule"), deployed.physical_id("BackupRestoreEndedRule")}
    assert waits(events)["woken"] >= 1, waits(events)
    # dr-sim saw one drill job per wave, with the plan's servers, in wave order.
    jobs = [j for j in sim["jobs"] if j["initiatedBy"] != "TERMINATE_RECOVERY_INSTANCES"]
    assert len(jobs) == len(plan["waves"]) == 3
    assert all(j["isDrill"] for j in jobs)
    for i, wave in enumerate(plan["waves"]):
        (job,) = [j for j in jobs if f"#w{i}#" in j["tags"].get(IDEMPOTENCY_TAG, "")]
        assert sorted(s["sourceServerID"] for s in job["servers"]) == \
            sorted(s["sourceServerID"] for s in wave["sourceServers"])
    assert len(sim["restoreJobs"]) == 1
    output = json.loads(result["output"])
    assert [w["name"] for w in output["waves"]] == ["data", "application", "web"]
    assert all(w["state"] == "SUCCEEDED" for w in output["waves"])
    assert output["isDrill"] is True
    # The drill terminated every instance it launched.
    assert output["cleanup"]["state"] == "CLEANED", output["cleanup"]
    launched = {s["recoveryInstanceID"] for j in jobs for s in j["servers"]}
    terminated = {s["recoveryInstanceID"] for j in sim["jobs"] if j["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
                  for s in j["servers"] if s["launchStatus"] == "TERMINATED"}
    assert launched and launched == terminated
    # The run report is in the stack's bucket, where the output says.
    report = output["report"]
    assert report["written"] is True, report
    bucket = deployed.physical_id("ReportBucket")
    assert report["html"].startswith(f"s3://{bucket}/runs/")
    s3 = deployed.client("s3")
    key = report["json"].split(f"s3://{bucket}/", 1)[1]
    measured = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert measured["executionId"] == arn and len(measured["servers"]) == 13
    assert all(s["launchStatus"] == "LAUNCHED" and s["rtoSeconds"] > 0 for s in measured["servers"])


def test_deployed_rules_target_the_deployed_state_machine_with_the_rule_role(deployed):
    events = deployed.client("events")
    sqs = deployed.client("sqs")
    rules_role = role_arn(deployed, "RulesStartRecoveryPlanRole")
    machine = deployed.state_machine_arn()
    rules = {}
    for logical, dlq in (("DisasterDeclaredRule", "DisasterDeclaredDeadLetterQueue"),
                         ("MonthlyDrillRule", "MonthlyDrillDeadLetterQueue")):
        name = deployed.physical_id(logical)
        rule = events.describe_rule(Name=name)
        (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
        assert target["Arn"] == machine
        assert target["RoleArn"] == rules_role
        queue_arn = sqs.get_queue_attributes(QueueUrl=deployed.physical_id(dlq),
                                             AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert target["DeadLetterConfig"] == {"Arn": queue_arn}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        rules[logical] = rule
    # With the default parameters the drill rule exists but is switched off; the disaster rule
    # listens, on the default bus, to this account only.
    assert rules["MonthlyDrillRule"]["State"] == "DISABLED"
    assert rules["MonthlyDrillRule"]["ScheduleExpression"] == "cron(0 6 1 * ? *)"
    assert rules["DisasterDeclaredRule"]["State"] == "ENABLED"
    assert rules["DisasterDeclaredRule"]["EventBusName"] == "default"
    assert json.loads(rules["DisasterDeclaredRule"]["EventPattern"])["account"] == [ACCOUNT]
    # The rules' role may start the deployed recovery-plan workflow and nothing else.
    assert allowed(deployed, "RulesStartRecoveryPlanRole", "states:StartExecution") == [machine]
    trust = deployed.client("iam").get_role(RoleName=deployed.physical_id("RulesStartRecoveryPlanRole"))
    principals = [s["Principal"] for s in trust["Role"]["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "events.amazonaws.com"}]


def test_functions_are_deployed_with_their_own_roles_and_the_defaults(deployed):
    lam = deployed.client("lambda")
    for logical in FUNCTIONS:
        config = lam.get_function(FunctionName=deployed.physical_id(logical))["Configuration"]
        assert config["Role"] == role_arn(deployed, f"{logical}Role")
        # One binary for every function; its Handler names the function it serves.
        assert (config["Runtime"], config["Handler"]) == ("provided.al2023", FUNCTIONS[logical])
    env = lam.get_function(FunctionName=deployed.physical_id("PreparePlanFunction"))["Configuration"]["Environment"]
    assert {k: str(v) for k, v in env["Variables"].items()} == {
        "DR_DEFAULT_POLL_INTERVAL_SECONDS": "30", "DR_DEFAULT_GIVE_UP_AFTER_SECONDS": "7200",
        "DR_DEFAULT_BATCH_SIZE": "100", "DR_DEFAULT_MAX_CONCURRENT_JOBS": "10",
        "DR_DEFAULT_APPROVAL": "REQUIRED", "DR_DISASTER_EVENTS_SKIP_APPROVAL": "false",
        "DR_APPROVAL_ENDPOINT": LOCAL_APPROVAL_ENDPOINT, "DR_LEASE_TABLE": LEASE_TABLE,
        "DR_OUTAGE_BUDGET_SECONDS": "1800", "DR_RESTORE_VAULTS": ",".join(RESTORE_VAULTS)}
    # The approval endpoint: its table, and the approvers the deployment named.
    env = lam.get_function(FunctionName=deployed.physical_id("AnswerApprovalFunction"))["Configuration"]["Environment"]
    assert {k: str(v) for k, v in env["Variables"].items()} == {
        "DR_APPROVALS_TABLE": APPROVALS_TABLE, "DR_APPROVERS": APPROVER_ROLE, "DR_OUTAGE_BUDGET_SECONDS": "1800"}
    env = lam.get_function(FunctionName=deployed.physical_id("ReportFunction"))["Configuration"]["Environment"]
    assert env["Variables"]["DR_REPORT_BUCKET"] == deployed.physical_id("ReportBucket") == REPORT_BUCKET
    # The execution logs' groups exist with the default retention.
    groups = {g["logGroupName"]: g for g in deployed.client("logs").describe_log_groups()["logGroups"]}
    for workflow in WORKFLOWS.values():
        assert groups[f"/aws/vendedlogs/states/dr-orchestrator-{workflow}"]["retentionInDays"] == 90
    # The notifications topic is encrypted with the key the stack created.
    topic = deployed.client("sns").get_topic_attributes(TopicArn=deployed.physical_id("NotificationsTopic"))
    # (ListKeys: moto's DescribeKey fails on a key its CloudFormation created, whose policy it
    # keeps as a dict.)
    keys = {k["KeyId"]: k["KeyArn"] for k in deployed.client("kms").list_keys()["Keys"]}
    assert topic["Attributes"]["KmsMasterKeyId"] == keys[deployed.physical_id("NotificationsKey")]


def test_the_scheduled_drill_as_deployed_starts_nothing_with_the_placeholder_waves(deployed):
    # moto fires no schedules (and its EventBridge has no Step Functions target): the deployed
    # rule's own transformer is applied by moto's EventTemplateParser to the sample scheduled
    # event, and the run started on the rule's target.
    events = deployed.client("events")
    name = deployed.physical_id("MonthlyDrillRule")
    (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
    e = sample("events/eventbridge/scheduled-drill.json")
    got = delivered(target, e)
    assert got["plan"]["isDrill"] is True and got["trigger"]["eventId"] == e["id"]
    deployed.sim.reset()
    deployed.restart_completion()
    execution = deployed.client("stepfunctions").start_execution(
        stateMachineArn=target["Arn"], name="scheduled-placeholder", input=json.dumps(got))["executionArn"]
    result = deployed.wait(execution, timeout=120)
    assert result["status"] == "FAILED"
    assert "s-00000000000000000" in result["cause"], result["cause"]
    assert deployed.sim.state()["jobs"] == []


def test_a_declared_disaster_through_the_deployed_rule_starts_a_recovery_keyed_by_the_event(deployed):
    # The deployed rule's pattern (moto's matcher) and transformer (moto's parser) on the sample
    # event, then the run on the rule's target; short polls so that it takes seconds.
    events = deployed.client("events")
    name = deployed.physical_id("DisasterDeclaredRule")
    rule = events.describe_rule(Name=name)
    (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
    e = sample("events/eventbridge/disaster-declared.json")
    assert EventPattern.load(rule["EventPattern"]).matches_event(e)
    other = sample("events/eventbridge/disaster-declared-other-account.json")
    assert not EventPattern.load(rule["EventPattern"]).matches_event(other)
    e["detail"]["plan"]["options"] = {"pollIntervalSeconds": 1, "giveUpAfterSeconds": 300}
    got = delivered(target, e)
    assert got["trigger"]["eventId"] == e["id"] and got["plan"]["isDrill"] is False
    assert target["Arn"] == deployed.state_machine_arn()
    _, result, _, sim, _ = run(deployed, got, "disaster")
    assert result["status"] == "SUCCEEDED", result.get("cause")
    assert len(sim["jobs"]) == 2 and not any(j["isDrill"] for j in sim["jobs"])
    keys = [j["tags"][IDEMPOTENCY_TAG] for j in sim["jobs"]]
    assert all(e["id"] in k for k in keys), keys


def test_the_only_template_changes_are_substitutions_names_and_the_endpoint_url(transformed):
    changed, notes = for_moto(transformed)
    assert len(notes) == len(WORKFLOWS) + 5
    bucket = dict(changed["Resources"]["ReportBucket"]["Properties"])
    assert bucket.pop("BucketName") == REPORT_BUCKET
    assert bucket == transformed["Resources"]["ReportBucket"]["Properties"]
    for logical, name in (("WakeTable", WAKE_TABLE), ("ApprovalsTable", APPROVALS_TABLE), ("LeaseTable", LEASE_TABLE)):
        table = dict(changed["Resources"][logical]["Properties"])
        assert table.pop("TableName") == name
        assert table == transformed["Resources"][logical]["Properties"]
    # The endpoint's URL, wherever the template reads it, and nothing else of those resources.
    url = {"Fn::GetAtt": ["AnswerApprovalFunctionUrl", "FunctionUrl"]}
    assert transformed["Outputs"]["ApprovalEndpointUrl"]["Value"] == url
    assert changed["Outputs"]["ApprovalEndpointUrl"]["Value"] == LOCAL_APPROVAL_ENDPOINT
    env = changed["Resources"]["PreparePlanFunction"]["Properties"]["Environment"]["Variables"]
    assert env["DR_APPROVAL_ENDPOINT"] == LOCAL_APPROVAL_ENDPOINT
    assert {**env, "DR_APPROVAL_ENDPOINT": url} \
        == transformed["Resources"]["PreparePlanFunction"]["Properties"]["Environment"]["Variables"]
    assert '"FunctionUrl"' not in json.dumps(changed)
    for name, resource in transformed["Resources"].items():
        if name in ("ReportBucket", "WakeTable", "ApprovalsTable", "LeaseTable", "PreparePlanFunction"):
            continue
        if name not in WORKFLOWS:
            assert changed["Resources"][name] == resource, f"{name} changed for moto"
            continue
        props = dict(changed["Resources"][name]["Properties"])
        text = props.pop("DefinitionString")["Fn::Sub"]
        original = dict(resource["Properties"])
        substitutions = original.pop("DefinitionSubstitutions")
        original.pop("DefinitionString")
        assert props == original
        # The workflow's name is a literal, written into the definition as it is.
        assert substitutions.pop("Workflow") in text
        references = {".".join(v["Fn::GetAtt"]) if "Fn::GetAtt" in v else v["Ref"] for v in substitutions.values()}
        assert set(re.findall(r"\$\{([^}]*)\}", text)) == references
        assert "$$.Execution.Id" in text or "$$.Map.Item.Value" in text
    broken = json.loads(json.dumps(transformed))
    del broken["Resources"]["RestoreStateMachine"]["Properties"]["DefinitionSubstitutions"]["CheckStatusFunctionArn"]
    with pytest.raises(ValueError, match="without a substitution"):
        for_moto(broken)
