"""dr-sim against boto3: every operation the project uses, driven by a client nobody here
wrote. Each raw response body is also checked against the botocore service model: no field the
model does not have, every enum value, pattern and length limit, every required member."""

import json
import re
import time

import boto3
import botocore.session
import pytest
from botocore.config import Config

S1 = "s-0a1b2c3d4e5f60001"
S2 = "s-0a1b2c3d4e5f60002"
S3 = "s-0a1b2c3d4e5f60003"
EFS_RP = "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
EBS_RP = "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0"


def client(service, url):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


MODELS = {s: botocore.session.get_session().get_service_model(s) for s in ("drs", "backup")}


def conform(value, shape, path="$"):
    """Checks a raw JSON value against a botocore shape; returns a list of problems."""
    problems = []
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()
                if m.serialization.get("location") is None}
        for key, item in value.items():
            if key not in wire:
                problems.append(f"{path}.{key}: not in the model's {shape.name}")
            else:
                problems += conform(item, wire[key][1], f"{path}.{key}")
        for req in shape.required_members:
            if req not in value:
                problems.append(f"{path}: required {req} missing")
    elif t == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        for i, item in enumerate(value):
            problems += conform(item, shape.member, f"{path}[{i}]")
    elif t == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        for k, v in value.items():
            problems += conform(k, shape.key, f"{path}<key>")
            problems += conform(v, shape.value, f"{path}.{k}")
    elif t == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string"]
        if "enum" in meta and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} not in enum {shape.name}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"].strip("^$"), value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: length {len(value)} outside {meta.get('min')}..{meta.get('max')}")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer")
    elif t == "timestamp":
        if not isinstance(value, (int, float)):
            problems.append(f"{path}: expected epoch seconds")
    return problems


class Recorder:
    """Keeps the raw body and status of the last response of a client."""

    def __init__(self, c):
        self.last = None
        c.meta.events.register("before-parse", self.keep)

    def keep(self, operation_model, response_dict, **_):
        self.last = (operation_model, response_dict)

    def check(self, expect_status=None):
        op, resp = self.last
        body = json.loads(resp["body"] or b"{}")
        if expect_status is not None:
            assert resp["status_code"] == expect_status, (op.name, resp["status_code"])
        if resp["status_code"] < 300:
            assert resp["status_code"] == op.http.get("responseCode", 200), op.name
            problems = conform(body, op.output_shape) if op.output_shape else []
        else:
            error_type = resp["headers"]["x-amzn-errortype"]
            shape = next(s for s in op.service_model.error_shapes if s.name == error_type)
            problems = conform(body, shape)
        assert not problems, "\n".join(problems)
        return body


@pytest.fixture(scope="module")
def drs(sim_url):
    c = client("drs", sim_url)
    return c, Recorder(c)


@pytest.fixture(scope="module")
def backup(sim_url):
    c = client("backup", sim_url)
    return c, Recorder(c)


def wait_job(c, job_id):
    for _ in range(200):
        job = c.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == "COMPLETED":
            return job
        time.sleep(0.05)
    raise AssertionError(f"{job_id} never completed")


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
    c.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": S3}])
    everything = c.describe_jobs()["items"]
    rec.check(200)
    assert len(everything) >= 2
    pages = list(c.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 1}))
    assert len(pages) == len(everything)
    future = c.describe_jobs(filters={"fromDate": "2999-01-01T00:00:00Z"})["items"]
    assert future == []
    past = c.describe_jobs(filters={"toDate": "2000-01-01T00:00:00.000Z"})["items"]
    assert past == []


def test_job_log_items_source_servers_and_recovery_instances(drs):
    c, rec = drs
    job_id = c.describe_jobs()["items"][0]["jobID"]
    wait_job(c, job_id)
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
    instance = c.describe_recovery_instances(filters={"sourceServerIDs": [S1]})["items"][0]["recoveryInstanceID"]
    job = c.start_failback_launch(recoveryInstanceIDs=[instance])["job"]
    rec.check(200)
    assert job["initiatedBy"] == "FAILBACK"
    wait_job(c, job["jobID"])
    drill = c.describe_recovery_instances(filters={"sourceServerIDs": [S3]})["items"]
    wait_job(c, c.describe_jobs()["items"][1]["jobID"])
    drill = c.describe_recovery_instances(filters={"sourceServerIDs": [S3]})["items"]
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
