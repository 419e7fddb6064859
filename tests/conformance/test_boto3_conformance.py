"""dr-sim against boto3: every operation the project uses, driven by a client nobody here
wrote. Each raw response body is also checked against the botocore service model: no field the
model does not have, every enum value, pattern and length limit, every required member."""

import json
import time

import pytest
from modelcheck import MODELS, conform

S1 = "s-0a1b2c3d4e5f60001"
S2 = "s-0a1b2c3d4e5f60002"
S3 = "s-0a1b2c3d4e5f60003"
EFS_RP = "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
EBS_RP = "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0"

# Each test starts from the endpoint's seed and creates the jobs it reads: none depends on
# another having run first, or on the order they run in.
pytestmark = pytest.mark.usefixtures("fresh_sim")


def wait_job(c, job_id):
    for _ in range(200):
        job = c.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == "COMPLETED":
            return job
        time.sleep(0.05)
    raise AssertionError(f"{job_id} never completed")


def launched(c, server, is_drill):
    """Recovers `server` (a drill or a real recovery) and waits for its job: the job."""
    job = c.start_recovery(isDrill=is_drill, sourceServers=[{"sourceServerID": server}])["job"]
    return wait_job(c, job["jobID"])


def test_start_recovery_answers_202_with_a_job(drs):
    c, rec = drs
    out = c.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": S1}, {"sourceServerID": S2}],
                           tags={"dr:plan": "conformance"})
    rec.check(202)
    assert out["job"]["initiatedBy"] == "START_RECOVERY"
    assert out["job"]["status"] == "PENDING"
    assert {s["sourceServerID"] for s in out["job"]["participatingServers"]} == {S1, S2}
    job = wait_job(c, out["job"]["jobID"])
    rec.check(200)
    assert [s["launchStatus"] for s in job["participatingServers"]] == ["LAUNCHED", "LAUNCHED"]
    assert "endDateTime" in job


def test_describe_jobs_filters_by_date_and_paginates(drs):
    c, rec = drs
    mine = {c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": s}])["job"]["jobID"] for s in (S1, S2)}
    everything = c.describe_jobs()["items"]
    rec.check(200)
    assert {j["jobID"] for j in everything} == mine
    pages = list(c.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == len(everything)
    future = c.describe_jobs(filters={"fromDate": "2999-01-01T00:00:00Z"})["items"]
    assert future == []
    past = c.describe_jobs(filters={"toDate": "2000-01-01T00:00:00.000Z"})["items"]
    assert past == []


def test_job_log_items_source_servers_and_recovery_instances(drs):
    c, rec = drs
    job_id = launched(c, S1, is_drill=False)["jobID"]
    log = c.describe_job_log_items(jobID=job_id)["items"]
    rec.check(200)
    assert log[0]["event"] == "JOB_START" and log[-1]["event"] == "JOB_END"
    servers = c.describe_source_servers(filters={"sourceServerIDs": [S1]})["items"]
    rec.check(200)
    assert servers[0]["lastLaunchResult"] == "SUCCEEDED"
    instances = c.describe_recovery_instances(filters={"sourceServerIDs": [S1]})["items"]
    rec.check(200)
    assert len(instances) == 1 and instances[0]["isDrill"] is False


def test_failback_and_terminate_start_jobs(drs):
    c, rec = drs
    launched(c, S1, is_drill=False)
    launched(c, S3, is_drill=True)
    instance = c.describe_recovery_instances(filters={"sourceServerIDs": [S1]})["items"][0]["recoveryInstanceID"]
    job = c.start_failback_launch(recoveryInstanceIDs=[instance])["job"]
    rec.check(200)
    assert job["initiatedBy"] == "FAILBACK"
    wait_job(c, job["jobID"])
    drill = c.describe_recovery_instances(filters={"sourceServerIDs": [S3]})["items"]
    assert len(drill) == 1 and drill[0]["isDrill"] is True
    term = c.terminate_recovery_instances(recoveryInstanceIDs=[drill[0]["recoveryInstanceID"]])["job"]
    rec.check(200)
    assert term["type"] == "TERMINATE"
    wait_job(c, term["jobID"])
    assert c.describe_recovery_instances(filters={"sourceServerIDs": [S3]})["items"] == []


def test_conflict_has_the_modelled_fields(drs):
    c, rec = drs
    c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": "s-0a1b2c3d4e5f60004"}])
    with pytest.raises(c.exceptions.ConflictException) as e:
        c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": "s-0a1b2c3d4e5f60004"}])
    rec.check(409)
    assert e.value.response["resourceId"] == "s-0a1b2c3d4e5f60004"


def test_quota_exceeded_answers_402(drs):
    c, rec = drs
    servers = [{"sourceServerID": f"s-fleet{n:012d}"} for n in range(101)]
    with pytest.raises(c.exceptions.ServiceQuotaExceededException) as e:
        c.start_recovery(isDrill=True, sourceServers=servers)
    rec.check(402)
    assert e.value.response["quotaCode"]


def test_unknown_server_is_a_validation_error(drs):
    c, rec = drs
    with pytest.raises(c.exceptions.ValidationException):
        c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": "s-zzzzzzzzzzzzzzzzz"}])
    rec.check(400)


def test_throttling_and_internal_errors_in_wire_form(drs, sim_url):
    import urllib.request
    req = urllib.request.Request(
        f"{sim_url}/_sim/faults", method="POST",
        data=json.dumps({"throttle": {"DescribeJobs": 1}, "internalError": {"DescribeJobs": 1},
                         "retryAfterSeconds": 7}).encode(),
        headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
    c, rec = drs
    with pytest.raises(c.exceptions.ThrottlingException) as e:
        c.describe_jobs()
    rec.check(429)
    assert rec.last[1]["headers"]["retry-after"] == "7"
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    with pytest.raises(c.exceptions.InternalServerException):
        c.describe_jobs()
    rec.check(500)
    c.describe_jobs()
    rec.check(200)


def test_restore_job_lifecycle_and_idempotency_token(backup):
    c, rec = backup
    first = c.start_restore_job(RecoveryPointArn=EFS_RP, Metadata={"newFileSystem": "true"},
                                IdempotencyToken="conformance-1", ResourceType="EFS")
    rec.check(200)
    again = c.start_restore_job(RecoveryPointArn=EFS_RP, Metadata={"newFileSystem": "true"},
                                IdempotencyToken="conformance-1", ResourceType="EFS")
    assert first["RestoreJobId"] == again["RestoreJobId"]
    job_id = first["RestoreJobId"]
    seen = set()
    for _ in range(200):
        job = c.describe_restore_job(RestoreJobId=job_id)
        rec.check(200)
        seen.add(job["Status"])
        if job["Status"] == "COMPLETED":
            break
        time.sleep(0.02)
    assert job["Status"] == "COMPLETED", seen
    assert job["CreatedResourceArn"].startswith("arn:aws:elasticfilesystem:")
    assert "RUNNING" in seen or "PENDING" in seen
    listed = c.list_restore_jobs(ByStatus="COMPLETED")["RestoreJobs"]
    rec.check(200)
    assert [j["RestoreJobId"] for j in listed] == [job_id]
    assert len(list(c.get_paginator("list_restore_jobs").paginate())) == 1


def test_recovery_point_restore_metadata(backup):
    c, rec = backup
    out = c.get_recovery_point_restore_metadata(BackupVaultName="payments-vault", RecoveryPointArn=EBS_RP)
    rec.check(200)
    assert out["ResourceType"] == "EBS"
    assert out["RestoreMetadata"]["availabilityZone"] == "eu-west-1a"


def test_backup_errors_in_wire_form(backup):
    c, rec = backup
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.start_restore_job(RecoveryPointArn=EFS_RP + "-missing", Metadata={})
    rec.check(400)
    with pytest.raises(c.exceptions.InvalidParameterValueException):
        c.start_restore_job(RecoveryPointArn=EFS_RP, Metadata={}, ResourceType="EBS")
    rec.check(400)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_restore_job(RestoreJobId="no-such-job")
    rec.check(400)


def test_the_model_check_itself_catches_wrong_bodies():
    out = MODELS["drs"].operation_model("StartRecovery").output_shape
    problems = conform({"job": {"jobID": "job-1", "status": "RUNNING", "isDrill": True}}, out)
    assert any("does not match" in p for p in problems), problems
    assert any("not in enum" in p for p in problems), problems
    assert any("not in the model" in p for p in problems), problems
    assert conform({"job": {}}, out) == ["$.job: required jobID missing"]
