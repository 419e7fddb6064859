"""One local endpoint (dr-sim), one local AWS (moto in server mode, rehearsal.local_aws) and one
`cargo lambda watch` for the e2e tests; a reset endpoint for every test. Every run is a new
execution on the same Step Functions; approval requests are answered as `approval` says.
Module-scoped: moto's backends are per process, so this local AWS and the deploy tests' one
never run at the same time."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from rehearsal.approval import is_approval_request
from rehearsal.completion import clear_wake_table
from rehearsal.local_aws import LocalAws
from rehearsal.processes import REPORT_BUCKET, Handlers, Sim
from rehearsal.report import fetch_report
from rehearsal.workflow import Engine, budgeted, cost, last_statuses, run_states, waits

IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"
# Who answers approval requests in the e2e runs: a session of the rehearsal's approver role, the
# ARN the function URL's IAM auth would verify (rehearsal.approval.function_url_event).
APPROVED_BY = "arn:aws:sts::123456789012:assumed-role/DrApprover/e2e"


@pytest.fixture(scope="module")
def local():
    """(sim, aws, handlers): the local AWS starts before the handlers, which call it."""
    sim = Sim(time_scale=0.05)
    handlers = None
    try:
        with LocalAws() as aws:
            try:
                handlers = Handlers(sim.url, aws.url)
                yield sim, aws, handlers
            finally:
                if handlers:
                    handlers.stop()
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def stack(local):
    sim, _, handlers = local
    return sim, handlers


class Run:
    """A finished execution: its result, history and what the endpoint saw."""

    def __init__(self, result, events, sim_state, invocations, notifications=(), answers=(), report_html=None,
                 deliveries=(), pump_errors=()):
        self.result = result
        # The run report the report function wrote, copied from the local S3: report.html and
        # the report.json beside it (None for a run whose plan was never prepared).
        self.report_html = report_html
        self.report = json.loads((report_html.parent / "report.json").read_text()) if report_html else None
        self.status = result["status"]
        self.error = result.get("error")
        self.cause = result.get("cause") or ""
        self.output = json.loads(result["output"]) if result.get("output") else None
        self.events = events
        self.sim = sim_state
        self.invocations = invocations
        self.cost = cost(events)
        self.statuses = last_statuses(events)
        # How the rounds' waits ended ({"woken", "timedOut", "failed"}), and what the completion
        # rules delivered to on-event: (event id, rule, function ARN, on-event's answer).
        self.waits = waits(events)
        self.deliveries = list(deliveries)
        self.pump_errors = list(pump_errors)
        # What the run published, in order: {"subject", "message", "attributes", ...}.
        self.notifications = list(notifications)
        self.approval_requests = [n for n in self.notifications if is_approval_request(n)]
        # How each request was answered: (approval id, HTTP status, the endpoint's answer).
        self.answers = list(answers)

    def jobs(self, initiated_by=None):
        """The DRS jobs the run started: its launches (drill, recovery, failback) unless
        `initiated_by` names a kind, e.g. TERMINATE_RECOVERY_INSTANCES for a drill's cleanup."""
        if initiated_by is None:
            return [j for j in self.sim["jobs"] if j["initiatedBy"] != "TERMINATE_RECOVERY_INSTANCES"]
        return [j for j in self.sim["jobs"] if j["initiatedBy"] == initiated_by]

    def wave_jobs(self, wave):
        return [j for j in self.sim["jobs"] if f"#w{wave}#" in j["tags"].get(IDEMPOTENCY_TAG, "")]


class LosingAnswers:
    """The handlers, except that the first `count` answers of `function` are lost after the
    handler ran, as when a Lambda times out after DRS accepted the call: the task fails with
    Sandbox.Timedout although the job was started."""

    def __init__(self, handlers, function, count):
        self.handlers, self.function, self.left = handlers, function, count

    def invoke(self, name, payload):
        answer, errored = self.handlers.invoke(name, payload)
        if name == self.function and self.left > 0:
            self.left -= 1
            return json.dumps({"errorType": "Sandbox.Timedout",
                               "errorMessage": "Task timed out after 30.00 seconds"}), True
        return answer, errored


def entered(events):
    return {e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")}


def rust_test(name):
    """The executable of the Rust integration test `tests/<name>.rs` (built if it is not)."""
    built = subprocess.run(["cargo", "test", "-q", "-p", "dr-orchestrator", "--test", name, "--no-run",
                            "--message-format=json"], cwd=ROOT, capture_output=True, text=True, check=True)
    artifacts = [json.loads(line) for line in built.stdout.splitlines() if line.startswith("{")]
    return next(a["executable"] for a in artifacts if a.get("executable") and a["target"]["name"] == name)


@pytest.fixture(scope="session")
def rust_checks(tmp_path_factory):
    """check(name, events): two Rust tests read what the run wrote. tests/run_state.rs reads back
    every state it entered into the run state's types (RunState, WaveState); tests/history_budget.rs
    checks the history, part by part, against the history budget prepare-plan enforces. Either
    failing fails the calling test."""
    binaries = {"DR_RUN_STATES": rust_test("run_state"), "DR_RUN_HISTORIES": rust_test("history_budget")}
    directory = tmp_path_factory.mktemp("run-checks")

    def check(name, events):
        written = {"DR_RUN_HISTORIES": {name: budgeted(events)}}
        states = run_states(events)
        if states:
            written["DR_RUN_STATES"] = {name: states}
        for variable, content in written.items():
            path = directory / f"{name}.{variable.lower()}.json"
            path.write_text(json.dumps(content))
            done = subprocess.run([binaries[variable], "--quiet"], env={**os.environ, variable: str(path)},
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"{name}: {variable} check failed:\n" \
                + done.stdout[-3000:] + done.stderr[-2000:]

    return check


@pytest.fixture
def run(local, tmp_path_factory, rust_checks):
    """run(workflow, plan, ...) -> Run. approval: "auto" approves every approval request (as
    APPROVED_BY), "reject" rejects it (error Rejected), "never" leaves it unanswered (the
    workflow's timeout ends the run). `during(engine, arn)`, if given, is called about twice a
    second while the run goes (what a person or an intruder does meanwhile)."""
    sim, aws, handlers = local

    def go(workflow, plan, faults=None, poll=1, name="e2e", give_up=300, reset=True, lose_answers=None,
           approval="auto", timeout=600, during=None):
        assert approval in ("auto", "reject", "never"), approval
        if reset:
            sim.reset()
            clear_wake_table(aws.client("dynamodb"))
        if faults:
            sim.faults(**faults)
        plan = json.loads(json.dumps(plan))
        body = plan["plan"] if "plan" in plan else plan  # an EventBridge rule's {plan, trigger}
        options = body.setdefault("options", {})
        options.setdefault("pollIntervalSeconds", poll)
        options.setdefault("giveUpAfterSeconds", give_up)
        invoker = LosingAnswers(handlers, *lose_answers) if lose_answers else handlers
        with Engine(invoker, aws, approval=approval, approved_by=APPROVED_BY) as engine:
            arn = engine.start(workflow, plan, name)
            result = engine.wait(arn, timeout=timeout, on_tick=(lambda: during(engine, arn)) if during else None)
            events = engine.history(arn)
            report = fetch_report(aws.client("s3"), REPORT_BUCKET, arn, tmp_path_factory.mktemp("reports"))
            # Every run leaves a report, succeeded, failed or refused, and says where it is.
            states = entered(events)
            assert states & {"Write the report", "Report the refused run"}, f"{arn} ended without its report step"
            assert report is not None, f"{arn}: no report in the bucket"
            where = json.loads(result["output"])["report"]["html"] if result["status"] == "SUCCEEDED" \
                else result.get("cause", "")
            assert report.parent.name in where, f"{arn}: the report's location is not in {where!r}"
            # Every state it wrote is one the run state's types read back whole, and each part of
            # its history is within the history budget.
            rust_checks(arn.rsplit(":", 1)[-1], events)
            completion = engine.completion
            if completion:
                completion.stop()
            return Run(result, events, sim.state(), dict(engine.stats.invocations),
                       engine.notifications(), engine.approver.answers, report_html=report,
                       deliveries=completion.delivery.delivered if completion else [],
                       pump_errors=completion.errors if completion else [])

    return go
