"""An AWS outage in the middle of a real recovery (issue "Safe on the worst day"): every DRS and
Backup call answers 503 for a while (dr-sim's outageSeconds). Each step keeps retrying for the
outage budget (DR_OUTAGE_BUDGET_SECONDS; the rehearsal's is rehearsal.processes.
OUTAGE_BUDGET_SECONDS, 30 minutes when deployed): a shorter outage is waited out and the run
succeeds; a longer one ends the run with AwsOutage, a report, and the jobs that may still be
running, and no further round or wave starts."""

import json
from pathlib import Path

from rehearsal.processes import OUTAGE_BUDGET_SECONDS

ROOT = Path(__file__).resolve().parents[2]


def real_recovery():
    return json.loads((ROOT / "events" / "statemachine" / "real-recovery.json").read_text())


def outage_once_jobs_run(sim, seconds, seen):
    """during(): once the run's first job exists, every DRS and Backup call answers 503 for
    `seconds`."""

    def during(engine, arn):
        if "outage" not in seen and sim.state()["jobs"]:
            seen["outage"] = sim.faults(outageSeconds=seconds)
            seen["jobs at the outage"] = [j["jobID"] for j in sim.state()["jobs"]]

    return during


def failed_tasks(events, error):
    return [e for e in events if e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["error"] == error]


def test_an_outage_shorter_than_the_budget_is_waited_out_and_the_recovery_succeeds(local, run):
    sim = local[0]
    seen = {}
    outage = OUTAGE_BUDGET_SECONDS // 2
    r = run("recovery-plan", real_recovery(), during=outage_once_jobs_run(sim, outage, seen))
    assert "outage" in seen, "the run ended before its first job started"
    # The outage happened to this run: its calls were answered 503, and its steps retried them.
    assert sum(r.sim["faulted"].values()) > 0, r.sim["faulted"]
    assert failed_tasks(r.events, "AwsUnavailable"), "no step of the run met the outage"
    assert not failed_tasks(r.events, "AwsOutage")
    assert r.status == "SUCCEEDED", r.cause
    assert [w["state"] for w in r.output["waves"]] == ["SUCCEEDED", "SUCCEEDED"], r.output["waves"]
    assert r.sim["calls"].get("StartRecovery", 0) == 2, r.sim["calls"]


def test_an_outage_longer_than_the_budget_ends_the_run_with_a_named_error_a_report_and_the_running_jobs(
        local, run):
    sim = local[0]
    seen = {}
    p = real_recovery()
    # Wave 0 in two rounds of one job each (2 servers, then 1): the outage begins in the first.
    p["options"] = {"batchSize": 2, "maxConcurrentJobs": 1}
    r = run("recovery-plan", p, during=outage_once_jobs_run(sim, OUTAGE_BUDGET_SECONDS * 3, seen))
    assert "outage" in seen, "the run ended before its first job started"
    [job] = seen["jobs at the outage"]
    assert (r.status, r.error) == ("FAILED", "AwsOutage"), (r.status, r.error, r.cause)
    assert job in r.cause and "may still be running" in r.cause, r.cause
    assert f"outage budget ({OUTAGE_BUDGET_SECONDS} s)" in r.cause, r.cause
    # The round gave up once its check had spent the budget: the rounds' Map failed, so the
    # second round, and the second wave, never started.
    assert failed_tasks(r.events, "AwsOutage")
    assert r.sim["calls"].get("StartRecovery", 0) == 1, r.sim["calls"]
    # The report says the same.
    outcome = r.report["outcome"]
    assert outcome["error"] == "AwsOutage" and job in outcome["cause"], outcome
    assert r.report["waves"][0]["state"] == "FAILED", r.report["waves"]
