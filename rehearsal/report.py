"""What a person sees: progress while a run goes, and the per-wave, per-server summary."""

import json
import re
import time

IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"


class Progress:
    """Prints a line whenever the endpoint's view of the run changes."""

    def __init__(self, sim, out=print):
        self.sim = sim
        self.out = out
        self.started = time.time()
        self.last = None

    def tick(self):
        state = self.sim.state()
        waves = {}
        for job in state["jobs"]:
            key = job["tags"].get(IDEMPOTENCY_TAG, "")
            match = re.search(r"#w(\d+)#", key)
            label = f"wave {match.group(1)}" if match else ("failback" if "#failback" in key else "other")
            w = waves.setdefault(label, {"jobs": 0, "servers": 0, "launched": 0, "failed": 0})
            w["jobs"] += 1
            for s in job["servers"]:
                w["servers"] += 1
                w["launched"] += s["launchStatus"] == "LAUNCHED"
                w["failed"] += s["launchStatus"] == "FAILED"
        parts = [f"{label}: {w['jobs']} job(s), {w['launched']}/{w['servers']} servers launched"
                 + (f", {w['failed']} failed" if w["failed"] else "")
                 for label, w in sorted(waves.items())]
        restores = state["restoreJobs"]
        if restores:
            done = sum(r["status"] == "COMPLETED" for r in restores)
            bad = sum(r["status"] in ("FAILED", "ABORTED") for r in restores)
            parts.append(f"restores: {done}/{len(restores)} completed" + (f", {bad} failed" if bad else ""))
        line = " | ".join(parts) or "validating the plan"
        if line != self.last:
            self.out(f"  {time.time() - self.started:6.1f}s  {line}")
            self.last = line


def print_summary(result, statuses, out=print):
    """The per-wave, per-server summary of a finished run."""
    out("")
    if result["status"] == "SUCCEEDED":
        output = json.loads(result["output"])
        out(f"Run SUCCEEDED: {output.get('planName', '')} ({'drill' if output.get('isDrill') else 'RECOVERY'})"
            if "waves" in output else "Run SUCCEEDED")
        out(f"  started {output.get('startedAt')}  ended {output.get('endedAt')}")
        for i, wave in enumerate(output.get("waves", [])):
            out(f"  wave {i} ({wave['name']}): {wave['startedAt']} -> {wave['endedAt']}, {wave['failures']} failure(s)")
            print_jobs(wave["jobs"], wave["restores"], out)
        if "jobs" in output:
            print_jobs(output["jobs"], [], out)
        if "restores" in output:
            print_jobs([], output["restores"], out)
        return
    out(f"Run {result['status']}: {result.get('error')}")
    out(f"  cause: {result.get('cause')}")
    if statuses:
        out("  last known state of every job:")
        for job_id, s in statuses.items():
            out(f"    {job_id}: {s['state']}: {s['summary']}")
            print_servers(s, out, indent="      ")


def print_jobs(jobs, restores, out):
    for job in jobs:
        if "jobID" in job:
            out(f"    job {job['jobID']}: {job['state']} ({job.get('startedAt')} -> {job.get('endedAt')})")
            print_servers(job, out)
        else:
            out(f"    job not run: {job.get('error')}: {job.get('cause')}")
    for r in restores:
        if "restoreJobId" in r:
            target = r.get("createdResourceArn") or r.get("statusMessage") or ""
            out(f"    restore {r['restoreJobId']}: {r['state']} {target}")
        else:
            out(f"    restore not run: {r.get('error')}: {r.get('cause')}")


def print_servers(job, out, indent="      "):
    for source, instance in sorted(job.get("launched", {}).items()):
        out(f"{indent}{source}  LAUNCHED    {instance}")
    for server in job.get("notLaunched", []):
        out(f"{indent}{server['sourceServerID']}  {server['launchStatus']:<11} {server.get('reason') or ''}")
