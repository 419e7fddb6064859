"""Starts the dr-sim binary as a process, as a script or the AWS CLI would use it."""

import pytest
from sim_process import running_sim


@pytest.fixture(scope="module")
def sim_url():
    with running_sim() as url:
        yield url
