"""Runs the dr-sim binary as a process, as a script or the AWS CLI would use it. (Not in
conftest.py: test modules import this, and `conftest` is ambiguous when pytest also loads
tests/e2e/conftest.py.)"""

import json
import os
import re
import subprocess
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("DR_SIM_BIN", str(ROOT / "target" / "debug" / "dr-sim"))


@contextmanager
def running_sim(*args):
    """Runs `dr-sim --port 0 --time-scale 0.02 ARGS...` and yields its URL."""
    proc = subprocess.Popen(
        [BINARY, "--port", "0", "--time-scale", "0.02", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, f"dr-sim printed {line!r}"
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def control(url, path, body=None):
    """The endpoint's control API (`/_sim/...`): GET without a body, POST with one."""
    req = urllib.request.Request(
        f"{url}{path}", method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())
