"""The deploy rehearsal: template.yaml, through SAM's real transform, created as a stack on moto's
CloudFormation (moto in server mode, in this process, on 127.0.0.1), and the workflows *that the
stack created* run with their Lambda functions routed to the real handlers.

What the stack's resources are, their names, ARNs, roles, the workflows' substitutions and the
rules' targets all come from CloudFormation as moto deploys the template; nothing is wired here
by hand. The template is changed only where moto cannot do what CloudFormation does (`for_moto`:
the state machines' DefinitionSubstitutions); moto itself runs as rehearsal.local_aws.LocalAws,
which explains its adjustments of moto 5.2.1 (the interpreter's boto clients, Lambda invoke
forwarded to the real handler, CloudFormation creating state machines in the interpreter's
backend, a state machine running more than once, $$.State.EnteredTime as AWS writes it,
atomic DynamoDB writes, a task token answered once). Approval requests the deployed workflows
publish to the stack's NotificationsTopic are approved automatically unless `approval` says
otherwise ("reject", "never").

    sim = Sim(time_scale=0.05)                      # rehearsal.processes
    with LocalAws() as aws:                         # rehearsal.local_aws: before the handlers
        handlers = Handlers(sim.url, aws.url)
        with DeployedStack(handlers, aws=aws) as stack:
            arn = stack.start(plan, "drill")        # on the stack's RecoveryPlanStateMachine
            result = stack.wait(arn)
        handlers.stop()
    sim.stop()
"""

import copy
import io
import json
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path

from moto.awslambda.exceptions import UnknownFunctionException

from .harness import Harness
from .local_aws import ACCOUNT, REGION
from .processes import APPROVALS_TABLE, APPROVER_ROLE, LEASE_TABLE, REPORT_BUCKET, RESTORE_VAULTS, ROOT, WAKE_TABLE

# What stands for the approval endpoint's URL in the deployed stack (moto cannot create it).
LOCAL_APPROVAL_ENDPOINT = "https://approval-endpoint.rehearsal.invalid/"
SAM_PYTHON = Path(os.environ.get("DR_SAM_PYTHON", ROOT / ".tools" / "sam" / "bin" / "python"))
STACK_NAME = "dr-orchestrator"
# The stack's functions (logical IDs) and the handler binaries that serve them.
FUNCTIONS = {
    "PreparePlanFunction": "prepare-plan",
    "StartRecoveryFunction": "start-recovery",
    "StartFailbackFunction": "start-failback",
    "StartRestoreFunction": "start-restore",
    "CheckStatusFunction": "check-status",
    "CleanUpDrillFunction": "clean-up-drill",
    "SweepDrillInstancesFunction": "sweep-drill-instances",
    "ReportFunction": "report",
    "WaitForJobsFunction": "wait-for-jobs",
    "OnEventFunction": "on-event",
    "AwaitApprovalFunction": "await-approval",
    "AnswerApprovalFunction": "answer-approval",
}
# The functions each state machine's tasks can invoke. The one definition names them all; what a
# workflow runs comes from prepare-plan (a failback prepares only failback jobs, a restore only
# restores, only a drill cleans up), and each state machine's role may invoke only these.
WORKFLOW_FUNCTIONS = {
    "RecoveryPlanStateMachine": {"PreparePlanFunction", "StartRecoveryFunction", "StartRestoreFunction",
                                 "WaitForJobsFunction", "CheckStatusFunction", "CleanUpDrillFunction",
                                 "ReportFunction", "AwaitApprovalFunction"},
    "FailbackStateMachine": {"PreparePlanFunction", "StartFailbackFunction", "WaitForJobsFunction",
                             "CheckStatusFunction", "ReportFunction", "AwaitApprovalFunction"},
    "RestoreStateMachine": {"PreparePlanFunction", "StartRestoreFunction", "WaitForJobsFunction",
                            "CheckStatusFunction", "ReportFunction", "AwaitApprovalFunction"},
}


def transformed_template():
    """template.yaml as CloudFormation receives it: scripts/sam_transform.py (SAM's real
    transform) run with the .tools/sam virtualenv, as tests/template does."""
    if not SAM_PYTHON.exists():
        # A fresh machine: the deployment check's own install of aws-sam-cli (samtranslator).
        subprocess.run(["bash", str(ROOT / "scripts" / "check_deploy.sh"), "--tools-only"], check=True, cwd=ROOT)
    done = subprocess.run([str(SAM_PYTHON), str(ROOT / "scripts" / "sam_transform.py"), str(ROOT / "template.yaml")],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"SAM's transform rejects template.yaml:\n{done.stderr}")
    return json.loads(done.stdout)


def _definition_text(value):
    """A DefinitionString as the transform writes it: a string, or Fn::Join of literal lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Fn::Join"]:
        sep, parts = value["Fn::Join"]
        if all(isinstance(p, str) for p in parts):
            return sep.join(parts)
    raise ValueError(f"a DefinitionString this rehearsal cannot read: {json.dumps(value)[:200]}")


def _sub_reference(value):
    """A DefinitionSubstitutions value as the Fn::Sub reference CloudFormation resolves the same
    way: {"Fn::GetAtt": [X, Arn]} -> ${X.Arn}, {"Ref": X} -> ${X}; literals stay literal."""
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        logical, attribute = value["Fn::GetAtt"]
        return "${" + f"{logical}.{attribute}" + "}"
    if isinstance(value, dict) and list(value) == ["Ref"]:
        return "${" + value["Ref"] + "}"
    if isinstance(value, (str, int, float)) and "${" not in str(value):
        return str(value)
    raise ValueError(f"a DefinitionSubstitutions value this rehearsal cannot express: {value!r}")


def for_moto(template):
    """The transformed template, changed only where moto 5's CloudFormation cannot do what
    CloudFormation does. Returns (template, notes): one note per change.

    1. AWS::StepFunctions::StateMachine: moto reads only DefinitionString and ignores
       DefinitionSubstitutions (so every ${...FunctionArn} would reach the deployed definition
       unfilled). Each placeholder is rewritten into the Fn::Sub reference its substitution
       names (${PreparePlanFunctionArn} with {"Fn::GetAtt": [PreparePlanFunction, Arn]} becomes
       ${PreparePlanFunction.Arn}) and the definition is wrapped in that Fn::Sub: moto itself
       then fills in the ARNs of the functions the stack created, as CloudFormation fills the
       substitutions. (The list form of Fn::Sub is not used: moto runs it through
       string.Template, which turns the definition's $$.Execution.Id into $.Execution.Id.)
       A placeholder without a substitution, or a substitution that is not used, is an error,
       as it is for CloudFormation. moto also ignores LoggingConfiguration and
       TracingConfiguration (the state machines are created without them); nothing is changed
       for that, and tests/template checks both on the transformed template.

    2. AWS::S3::Bucket ReportBucket gets a BucketName: the one the handlers were started with
       (DR_REPORT_BUCKET, rehearsal.processes.REPORT_BUCKET). The handlers run under `cargo
       lambda watch` before the stack exists, so they cannot be given the name moto would
       choose; the deployed function's environment still names the bucket by its Ref, and the
       deploy tests check that it resolves to this name.

    3. AWS::DynamoDB::Table WakeTable gets a TableName for the same reason: the one the
       handlers were started with (DR_WAKE_TABLE, rehearsal.processes.WAKE_TABLE).

    Nothing else is changed. The resource types moto cannot create at all (CloudWatch alarms,
    SNS subscriptions and topic policies, SQS queue policies) stay in the template: moto skips
    them with a warning, and `DeployedStack.skipped` lists them. Properties moto creates a
    resource without: a function's Architectures (moto reports x86_64) and LoggingConfig, a
    state machine's logging and tracing. tests/template checks all of these on the transformed
    template, cfn-lint and checkov on the template as CloudFormation receives it.
    """
    template = copy.deepcopy(template)
    notes = []
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        if "Definition" in props or "DefinitionS3Location" in props:
            raise ValueError(f"{logical}: moto reads only DefinitionString")
        text = _definition_text(props["DefinitionString"])
        if "${!" in text:
            raise ValueError(f"{logical}: a literal ${{! in the definition would be changed by Fn::Sub")
        substitutions = props.pop("DefinitionSubstitutions", {})
        used = set(re.findall(r"\$\{([^}]*)\}", text))
        if used - set(substitutions):
            raise ValueError(f"{logical}: placeholders without a substitution: {sorted(used - set(substitutions))}")
        if set(substitutions) - used:
            raise ValueError(f"{logical}: unused substitutions: {sorted(set(substitutions) - used)}")
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", _sub_reference(value))
        props["DefinitionString"] = {"Fn::Sub": text}
        notes.append(f"{logical}: DefinitionSubstitutions {sorted(substitutions)} as Fn::Sub references")
    bucket = template["Resources"].get("ReportBucket")
    if bucket is not None:
        bucket.setdefault("Properties", {})["BucketName"] = REPORT_BUCKET
        notes.append(f"ReportBucket: BucketName {REPORT_BUCKET} (the name the handlers were started with)")
    for logical, name in (("WakeTable", WAKE_TABLE), ("ApprovalsTable", APPROVALS_TABLE),
                          ("LeaseTable", LEASE_TABLE)):
        table = template["Resources"].get(logical)
        if table is not None:
            table.setdefault("Properties", {})["TableName"] = name
            notes.append(f"{logical}: TableName {name} (the name the handlers were started with)")
    urls = {n for n, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Url"}

    def without_url(value):
        if isinstance(value, dict):
            if list(value) == ["Fn::GetAtt"] and value["Fn::GetAtt"][0] in urls:
                return LOCAL_APPROVAL_ENDPOINT
            return {k: without_url(v) for k, v in value.items()}
        if isinstance(value, list):
            return [without_url(v) for v in value]
        return value

    if urls:
        template = without_url(template)
        notes.append(f"{sorted(urls)}: FunctionUrl as {LOCAL_APPROVAL_ENDPOINT} (moto cannot create AWS::Lambda::Url)")
    return template, notes


class DeployedStack(Harness):
    """The stack created from the transformed template on a LocalAws (moto in server mode), its
    Lambda functions served by `handlers`; the lifecycle, the approvals (`approval`: "auto",
    "reject" or "never", answered as a session of the rehearsal's approver role) and the reading back are
    rehearsal.harness.Harness's."""

    def __init__(self, handlers, template=None, stack_name=STACK_NAME, parameters=None, timeout=120, aws=None,
                 approval="auto"):
        super().__init__(handlers, aws=aws, approval=approval,
                         approved_by="arn:aws:sts::123456789012:assumed-role/DrApprover/deploy-rehearsal")
        self.template = template if template is not None else transformed_template()
        self.stack_name = stack_name
        # ApproverPrincipals and NotificationEmail have no default: the rehearsal's deployment
        # names the role whose sessions its handlers accept (rehearsal.processes.APPROVER_ROLE)
        # and someone to tell (subscriptions are a type moto's CloudFormation skips).
        self.parameters = {"ApproverPrincipals": APPROVER_ROLE, "NotificationEmail": "dr-oncall@example.com",
                           "RestoreVaults": ",".join(RESTORE_VAULTS), **(parameters or {})}
        self.timeout = timeout
        self.notes = []
        self.skipped = {}  # resource types moto skipped -> logical IDs

    def _set_up(self, aws):
        self._deploy()
        # A topic's physical ID is its ARN.
        return [self.physical_id(t) for t in ("NotificationsTopic", "ApprovalsTopic") if t in self.resources]

    # -- deploying ---------------------------------------------------------------------------

    def _upload_code(self, template):
        """The S3 objects the functions' Code points at (what `sam package` would upload): moto
        reads the zip when it creates a function. The zip is a placeholder: the code that runs
        is the handler binary `cargo lambda watch` serves."""
        s3 = self.client("s3")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bootstrap", "served by cargo lambda watch")
        for logical, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            code = resource["Properties"]["Code"]
            bucket, key = code["S3Bucket"], code["S3Key"]
            existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())

    def _deploy(self):
        template, self.notes = for_moto(self.template)
        self._upload_code(template)
        cfn = self.client("cloudformation")
        params = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in self.parameters.items()]
        self.stack_id = cfn.create_stack(StackName=self.stack_name, TemplateBody=json.dumps(template),
                                         Parameters=params, Capabilities=["CAPABILITY_IAM"])["StackId"]
        deadline = time.time() + self.timeout
        while True:
            stack = cfn.describe_stacks(StackName=self.stack_id)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                break
            if time.time() > deadline:
                raise TimeoutError(f"stack still {stack['StackStatus']} after {self.timeout} s")
            time.sleep(0.2)
        self.status = stack["StackStatus"]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if self.status != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {self.stack_name}: {self.status}: {stack.get('StackStatusReason')}")
        listed = cfn.describe_stack_resources(StackName=self.stack_id)["StackResources"]
        # moto lists a resource it skipped as an entry without LogicalResourceId.
        self.resources = {r["LogicalResourceId"]: r for r in listed if "LogicalResourceId" in r}
        self.unnamed_entries = len(listed) - len(self.resources)
        # Conditions moto decided false leave resources out; the rest it did not create.
        for logical, resource in template["Resources"].items():
            if logical in self.resources:
                continue
            if "Condition" in resource and not self._condition(template, resource["Condition"]):
                continue
            self.skipped.setdefault(resource["Type"], []).append(logical)
        missing = set(FUNCTIONS) - set(self.resources)
        if missing:
            raise RuntimeError(f"the stack did not create {sorted(missing)}")
        # Function name (as the stack named it) -> handler binary.
        self.handler_by_function = {self.resources[logical]["PhysicalResourceId"]: handler
                                    for logical, handler in FUNCTIONS.items()}

    def _condition(self, template, name):
        """moto's own verdict on a condition: its parsed stack knows it."""
        from moto.cloudformation.models import cloudformation_backends
        stack = cloudformation_backends[ACCOUNT][REGION].stacks[self.stack_id]
        return stack.resource_map.lazy_condition_map[name]

    def _handler_of(self, backend, function_name):
        """The handler of a function the stack created, by its name or ARN (the only callers'
        forms); anything else is Lambda's own ResourceNotFoundException, as in AWS."""
        fn = backend.get_function(function_name)  # raises UnknownFunctionException (404)
        handler = self.handler_by_function.get(fn.function_name)
        if handler is None:
            raise UnknownFunctionException(fn.function_arn)
        return handler

    # -- reading the stack -------------------------------------------------------------------

    def physical_id(self, logical):
        return self.resources[logical]["PhysicalResourceId"]

    def of_type(self, kind):
        return {n: r for n, r in self.resources.items() if r["ResourceType"] == kind}

    def state_machine_arn(self, logical="RecoveryPlanStateMachine"):
        # A state machine's physical ID is its ARN.
        return self.physical_id(logical)

    # -- running -----------------------------------------------------------------------------

    def start(self, plan, name, state_machine="RecoveryPlanStateMachine"):
        """Starts an execution of a state machine the stack created (called `name`, or `name-2`,
        ... when that name was used already)."""
        return self.start_execution(self.state_machine_arn(state_machine), plan, name)
