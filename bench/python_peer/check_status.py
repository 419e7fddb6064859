"""The peer users would otherwise pick: check-status written in Python with boto3, as the DRS
orchestration samples are. It judges a DRS job the same way (COMPLETED and every server
LAUNCHED) so that the benchmark compares like with like."""

import boto3

drs = boto3.client("drs")  # built once per cold start, like the Rust handlers' clients


def handler(event, context):
    job_id = event["jobs"][0]["jobID"]  # the wave form check-status takes, with one job
    jobs = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
    if not jobs:
        raise RuntimeError(f"no job {job_id}")
    job = jobs[0]
    servers = job.get("participatingServers", [])
    counts = {}
    for s in servers:
        counts[s["launchStatus"]] = counts.get(s["launchStatus"], 0) + 1
    launched = {s["sourceServerID"]: s.get("recoveryInstanceID") for s in servers if s["launchStatus"] == "LAUNCHED"}
    settled = not any(s["launchStatus"] in ("PENDING", "IN_PROGRESS") for s in servers)
    if job["status"] == "COMPLETED":
        state = "SUCCEEDED" if servers and len(launched) == len(servers) else "FAILED"
    elif settled and servers and len(launched) < len(servers):
        state = "FAILED"
    else:
        state = "IN_PROGRESS"
    return {"state": state, "jobID": job_id, "counts": counts, "launched": launched}
