"""One deployed stack for the session: dr-sim, the five handlers under `cargo lambda watch`, and
template.yaml (through SAM's real transform) created as a stack on moto's CloudFormation in
server mode, its Lambda functions served by those handlers (rehearsal/deploy.py)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rehearsal.deploy import DeployedStack, transformed_template  # noqa: E402
from rehearsal.processes import Handlers, Sim  # noqa: E402


@pytest.fixture(scope="session")
def transformed():
    return transformed_template()


@pytest.fixture(scope="session")
def deployed(transformed):
    sim = Sim(time_scale=0.05)
    handlers = None
    try:
        handlers = Handlers(sim.url)
        with DeployedStack(handlers, template=transformed) as stack:
            stack.sim = sim
            yield stack
    finally:
        if handlers:
            handlers.stop()
        sim.stop()
