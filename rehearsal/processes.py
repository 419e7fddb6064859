"""The two processes a rehearsal needs: the local endpoint and the handlers."""

import json
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The handler binaries (src/bin); each answers an empty payload with InvalidInput and no AWS call,
# which the readiness check relies on.
HANDLERS = ["prepare-plan", "start-recovery", "start-failback", "start-restore", "check-status",
            "clean-up-drill", "sweep-drill-instances", "report", "wait-for-jobs", "on-event",
            "await-approval", "answer-approval"]
# The report bucket the handlers write to (DR_REPORT_BUCKET): the Engine creates it on the local
# AWS; the deploy rehearsal gives the stack's ReportBucket this name (rehearsal.deploy.for_moto).
REPORT_BUCKET = "dr-orchestrator-reports-rehearsal"
# The wake table the wait-for-jobs and on-event handlers use (DR_WAKE_TABLE): the Engine creates it;
# the deploy rehearsal gives the stack's WakeTable this name.
WAKE_TABLE = "dr-orchestrator-wake-rehearsal"
# The approvals table the two approval handlers use (DR_APPROVALS_TABLE): the Engine creates it;
# the deploy rehearsal gives the stack's ApprovalsTable this name.
APPROVALS_TABLE = "dr-orchestrator-approvals-rehearsal"
# The plans' leases (DR_LEASE_TABLE, prepare-plan and the report): the Engine creates it; the
# deploy rehearsal gives the stack's LeaseTable this name.
LEASE_TABLE = "dr-orchestrator-leases-rehearsal"
# Who may answer approval requests in the rehearsal (DR_APPROVERS, the stack's ApproverPrincipals):
# any session of this role. The rehearsal's approver calls the endpoint as one of its sessions
# (rehearsal.approval); in AWS the function URL's IAM auth verifies the caller.
APPROVER_ROLE = "arn:aws:iam::123456789012:role/DrApprover"
# The state machines whose drills the sweeper may clean up after (DR_DRILL_WORKFLOWS; the template
# names its recovery-plan workflow): the rehearsal's recovery-plan workflow (rehearsal.workflow.
# Engine), and the one the sweeper's e2e test holds a running execution of.
E2E_DRILL_WORKFLOW = "dr-orchestrator-e2e-long-run"
DRILL_WORKFLOWS = [f"arn:aws:states:eu-west-1:123456789012:stateMachine:{name}"
                   for name in ("dr-orchestrator-recovery-plan", E2E_DRILL_WORKFLOW)]
# How long each step of a rehearsal keeps retrying DRS or Backup answering throttled or unavailable
# (DR_OUTAGE_BUDGET_SECONDS).
OUTAGE_BUDGET_SECONDS = 20
# The AWS Backup vaults a plan may restore from (DR_RESTORE_VAULTS, the template's RestoreVaults):
# the vault of dr-sim's default seed's recovery points.
RESTORE_VAULTS = ["payments-vault"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_dir():
    """Logs go outside the tree: cargo lambda watch rebuilds when a file in it changes. Each
    pytest-xdist worker (PYTEST_XDIST_WORKER) writes its own."""
    path = Path(os.environ.get("DR_REHEARSAL_LOGS", Path(tempfile.gettempdir()) / "dr-rehearsal"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        path = path / worker
    path.mkdir(parents=True, exist_ok=True)
    return path


class Sim:
    """dr-sim as a process, with its control endpoint."""

    def __init__(self, time_scale, seed=None):
        binary = os.environ.get("DR_SIM_BIN", str(ROOT / "target" / "debug" / "dr-sim"))
        args = [binary, "--port", "0", "--time-scale", str(time_scale)]
        if seed:
            args += ["--seed", str(seed)]
        self.log = open(log_dir() / "dr-sim.log", "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if not match:
            raise RuntimeError(f"dr-sim did not start: {line!r}")
        self.url = match.group(0)

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def faults(self, **faults):
        return self._call("POST", "/_sim/faults", faults)

    def reset(self):
        return self._call("POST", "/_sim/reset", {})

    def state(self):
        return self._call("GET", "/_sim/state")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


# The AWS SDKs' service-specific endpoint variables (AWS_ENDPOINT_URL_<serviceId>; SDKs and
# Tools reference, "Identifiers for service-specific endpoints"): the services dr-sim serves, and
# those the local AWS (moto, rehearsal.local_aws) serves. Step Functions' serviceId is SFN.
SIM_SERVICES = ("DRS", "BACKUP")
LOCAL_AWS_SERVICES = ("SFN", "SNS", "SQS", "DYNAMODB", "S3")


def handler_environment(endpoint_url, aws_url=None):
    """The variables every handler runs with: local credentials, the Region, and the endpoints:
    AWS_ENDPOINT_URL (any other service) and DRS, Backup at dr-sim; SFN, SNS, SQS, DynamoDB, S3
    at the local AWS when there is one."""
    env = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDLOCALREHEARSAL",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for service in SIM_SERVICES:
        env[f"AWS_ENDPOINT_URL_{service}"] = endpoint_url
    if aws_url:
        for service in LOCAL_AWS_SERVICES:
            env[f"AWS_ENDPOINT_URL_{service}"] = aws_url
        env["DR_REPORT_BUCKET"] = REPORT_BUCKET
        env["DR_WAKE_TABLE"] = WAKE_TABLE
        env["DR_APPROVALS_TABLE"] = APPROVALS_TABLE
        env["DR_LEASE_TABLE"] = LEASE_TABLE
        env["DR_APPROVERS"] = APPROVER_ROLE
    # Each step's outage budget (OutageBudgetSeconds, 30 minutes when deployed): the rehearsal's
    # outages (dr-sim's outageSeconds) last seconds, so its budget does too.
    env["DR_OUTAGE_BUDGET_SECONDS"] = str(OUTAGE_BUDGET_SECONDS)
    # (Spaces: cargo lambda watch splits --env-var values at commas.)
    env["DR_DRILL_WORKFLOWS"] = " ".join(DRILL_WORKFLOWS)
    env["DR_RESTORE_VAULTS"] = " ".join(RESTORE_VAULTS)
    return env


class Handlers:
    """The handlers under `cargo lambda watch`, pointed at the local endpoint (`endpoint_url`,
    dr-sim) and, when given, the local AWS (`aws_url`, a rehearsal.local_aws.LocalAws: start it
    first). `release` serves release builds, as deployed (the benchmark); the rehearsal and the
    tests serve debug builds, which build faster."""

    def __init__(self, endpoint_url, aws_url=None, release=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.endpoint_url = endpoint_url
        self.aws_url = aws_url
        function_env = handler_environment(endpoint_url, aws_url)
        # The process environment (cargo lambda watch itself) and the functions' (--env-var) say
        # the same; an endpoint variable inherited from the shell must not send a call elsewhere.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AWS_ENDPOINT_URL") and k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
        env.update(function_env)
        env["RUST_LOG"] = os.environ.get("RUST_LOG", "info")
        env_args = [arg for k, v in function_env.items() for arg in ("--env-var", f"{k}={v}")]
        self.log = open(log_dir() / "cargo-lambda-watch.log", "w")
        self.proc = subprocess.Popen(
            ["cargo", "lambda", "watch", "--ignore-changes", "--quiet",
             "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port),
             "--concurrency", "10", *(["--release"] if release else []), *env_args],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout=1800):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cargo lambda watch exited; see {self.log.name}")
            try:
                # An empty payload is rejected as InvalidInput before any AWS call: this only
                # waits until each handler is built and answering.
                for name in HANDLERS:
                    self.invoke(name, {})
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise RuntimeError(f"cargo lambda watch did not answer; see {self.log.name}")

    def invoke(self, name, payload):
        """POST to the Lambda Invoke API. Returns (body, errored): cargo lambda watch answers a
        function error with HTTP 500 and {errorType, errorMessage}."""
        req = urllib.request.Request(
            f"{self.url}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(payload).encode(), method="POST",
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                return resp.read().decode(), False
        except urllib.error.HTTPError as err:
            body = err.read().decode()
            if err.code == 500 and body.startswith("{"):
                return body, True
            raise

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
