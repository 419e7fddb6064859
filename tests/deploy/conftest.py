"""One deployed stack for the deploy tests: dr-sim, moto in server mode (rehearsal.local_aws),
the handlers under `cargo lambda watch` (pointed at both), and template.yaml (through SAM's real
transform) created as a stack on moto's CloudFormation, its Lambda functions served by those
handlers (rehearsal/deploy.py). Module-scoped: moto's backends are per process, so the e2e
tests' local AWS and this one never run at the same time."""


import pytest


from rehearsal.deploy import DeployedStack, transformed_template
from rehearsal.local_aws import LocalAws
from rehearsal.processes import Handlers, Sim


@pytest.fixture(scope="session")
def transformed():
    return transformed_template()


@pytest.fixture(scope="module")
def deployed(transformed):
    sim = Sim(time_scale=0.05)
    handlers = None
    try:
        with LocalAws() as aws:
            try:
                handlers = Handlers(sim.url, aws.url)
                with DeployedStack(handlers, template=transformed, aws=aws) as stack:
                    stack.sim = sim
                    yield stack
            finally:
                if handlers:
                    handlers.stop()
    finally:
        sim.stop()
