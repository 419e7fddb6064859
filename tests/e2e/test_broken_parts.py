"""The run against a part of AWS that is broken for the whole run, end to end: the README says
that a wake table it cannot use makes the rounds poll, that a notification it cannot publish
never stops a run, and that a report it cannot write leaves the run's outcome as it was and says
so. Each test breaks one part of the local AWS (moto) after the harness is set up and repairs it
afterwards; a module of its own, so no other test runs against a broken part."""

import contextlib
import json
from pathlib import Path

from rehearsal.completion import clear_wake_table, create_wake_table
from rehearsal.processes import REPORT_BUCKET, WAKE_TABLE
from rehearsal.workflow import TOPIC_ARN, TOPIC_NAME, Engine, waits

ROOT = Path(__file__).resolve().parents[2]
DRILL = json.loads((ROOT / "events/statemachine/recovery-drill.json").read_text())


@contextlib.contextmanager
def no_wake_table(aws):
    dynamodb = aws.client("dynamodb")
    dynamodb.delete_table(TableName=WAKE_TABLE)
    try:
        yield
    finally:
        create_wake_table(dynamodb)


@contextlib.contextmanager
def no_notifications_topic(aws):
    sns = aws.client("sns")
    sns.delete_topic(TopicArn=TOPIC_ARN)
    try:
        yield
    finally:
        assert sns.create_topic(Name=TOPIC_NAME)["TopicArn"] == TOPIC_ARN


@contextlib.contextmanager
def no_report_bucket(aws):
    s3 = aws.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=REPORT_BUCKET):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=REPORT_BUCKET, Key=v["Key"], VersionId=v["VersionId"])
    s3.delete_bucket(Bucket=REPORT_BUCKET)
    try:
        yield
    finally:
        s3.create_bucket(Bucket=REPORT_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket=REPORT_BUCKET, VersioningConfiguration={"Status": "Enabled"})


def drill_with(local, broken, poll=1):
    """Runs the sample drill with `broken(aws)` in force from its start to its end: (the
    execution's description, its history, what reached the notifications topic)."""
    sim, aws, handlers = local
    sim.reset()
    clear_wake_table(aws.client("dynamodb"))
    plan = json.loads(json.dumps(DRILL))
    plan.setdefault("options", {}).update(pollIntervalSeconds=poll, giveUpAfterSeconds=300)
    with Engine(handlers, aws) as engine:
        with broken(aws):
            arn = engine.start("recovery-plan", plan, "broken")
            result = engine.wait(arn, timeout=600)
            events = engine.history(arn)
        return result, events, engine.notifications()


def failed_tasks(events, resource):
    """The errors of the task attempts on `resource` that failed."""
    return [e["taskFailedEventDetails"]["error"] for e in events
            if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("resource") == resource]


def test_without_its_wake_table_every_round_polls_and_the_drill_succeeds(local):
    # Long enough polls that a wait which had registered would have been woken, not timed out.
    result, events, _ = drill_with(local, no_wake_table, poll=2)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    w = waits(events)
    assert w["failed"] >= 3 and w["woken"] == 0, w  # one per wave at least; none registered
    output = json.loads(result["output"])
    assert output["report"]["written"] is True


def test_a_notification_that_cannot_be_published_never_stops_the_drill(local):
    result, events, notifications = drill_with(local, no_notifications_topic)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    # The run's start, each of its 3 waves and its end tried to publish, and failed.
    failures = failed_tasks(events, "publish")
    assert len(failures) >= 5, [e["type"] for e in events]
    assert notifications == []
    assert json.loads(result["output"])["report"]["written"] is True


def test_a_report_that_cannot_be_written_leaves_the_outcome_and_says_so(local):
    result, events, notifications = drill_with(local, no_report_bucket)
    assert result["status"] == "SUCCEEDED", result.get("cause")
    report = json.loads(result["output"])["report"]
    assert report["written"] is False and report["error"], report
    # The end is still announced, saying the report was not written.
    [end] = [n for n in notifications if n["message"].get("kind") == "RUN_FINISHED"]
    assert end["message"]["report"]["written"] is False, end
