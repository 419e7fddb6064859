"""dr-sim for the prepare-plan / preflight checks, driven by boto3: recovery snapshots, the
replication state and lag of source servers (and the `replication` fault), wave-tagged generated
servers, the `hideNewJobsSeconds` fault, and StartRecovery from a chosen snapshot. Every raw
response body is checked against the botocore service model, as in test_boto3_conformance."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone

import pytest
from modelcheck import MODELS, Recorder, client
from sim_process import BINARY, ROOT, control, running_sim

S1 = "s-0a1b2c3d4e5f60001"  # web-01, dr-wave 3
S2 = "s-0a1b2c3d4e5f60002"
S5 = "s-0a1b2c3d4e5f60005"  # app-01, dr-wave 2
S9 = "s-0a1b2c3d4e5f60009"  # db-01, dr-wave 1
NOBODY = "s-zzzzzzzzzzzzzzzzz"
TEN_MINUTES = 600


def snapshot_ids(source_server_id):
    """The documented derivation (sim/src/replication.rs), newest first."""
    h = 0xCBF29CE484222325
    for b in source_server_id.encode():
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return [f"pit-{k}{h:016x}" for k in range(3)]


def epoch(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


pytestmark = pytest.mark.usefixtures("fresh_sim")


def server(c, rec, sid):
    items = c.describe_source_servers(filters={"sourceServerIDs": [sid]})["items"]
    rec.check(200)
    return items[0]


def test_recovery_snapshots_are_listed_oldest_first_and_match_the_model(drs):
    c, rec = drs
    items = c.describe_recovery_snapshots(sourceServerID=S1)["items"]
    after = time.time()
    body = rec.check(200)
    assert len(body["items"]) == 3
    assert [s["snapshotID"] for s in items] == snapshot_ids(S1)[::-1]
    assert all(s["sourceServerID"] == S1 for s in items)
    assert all(s["ebsSnapshots"] == ["snap-" + s["snapshotID"][4:]] for s in items)
    times = [epoch(s["timestamp"]) for s in body["items"]]
    assert times == sorted(times)
    assert [b - a for a, b in zip(times, times[1:])] == [TEN_MINUTES, TEN_MINUTES]
    assert 0 <= after - times[-1] < TEN_MINUTES + 5
    assert [s["expectedTimestamp"] for s in body["items"]] == [s["timestamp"] for s in body["items"]]

    desc = c.describe_recovery_snapshots(sourceServerID=S1, order="DESC")["items"]
    rec.check(200)
    assert [s["snapshotID"] for s in desc] == snapshot_ids(S1)
    other = c.describe_recovery_snapshots(sourceServerID=S2)["items"]
    assert not {s["snapshotID"] for s in other} & {s["snapshotID"] for s in items}


def test_recovery_snapshots_paginate_and_filter_by_date(drs):
    c, rec = drs
    first = c.describe_recovery_snapshots(sourceServerID=S1, maxResults=2)
    rec.check(200)
    assert len(first["items"]) == 2 and first["nextToken"]
    rest = c.describe_recovery_snapshots(sourceServerID=S1, maxResults=2, nextToken=first["nextToken"])
    rec.check(200)
    assert len(rest["items"]) == 1 and "nextToken" not in rest
    pages = list(c.get_paginator("describe_recovery_snapshots").paginate(
        sourceServerID=S1, order="DESC", PaginationConfig={"PageSize": 1}))
    assert [p["items"][0]["snapshotID"] for p in pages] == snapshot_ids(S1)

    all_items = first["items"] + rest["items"]
    middle = all_items[1]["timestamp"]
    since = c.describe_recovery_snapshots(sourceServerID=S1, filters={"fromDateTime": middle})["items"]
    rec.check(200)
    assert [s["snapshotID"] for s in since] == [s["snapshotID"] for s in all_items[1:]]
    until = c.describe_recovery_snapshots(sourceServerID=S1, filters={"toDateTime": middle})["items"]
    assert [s["snapshotID"] for s in until] == [s["snapshotID"] for s in all_items[:2]]
    future = c.describe_recovery_snapshots(sourceServerID=S1, filters={"fromDateTime": "2999-01-01T00:00:00Z"})
    rec.check(200)
    assert future["items"] == []


def test_recovery_snapshots_of_an_unknown_server_is_the_modelled_validation_error(drs):
    c, rec = drs
    op = MODELS["drs"].operation_model("DescribeRecoverySnapshots")
    # The model gives this operation no ResourceNotFoundException; ValidationException is its
    # only client error for a bad input.
    assert "ValidationException" in [e.name for e in op.error_shapes]
    assert "ResourceNotFoundException" not in [e.name for e in op.error_shapes]
    with pytest.raises(c.exceptions.ValidationException) as e:
        c.describe_recovery_snapshots(sourceServerID=NOBODY)
    body = rec.check(400)
    assert body["reason"] == "fieldValidationFailed"
    assert body["fieldList"][0]["name"] == "sourceServerID"
    assert NOBODY in e.value.response["Error"]["Message"]


def test_replication_fault_changes_state_and_lag_and_stays_model_valid(drs, sim_url):
    c, rec = drs
    healthy = server(c, rec, S5)["dataReplicationInfo"]
    assert healthy["dataReplicationState"] == "CONTINUOUS"
    assert healthy["lagDuration"] == "PT0S"
    assert "dataReplicationError" not in healthy

    control(sim_url, "/_sim/faults", {"replication": {S5: {"state": "STALLED", "lagSeconds": 3723}}})
    info = server(c, rec, S5)["dataReplicationInfo"]
    assert info["dataReplicationState"] == "STALLED"
    assert info["lagDuration"] == "PT1H2M3S"
    assert info["dataReplicationError"]["error"] == "UNSTABLE_NETWORK"
    assert control(sim_url, "/_sim/state")["replication"] == {S5: {"state": "STALLED", "lagSeconds": 3723}}

    # Either field alone: the other keeps its value.
    control(sim_url, "/_sim/faults", {"replication": {S5: {"lagSeconds": 900}}})
    info = server(c, rec, S5)["dataReplicationInfo"]
    assert (info["dataReplicationState"], info["lagDuration"]) == ("STALLED", "PT15M")
    # The newest snapshot is at least the lag old.
    newest = c.describe_recovery_snapshots(sourceServerID=S5, order="DESC")["items"][0]
    rec.check(200)
    assert time.time() - epoch(newest["timestamp"]) >= 900

    control(sim_url, "/_sim/faults", {"replication": {S5: {"state": "DISCONNECTED"}}})
    s = server(c, rec, S5)
    assert s["dataReplicationInfo"]["dataReplicationError"]["error"] == "AGENT_NOT_SEEN"
    assert "lastSeenByServiceDateTime" in s["lifeCycle"]
    assert server(c, rec, S1)["dataReplicationInfo"]["dataReplicationState"] == "CONTINUOUS"

    control(sim_url, "/_sim/reset", {})
    assert server(c, rec, S5)["dataReplicationInfo"]["lagDuration"] == "PT0S"
    assert control(sim_url, "/_sim/state")["replication"] == {}


def test_every_modelled_replication_state_is_accepted_and_others_refused(drs, sim_url):
    c, rec = drs
    states = MODELS["drs"].shape_for("DataReplicationState").metadata["enum"]
    for state in states:
        control(sim_url, "/_sim/faults", {"replication": {S9: {"state": state}}})
        assert server(c, rec, S9)["dataReplicationInfo"]["dataReplicationState"] == state
    for bad in ({S9: {"state": "HEALTHY"}}, {NOBODY: {"lagSeconds": 5}}):
        with pytest.raises(urllib.error.HTTPError) as e:
            control(sim_url, "/_sim/faults", {"replication": bad})
        assert e.value.code == 400
        assert "error" in json.loads(e.value.read())
    assert server(c, rec, S9)["dataReplicationInfo"]["dataReplicationState"] == states[-1]


def test_servers_carry_wave_tags(drs):
    c, rec = drs
    servers = []
    for page in c.get_paginator("describe_source_servers").paginate(PaginationConfig={"PageSize": 500}):
        rec.check(200)
        servers += page["items"]
    generated = [s for s in servers if s["sourceServerID"].startswith("s-fleet")]
    assert len(generated) == 1200
    assert all(s["tags"]["fleet"] == "payments-fleet" for s in generated)
    assert Counter(s["tags"]["dr-wave"] for s in generated) == {"1": 300, "2": 300, "3": 300, "4": 300}
    by_id = {s["sourceServerID"]: s for s in servers}
    assert by_id["s-fleet000000000000"]["tags"]["dr-wave"] == "1"
    assert by_id["s-fleet000000000007"]["tags"]["dr-wave"] == "4"
    assert by_id[S1]["tags"] == {"Tier": "web", "Application": "payments", "dr-wave": "3"}
    assert by_id[S5]["tags"]["dr-wave"] == "2" and by_id[S9]["tags"]["dr-wave"] == "1"


def test_bench_seed_has_250_servers_per_wave():
    seed = json.loads((ROOT / "bench" / "seed.json").read_text())
    g = seed["generatedSourceServers"]
    assert g["count"] == 1000 and g["waveTag"] == {"key": "dr-wave", "waves": 4}
    assert Counter(str(n % 4 + 1) for n in range(g["count"])) == {w: 250 for w in "1234"}
    assert not any("dr-wave" in s["tags"] for s in seed["sourceServers"])
    with running_sim("--seed", str(ROOT / "bench" / "seed.json")) as url:
        c = client("drs", url)
        wave = [s for p in c.get_paginator("describe_source_servers").paginate()
                for s in p["items"] if s["tags"].get("dr-wave") == "1"]
        assert len(wave) == 250


def test_hide_new_jobs_hides_a_fresh_job_from_describe_jobs_then_shows_it(drs, sim_url):
    c, rec = drs
    control(sim_url, "/_sim/faults", {"hideNewJobsSeconds": 1.5})
    started = time.time()
    job = c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S2}])["job"]
    rec.check(202)
    assert c.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"] == []
    rec.check(200)
    assert job["jobID"] not in [j["jobID"] for j in c.describe_jobs()["items"]]
    # The job exists all the same: it holds its server.
    with pytest.raises(c.exceptions.ConflictException):
        c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S2}])
    rec.check(409)
    state = control(sim_url, "/_sim/state")
    assert [j["listed"] for j in state["jobs"]] == [False]
    # With --time-scale 0.02 the job completes in well under a second; it stays unlisted for
    # 1.5 wall-clock seconds all the same.
    while time.time() - started < 1.0:
        assert c.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"] == []
        time.sleep(0.1)
    time.sleep(max(0.0, started + 1.7 - time.time()))
    listed = c.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    rec.check(200)
    assert [j["jobID"] for j in listed] == [job["jobID"]] and listed[0]["status"] == "COMPLETED"

    control(sim_url, "/_sim/faults", {"hideNewJobsSeconds": 0})
    again = c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S1}])["job"]
    assert len(c.describe_jobs(filters={"jobIDs": [again["jobID"]]})["items"]) == 1


def test_start_recovery_from_a_snapshot_of_another_server_is_a_validation_error(drs):
    c, rec = drs
    foreign = snapshot_ids(S2)[0]
    with pytest.raises(c.exceptions.ValidationException) as e:
        c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S1, "recoverySnapshotID": foreign}])
    body = rec.check(400)
    assert body["reason"] == "fieldValidationFailed"
    assert foreign in e.value.response["Error"]["Message"]

    own = c.describe_recovery_snapshots(sourceServerID=S1, order="DESC")["items"][1]
    job = c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S1, "recoverySnapshotID": own["snapshotID"]}])
    rec.check(202)
    for _ in range(200):
        if c.describe_jobs(filters={"jobIDs": [job["job"]["jobID"]]})["items"][0]["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    instance = c.describe_recovery_instances(filters={"sourceServerIDs": [S1]})["items"][0]
    rec.check(200)
    assert epoch(instance["pointInTimeSnapshotDateTime"]) == epoch(own["timestamp"])


def test_seed_lists_snapshots_replication_and_lag(tmp_path):
    seed = json.loads((ROOT / "sim" / "seed" / "default.json").read_text())
    servers = seed["sourceServers"]
    servers[0].update(replicationState="BACKLOG", lagSeconds=90, recoverySnapshots=[
        {"snapshotID": "pit-0123456789abcdefA", "expectedTimestamp": "2026-01-05T10:00:00Z",
         "timestamp": "2026-01-05T10:00:02.500Z", "ebsSnapshots": ["snap-0123456789abcdefA"]},
        {"snapshotID": "pit-0123456789abcdefB", "expectedTimestamp": "2026-01-05T09:00:00Z"},
    ])
    servers[1]["recoverySnapshots"] = []
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    with running_sim("--seed", str(path)) as url:
        c = client("drs", url)
        rec = Recorder(c)
        items = c.describe_recovery_snapshots(sourceServerID=S1)["items"]
        rec.check(200)
        assert [s["snapshotID"] for s in items] == ["pit-0123456789abcdefB", "pit-0123456789abcdefA"]
        assert items[0]["ebsSnapshots"] == [] and items[1]["ebsSnapshots"] == ["snap-0123456789abcdefA"]
        assert c.describe_recovery_snapshots(sourceServerID=S2)["items"] == []
        info = server(c, rec, S1)["dataReplicationInfo"]
        assert (info["dataReplicationState"], info["lagDuration"]) == ("BACKLOG", "PT1M30S")

    servers[0]["replicationState"] = "HEALTHY"
    path.write_text(json.dumps(seed))
    out = subprocess.run([BINARY, "--seed", str(path), "--port", "0"], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0 and "DataReplicationState" in out.stderr


def test_an_outage_answers_every_drs_and_backup_call_503_until_it_ends(drs, backup, sim_url):
    c, _ = drs
    b, _ = backup
    control(sim_url, "/_sim/faults", {"outageSeconds": 1.0})
    ended = time.time() + 1.0
    for call in (lambda: c.describe_jobs(), lambda: c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S2}]),
                 lambda: b.list_restore_jobs()):
        with pytest.raises(c.exceptions.ClientError) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    state = control(sim_url, "/_sim/state")
    assert state["jobs"] == [], "a call during the outage started nothing"
    assert state["faulted"] == {"DescribeJobs": 1, "StartRecovery": 1, "ListRestoreJobs": 1}, state["faulted"]
    assert abs(state["outageUntilMs"] / 1000 - ended) < 0.5
    time.sleep(max(0.0, ended + 0.1 - time.time()))
    assert c.describe_jobs()["items"] == []
    # A bad duration is refused, naming the field.
    with pytest.raises(urllib.error.HTTPError) as bad:
        control(sim_url, "/_sim/faults", {"outageSeconds": -1})
    assert bad.value.code == 400 and "outageSeconds" in bad.value.read().decode()
