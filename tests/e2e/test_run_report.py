"""The run report, end to end: what the report function measured against dr-sim's own timeline
(/_sim/state), the verdict against the plan's targets, a failed run's report, the history that
two runs ending at once both stay in, and the page as headless Chromium renders it."""

import json
import math
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from rehearsal.processes import REPORT_BUCKET

DRILL = json.loads((ROOT / "events" / "statemachine" / "recovery-drill.json").read_text())
CHROMIUM = Path("/usr/bin/chromium")
# Where a person finds the screenshots the browser test takes.
SCREENSHOTS = Path(os.environ.get("DR_TEST_OUTPUT", ROOT / "target" / "test-output"))


def seconds(x):
    """Whole seconds as the report rounds them (Rust's f64::round: half away from zero; Python's
    round() would take 4.5 to 4)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def epoch(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

def duration_text(seconds):
    """As the page writes durations (report::measure::duration_text)."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    h, m, s = s // 3600, (s % 3600) // 60, s % 60
    return f"{sign}{h}h {m:02d}m {s:02d}s" if h else (f"{sign}{m}m {s:02d}s" if m else f"{sign}{s}s")

def sim_servers(run):
    """source server -> (job, member) of the run's launch jobs, from dr-sim's own state."""
    return {s["sourceServerID"]: (j, s) for j in run.jobs() for s in j["servers"]}

def test_the_drill_report_measures_rto_and_rpo_from_what_drs_recorded(run):
    r = run("recovery-plan", DRILL)
    assert r.status == "SUCCEEDED", r.cause
    report = r.report
    assert report["runStartedAt"] == r.output["startedAt"]
    start = epoch(report["runStartedAt"])
    servers = {s["sourceServerId"]: s for s in report["servers"]}
    planned = [s["sourceServerID"] for w in DRILL["waves"] for s in w.get("sourceServers", [])]
    assert sorted(servers) == sorted(planned)
    sim = sim_servers(r)
    for sid, s in servers.items():
        job, member = sim[sid]
        assert s["launchStatus"] == "LAUNCHED" and s["jobId"] == job["jobID"]
        assert s["recoveryInstanceId"] == member["recoveryInstanceID"]
        # RTO: the job's end (dr-sim ends a job when its last server settles) after the run's start.
        assert s["rtoSeconds"] == seconds(job["endsMs"] / 1000 - start), (sid, s, job["endsMs"])
        assert epoch(s["launchStartedAt"]) == pytest.approx(member["settlesMs"] / 1000, abs=0.002)
        # RPO: the run's start after the point in time the instance launched from (never < 0).
        assert s["rpoSeconds"] == max(0, seconds(start - member["snapshotMs"] / 1000)), (sid, s)
        assert s["rto"] == "PASS" and s["rpo"] == "PASS"
    (restore,) = report["restores"]
    (sim_restore,) = r.sim["restoreJobs"]
    assert restore["restoreJobId"] == sim_restore["restoreJobId"] and restore["status"] == "COMPLETED"
    assert restore["rtoSeconds"] == seconds(sim_restore["endsMs"] / 1000 - start)
    assert restore["rpoSeconds"] == seconds(start - sim_restore["recoveryPointCreatedMs"] / 1000)
    assert restore["createdResourceArn"].startswith("arn:aws:elasticfilesystem:")
    # The verdict: the plan's targets (30 min RTO, 15 min RPO) met, and by how much.
    verdict = report["verdict"]
    assert verdict["state"] == "MET", verdict
    worst = max(list(servers.values()) + [restore], key=lambda x: x["rtoSeconds"])
    assert verdict["worstRto"]["seconds"] == worst["rtoSeconds"] and verdict["worstRto"]["targetSeconds"] == 1800
    assert verdict["worstRpo"]["seconds"] == max(x["rpoSeconds"] for x in list(servers.values()) + [restore])
    assert f"({duration_text(1800 - verdict['worstRto']['seconds'])} to spare)" in verdict["summary"]
    assert r.output["report"]["verdict"] == "MET" and r.output["report"]["written"] is True
    assert [w["state"] for w in report["waves"]] == ["SUCCEEDED"] * 3
    assert report["cleanup"]["state"] == "CLEANED"

def test_a_failed_drill_leaves_a_report_that_names_what_did_not_recover(run):
    broken = "s-0a1b2c3d4e5f60006"  # wave 1
    r = run("recovery-plan", DRILL, faults={"failLaunch": {broken: "InsufficientInstanceCapacity"}})
    assert r.status == "FAILED" and r.error == "RecoveryFailed", r.cause
    assert "run report: s3://" in r.cause
    report = r.report
    assert report["outcome"]["state"] == "FAILED" and report["outcome"]["error"] == "RecoveryFailed"
    servers = {s["sourceServerId"]: s for s in report["servers"]}
    failed = servers[broken]
    assert failed["launchStatus"] == "FAILED" and failed["rto"] == "FAIL" and "rtoSeconds" not in failed
    assert "InsufficientInstanceCapacity" in failed["error"]
    # Wave 2 never started: its servers are listed as such, its wave too.
    web = [s for s in report["servers"] if s["wave"] == 2]
    assert web and all(s["launchStatus"] == "NOT_STARTED" for s in web)
    assert [w["state"] for w in report["waves"]] == ["SUCCEEDED", "FAILED", "NOT_STARTED"]
    assert report["verdict"]["state"] == "MISSED"
    launched = sum(s["launchStatus"] == "LAUNCHED" for s in report["servers"])
    assert f"{launched + 1} of 14 servers and restores recovered" in report["verdict"]["summary"]
    # Measured before the cleanup terminated the instances: their snapshot times are known.
    assert all("rpoSeconds" in s for s in report["servers"] if s["launchStatus"] == "LAUNCHED")
    assert report["cleanup"]["state"] == "CLEANED"

def test_runs_ending_at_once_all_stay_in_the_history(run, local):
    _, aws, handlers = local
    r = run("recovery-plan", DRILL)
    assert r.status == "SUCCEEDED", r.cause
    # The report task's own input, as Step Functions sent it, re-sent for eight runs at once.
    scheduled = [json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in r.events
                 if e["type"] == "TaskScheduled"]
    (payload,) = [p["Payload"] for p in scheduled if p.get("Payload", {}).get("operation") == "WRITE"]
    base = payload["run"]["executionId"]
    ids = [f"{base}-together-{i}" for i in range(8)]

    def write(execution_id):
        body = json.loads(json.dumps(payload))
        body["run"]["executionId"] = execution_id
        body["run"].pop("measured", None)
        answer, errored = handlers.invoke("report", body)
        assert not errored, answer
        return json.loads(answer)

    with ThreadPoolExecutor(len(ids)) as pool:
        answers = list(pool.map(write, ids))
    assert all(a["report"]["written"] for a in answers)
    s3 = aws.client("s3")
    history = json.loads(s3.get_object(Bucket=REPORT_BUCKET, Key="runs/index.json")["Body"].read())
    listed = [e["executionId"] for e in history["runs"]]
    assert set(ids) | {base} <= set(listed), listed
    assert len(listed) == len(set(listed)), "one entry per execution"
    page = s3.get_object(Bucket=REPORT_BUCKET, Key="runs/index.html")["Body"].read().decode()
    for execution_id in ids:
        assert f'data-execution="{execution_id}"' in page, execution_id

@pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("DR_REQUIRE_BROWSER") != "1",
                    reason="headless Chromium (/usr/bin/chromium) is not installed: bash scripts/setup.sh --with-browser")
def test_the_report_page_renders_in_headless_chromium(run):
    assert shutil.which("node"), "node is needed to drive Chromium (playwright-core)"
    r = run("recovery-plan", DRILL)
    assert r.status == "SUCCEEDED", r.cause
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "report-default-drill.png"
    done = subprocess.run(["node", str(ROOT / "tests" / "browser" / "render_page.mjs"), str(r.report_html), str(shot)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)
    assert page["consoleErrors"] == [] and page["pageErrors"] == [] and page["failedRequests"] == [], page
    text = page["text"]
    assert "MET" in text and r.report["verdict"]["summary"] in text
    rendered = {row["id"]: int(row["seconds"]) for row in page["rto"]}
    for s in r.report["servers"]:
        assert rendered[f"server-{s['sourceServerId']}"] == s["rtoSeconds"]
        assert duration_text(s["rtoSeconds"]) in text
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
