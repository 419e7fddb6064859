"""One local endpoint and one `cargo lambda watch` for the whole session; a fresh moto Step
Functions and a reset endpoint for every test."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rehearsal.processes import Handlers, Sim  # noqa: E402
from rehearsal.workflow import Engine, cost, last_statuses  # noqa: E402

IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"


@pytest.fixture(scope="session")
def stack():
    sim = Sim(time_scale=0.05)
    handlers = Handlers(sim.url)
    yield sim, handlers
    handlers.stop()
    sim.stop()


class Run:
    """A finished execution: its result, history and what the endpoint saw."""

    def __init__(self, result, events, sim_state, invocations):
        self.result = result
        self.status = result["status"]
        self.error = result.get("error")
        self.cause = result.get("cause") or ""
        self.output = json.loads(result["output"]) if result.get("output") else None
        self.events = events
        self.sim = sim_state
        self.invocations = invocations
        self.cost = cost(events)
        self.statuses = last_statuses(events)

    def jobs(self, initiated_by=None):
        return [j for j in self.sim["jobs"] if initiated_by is None or j["initiatedBy"] == initiated_by]

    def wave_jobs(self, wave):
        return [j for j in self.sim["jobs"] if f"#w{wave}#" in j["tags"].get(IDEMPOTENCY_TAG, "")]


@pytest.fixture
def run(stack):
    sim, handlers = stack

    def go(workflow, plan, faults=None, poll=1, name="e2e", give_up=300):
        sim.reset()
        if faults:
            sim.faults(**faults)
        plan = json.loads(json.dumps(plan))
        options = plan.setdefault("options", {})
        options.setdefault("pollIntervalSeconds", poll)
        options.setdefault("giveUpAfterSeconds", give_up)
        with Engine(handlers) as engine:
            arn = engine.start(workflow, plan, name)
            result = engine.wait(arn, timeout=600)
            events = engine.history(arn)
            return Run(result, events, sim.state(), dict(engine.stats.invocations))

    return go
