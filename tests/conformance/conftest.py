"""Starts the dr-sim binary as a process, as a script or the AWS CLI would use it, and gives the
tests boto3 clients for it (each with a Recorder of its raw responses)."""

import pytest
from modelcheck import Recorder, client
from sim_process import control, running_sim


@pytest.fixture(scope="module")
def sim_url():
    with running_sim() as url:
        yield url


@pytest.fixture(scope="module")
def drs(sim_url):
    c = client("drs", sim_url)
    return c, Recorder(c)


@pytest.fixture(scope="module")
def backup(sim_url):
    c = client("backup", sim_url)
    return c, Recorder(c)


@pytest.fixture
def fresh_sim(sim_url):
    """The endpoint back at its seed before the test (modules that want it: usefixtures)."""
    control(sim_url, "/_sim/reset", {})
