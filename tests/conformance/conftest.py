"""Starts the dr-sim binary as a process, as a script or the AWS CLI would use it."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sim_url():
    binary = os.environ.get("DR_SIM_BIN", str(ROOT / "target" / "debug" / "dr-sim"))
    proc = subprocess.Popen(
        [binary, "--port", "0", "--time-scale", "0.02"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, f"dr-sim printed {line!r}"
    yield match.group(0)
    proc.terminate()
    proc.wait(timeout=10)
