"""The workflows end to end, through the rehearsal harness: the definitions from statemachine/
on moto's Step Functions, the real handlers under cargo lambda watch, the local endpoint. Each
test checks the execution's result and what the endpoint saw."""

import json
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]


def plan(name):
    return json.loads((ROOT / "events" / "statemachine" / name).read_text())


def test_two_wave_drill_batches_servers_and_runs_waves_in_order(run):
    r = run("recovery-plan", plan("two-wave-batched-drill.json"))
    assert r.status == "SUCCEEDED", r.cause
    # 7 servers in batches of 3, then 3 servers: one DRS job per batch.
    assert [len(r.wave_jobs(0)), len(r.wave_jobs(1))] == [3, 1]
    assert sorted(len(j["servers"]) for j in r.wave_jobs(0)) == [1, 3, 3]
    assert len(r.jobs()) == 4 and all(j["isDrill"] for j in r.jobs())
    wave1_launched = max(s["settlesMs"] for j in r.wave_jobs(0) for s in j["servers"])
    assert min(j["createdMs"] for j in r.wave_jobs(1)) >= wave1_launched, "wave 2 started before wave 1 launched"
    waves = r.output["waves"]
    assert [w["name"] for w in waves] == ["backend", "frontend"]
    # Counts, not a per-server map: which instance each server got is in DRS and the report.
    assert sum(j["counts"]["launched"] for w in waves for j in w["jobs"]) == 10
    assert all("launched" not in j for w in waves for j in w["jobs"])
    assert all(j["notLaunched"] == [] for w in waves for j in w["jobs"])
    assert all(w["startedAt"] and w["endedAt"] for w in waves)
    keys = {j["tags"]["dr-orchestrator:idempotency-key"] for j in r.jobs()}
    assert len(keys) == 4, "every batch must carry its own idempotency key"


def test_a_server_that_fails_to_launch_fails_the_run_and_stops_later_waves(run):
    bad = "s-0a1b2c3d4e5f6000a"
    r = run("recovery-plan", plan("real-recovery.json"),
            faults={"failLaunch": {bad: "InsufficientInstanceCapacity: no m5.xlarge capacity in eu-west-1a"}})
    assert r.status == "FAILED"
    assert r.error == "RecoveryFailed"
    assert bad in r.cause and "InsufficientInstanceCapacity" in r.cause and "wave 0 (data)" in r.cause
    assert r.wave_jobs(1) == [], "wave 2 must never start"
    assert len(r.wave_jobs(0)) == 1
    failed = r.statuses[r.wave_jobs(0)[0]["jobID"]]
    assert [s["sourceServerID"] for s in failed["notLaunched"]] == [bad]
    assert failed["notLaunched"][0]["launchStatus"] == "FAILED"


def test_throttling_is_retried_with_exactly_one_job_per_batch(run):
    p = plan("two-wave-batched-drill.json")
    r = run("recovery-plan", p, faults={"throttle": {"StartRecovery": 2, "DescribeJobs": 4}, "retryAfterSeconds": 1})
    assert r.status == "SUCCEEDED", r.cause
    assert r.sim["faulted"]["StartRecovery"] == 2 and r.sim["faulted"]["DescribeJobs"] == 4
    assert len(r.jobs()) == 4, "a retried start must not start a second job"
    assert r.sim["calls"]["StartRecovery"] == 4 + 2


def test_an_invalid_plan_fails_before_anything_starts(run):
    r = run("recovery-plan", plan("invalid-bad-server-in-wave-3.json"))
    assert r.status == "FAILED"
    assert r.error == "InvalidInput"
    assert "waves[2].sourceServers[1].sourceServerID" in r.cause, r.cause
    assert r.sim["jobs"] == [] and r.sim["calls"] == {}, "validation must make no AWS call"


def test_a_server_in_two_waves_and_a_missing_drill_flag_are_rejected(run):
    r = run("recovery-plan", plan("invalid-server-in-two-waves.json"))
    assert (r.status, r.error) == ("FAILED", "InvalidInput")
    assert "waves[1].sourceServers[0].sourceServerID" in r.cause and "is already in wave 0" in r.cause, r.cause
    r = run("recovery-plan", plan("invalid-missing-is-drill.json"))
    assert (r.status, r.error) == ("FAILED", "InvalidInput")
    assert "isDrill: is required" in r.cause
    assert r.sim["calls"] == {}


def test_a_plan_that_waives_a_real_runs_approval_is_refused_before_any_aws_call(run):
    """Whoever starts a run cannot waive its approval: only the deployment's RealRunApproval can
    (REQUIRED in the rehearsal, as by default)."""
    for workflow, p in (("recovery-plan", plan("real-recovery.json")), ("restore", plan("restores.json")),
                        ("failback", plan("failback-explicit.json"))):
        p.setdefault("options", {})["approval"] = "NOT_REQUIRED"
        r = run(workflow, p)
        assert (r.status, r.error) == ("FAILED", "InvalidInput"), (workflow, r.cause)
        assert "options.approval" in r.cause and "RealRunApproval is REQUIRED" in r.cause, r.cause
        assert r.sim["calls"] == {} and r.approval_requests == [], workflow
    # A drill may say it.
    drill = plan("recovery-drill.json")
    drill.setdefault("options", {})["approval"] = "NOT_REQUIRED"
    assert run("recovery-plan", drill).status == "SUCCEEDED"


def test_restores_succeed_and_a_failing_restore_fails_the_run_with_its_message(run):
    p = plan("restores.json")
    r = run("restore", p)
    assert r.status == "SUCCEEDED", r.cause
    # A restore-only run changes production: it waits for a person, as a real recovery does.
    assert len(r.approval_requests) == 1 and r.output["waves"][0]["approval"]["state"] == "APPROVED", r.output
    restores = r.output["waves"][0]["jobs"]
    assert [(x["kind"], x["state"]) for x in restores] == [("RESTORE_JOB", "SUCCEEDED")] * 2
    assert all(x["createdResourceArn"].startswith("arn:aws:") for x in restores)
    assert len(r.sim["restoreJobs"]) == 2

    ebs = p["restores"][1]["recoveryPointArn"]
    r = run("restore", p, faults={"restoreOutcomes": {ebs: {"status": "FAILED", "statusMessage": "Volume quota exceeded in eu-west-1b"}}})
    assert r.status == "FAILED"
    assert r.error == "RestoreFailed"
    assert "Volume quota exceeded in eu-west-1b" in r.cause and "restore 1" in r.cause


def test_a_restore_outside_the_deployments_rules_is_refused_before_anyone_is_asked(run):
    """A vault the deployment does not name is refused with no AWS call; a public database from a
    recovery point AWS Backup says is RDS is blocked by the preflight, before the approval."""
    p = plan("restores.json")
    p["restores"][0]["backupVaultName"] = "someone-elses-vault"
    r = run("restore", p)
    assert (r.status, r.error) == ("FAILED", "InvalidInput"), r.cause
    assert "restores[0].backupVaultName" in r.cause and "RestoreVaults: payments-vault" in r.cause, r.cause
    assert r.sim["calls"] == {} and r.approval_requests == []

    rds = plan("mixed-restore-then-recover.json")["waves"][0]["restores"][0]
    rds["metadata"]["PubliclyAccessible"] = "true"
    r = run("restore", {"restores": [rds]})
    assert (r.status, r.error) == ("FAILED", "PreflightBlocked"), r.cause
    assert "RESTORE_METADATA_NOT_ALLOWED" in r.cause and "restores[0].metadata.PubliclyAccessible" in r.cause, r.cause
    assert r.sim["calls"] == {"GetRecoveryPointRestoreMetadata": 1}, r.sim["calls"]
    assert r.approval_requests == [] and r.sim["restoreJobs"] == []


def test_a_mixed_plan_restores_data_then_recovers_servers(run):
    r = run("recovery-plan", plan("mixed-restore-then-recover.json"))
    assert r.status == "SUCCEEDED", r.cause
    restores_done = max(x["endsMs"] for x in r.sim["restoreJobs"])
    assert len(r.sim["restoreJobs"]) == 2
    assert len(r.jobs()) == 1 and r.jobs()[0]["createdMs"] >= restores_done
    data, app = r.output["waves"]
    assert [(x["kind"], x["state"]) for x in data["jobs"]] == [("RESTORE_JOB", "SUCCEEDED")] * 2
    assert [(x["kind"], x["state"]) for x in app["jobs"]] == [("DRS_JOB", "SUCCEEDED")]


def test_failback_from_a_recovery_runs_output(run, stack):
    sim, handlers = stack
    recovered = run("recovery-plan", plan("real-recovery.json"))
    assert recovered.status == "SUCCEEDED", recovered.cause
    launched = sorted(s["recoveryInstanceID"] for j in recovered.jobs() for s in j["servers"])
    assert len(launched) == 7 and all(i.startswith("i-") for i in launched)

    # The endpoint keeps the recovered instances: fail back without resetting it.
    from rehearsal.approval import is_approval_request
    from rehearsal.workflow import Engine
    output = dict(recovered.output, options={"pollIntervalSeconds": 1, "giveUpAfterSeconds": 300, "batchSize": 4})
    with Engine(handlers) as engine:
        arn = engine.start("failback", output, "e2e-failback")
        result = engine.wait(arn, timeout=600)
        requests = [n for n in engine.notifications() if is_approval_request(n)]
        answers = engine.approver.answers
    state = sim.state()
    assert result["status"] == "SUCCEEDED", result.get("cause")
    # A failback is a real change: it was asked for once, for all 7 instances, and approved.
    [request] = requests
    assert request["subject"].startswith("Approve failback of ") and "(7 servers)" in request["subject"], request
    assert [status for _, status, _ in answers] == [200], answers
    failbacks = [j for j in state["jobs"] if j["initiatedBy"] == "FAILBACK"]
    assert len(failbacks) == 2, "7 instances in batches of 4"
    assert sorted(s["recoveryInstanceID"] for j in failbacks for s in j["servers"]) == launched
    assert state["calls"]["StartFailbackLaunch"] == 2


def test_a_failback_whose_instances_cannot_all_fail_back_says_so_before_the_approval_and_fails_back_the_rest(
        run, stack):
    """Found by an independent check: one instance terminated by hand after the recovery made
    StartFailbackLaunch reject the whole batch after the approval was given. The preflight now
    reads every instance first; each one that cannot fail back is named, and left out."""
    sim, _ = stack
    recovered = run("recovery-plan", plan("real-recovery.json"))
    assert recovered.status == "SUCCEEDED", recovered.cause
    launched = sorted(s["recoveryInstanceID"] for j in recovered.jobs() for s in j["servers"])
    gone, not_ready = launched[0], launched[1]
    # One instance terminated by hand (DRS lists it no more), one whose failback replication
    # is not done.
    terminate = boto3.client("drs", endpoint_url=sim.url, region_name="eu-west-1", aws_access_key_id="AKIDLOCAL",
                             aws_secret_access_key="local")
    terminate.terminate_recovery_instances(recoveryInstanceIDs=[gone])
    deadline = time.time() + 60
    while gone in {i["recoveryInstanceID"] for i in terminate.describe_recovery_instances()["items"]}:
        assert time.time() < deadline, f"{gone} was never terminated"
        time.sleep(0.2)
    output = dict(recovered.output, options={"batchSize": 4})
    r = run("failback", output, reset=False, faults={"failbackState": {not_ready: "FAILBACK_NOT_READY_FOR_LAUNCH"}})
    # The approver was told, before anything started.
    [request] = r.approval_requests
    text = request["message"]
    assert f"RECOVERY_INSTANCE_NOT_FOUND at recoveryInstanceIDs[0]" in text and gone in text, text
    assert "NOT_READY_FOR_FAILBACK at recoveryInstanceIDs[1]" in text and not_ready in text, text
    # The others failed back, in batches that did not include the two.
    assert r.status == "SUCCEEDED", r.cause
    failbacks = [j for j in r.sim["jobs"] if j["initiatedBy"] == "FAILBACK"]
    assert sorted(s["recoveryInstanceID"] for j in failbacks for s in j["servers"]) == launched[2:]
    assert r.output["preflight"]["warnings"] == 2 and r.output["preflight"]["serversChecked"] == 6, r.output["preflight"]


def test_a_drill_run_is_not_failed_back(run):
    r = run("failback", {"isDrill": True, "waves": [{"name": "x", "jobs": []}]})
    assert (r.status, r.error) == ("FAILED", "InvalidInput")
    assert r.sim["calls"] == {}


def test_a_recovery_run_whose_jobs_drs_does_not_list_is_not_failed_back(run):
    elsewhere = {"isDrill": False, "waves": [{"name": "x", "jobs": [{"kind": "DRS_JOB", "jobID": "drsjob-00000000000000abc"}]}]}
    r = run("failback", elsewhere)
    assert (r.status, r.error) == ("FAILED", "InvalidInput")
    assert "drsjob-00000000000000abc" in r.cause and "recoveryInstanceIDs" in r.cause, r.cause
    assert r.sim["calls"] == {"DescribeJobs": 1}
    assert r.sim["jobs"] == []


def servers_of(jobs):
    return sorted(s["sourceServerID"] for j in jobs for s in j["servers"])


def test_a_tag_selected_drill_recovers_the_servers_its_tags_choose_wave_by_wave(run):
    r = run("recovery-plan", plan("tag-selected-drill.json"))
    assert r.status == "SUCCEEDED", r.cause
    named = lambda *ns: sorted(f"s-0a1b2c3d4e5f6000{n}" for n in ns)
    assert servers_of(r.wave_jobs(0)) == named("9", "a", "b")
    assert servers_of(r.wave_jobs(1)) == named("5", "6", "7", "8")
    assert servers_of(r.wave_jobs(2)) == named("1", "2", "3", "4", "c")
    assert [len(r.wave_jobs(w)) for w in range(3)] == [2, 2, 3], "batchSize 2"
    assert all(j["isDrill"] for j in r.jobs())
    assert r.output["preflight"]["verdict"] == "PASSED"
    assert r.output["servers"] == 12


def test_a_real_recovery_with_a_stalled_server_stops_before_any_launch(run):
    stalled = "s-0a1b2c3d4e5f6000a"
    r = run("recovery-plan", plan("real-recovery.json"),
            faults={"replication": {stalled: {"state": "STALLED"}}})
    assert (r.status, r.error) == ("FAILED", "PreflightBlocked"), r.cause
    assert stalled in r.cause and "STALLED" in r.cause and "NOT_REPLICATING" in r.cause, r.cause
    assert "StartRecovery" not in r.sim["calls"], "nothing may launch"
    assert r.sim["jobs"] == []


def test_a_plan_naming_an_unknown_server_is_blocked_listing_every_finding(run):
    r = run("recovery-plan", plan("real-recovery-blocked-by-preflight.json"),
            faults={"replication": {"s-0a1b2c3d4e5f60009": {"lagSeconds": 7200}}})
    assert (r.status, r.error) == ("FAILED", "PreflightBlocked"), r.cause
    assert "2 blocking finding(s)" in r.cause, r.cause
    assert "UNKNOWN_SERVER at waves[0].sourceServers[1]" in r.cause, r.cause
    assert "LAG_TOO_HIGH at waves[0].sourceServers[0]" in r.cause, r.cause
    assert "StartRecovery" not in r.sim["calls"]


def test_a_drill_told_to_continue_runs_and_reports_what_preflight_found(run):
    r = run("recovery-plan", plan("drill-continue-past-preflight.json"),
            faults={"replication": {"s-0a1b2c3d4e5f60005": {"lagSeconds": 3600},
                                    "s-0a1b2c3d4e5f60006": {"state": "BACKLOG"}}})
    assert r.status == "SUCCEEDED", r.cause
    preflight = r.output["preflight"]
    assert preflight["verdict"] == "BLOCKED_CONTINUED"
    found = {(f["severity"], f["code"], f["sourceServerID"]) for f in preflight["findings"]}
    assert found == {("BLOCKING", "LAG_TOO_HIGH", "s-0a1b2c3d4e5f60005"),
                     ("WARNING", "NOT_REPLICATING", "s-0a1b2c3d4e5f60006")}
    assert len(r.jobs()) == 1

    p = plan("drill-continue-past-preflight.json")
    p["options"]["preflight"] = "FAIL"
    r = run("recovery-plan", p, faults={"replication": {"s-0a1b2c3d4e5f60006": {"state": "BACKLOG"}}})
    assert r.status == "SUCCEEDED", r.cause
    assert r.output["preflight"]["verdict"] == "WARNINGS", "a warning never blocks"


def test_a_wave_over_the_500_server_quota_runs_in_rounds_that_fit(run):
    fleet = [{"sourceServerID": f"s-fleet{n:012d}"} for n in range(600)]
    p = {"planName": "600 servers", "isDrill": True, "options": {"batchSize": 100, "maxConcurrentJobs": 10},
         "waves": [{"name": "fleet", "sourceServers": fleet}]}
    r = run("recovery-plan", p)
    assert r.status == "SUCCEEDED", r.cause
    jobs = sorted(r.wave_jobs(0), key=lambda j: j["createdMs"])
    assert [len(j["servers"]) for j in jobs] == [100] * 6
    first_round_done = max(s["settlesMs"] for j in jobs[:5] for s in j["servers"])
    assert jobs[5]["createdMs"] >= first_round_done, "the sixth job would pass 500 servers in active jobs"
    launched = sum(j["counts"]["launched"] for j in r.output["waves"][0]["jobs"])
    assert launched == 600
    assert r.cost["largestPayloadBytes"] < 64 * 1024


def disaster_event_input(event_id):
    """What the DisasterDeclared rule's input transformer sends (template.yaml)."""
    event = json.loads((ROOT / "events" / "eventbridge" / "disaster-declared.json").read_text())
    return {"plan": event["detail"]["plan"],
            "trigger": {"kind": "EVENT", "eventId": event_id, "source": event["source"],
                        "detailType": event["detail-type"], "time": event["time"], "account": event["account"]}}


def test_a_redelivered_disaster_event_launches_nothing_new(run):
    first = run("recovery-plan", disaster_event_input("6a7e8feb-b491-4cf7-a9f1-bf3703467718"), name="delivery-1")
    assert first.status == "SUCCEEDED", first.cause
    assert first.output["trigger"]["eventId"] == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert len(first.jobs()) == 2 and first.sim["calls"]["StartRecovery"] == 2
    keys = {j["tags"]["dr-orchestrator:idempotency-key"] for j in first.jobs()}
    assert all(k.startswith("event:6a7e8feb-b491-4cf7-a9f1-bf3703467718#w") for k in keys), keys

    again = run("recovery-plan", disaster_event_input("6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
                name="delivery-2", reset=False)
    assert again.status == "SUCCEEDED", again.cause
    assert len(again.jobs()) == 2, "the re-delivered event must reuse the first delivery's jobs"
    assert again.sim["calls"]["StartRecovery"] == 2, "no StartRecovery for the re-delivery"

    other = run("recovery-plan", disaster_event_input("0f0f0f0f-0000-4000-8000-000000000001"),
                name="another-event", reset=False)
    assert other.status == "SUCCEEDED", other.cause
    assert len(other.jobs()) == 4, "a different event is a different run: it starts its own jobs"


def test_a_start_whose_answer_is_lost_is_retried_without_a_second_job(run):
    """The Lambda times out after DRS accepted StartRecovery, and DescribeJobs does not list the
    new job for 8 s: the workflow waits (Retry, 15 s) before the lookup that finds it."""
    r = run("recovery-plan", plan("two-wave-batched-drill.json"),
            faults={"hideNewJobsSeconds": 8}, lose_answers=("start-recovery", 2))
    assert r.status == "SUCCEEDED", r.cause
    # The fault fired: two start tasks failed as a timed-out Lambda does, and each was retried.
    lost = [e for e in r.events if e["type"] == "TaskFailed"
            and e["taskFailedEventDetails"].get("error") == "Sandbox.Timedout"]
    assert len(lost) == 2, [e["type"] for e in r.events]
    assert r.invocations["start-recovery"] == 4 + 2, r.invocations
    # DRS accepted each batch once, although two answers never reached the workflow.
    assert len(r.jobs()) == 4, "one job per batch"
    assert r.sim["calls"]["StartRecovery"] == 4
    reused = [j for w in r.output["waves"] for j in w["jobs"]]
    assert len(reused) == 4


def test_a_thousand_failed_launches_end_with_a_named_error_and_bounded_payloads(run):
    fleet = [f"s-fleet{n:012d}" for n in range(1000)]
    reason = "InsufficientInstanceCapacity: " + "no capacity in eu-west-1a for m5.24xlarge; " * 20
    p = {"planName": "everything fails", "isDrill": True, "options": {"batchSize": 100},
         "waves": [{"name": "fleet", "sourceServers": [{"sourceServerID": s} for s in fleet]}]}
    r = run("recovery-plan", p, faults={"failLaunch": {s: reason for s in fleet}})
    assert (r.status, r.error) == ("FAILED", "RecoveryFailed"), r.cause
    assert r.cause.startswith("wave 0 (fleet): 10 of 10 jobs failed: batch 0 (job drsjob-"), r.cause[:200]
    assert "100 of 100 servers did not launch" in r.cause and "and 95 more" in r.cause
    assert len(r.cause) <= 1200
    assert len(r.jobs()) == 10
    assert r.cost["largestPayloadBytes"] < 64 * 1024, r.cost


def test_a_thousand_servers_one_per_job_are_refused_before_anything_starts(run):
    """1,000 servers at batchSize 1 would be a prepared plan of about 426 KiB, more than a state
    holds: prepare-plan refuses it, naming the option, after reading the inventory and before any
    job, approval or notification of a start."""
    fleet = [f"s-fleet{n:012d}" for n in range(1000)]
    p = {"planName": "one per job", "isDrill": True,
         "options": {"batchSize": 1, "maxConcurrentJobs": 20, "giveUpAfterSeconds": 600, "pollIntervalSeconds": 60},
         "waves": [{"name": "a", "sourceServers": [{"sourceServerID": s} for s in fleet[:500]]},
                   {"name": "b", "sourceServers": [{"sourceServerID": s} for s in fleet[500:]]}]}
    r = run("recovery-plan", p)
    assert (r.status, r.error) == ("FAILED", "InvalidInput"), r.cause
    assert "options.batchSize" in r.cause and "more than the 131072 a run may start with" in r.cause, r.cause
    assert r.sim["jobs"] == [] and r.approval_requests == []
    assert set(r.sim["calls"]) <= {"DescribeSourceServers", "DescribeJobs"}, r.sim["calls"]


def test_a_plan_that_continues_past_failed_waves_names_every_failed_server(run):
    p = plan("real-recovery.json")
    p["options"] = {"continueOnWaveFailure": True}
    bad = {"s-0a1b2c3d4e5f6000a": "InsufficientInstanceCapacity in eu-west-1a",
           "s-0a1b2c3d4e5f60006": "Subnet subnet-0abc has no free addresses"}
    r = run("recovery-plan", p, faults={"failLaunch": bad})
    assert (r.status, r.error) == ("FAILED", "RecoveryFailed"), r.cause
    for server, reason in bad.items():
        assert server in r.cause and reason in r.cause, r.cause
    assert all(len(r.wave_jobs(w)) == 1 for w in range(len(p["waves"]))), "every wave ran"
