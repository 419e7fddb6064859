"""What a run publishes to the notifications topic, in order, with subjects a person can act on,
JSON bodies and the kind and severity as message attributes."""

import json
from pathlib import Path

from rehearsal.workflow import APPROVALS_TOPIC_ARN

ROOT = Path(__file__).resolve().parents[2]

RECOVERY = json.loads((ROOT / "events/statemachine/real-recovery.json").read_text())
DRILL = json.loads((ROOT / "events/statemachine/recovery-drill.json").read_text())


def kinds(run):
    return [(n["attributes"]["kind"]["Value"], n["attributes"]["severity"]["Value"]) for n in run.notifications]


def check_subjects(run):
    for n in run.notifications:
        subject = n["subject"]
        assert subject and len(subject) < 100 and all(" " <= c <= "~" for c in subject), subject
        kind = n["attributes"]["kind"]["Value"]
        if n["topicArn"] == APPROVALS_TOPIC_ARN:
            # An approval request is text a person reads in the e-mail; its kind is the attribute.
            assert kind == "APPROVAL_NEEDED" and isinstance(n["message"], str), n
        else:
            # Every other message is JSON whose kind is the attribute's (a filter policy's).
            assert isinstance(n["message"], dict) and n["message"]["kind"] == kind, n


def test_a_real_recovery_announces_its_start_the_approval_each_wave_and_its_end(run):
    r = run("recovery-plan", RECOVERY)
    assert r.status == "SUCCEEDED", r.cause
    assert kinds(r) == [("RUN_STARTED", "INFO"), ("APPROVAL_NEEDED", "ACTION_REQUIRED"),
                        ("WAVE_FINISHED", "INFO"), ("WAVE_FINISHED", "INFO"), ("RUN_FINISHED", "INFO")]
    check_subjects(r)
    started, _, data, app, finished = r.notifications
    assert started["subject"] == "REAL recovery of payments disaster recovery started: 2 waves, 7 servers"
    body = started["message"]
    assert body["kind"] == "RUN_STARTED" and body["isDrill"] is False and body["servers"] == 7
    assert body["restores"] == 0 and body["trigger"]["kind"] == "CONSOLE"
    assert [w["name"] for w in body["waves"]] == ["data", "application"]
    assert [w["servers"] for w in body["waves"]] == [3, 4]
    assert body["executionId"] == r.result["executionArn"]
    assert data["subject"] == "REAL recovery of payments disaster recovery: wave 0 (data) SUCCEEDED"
    assert app["subject"].endswith("wave 1 (application) SUCCEEDED")
    wave = data["message"]
    assert wave["state"] == "SUCCEEDED" and "3" in wave["summary"], wave
    assert wave["startedAt"] and wave["endedAt"]
    assert finished["subject"] == "REAL recovery of payments disaster recovery SUCCEEDED"
    report = finished["message"]["report"]
    assert report["written"] is True and report["html"] == r.output["report"]["html"], report
    assert report["verdict"] and report["summary"]


def test_a_failed_drill_says_which_wave_server_and_why_and_where_the_report_is(run):
    failing = "s-0a1b2c3d4e5f6000a"  # in the data wave
    r = run("recovery-plan", DRILL, faults={"failLaunch": {failing: "InsufficientInstanceCapacity"}})
    assert r.status == "FAILED"
    assert kinds(r) == [("RUN_STARTED", "INFO"), ("WAVE_FINISHED", "INFO"), ("RUN_FAILED", "ERROR")]
    check_subjects(r)
    _, wave, failed = r.notifications
    assert wave["subject"] == "Drill of payments monthly drill: wave 0 (data) FAILED"
    assert wave["message"]["error"] == "RecoveryFailed"
    assert failed["subject"] == "Drill of payments monthly drill FAILED"
    outcome = failed["message"]["outcome"]
    assert outcome["error"] == "RecoveryFailed"
    assert failing in outcome["cause"] and "InsufficientInstanceCapacity" in outcome["cause"], outcome
    assert "data" in outcome["cause"]
    report = failed["message"]["report"]
    assert report["written"] is True and report["html"].endswith("/report.html")
    assert report["html"].split("/")[-2] in r.cause  # the same report the run's cause names


def test_a_refused_run_says_so_with_its_error_and_where_its_report_is(run):
    bad = json.loads((ROOT / "events/statemachine/invalid-bad-server-in-wave-3.json").read_text())
    r = run("recovery-plan", bad)
    assert (r.status, r.error) == ("FAILED", "InvalidInput")
    assert kinds(r) == [("RUN_FAILED", "ERROR")]
    check_subjects(r)
    [refused] = r.notifications
    assert refused["subject"] == "Drill of a typo in the last wave refused, nothing started"
    body = refused["message"]
    assert body["executionId"] == r.result["executionArn"]
    assert body["outcome"]["error"] == "InvalidInput"
    assert "waves[2].sourceServers[1].sourceServerID" in body["outcome"]["cause"], body
    report = body["report"]
    assert report["written"] is True and report["html"].endswith("/report.html")
    assert report["html"].split("/")[-2] in r.cause  # the report the run's cause names

    blocked = json.loads((ROOT / "events/statemachine/real-recovery-blocked-by-preflight.json").read_text())
    r = run("recovery-plan", blocked)
    assert (r.status, r.error) == ("FAILED", "PreflightBlocked")
    assert kinds(r) == [("RUN_FAILED", "ERROR")]
    [refused] = r.notifications
    assert refused["subject"].startswith("REAL recovery of ") and refused["subject"].endswith(" refused, nothing started")
    assert refused["message"]["outcome"]["error"] == "PreflightBlocked"
