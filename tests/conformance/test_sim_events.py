"""dr-sim's EventBridge events (`GET /_sim/events`) after jobs started with boto3: one DRS
`DRS Source Server Launch Result` per server of a recovery / drill launch, one AWS Backup
`Restore Job State Change` per restore job, the `events` faults (drop, delaySeconds, duplicate),
and `rehearsal.sim_events.EventPump`, which delivers them. The sim runs with --time-scale 0.02
(sim_process): a job or restore ends in under half a second."""

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
from sim_process import ROOT, control


from rehearsal.sim_events import EventPump

S1 = "s-0a1b2c3d4e5f60001"
S2 = "s-0a1b2c3d4e5f60002"
S3 = "s-0a1b2c3d4e5f60003"
NOBODY = "s-zzzzzzzzzzzzzzzzz"
ACCOUNT, REGION = "123456789012", "eu-west-1"
EFS_RP = "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
EBS_RP = "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def events(url):
    return control(url, "/_sim/events")["events"]


def second(ms):
    """What an event's `time` is for a moment in epoch milliseconds."""
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def until(check, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def check_shape(e, detail_type, source):
    assert set(e) == KEYS, e
    assert (e["version"], e["detail-type"], e["source"]) == ("0", detail_type, source)
    assert (e["account"], e["region"]) == (ACCOUNT, REGION)
    assert UUID.fullmatch(e["id"]), e["id"]
    assert TIME.fullmatch(e["time"]), e["time"]


pytestmark = pytest.mark.usefixtures("fresh_sim")


def drill(drs, *servers):
    """Starts a drill with boto3 and waits until it completes; returns its job ID."""
    c, rec = drs
    job = c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": s} for s in servers])["job"]
    rec.check(202)
    until(lambda: c.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED")
    return job["jobID"]


def restore(backup, rp, resource_type, **metadata):
    """Starts a restore with boto3 and waits until it ends; returns DescribeRestoreJob."""
    c, rec = backup
    job_id = c.start_restore_job(RecoveryPointArn=rp, Metadata=metadata or {"k": "v"},
                                 ResourceType=resource_type)["RestoreJobId"]
    rec.check(200)
    return until(lambda: (lambda j: j["Status"] not in ("PENDING", "RUNNING") and j)(
        c.describe_restore_job(RestoreJobId=job_id)))


def test_a_drill_sends_one_launch_result_per_server(drs, sim_url):
    control(sim_url, "/_sim/faults", {"failLaunch": {S2: "InsufficientInstanceCapacity"}})
    job_id = drill(drs, S1, S2, S3)
    got = events(sim_url)
    assert len(got) == 3
    state = control(sim_url, "/_sim/state")
    assert state["eventsDue"] == 3
    settles = {s["sourceServerID"]: s["settlesMs"] for s in state["jobs"][0]["servers"]}
    by_server = {}
    for e in got:
        check_shape(e, "DRS Source Server Launch Result", "aws.drs")
        (arn,) = e["resources"]
        server = arn.rsplit("/", 1)[1]
        assert arn == f"arn:aws:drs:{REGION}:{ACCOUNT}:source-server/{server}"
        assert e["time"] == second(settles[server])
        by_server[server] = e["detail"]
    assert by_server == {S1: {"state": "SUCCEEDED", "job-id": job_id},
                         S2: {"state": "FAILED", "job-id": job_id},
                         S3: {"state": "SUCCEEDED", "job-id": job_id}}
    assert len({e["id"] for e in got}) == 3
    assert [e["time"] for e in got] == sorted(e["time"] for e in got)
    assert events(sim_url) == got, "the same events, the same ids, on every read"

    # Terminating the drill's instances starts a TERMINATE job: it sends no launch result.
    c, rec = drs
    instances = [i["recoveryInstanceID"] for i in c.describe_recovery_instances()["items"]]
    assert len(instances) == 2
    term = c.terminate_recovery_instances(recoveryInstanceIDs=instances)["job"]
    rec.check(200)
    until(lambda: c.describe_jobs(filters={"jobIDs": [term["jobID"]]})["items"][0]["status"] == "COMPLETED")
    assert events(sim_url) == got


def test_a_restore_sends_one_state_change(backup, sim_url):
    done = restore(backup, EFS_RP, "EFS", newFileSystem="true")
    assert done["Status"] == "COMPLETED"
    (e,) = events(sim_url)
    check_shape(e, "Restore Job State Change", "aws.backup")
    assert e["resources"] == [EFS_RP]
    assert e["detail"] == {"restoreJobId": done["RestoreJobId"], "status": "COMPLETED",
                           "recoveryPointArn": EFS_RP, "resourceType": "EFS",
                           "createdResourceArn": done["CreatedResourceArn"]}
    assert e["time"] == second(int(done["CompletionDate"].timestamp() * 1000))

    control(sim_url, "/_sim/faults", {"restoreOutcomes": {EBS_RP: {"status": "FAILED", "statusMessage": "no"}}})
    failed = restore(backup, EBS_RP, "EBS", availabilityZone="eu-west-1a")
    assert failed["Status"] == "FAILED"
    got = events(sim_url)
    assert len(got) == 2 and got[0] == e
    assert got[1]["detail"] == {"restoreJobId": failed["RestoreJobId"], "status": "FAILED",
                                "recoveryPointArn": EBS_RP, "resourceType": "EBS"}


def test_drop_all_sends_nothing_and_drop_ids_only_those(drs, backup, sim_url):
    control(sim_url, "/_sim/faults", {"events": {"drop": "ALL"}})
    drill(drs, S1)
    restore(backup, EFS_RP, "EFS")
    assert events(sim_url) == []
    assert control(sim_url, "/_sim/state")["eventsDue"] == 0

    control(sim_url, "/_sim/reset", {})
    control(sim_url, "/_sim/faults", {"events": {"drop": [S1]}})
    job_id = drill(drs, S1, S2)
    assert [e["resources"][0].rsplit("/", 1)[1] for e in events(sim_url)] == [S2]
    faults = control(sim_url, "/_sim/faults", {"events": {"drop": [job_id]}})["faults"]
    assert faults["events"] == {"drop": sorted([S1, job_id])}
    assert events(sim_url) == []


def test_duplicate_sends_each_event_twice_with_distinct_ids(drs, sim_url):
    control(sim_url, "/_sim/faults", {"events": {"duplicate": True}})
    job_id = drill(drs, S1)
    got = events(sim_url)
    assert len(got) == 2
    assert got[0]["id"] != got[1]["id"]
    same = [{k: v for k, v in e.items() if k != "id"} for e in got]
    assert same[0] == same[1]
    assert same[0]["detail"] == {"state": "SUCCEEDED", "job-id": job_id}
    control(sim_url, "/_sim/faults", {"events": {"duplicate": False}})
    assert [e["id"] for e in events(sim_url)] in ([got[0]["id"]], [got[1]["id"]])


def test_delay_holds_events_back_in_real_seconds(drs, sim_url):
    # Long enough that the reads below, made as soon as the drill ended, come before it on a
    # loaded machine too (the delay is real seconds, not scaled by --time-scale).
    control(sim_url, "/_sim/faults", {"events": {"delaySeconds": 3}})
    drill(drs, S1)
    held = events(sim_url)
    state = control(sim_url, "/_sim/state")
    settled = state["jobs"][0]["servers"][0]["settlesMs"]
    assert held == [] and state["eventsDue"] == 0
    (e,) = until(lambda: events(sim_url), timeout=15)
    assert control(sim_url, "/_sim/state")["nowMs"] >= settled + 3000
    assert e["time"] == second(settled), "time is when it happened, not when it was due"


def test_bad_event_faults_are_a_400_that_changes_nothing(sim_url):
    for bad in ({"events": {"drop": "all"}}, {"events": {"drop": [NOBODY]}},
                {"events": {"drop": ["drsjob-1"]}}, {"events": {"delaySeconds": -1}},
                {"events": {"delaySeconds": "1"}}, {"events": {"duplicate": "yes"}},
                {"events": {"lose": True}},
                {"events": {"delaySeconds": -1}, "failLaunch": {S1: "no"}}):
        with pytest.raises(urllib.error.HTTPError) as e:
            control(sim_url, "/_sim/faults", bad)
        assert e.value.code == 400, bad
        assert "error" in json.loads(e.value.read())
    assert control(sim_url, "/_sim/state")["faults"] == control(sim_url, "/_sim/faults", {})["faults"]
    faults = control(sim_url, "/_sim/state")["faults"]
    assert "events" not in faults and faults["failLaunch"] == {}

    control(sim_url, "/_sim/faults", {"events": {"drop": "ALL", "delaySeconds": 2, "duplicate": True}})
    assert control(sim_url, "/_sim/state")["faults"]["events"] == {"drop": "ALL", "delaySeconds": 2.0,
                                                                   "duplicate": True}
    control(sim_url, "/_sim/reset", {})
    assert "events" not in control(sim_url, "/_sim/state")["faults"]


def test_event_pump_delivers_each_event_once_in_order(drs, sim_url):
    control(sim_url, "/_sim/faults", {"events": {"duplicate": True}})
    got = []
    with EventPump(sim_url, deliver=got.append) as pump:
        assert pump.interval == 0.2
        drill(drs, S1, S2)
        until(lambda: len(got) == 4)
        time.sleep(0.5)  # more polls: nothing is delivered again
        assert pump.running
    assert not pump.running
    assert [e["id"] for e in got] == pump.delivered == [e["id"] for e in events(sim_url)]
    assert len(set(pump.delivered)) == 4
    assert pump.errors == []


def test_a_stopped_pump_delivers_no_more_of_the_batch_it_fetched(drs, sim_url):
    drill(drs, S1, S2)
    until(lambda: len(events(sim_url)) == 2)
    got = []
    pump = EventPump(sim_url, deliver=lambda e: (got.append(e["id"]), pump.stop(timeout=0)))
    assert pump.poll_once() == 1 and len(got) == 1
    # The one it held back is still new to it: started again, it delivers that one only.
    pump.deliver = lambda e: got.append(e["id"])
    with pump:
        until(lambda: len(got) == 2)
    assert sorted(got) == sorted(e["id"] for e in events(sim_url)) and pump.errors == []


def test_event_pump_never_raises_out_of_its_thread(drs, sim_url):
    calls = []

    def deliver(event):
        calls.append(event["id"])
        raise RuntimeError("target down")

    pump = EventPump(sim_url, deliver=deliver, interval=0.05).start()
    drill(drs, S1)
    until(lambda: pump.delivered)
    time.sleep(0.2)
    assert pump.running
    pump.stop()
    assert calls == pump.delivered and len(calls) == 1
    assert pump.errors == [f"deliver {calls[0]}: RuntimeError: target down"]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unhandled = []
    threading.excepthook, hook = unhandled.append, threading.excepthook
    try:
        dead = EventPump(f"http://127.0.0.1:{port}", deliver=calls.append, interval=0.05, max_errors=3).start()
        until(lambda: len(dead.errors) == 3)
        time.sleep(0.2)
        assert dead.running
        dead.stop()
    finally:
        threading.excepthook = hook
    assert not dead.running and unhandled == []
    assert len(dead.errors) == 3 and all(e.startswith(f"GET http://127.0.0.1:{port}/_sim/events: ")
                                         for e in dead.errors)
    assert dead.poll_once() == 0 and dead.delivered == []
