"""What a person sees: progress while a run goes, the per-wave, per-server summary, and the
run report the report function wrote (fetched from the local S3, with its RTO and RPO)."""

import functools
import json
import re
import time
from pathlib import Path

IDEMPOTENCY_TAG = "dr-orchestrator:idempotency-key"
# Lines reach the terminal as they are printed, also when the output is piped.
print = functools.partial(print, flush=True)


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
        cleanup = {"jobs": 0, "instances": 0, "terminated": 0}
        for job in state["jobs"]:
            if job.get("initiatedBy") == "TERMINATE_RECOVERY_INSTANCES":
                cleanup["jobs"] += 1
                cleanup["instances"] += len(job["servers"])
                cleanup["terminated"] += sum(s["launchStatus"] == "TERMINATED" for s in job["servers"])
                continue
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
        if cleanup["jobs"]:
            parts.append(f"drill cleanup: {cleanup['jobs']} job(s), {cleanup['terminated']}/{cleanup['instances']} "
                         "instances terminated")
        restores = state["restoreJobs"]
        if restores:
            done = sum(r["status"] == "COMPLETED" for r in restores)
            bad = sum(r["status"] in ("FAILED", "ABORTED") for r in restores)
            parts.append(f"restores: {done}/{len(restores)} completed" + (f", {bad} failed" if bad else ""))
        line = " | ".join(parts) or "preparing the plan"
        if line != self.last:
            self.out(f"  {time.time() - self.started:6.1f}s  {line}")
            self.last = line


def print_summary(result, statuses, out=print):
    """The per-wave, per-server summary of a finished run."""
    out("")
    if result["status"] == "SUCCEEDED":
        output = json.loads(result["output"])
        workflow = output.get("workflow", "")
        kind = ({True: "drill", False: "RECOVERY"}[output["isDrill"]] if workflow == "RECOVERY_PLAN"
                else workflow.lower())
        out(f"Run SUCCEEDED: {output.get('planName', '')} ({kind})")
        out(f"  started {output.get('startedAt')}  ended {output.get('endedAt')}")
        print_preflight(output.get("preflight"), out)
        for wave in output.get("waves", []):
            out(f"  {wave['name']}: {wave['state']}, {wave['startedAt']} -> {wave['endedAt']}{approved(wave)}")
            print_jobs(wave["jobs"], out)
        print_cleanup(output.get("cleanup"), out)
        return
    out(f"Run {result['status']}: {result.get('error')}")
    out(f"  cause: {result.get('cause')}")
    if statuses:
        out("  last known state of every job:")
        print_jobs(list(statuses.values()), out)


def approved(wave):
    """", approved by ARN at TIME" for a wave that waited for a person (its `approval`, as the run
    state carries it: NOT_REQUIRED, APPROVED, REJECTED, TIMED_OUT or NOT_AN_ANSWER; the ARN is the
    caller the approval endpoint verified)."""
    approval = wave.get("approval") or {}
    state = approval.get("state")
    answer = approval.get("answer") or {}
    at = f" at {answer.get('at') or approval.get('decidedAt')}" if (answer.get("at") or approval.get("decidedAt")) else ""
    why = f" ({answer['reason']})" if answer.get("reason") else ""
    if state == "APPROVED":
        return f", approved by {answer.get('by') or '?'}{at}{why}"
    if state == "REJECTED":
        return f", rejected by {answer.get('by') or '?'}{at}{why}"
    if state == "TIMED_OUT":
        return f", approval timed out{at}"
    if state == "NOT_AN_ANSWER":
        return f", not approved: its wait was resumed by something other than the approval endpoint{at}"
    return ""


def print_cleanup(cleanup, out):
    """What became of a drill's instances."""
    if not isinstance(cleanup, dict) or cleanup.get("state") in (None, "NOT_NEEDED"):
        return
    line = f"  drill cleanup: {cleanup['state']}"
    if "instances" in cleanup:
        line += f", {cleanup.get('terminated', 0)} of {cleanup['instances']} drill instances terminated"
    out(line)
    if cleanup.get("summary"):
        out(f"    {cleanup['summary']}")


def print_preflight(preflight, out):
    if not preflight:
        return
    out(f"  preflight: {preflight['verdict']} ({preflight['serversChecked']} servers checked, "
        f"{preflight['blocking']} blocking, {preflight['warnings']} warnings)")
    for f in preflight["findings"]:
        out(f"    {f['severity']:<8} {f['code']} at {f['path']}: {f['message']}")


def print_jobs(jobs, out):
    for job in jobs:
        label = job.get("label") or ""
        if job["kind"] == "DRS_JOB":
            out(f"    {label} job {job['jobID']}: {job['state']} ({job.get('startedAt')} -> {job.get('endedAt')})")
            print_servers(job, out)
        elif job["kind"] == "RESTORE_JOB":
            target = job.get("createdResourceArn") or job.get("statusMessage") or ""
            out(f"    {label} restore {job['restoreJobId']}: {job['state']} {target}")
        else:
            out(f"    {label} not started: {job.get('error')}: {job.get('cause')}")


def fetch_report(s3, bucket, execution_arn, dest):
    """Copies the run's report.html and report.json, and the history (runs/index.html), from the
    report bucket to `dest`/<execution name>/; returns the local report.html, or None when the run
    left no report."""
    name = execution_arn.rsplit(":", 1)[-1]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="runs/")
            for o in page.get("Contents", [])]
    html = [k for k in keys if k.endswith(f"/{name}/report.html")]
    if not html:
        return None
    folder = Path(dest) / name
    folder.mkdir(parents=True, exist_ok=True)
    prefix = html[0][: -len("report.html")]
    for key, local in ((prefix + "report.html", "report.html"), (prefix + "report.json", "report.json"),
                       ("runs/index.html", "index.html")):
        if key in keys:
            (folder / local).write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return folder / "report.html"


def print_report(path, out=print):
    """The report's verdict and the measured RTO and RPO, per wave and worst overall."""
    report = json.loads((Path(path).parent / "report.json").read_text())
    verdict = report["verdict"]

    def secs(s):
        if s is None:
            return "not measured"
        m, s = divmod(int(s), 60)
        h, m = divmod(m, 60)
        return f"{h}h {m:02d}m {s:02d}s" if h else (f"{m}m {s:02d}s" if m else f"{s}s")

    out(f"\nRun report: {verdict['state']}: {verdict['summary']}")
    for name in ("worstRto", "worstRpo"):
        worst = verdict.get(name)
        if worst:
            target = f" (target {secs(worst['targetSeconds'])})" if worst.get("targetSeconds") is not None else ""
            out(f"  {name[5:].upper()} {secs(worst['seconds'])} worst, {worst['of']}{target}")
    for wave in report["waves"]:
        # The wave's worst over its servers and its restores, as the verdict counts them.
        measured = [x for x in report["servers"] + report.get("restores", []) if x["wave"] == wave["index"]]
        rtos = [x["rtoSeconds"] for x in measured if x.get("rtoSeconds") is not None]
        rpos = [x["rpoSeconds"] for x in measured if x.get("rpoSeconds") is not None]
        out(f"  {wave['name']}: {wave['state']}, {wave['launched']}/{wave['servers']} servers launched, "
            f"{wave['restored']}/{wave['restores']} restores; RTO {secs(max(rtos)) if rtos else 'not measured'}, "
            f"RPO {secs(max(rpos)) if rpos else 'not measured'}")
    out(f"  report: {path}")


def print_servers(job, out, indent="      "):
    """Counts, then the servers that did not launch; which instance each launched server got is
    in the run report (below), read from DRS."""
    counts = job.get("counts") or {}
    out(indent + (", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no server"))
    for server in job.get("notLaunched", []):
        out(f"{indent}{server['sourceServerID']}  {server['launchStatus']:<11} {server.get('reason') or ''}")
    if job.get("notLaunchedOmitted"):
        out(f"{indent}... and {job['notLaunchedOmitted']} more servers that did not launch")
