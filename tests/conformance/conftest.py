"""Starts the dr-sim binary as a process, as a script or the AWS CLI would use it."""

import os
import re
import subprocess
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

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


def client(service, url):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
