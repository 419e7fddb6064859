"""template.yaml as CloudFormation deploys it (after SAM's real transform, see conftest.py) against
the rest of the project: substitutions and definitions agree both ways, each workflow invokes
only its own functions and publishes only to the notifications and approvals topics, the functions
are the twelve handlers of one binary, only named approvers answer at an IAM-authenticated endpoint, the EC2 permissions work only through DRS on DRS-managed resources, only the
drill clean-up functions may terminate recovery instances, every workflow ends with the report,
whose bucket is versioned, encrypted, private, retained and expires reports only when told, and
whose function may touch only the bucket's runs/ prefix, the drill rule is off unless enabled
and the drill sweeper on unless disabled, the approval defaults reach prepare-plan, every failure
reaches the notifications topic, and the EventBridge rules route the samples in
events/eventbridge/ with the input the orchestrator expects, checked with moto's EventBridge (an
implementation nobody here wrote) wherever moto can run it."""

import json
import re
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.events.models import EventPattern

from rehearsal.deploy import WORKFLOW_FUNCTIONS as USES

# The values tests/template/conftest.py resolves the template with (not imported: `conftest` is
# ambiguous when pytest collects several test folders in one run).
ACCOUNT = "123456789012"
REGION = "eu-west-1"

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = {"RecoveryPlanStateMachine": "recovery-plan", "FailbackStateMachine": "failback",
             "RestoreStateMachine": "restore"}
# The roles of the two functions that terminate drill instances.
DRILL_CLEANERS = {"CleanUpDrillFunctionRole", "SweepDrillInstancesFunctionRole"}
DRS_MANAGED = {"aws:ResourceTag/AWSElasticDisasterRecoveryManaged": "false"}
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


class SourceLoader(yaml.SafeLoader):
    """template.yaml's short-form tags (!Ref, !Sub, ...) as {"Fn": value}; only for DefinitionUri."""


SourceLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
SOURCE = yaml.load((ROOT / "template.yaml").read_text(), Loader=SourceLoader)



def own_variables(function):
    """A function's environment without the variable every function shares (Globals): the outage
    budget, checked on its own."""
    variables = dict(function["Properties"]["Environment"]["Variables"])
    variables.pop("DR_OUTAGE_BUDGET_SECONDS")
    return variables

def statements(stack, role):
    docs = [p["PolicyDocument"] for p in stack.resources[role]["Properties"].get("Policies", [])]
    return [s for d in docs for s in d["Statement"]]


def as_list(v):
    return v if isinstance(v, list) else [v]


def invoked_functions(stack, role):
    """The functions a role may invoke, by logical ID (SAM's LambdaInvokePolicy)."""
    out = set()
    raw = stack.template["Resources"][role]["Properties"]["Policies"]  # Fn::Sub kept as written
    for s in (s for p in raw for s in p["PolicyDocument"]["Statement"]):
        if "lambda:InvokeFunction" in as_list(s["Action"]):
            for r in as_list(s["Resource"]):
                out.add(r["Fn::Sub"][1]["functionName"]["Ref"])
    return out


# --- substitutions, functions, roles -------------------------------------------------------


WORKFLOW_VALUES = {"RecoveryPlanStateMachine": "RECOVERY_PLAN", "FailbackStateMachine": "FAILBACK",
                   "RestoreStateMachine": "RESTORE"}


def test_every_placeholder_has_a_substitution_and_every_substitution_a_placeholder(transformed):
    for name in WORKFLOWS:
        uri = SOURCE["Resources"][name]["Properties"]["DefinitionUri"]
        assert uri == "statemachine/run-plan.asl.json", name
        placeholders = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", (ROOT / uri).read_text()))
        substitutions = transformed["Resources"][name]["Properties"]["DefinitionSubstitutions"]
        assert placeholders == set(substitutions), name


def test_substitutions_are_function_arns_and_the_topic_and_the_defaults_reach_prepare_plan_only(stack):
    topic = {"Fn::GetAtt": ["NotificationsTopic", "Arn"]}  # never: the topic's Ref is its ARN
    functions = {"PreparePlanFunction", "StartRecoveryFunction", "StartFailbackFunction", "StartRestoreFunction",
                 "CheckStatusFunction", "WaitForJobsFunction", "CleanUpDrillFunction", "ReportFunction",
                 "AwaitApprovalFunction"}
    topics = {"NotificationsTopic", "ApprovalsTopic"}
    for name in WORKFLOWS:
        subs = dict(stack.resources[name]["Properties"]["DefinitionSubstitutions"])
        assert subs.pop("Workflow") == WORKFLOW_VALUES[name], name
        assert topic not in subs.values()
        for key, value in subs.items():
            if key.removesuffix("Arn") in topics:
                assert value == {"Ref": key.removesuffix("Arn")}, name
            else:
                assert value == {"Fn::GetAtt": [key.removesuffix("Arn"), "Arn"]}, (name, key)
        assert {key.removesuffix("Arn") for key in subs} == functions | topics, name
    env = own_variables(stack.resources["PreparePlanFunction"])
    assert env == {"DR_DEFAULT_POLL_INTERVAL_SECONDS": "30", "DR_DEFAULT_GIVE_UP_AFTER_SECONDS": "7200",
                   "DR_DEFAULT_BATCH_SIZE": "100", "DR_DEFAULT_MAX_CONCURRENT_JOBS": "10",
                   "DR_DEFAULT_APPROVAL": "REQUIRED", "DR_DISASTER_EVENTS_SKIP_APPROVAL": "false",
                   "DR_APPROVAL_ENDPOINT": {"Fn::GetAtt": ["AnswerApprovalFunctionUrl", "FunctionUrl"]},
                   "DR_LEASE_TABLE": {"Ref": "LeaseTable"},
                   # No vault unless the deployment names one: no restore.
                   "DR_RESTORE_VAULTS": ""}
    for name in ("WaitForJobsFunction", "OnEventFunction"):
        env = own_variables(stack.resources[name])
        assert env == {"DR_WAKE_TABLE": {"Ref": "WakeTable"}}, name
    assert own_variables(stack.resources["AwaitApprovalFunction"]) \
        == {"DR_APPROVALS_TABLE": {"Ref": "ApprovalsTable"}}
    # As written (the evaluator resolves a parameter to its default, and this one has none).
    assert own_variables(stack.template["Resources"]["AnswerApprovalFunction"]) \
        == {"DR_APPROVALS_TABLE": {"Ref": "ApprovalsTable"}, "DR_APPROVERS": {"Ref": "ApproverPrincipals"}}
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        if name not in {"PreparePlanFunction", "SweepDrillInstancesFunction", "ReportFunction",
                        "WaitForJobsFunction", "OnEventFunction", "AwaitApprovalFunction", "AnswerApprovalFunction"}:
            assert own_variables(function) == {}, name


def test_only_the_named_approvers_answer_at_an_iam_authenticated_endpoint_and_the_token_stays_in_the_stack(stack):
    """The approval endpoint is a function URL with AuthType AWS_IAM (Lambda verifies who calls);
    the deployment must name its approvers (no default); only the approval functions read or write
    the approvals table; only they and the wake functions may resume a waiting run (no state
    machine, no other function); the approvals topic takes subscribers of this account only."""
    [(url_name, url)] = stack.of_type("AWS::Lambda::Url").items()
    assert url["Properties"]["AuthType"] == "AWS_IAM"
    assert url["Properties"]["TargetFunctionArn"] == {"Ref": "AnswerApprovalFunction"}
    parameter = stack.template["Parameters"]["ApproverPrincipals"]
    assert "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("arn:aws:iam::123456789012:role/DrApprover,arn:aws:iam::123456789012:user/ada")
    for bad in ("*", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::123456789012:role/A, arn:aws:iam::1:role/B", ""):
        assert not pattern.fullmatch(bad), bad
    table = {"Fn::GetAtt": ["ApprovalsTable", "Arn"]}
    resumers = set()
    for role in stack.of_type("AWS::IAM::Role"):
        for st in statements(stack, role):
            actions = as_list(st["Action"])
            if table in as_list(st.get("Resource")) or any(a.startswith("dynamodb:") and "*" in a for a in actions):
                assert role in {"AwaitApprovalFunctionRole", "AnswerApprovalFunctionRole"}, role
            if "states:SendTaskSuccess" in actions or "states:*" in actions:
                resumers.add(role)
    assert resumers == {"WaitForJobsFunctionRole", "OnEventFunctionRole", "AwaitApprovalFunctionRole",
                        "AnswerApprovalFunctionRole"}
    policy = stack.resources["ApprovalsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = next(st for st in policy if st["Action"] == "sns:Subscribe")
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}


def test_each_workflow_may_invoke_only_the_functions_of_its_own_workflow(stack):
    for name in WORKFLOWS:
        props = stack.resources[name]["Properties"]
        role = props["RoleArn"]["Fn::GetAtt"][0]
        assert invoked_functions(stack, role) == USES[name], name
        assert props["StateMachineType"] == "STANDARD"
        assert props["TracingConfiguration"] == {"Enabled": True}


def test_functions_are_the_twelve_handlers_of_one_binary_on_arm64_with_json_logs(stack):
    functions = stack.of_type("AWS::Lambda::Function")
    # One artifact, built once: each function is the binary serving its Handler.
    assert {f["Properties"]["Code"]["S3Key"] for f in functions.values()} == {"dr-orchestrator.zip"}
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {p.stem for p in (ROOT / "src" / "bin").glob("*.rs")} - {"dr-orchestrator"}
    assert handlers == {"prepare-plan", "start-recovery", "start-failback", "start-restore", "check-status",
                        "clean-up-drill", "sweep-drill-instances", "report", "wait-for-jobs", "on-event",
                        "await-approval", "answer-approval"}
    assert {functions[f]["Properties"]["Handler"]
            for f in ("CleanUpDrillFunction", "SweepDrillInstancesFunction", "ReportFunction")} \
        == {"clean-up-drill", "sweep-drill-instances", "report"}
    for name, f in functions.items():
        p = f["Properties"]
        assert p["Architectures"] == ["arm64"] and p["Runtime"] == "provided.al2023", name
        assert p["LoggingConfig"]["LogFormat"] == "JSON", name
    # SAM builds functions with equal Metadata once (samcli's FunctionBuildDefinition compares it
    # whole, checkov's skips included).
    metadata = [f["Metadata"] for f in SOURCE["Resources"].values() if f["Type"] == "AWS::Serverless::Function"]
    assert len(metadata) == 12 and all(m == metadata[0] for m in metadata)
    assert metadata[0]["BuildMethod"] == "rust-cargolambda"
    assert metadata[0]["BuildProperties"] == {"Binary": "dr-orchestrator"}


def test_prepare_plan_only_reads_drs_and_backup_and_takes_the_plans_lease(stack):
    grants = statements(stack, "PreparePlanFunctionRole")
    actions = {a for s in grants for a in as_list(s["Action"])}
    assert actions == {"drs:DescribeSourceServers", "drs:DescribeJobs", "drs:DescribeRecoverySnapshots",
                       "backup:GetRecoveryPointRestoreMetadata",
                       "dynamodb:PutItem", "dynamodb:GetItem", "states:DescribeExecution"}
    for s in grants:
        if "backup:GetRecoveryPointRestoreMetadata" in as_list(s["Action"]):
            # This account's and Region's vaults and recovery points only.
            arns = [r if isinstance(r, str) else r["Fn::Sub"] for r in s["Resource"]]
            kinds = (":backup-vault:", ":recovery-point:", "snapshot", "::image/")
            assert all(any(k in a for k in kinds) for a in arns) and "*" not in arns, arns
    for s in grants:
        if any(a.startswith("dynamodb:") for a in as_list(s["Action"])):
            assert s["Resource"] == {"Fn::GetAtt": ["LeaseTable", "Arn"]}
        if "states:DescribeExecution" in as_list(s["Action"]):
            # The executions of this stack's state machines, by their names' prefix (a reference
            # would be a cycle: the state machines reference prepare-plan).
            assert s["Resource"] == f"arn:aws:states:{REGION}:{ACCOUNT}:execution:dr-orchestrator-*:*"
            assert all(stack.resources[w]["Properties"]["StateMachineName"].startswith("dr-orchestrator-")
                       for w in WORKFLOWS)


def test_only_the_restore_function_may_pass_a_role_to_backup_and_only_the_parameters_role(make_stack):
    arn = "arn:aws:iam::123456789012:role/restores"
    for stack in (make_stack(), make_stack(RestoreRoleArn=arn)):
        passes = {}
        for role in stack.of_type("AWS::IAM::Role"):
            for s in statements(stack, role):
                if "iam:PassRole" in as_list(s["Action"]):
                    passes.setdefault(role, []).append(s)
        backup = [(r, s) for r, ss in passes.items() for s in ss
                  if s["Condition"]["StringEquals"]["iam:PassedToService"] == "backup.amazonaws.com"]
        if stack.params["RestoreRoleArn"]:
            assert backup == [("StartRestoreFunctionRole", backup[0][1])] and backup[0][1]["Resource"] == arn
        else:
            assert backup == []
        (ec2,) = passes["StartRecoveryFunctionRole"]
        assert ec2["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
        # Exactly the DRS instance roles of AWS's managed policy, in this account.
        assert sorted(r.rsplit("/", 1)[1] for r in ec2["Resource"]) == [
            "AWSElasticDisasterRecoveryConversionServerRole",
            "AWSElasticDisasterRecoveryRecoveryInstanceRole",
            "AWSElasticDisasterRecoveryRecoveryInstanceWithLaunchActionsRole"]
        assert all(r.startswith(f"arn:aws:iam::{ACCOUNT}:role/service-role/") for r in ec2["Resource"])
        assert set(passes) <= {"StartRecoveryFunctionRole", "StartRestoreFunctionRole"}


def test_ec2_is_reachable_only_through_drs_and_changes_only_drs_managed_resources(stack):
    seen = set()
    for role in stack.of_type("AWS::IAM::Role"):
        for s in statements(stack, role):
            ec2 = [a for a in as_list(s["Action"]) if a.startswith("ec2:")]
            if not ec2:
                continue
            assert role in {"StartRecoveryFunctionRole"} | DRILL_CLEANERS, f"{role} has EC2 permissions"
            cond = s.get("Condition", {})
            through_drs = cond.get("Bool", {}).get("aws:ViaAWSService") == "true" \
                or cond.get("ForAnyValue:StringEquals", {}).get("aws:CalledVia") == "drs.amazonaws.com"
            assert through_drs, s["Sid"]
            mutating = [a for a in ec2 if not a.startswith(("ec2:Describe", "ec2:Get"))]
            if mutating:
                assert all(r != "*" and r.startswith(f"arn:aws:ec2:{REGION}:") for r in as_list(s["Resource"])), s["Sid"]
            seen.update(ec2)
    for destructive in ["ec2:TerminateInstances", "ec2:DeleteVolume", "ec2:DeleteSnapshot",
                        "ec2:AuthorizeSecurityGroupIngress", "ec2:StopInstances"]:
        holders = [s for s in statements(stack, "StartRecoveryFunctionRole") if destructive in as_list(s["Action"])]
        assert holders, destructive
        for s in holders:
            assert s["Condition"]["Null"] == DRS_MANAGED, destructive
    assert "ec2:RunInstances" in seen
    # The drill cleaners only read, terminate instances and delete volumes, through DRS.
    for role in DRILL_CLEANERS:
        ec2 = {a for s in statements(stack, role) for a in as_list(s["Action"]) if a.startswith("ec2:")}
        assert ec2 == {"ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:TerminateInstances", "ec2:DeleteVolume"}, role


def test_any_ec2_terminate_or_delete_is_through_drs_on_drs_managed_resources_only(stack):
    seen = set()
    for role in stack.of_type("AWS::IAM::Role"):
        for s in statements(stack, role):
            actions = as_list(s["Action"])
            assert not any(a in ("*", "ec2:*") or a.startswith("ec2:Terminate*") for a in actions), (role, s.get("Sid"))
            for action in {"ec2:TerminateInstances", "ec2:DeleteVolume"} & set(actions):
                assert s["Effect"] == "Allow"
                assert s["Condition"]["Bool"] == {"aws:ViaAWSService": "true"}, (role, s["Sid"])
                assert s["Condition"]["Null"] == DRS_MANAGED, (role, s["Sid"])
                kind = "instance" if action == "ec2:TerminateInstances" else "volume"
                resources = as_list(s["Resource"])
                assert f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/*" in resources, (role, s["Sid"])
                assert all(r.startswith(f"arn:aws:ec2:{REGION}:") and r.endswith("/*") for r in resources), s["Sid"]
                if role in DRILL_CLEANERS:
                    assert resources == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/*"], (role, s["Sid"])
                seen.add((role, action))
    assert {r for r, a in seen if a == "ec2:TerminateInstances"} == {"StartRecoveryFunctionRole"} | DRILL_CLEANERS


def test_only_the_drill_cleaners_may_terminate_recovery_instances(stack):
    holders = {}
    for role in stack.of_type("AWS::IAM::Role"):
        for s in statements(stack, role):
            actions = as_list(s["Action"])
            assert not any(a == "*" or (a.startswith("drs:") and "*" in a) for a in actions), (role, s.get("Sid"))
            if "drs:TerminateRecoveryInstances" in actions:
                holders.setdefault(role, []).append(s)
    assert set(holders) == DRILL_CLEANERS
    for role, (s, *more) in holders.items():
        assert more == [] and s["Effect"] == "Allow"
        # The resource type the Service Authorization Reference requires, in this Region and account.
        assert s["Action"] == "drs:TerminateRecoveryInstances"
        assert s["Resource"] == f"arn:aws:drs:{REGION}:{ACCOUNT}:recovery-instance/*", role
        drs = {a for s in statements(stack, role) for a in as_list(s["Action"]) if a.startswith("drs:")}
        assert drs == {"drs:DescribeJobs", "drs:DescribeRecoveryInstances", "drs:TerminateRecoveryInstances"}, role


def test_the_sweeper_reads_only_the_executions_of_the_stacks_workflows(stack):
    grants = [s for s in statements(stack, "SweepDrillInstancesFunctionRole")
              if any(a.startswith("states:") for a in as_list(s["Action"]))]
    (s,) = grants
    assert s["Action"] == "states:DescribeExecution" and "Condition" not in s
    assert "*" not in as_list(s["Resource"])
    assert sorted(s["Resource"]) == sorted(
        f"arn:aws:states:{REGION}:{ACCOUNT}:execution:${{{name}.Name}}:*" for name in WORKFLOWS)
    for role in stack.of_type("AWS::IAM::Role"):
        if role not in ("SweepDrillInstancesFunctionRole", "PreparePlanFunctionRole"):
            assert not any(a.startswith("states:Describe") for s in statements(stack, role)
                           for a in as_list(s["Action"])), role
    env = own_variables(stack.resources["SweepDrillInstancesFunction"])
    assert env == {"DR_DRILL_INSTANCE_MAX_AGE_HOURS": "24",
                   "DR_DRILL_WORKFLOWS": {"Ref": "RecoveryPlanStateMachine"}}


# --- the run report --------------------------------------------------------------------------


def test_every_workflow_ends_with_the_report_function_and_may_invoke_it(stack):
    for name in WORKFLOWS:
        props = stack.resources[name]["Properties"]
        assert props["DefinitionSubstitutions"]["ReportFunctionArn"] == {"Fn::GetAtt": ["ReportFunction", "Arn"]}
        assert "ReportFunction" in invoked_functions(stack, props["RoleArn"]["Fn::GetAtt"][0]), name
    report = stack.resources["ReportFunction"]["Properties"]
    assert own_variables(stack.resources["ReportFunction"]) == {"DR_REPORT_BUCKET": {"Ref": "ReportBucket"},
                                                  "DR_LEASE_TABLE": {"Ref": "LeaseTable"}}
    assert report["Timeout"] >= 120
    assert report["Handler"] == "report"


def test_the_report_bucket_is_versioned_encrypted_private_and_retained(stack):
    bucket = stack.resources["ReportBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    p = bucket["Properties"]
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms", "aws:kms:dsse"}
    assert p["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "AccessControl" not in p and "WebsiteConfiguration" not in p
    # The only bucket policy refuses every request without TLS, on the bucket and its objects.
    (policy,) = stack.of_type("AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == {"Ref": "ReportBucket"}
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == [{"Fn::GetAtt": ["ReportBucket", "Arn"]}, "${ReportBucket.Arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    outputs = stack.template["Outputs"]
    assert outputs["ReportBucketName"]["Value"] == {"Ref": "ReportBucket"}
    assert outputs["ReportsIndex"]["Value"] == {"Fn::Sub": "s3://${ReportBucket}/runs/index.html"}


def test_reports_are_kept_forever_unless_the_retention_parameter_says(transformed, make_stack):
    param = transformed["Parameters"]["ReportRetentionDays"]
    assert (param["Type"], param["Default"], param["MinValue"]) == ("Number", 0, 0)
    assert "LifecycleConfiguration" not in make_stack().resources["ReportBucket"]["Properties"]
    rules = make_stack(ReportRetentionDays=30).resources["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all(r["Status"] == "Enabled" and "Prefix" not in r and "Filter" not in r for r in rules)
    (expire,) = [r for r in rules if "ExpirationInDays" in r]
    assert expire["ExpirationInDays"] == "30"
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": "30"}
    # The delete markers expiry leaves behind go too, once nothing is under them.
    assert [r for r in rules if r is not expire] == [{"Id": "RemoveExpiredDeleteMarkers", "Status": "Enabled",
                                                       "ExpiredObjectDeleteMarker": True}]


def test_the_report_function_touches_only_the_runs_prefix_of_its_bucket(stack):
    role = "ReportFunctionRole"
    s3 = [s for s in statements(stack, role) if any(a.startswith("s3:") for a in as_list(s["Action"]))]
    objects = [s for s in s3 if "s3:ListBucket" not in as_list(s["Action"])]
    (rw,) = objects
    assert sorted(as_list(rw["Action"])) == ["s3:GetObject", "s3:PutObject"] and rw["Effect"] == "Allow"
    assert rw["Resource"] == "${ReportBucket.Arn}/runs/*" and "Condition" not in rw
    (listing,) = [s for s in s3 if s is not rw]
    assert listing["Action"] == "s3:ListBucket" and listing["Resource"] == {"Fn::GetAtt": ["ReportBucket", "Arn"]}
    # Unconditional on the report bucket: without it a missing key is a 403, not a 404.
    assert "Condition" not in listing
    others = {a for s in statements(stack, role) for a in as_list(s["Action"])} - {"s3:GetObject", "s3:PutObject",
                                                                                  "s3:ListBucket"}
    assert others == {"drs:DescribeJobs", "drs:DescribeJobLogItems", "drs:DescribeRecoveryInstances",
                      "backup:ListRestoreJobs", "dynamodb:DeleteItem"}
    (release,) = [s for s in statements(stack, role) if "dynamodb:DeleteItem" in as_list(s["Action"])]
    assert release["Resource"] == {"Fn::GetAtt": ["LeaseTable", "Arn"]}
    # No other role of the stack may touch S3 at all (the functions' code comes from SAM's bucket
    # at deployment, not through their roles).
    for other in stack.of_type("AWS::IAM::Role"):
        if other != role:
            assert not any(a.startswith("s3:") for s in statements(stack, other) for a in as_list(s["Action"])), other


# --- logs, rules, alarms ---------------------------------------------------------------------


def test_execution_logs_are_errors_without_data_unless_raised(make_stack):
    default = make_stack()
    for name in WORKFLOWS:
        logging = default.resources[name]["Properties"]["LoggingConfiguration"]
        assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    for group in default.of_type("AWS::Logs::LogGroup").values():
        assert "KmsKeyId" not in group["Properties"]
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    raised = make_stack(ExecutionLogLevel="ALL", ExecutionLogIncludeData="true", LogsKmsKeyArn=key)
    for name in WORKFLOWS:
        logging = raised.resources[name]["Properties"]["LoggingConfiguration"]
        assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is True
    groups = raised.of_type("AWS::Logs::LogGroup")
    assert len(groups) == 4 and all(g["Properties"]["KmsKeyId"] == key for g in groups.values())
    # The functions log to the stack's own group (its retention, its key), and every log group
    # outlives the stack (the logs are evidence; the retention expires them).
    functions = raised.of_type("AWS::Lambda::Function")
    assert len(functions) == 12
    for name, function in functions.items():
        assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogs"}, name
    assert groups["FunctionLogs"]["Properties"]["RetentionInDays"] == "90"
    for name, group in groups.items():
        assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain"), name


def test_stateful_resources_say_what_happens_to_them_when_the_stack_goes(stack):
    # Evidence and undelivered events are kept; the tables hold only what a running run needs.
    for name, resource in stack.template["Resources"].items():
        kind = resource["Type"]
        if kind in ("AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Logs::LogGroup"):
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain"), name
        if kind == "AWS::DynamoDB::Table":
            assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete"), name


def test_the_drill_sweeper_rule_is_enabled_unless_the_parameter_disables_it(make_stack):
    def state(**overrides):
        return make_stack(**overrides).resources["DrillSweeperRule"]["Properties"]["State"]
    assert state() == "ENABLED"
    assert state(DrillSweeperEnabled="false") == "DISABLED"
    assert state(DrillSweeperEnabled="true") == "ENABLED"
    # Independent of the monthly drill's switch.
    assert state(DrillScheduleEnabled="true", DrillSweeperEnabled="false") == "DISABLED"
    rule = make_stack(DrillSweepSchedule="rate(30 minutes)").resources["DrillSweeperRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(30 minutes)" and "EventPattern" not in rule


def test_the_drill_rule_is_disabled_unless_the_parameter_enables_it(make_stack):
    assert make_stack().resources["MonthlyDrillRule"]["Properties"]["State"] == "DISABLED"
    assert make_stack(DrillScheduleEnabled="true").resources["MonthlyDrillRule"]["Properties"]["State"] == "ENABLED"
    assert make_stack(DrillScheduleEnabled="false").resources["MonthlyDrillRule"]["Properties"]["State"] == "DISABLED"
    assert make_stack().resources["DisasterDeclaredRule"]["Properties"]["State"] == "ENABLED"


def test_the_drill_sweeper_is_invoked_by_its_rule_only_with_a_constant_input(stack):
    rule = stack.resources["DrillSweeperRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 hour)" and "EventPattern" not in rule
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["SweepDrillInstancesFunction", "Arn"]}
    assert json.loads(target["Input"]) == {"trigger": "SCHEDULE"}
    assert "InputTransformer" not in target and "InputPath" not in target and "RoleArn" not in target
    permissions = [p["Properties"] for p in stack.of_type("AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": ["SweepDrillInstancesFunction", "Arn"]}]
    assert permissions == [{"Action": "lambda:InvokeFunction",
                            "FunctionName": {"Fn::GetAtt": ["SweepDrillInstancesFunction", "Arn"]},
                            "Principal": "events.amazonaws.com", "SourceAccount": ACCOUNT,
                            "SourceArn": {"Fn::GetAtt": ["DrillSweeperRule", "Arn"]}}]
    # Nothing else may invoke any function of the stack from outside it, but the completion rules
    # on-event (test_completion_rules_send_drs_and_backup_events_to_on_event).
    others = [p["Properties"] for p in stack.of_type("AWS::Lambda::Permission").values()
              if p["Properties"]["FunctionName"] != {"Fn::GetAtt": ["SweepDrillInstancesFunction", "Arn"]}]
    assert {json.dumps(p["FunctionName"]) for p in others} == {json.dumps({"Fn::GetAtt": ["OnEventFunction", "Arn"]})}
    assert len(others) == 2
    # No workflow may invoke the sweeper (and so no workflow depends on it).
    for name in WORKFLOWS:
        role = stack.resources[name]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        assert "SweepDrillInstancesFunction" not in invoked_functions(stack, role)


def test_rules_are_where_the_readme_says(stack):
    rules = stack.of_type("AWS::Events::Rule")
    assert set(rules) == {"DisasterDeclaredRule", "MonthlyDrillRule", "DrillSweeperRule"} | set(COMPLETION_RULES)
    rules = {n: r for n, r in rules.items() if n not in COMPLETION_RULES}  # see the next test
    disaster = rules["DisasterDeclaredRule"]["Properties"]
    assert disaster["EventBusName"] == "default"
    assert disaster["EventPattern"] == {
        "account": [ACCOUNT], "source": ["dr-orchestrator"], "detail-type": ["Disaster Declared"],
        "detail": {"confirmRealRecovery": [True], "plan": {"isDrill": [False]}}}
    drill = rules["MonthlyDrillRule"]["Properties"]
    assert drill["ScheduleExpression"] == "cron(0 6 1 * ? *)" and "EventPattern" not in drill
    for name, rule in rules.items():
        (target,) = rule["Properties"]["Targets"]
        if name != "DrillSweeperRule":  # the sweeper's rule invokes a function (see above)
            assert target["Arn"] == {"Ref": "RecoveryPlanStateMachine"}, name
            role = target["RoleArn"]["Fn::GetAtt"][0]
            (s,) = statements(stack, role)
            assert s["Action"] == "states:StartExecution" and s["Resource"] == {"Ref": "RecoveryPlanStateMachine"}
            trust = stack.resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
            assert trust["Principal"] == {"Service": "events.amazonaws.com"}
            assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        # Failures are retried, then kept in an encrypted queue that only this rule may write to.
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert stack.resources[queue]["Properties"]["SqsManagedSseEnabled"] is True
        (policy,) = [p["Properties"] for p in stack.of_type("AWS::SQS::QueuePolicy").values()
                     if p["Properties"]["Queues"] == [{"Ref": queue}]]
        (allow,) = policy["PolicyDocument"]["Statement"]
        assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
        assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [name, "Arn"]}}}


COMPLETION_RULES = ("DrsLaunchResultRule", "BackupRestoreEndedRule")


def test_completion_rules_send_drs_and_backup_events_to_on_event(stack):
    rules = stack.of_type("AWS::Events::Rule")
    assert rules["DrsLaunchResultRule"]["Properties"]["EventPattern"] == {
        "source": ["aws.drs"], "detail-type": ["DRS Source Server Launch Result"], "account": [ACCOUNT]}
    assert rules["BackupRestoreEndedRule"]["Properties"]["EventPattern"] == {
        "source": ["aws.backup"], "detail-type": ["Restore Job State Change"], "account": [ACCOUNT],
        "detail": {"status": ["COMPLETED", "ABORTED", "FAILED"]}}
    for name in COMPLETION_RULES:
        props = rules[name]["Properties"]
        assert props["State"] == "ENABLED"
        (target,) = props["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["OnEventFunction", "Arn"]}
        # The event itself is the input; a lost one only delays a wait to its poll: a few
        # retries, then the completion events' dead-letter queue, which raises an alarm.
        assert set(target) == {"Id", "Arn", "RetryPolicy", "DeadLetterConfig"}, name
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["CompletionEventsDeadLetterQueue", "Arn"]}}
        (permission,) = [p["Properties"] for p in stack.of_type("AWS::Lambda::Permission").values()
                         if p["Properties"].get("SourceArn") == {"Fn::GetAtt": [name, "Arn"]}]
        assert permission["FunctionName"] == {"Fn::GetAtt": ["OnEventFunction", "Arn"]}
        assert permission["Principal"] == "events.amazonaws.com" and permission["SourceAccount"] == ACCOUNT
    # The wake table: one item per job, expired by TTL, recoverable, encrypted.
    table = stack.resources["WakeTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    # Both wake functions write only that table and send only SendTaskSuccess.
    for role in ("WaitForJobsFunctionRole", "OnEventFunctionRole"):
        granted = {a: s["Resource"] for s in statements(stack, role) for a in as_list(s["Action"])}
        assert granted == {"dynamodb:UpdateItem": {"Fn::GetAtt": ["WakeTable", "Arn"]},
                           "states:SendTaskSuccess": "*"}, role


def alarms_on(stack, namespace, metric, dimension, value):
    return [a for a in stack.of_type("AWS::CloudWatch::Alarm").values()
            if a["Properties"]["Namespace"] == namespace and a["Properties"]["MetricName"] == metric
            and a["Properties"]["Dimensions"] == [{"Name": dimension, "Value": value}]]


def test_every_failure_raises_an_alarm_on_the_notifications_topic(make_stack):
    stack = make_stack()
    expected = []
    for name in WORKFLOWS:
        for metric in ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]:
            expected += alarms_on(stack, "AWS/States", metric, "StateMachineArn", {"Ref": name}) or [(name, metric)]
    for rule in ["DisasterDeclared", "MonthlyDrill", "DrillSweeper"]:
        expected += alarms_on(stack, "AWS/Events", "FailedInvocations", "RuleName", {"Ref": f"{rule}Rule"}) \
            or [(rule, "FailedInvocations")]
        queue = {"Fn::GetAtt": [f"{rule}DeadLetterQueue", "QueueName"]}
        expected += alarms_on(stack, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue) \
            or [(rule, "dead letters")]
    queue = {"Fn::GetAtt": ["CompletionEventsDeadLetterQueue", "QueueName"]}
    expected += alarms_on(stack, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue) \
        or [("completion events", "dead letters")]
    # The functions whose failure no failed execution shows: the sweeper (invoked by its rule) and
    # the report (a run that succeeded may still have no report).
    # And wait-for-jobs: a round whose wait could not register polls instead (caught).
    for function in ["SweepDrillInstancesFunction", "ReportFunction", "OnEventFunction", "WaitForJobsFunction"]:
        expected += alarms_on(stack, "AWS/Lambda", "Errors", "FunctionName", {"Ref": function}) \
            or [(function, "Errors")]
    # A notification the workflow could not publish (caught, the run goes on).
    publish = "arn:aws:states:::sns:publish"
    expected += alarms_on(stack, "AWS/States", "ServiceIntegrationsFailed", "ServiceIntegrationResourceArn", publish) \
        or [("sns:publish", "ServiceIntegrationsFailed")]
    missing = [e for e in expected if isinstance(e, tuple)]
    assert missing == []
    assert len(expected) == len(stack.of_type("AWS::CloudWatch::Alarm")) == 21
    for a in expected:
        p = a["Properties"]
        assert p["AlarmActions"] == [{"Ref": "NotificationsTopic"}]
        assert p["Threshold"] == 1 and p["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert p["TreatMissingData"] == "notBreaching"
    # The topic is encrypted with a key CloudWatch may use (not aws/sns, which it may not).
    topic = stack.resources["NotificationsTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["NotificationsKey", "Arn"]}
    key_policy = stack.resources["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} for s in key_policy)
    assert stack.template["Outputs"]["NotificationsTopicArn"]["Value"] == {"Ref": "NotificationsTopic"}
    key = KEY
    mailed = make_stack(NotificationEmail="oncall@example.com", NotificationsKmsKeyArn=key)
    assert mailed.resources["NotificationsTopic"]["Properties"]["KmsMasterKeyId"] == key
    assert "NotificationsKey" not in mailed.resources


def test_a_deployment_always_has_someone_to_tell(make_stack):
    # NotificationEmail has no default and must be an address: a stack cannot be created whose
    # alarms and approval requests reach nobody. It also gets the approval requests, unless
    # ApprovalEmail names someone else.
    parameter = SOURCE["Parameters"]["NotificationEmail"]
    assert "Default" not in parameter
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("oncall@example.com") and not pattern.fullmatch("")
    assert "e-mail address" in parameter["ConstraintDescription"]
    mailed = make_stack(NotificationEmail="oncall@example.com")
    endpoint = lambda s, name: s.resources[name]["Properties"]["Endpoint"]
    assert endpoint(mailed, "NotificationsEmail") == endpoint(mailed, "ApprovalsEmail") == "oncall@example.com"
    approvers = make_stack(NotificationEmail="oncall@example.com", ApprovalEmail="dr-approvers@example.com")
    assert endpoint(approvers, "ApprovalsEmail") == "dr-approvers@example.com"
    assert mailed.resources["ApprovalsEmail"]["Properties"]["TopicArn"] == {"Ref": "ApprovalsTopic"}


def test_workflows_publish_only_to_the_notifications_and_approvals_topics_with_their_key_only(make_stack):
    publishers = {"RecoveryPlanStateMachine", "FailbackStateMachine", "RestoreStateMachine"}
    for stack, key in ((make_stack(), {"Fn::GetAtt": ["NotificationsKey", "Arn"]}),
                       (make_stack(NotificationsKmsKeyArn=KEY), KEY)):
        for role in stack.of_type("AWS::IAM::Role"):
            grants = [s for s in statements(stack, role)
                      if any(a.startswith(("sns:", "kms:")) for a in as_list(s["Action"]))]
            workflow = next((w for w in WORKFLOWS if stack.resources[w]["Properties"]["RoleArn"]["Fn::GetAtt"][0] == role),
                            None)
            if workflow not in publishers:
                assert grants == [], role
                continue
            sns = [s for s in grants if any(a.startswith("sns:") for a in as_list(s["Action"]))]
            kms = [s for s in grants if any(a.startswith("kms:") for a in as_list(s["Action"]))]
            (publish,) = sns
            assert publish["Effect"] == "Allow" and publish["Action"] == "sns:Publish", role
            assert publish["Resource"] == [{"Ref": "NotificationsTopic"}, {"Ref": "ApprovalsTopic"}], role
            assert "Condition" not in publish, role
            # What SNS needs of a publisher to an encrypted topic, on the topic's key only, via SNS only.
            (encrypt,) = kms
            assert sorted(as_list(encrypt["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"], role
            assert encrypt["Resource"] == key == stack.resources["NotificationsTopic"]["Properties"]["KmsMasterKeyId"]
            assert stack.resources["ApprovalsTopic"]["Properties"]["KmsMasterKeyId"] == key
            assert encrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"sns.{REGION}.amazonaws.com"}}
    # The stack's own key lets IAM policies grant its use (so the roles' grants take effect).
    statements_ = make_stack().resources["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert {"Sid": "TheAccountAdministersTheKeyThroughIam", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"} in statements_


def test_real_runs_wait_for_approval_by_default_even_when_a_disaster_event_starts_them(transformed, make_stack):
    params = transformed["Parameters"]
    skip = params["SkipApprovalForDisasterEvents"]
    assert (skip["Type"], skip["Default"], sorted(skip["AllowedValues"])) == ("String", "false", ["false", "true"])
    assert skip["Description"].startswith("DANGEROUS") and "without anyone approving it" in skip["Description"]
    approval = params["RealRunApproval"]
    assert (approval["Type"], approval["Default"]) == ("String", "REQUIRED")
    assert sorted(approval["AllowedValues"]) == ["NOT_REQUIRED", "REQUIRED"]

    def env(**overrides):
        return make_stack(**overrides).resources["PreparePlanFunction"]["Properties"]["Environment"]["Variables"]

    assert env()["DR_DISASTER_EVENTS_SKIP_APPROVAL"] == "false" and env()["DR_DEFAULT_APPROVAL"] == "REQUIRED"
    assert env(SkipApprovalForDisasterEvents="true")["DR_DISASTER_EVENTS_SKIP_APPROVAL"] == "true"
    assert env(RealRunApproval="NOT_REQUIRED")["DR_DEFAULT_APPROVAL"] == "NOT_REQUIRED"
    # The raw template wires the parameters themselves, not copies of their defaults.
    variables = transformed["Resources"]["PreparePlanFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["DR_DEFAULT_APPROVAL"] == {"Ref": "RealRunApproval"}
    assert variables["DR_DISASTER_EVENTS_SKIP_APPROVAL"] == {"Ref": "SkipApprovalForDisasterEvents"}
    sweeper = own_variables(transformed["Resources"]["SweepDrillInstancesFunction"])
    assert sweeper == {"DR_DRILL_INSTANCE_MAX_AGE_HOURS": {"Ref": "DrillInstanceMaxAgeHours"},
                       "DR_DRILL_WORKFLOWS": {"Ref": "RecoveryPlanStateMachine"}}
    assert own_variables(make_stack(DrillInstanceMaxAgeHours=6).resources["SweepDrillInstancesFunction"])[
        "DR_DRILL_INSTANCE_MAX_AGE_HOURS"] == "6"


# --- routing and the workflow's input ------------------------------------------------------

SAMPLES = {p.name: json.loads(p.read_text()) for p in sorted((ROOT / "events" / "eventbridge").glob("*.json"))}
# Which rule each sample must reach (None: no rule).
EXPECTED = {
    "disaster-declared.json": "DisasterDeclaredRule",
    "disaster-declared-unconfirmed.json": None,
    "disaster-declared-other-account.json": None,
    "scheduled-drill.json": None,  # a schedule fires its own rule; no pattern matches it
}


def test_every_sample_has_an_expectation():
    assert set(SAMPLES) == set(EXPECTED)


def apply_transformer(transformer, event):
    """EventBridge's input transformer, for what moto cannot run (a schedule, AWS's ISO time)."""
    text = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", value if isinstance(value, str) else json.dumps(value))
    return json.loads(text)


def test_moto_matches_each_sample_with_the_rule_expected_and_no_other(stack):
    # moto's own pattern matcher on the samples exactly as written (put_events would stamp
    # moto's account on every event, so the account filter is checked here).
    for sample, expected in EXPECTED.items():
        matched = [name for name, rule in stack.of_type("AWS::Events::Rule").items()
                   if "EventPattern" in rule["Properties"]
                   and EventPattern.load(json.dumps(rule["Properties"]["EventPattern"])).matches_event(SAMPLES[sample])]
        assert matched == ([expected] if expected else []), sample


@mock_aws
def test_moto_delivers_a_declared_disaster_as_plan_and_trigger(stack):
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    queues = {}
    for name, rule in stack.of_type("AWS::Events::Rule").items():
        props = rule["Properties"]
        (target,) = props["Targets"]
        if "EventPattern" not in props or "InputTransformer" not in target:
            continue  # schedules; the completion rules (their own test)
        events.put_rule(Name=name, EventPattern=json.dumps(props["EventPattern"]), State=props["State"])
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # The template's own transformer, applied by moto to a stand-in target (moto's targets
        # include SQS, not Step Functions).
        events.put_targets(Rule=name, Targets=[{"Id": target["Id"], "Arn": arn,
                                                "InputTransformer": target["InputTransformer"]}])
        queues[name] = url
    assert set(queues) == {"DisasterDeclaredRule"}

    reached = []
    for sample, expected in EXPECTED.items():
        e = SAMPLES[sample]
        if e["account"] != ACCOUNT or e["source"] == "aws.events":
            continue  # moto stamps its own account; aws.events is reserved for AWS
        entry = {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]),
                 "Resources": e["resources"]}
        (result,) = events.put_events(Entries=[entry])["Entries"]
        for rule, url in queues.items():
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if rule != expected:
                assert got == [], f"{sample} reached {rule}"
                continue
            assert len(got) == 1, f"{sample} did not reach {rule}"
            delivered = json.loads(got[0]["Body"])
            trigger = delivered.pop("trigger")
            # The state machine gets the plan, a real recovery the event asked for explicitly...
            assert delivered == {"plan": e["detail"]["plan"]} and delivered["plan"]["isDrill"] is False
            # ...and the event's identity, from which the run derives its idempotency keys.
            assert trigger.pop("time")  # moto's event time is epoch seconds, AWS's is ISO 8601
            assert trigger == {"kind": "EVENT", "eventId": result["EventId"], "source": e["source"],
                               "detailType": e["detail-type"], "account": ACCOUNT}
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            reached.append(sample)
    # The samples skipped above cannot have been all of the rule's: at least one went through.
    assert "disaster-declared.json" in reached, reached


def test_a_redelivered_disaster_event_gives_the_workflow_the_same_trigger(stack):
    (target,) = stack.resources["DisasterDeclaredRule"]["Properties"]["Targets"]
    e = SAMPLES["disaster-declared.json"]
    got = apply_transformer(target["InputTransformer"], e)
    assert got == {"plan": e["detail"]["plan"], "trigger": {
        "kind": "EVENT", "eventId": e["id"], "source": e["source"], "detailType": e["detail-type"],
        "time": e["time"], "account": e["account"]}}
    # EventBridge re-delivers an event with its id; a new event (sent again by a person or a
    # tool) has a new id. The trigger carries the id, from which the run derives its
    # idempotency keys, and nothing that changes between deliveries of one event.
    other = apply_transformer(target["InputTransformer"], {**e, "id": "0f0f0f0f-0000-4000-8000-00000000abcd"})
    assert other["trigger"]["eventId"] == "0f0f0f0f-0000-4000-8000-00000000abcd"
    assert {**other["trigger"], "eventId": e["id"]} == got["trigger"]


def test_the_scheduled_drill_can_only_start_a_drill(make_stack):
    # moto does not fire schedules: the rule's transformer is applied here to the sample
    # scheduled event.
    e = SAMPLES["scheduled-drill.json"]
    waves = '[{"name": "w", "sourceServers": [{"sourceServerID": "s-0a1b2c3d4e5f60001"}]}]'
    allowed = re.compile(SOURCE["Parameters"]["DrillWaves"]["AllowedPattern"])
    for stack in (make_stack(), make_stack(DrillWaves=waves)):
        assert allowed.match(stack.params["DrillWaves"])
        (target,) = stack.resources["MonthlyDrillRule"]["Properties"]["Targets"]
        got = apply_transformer(target["InputTransformer"], e)
        assert got == {"plan": {"planName": "scheduled drill", "waves": json.loads(stack.params["DrillWaves"]),
                                "isDrill": True},
                       "trigger": {"kind": "SCHEDULE", "eventId": e["id"], "time": e["time"]}}
    # The rule's own isDrill comes right after the waves, so it would win a duplicate key anyway.
    (raw,) = make_stack().template["Resources"]["MonthlyDrillRule"]["Properties"]["Targets"]
    assert '"waves": ${DrillWaves}, "isDrill": true}' in raw["InputTransformer"]["InputTemplate"]["Fn::Sub"]
    # A parameter that tries to smuggle in its own isDrill, or a transformer placeholder, is
    # refused by CloudFormation.
    for smuggled in ['[], "isDrill": false, "more": []', '[{"name": "<id>"}]']:
        assert not allowed.match(smuggled)
    assert SOURCE["Parameters"]["DrillScheduleEnabled"]["Default"] == "false"


@pytest.mark.parametrize("parameter,low,high,default", [
    ("PollIntervalSeconds", 1, 3600, 30), ("GiveUpAfterSeconds", 60, 86400, 7200),
    ("BatchSize", 1, 200, 100), ("MaxConcurrentJobs", 1, 20, 10), ("DrillInstanceMaxAgeHours", 1, 720, 24),
    ("OutageBudgetSeconds", 60, 14400, 1800)])
def test_default_parameters_have_the_documented_ranges(transformed, parameter, low, high, default):
    p = transformed["Parameters"][parameter]
    assert (p["MinValue"], p["MaxValue"], p["Default"]) == (low, high, default)


def test_every_function_gives_up_on_an_outage_after_the_one_budget(transformed):
    functions = {name: r for name, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == 12
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["DR_OUTAGE_BUDGET_SECONDS"] == {"Ref": "OutageBudgetSeconds"}, name


def test_the_drill_sweeper_parameters_default_to_an_hourly_sweep(transformed):
    params = transformed["Parameters"]
    assert params["DrillSweepSchedule"]["Default"] == "rate(1 hour)"
    assert (params["DrillSweeperEnabled"]["Default"], sorted(params["DrillSweeperEnabled"]["AllowedValues"])) \
        == ("true", ["false", "true"])
    assert params["DrillInstanceMaxAgeHours"]["Type"] == "Number"


def test_the_definition_is_kept_in_its_canonical_form():
    # One workflow definition, committed as `jq .` writes it (Python's json keeps the key order):
    # pretty-printed, one member per line, so that a diff shows what changed and the console
    # shows it whole (no line over 120 characters; tests/statemachine_contract.rs checks that).
    text = (ROOT / "statemachine" / "run-plan.asl.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", \
        "statemachine/run-plan.asl.json is not canonical: rewrite it with `jq . FILE`"
    assert sorted(p.name for p in (ROOT / "statemachine").iterdir()) == ["run-plan.asl.json"]
