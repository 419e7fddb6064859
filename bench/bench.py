"""The benchmark: cold start, memory, size, handler cost and workflow cost of dr-orchestrator,
side by side with the floor (a bare lambda_runtime function) and the peer (check-status in
Python with boto3 under awslambdaric). Timings are compared as ratios within one run; nothing
here asserts a time. Run it with bench/run.sh."""

import argparse
import json
import platform
import statistics
import subprocess
import time
import zipfile
from io import BytesIO
from pathlib import Path

import boto3

from rehearsal.local_aws import LocalAws
from rehearsal.processes import DRILL_WORKFLOWS, Handlers, Sim
from rehearsal.workflow import Engine, cost, load_definition, waits

from .runtime_api import RuntimeApi, cold_start, function_env, warm_latencies

ROOT = Path(__file__).resolve().parents[1]

RELEASE = ROOT / "target" / "release"
HANDLERS = ["start-recovery", "start-failback", "start-restore", "check-status"]
# Functions timed to their first `next` only (init): a representative event of theirs needs more
# of the local AWS than this section runs, so each gets a request it refuses before any call.
# prepare-plan is one since it takes the plan's lease (DynamoDB) after preparing the plan.
INIT_ONLY = {"prepare-plan": {"workflow": "NOPE"},
             "clean-up-drill": {"operation": "CHECK"}, "sweep-drill-instances": {"trigger": "NOBODY"},
             "report": {"operation": "WRITE"}, "wait-for-jobs": {}, "on-event": {"resources": []}}
# Where the SDK's HTTPS client (rustls-native-certs) finds the root certificates decides most of
# a function's init. Every function is timed in both layouts, and nothing is inherited from the
# shell (some machines set SSL_CERT_FILE and SSL_CERT_DIR for every process):
# - lambda: one PEM bundle, no certificate directory, as on Lambda's provided.al2023;
# - debian: what the platform probe finds here: the bundle and every file in /etc/ssl/certs.
BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
TAG = "dr-orchestrator:idempotency-key"
EFS_RP = "arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
NAMED = ["s-0a1b2c3d4e5f6%04x" % n for n in range(1, 17)]
FLEET = ["s-fleet%012d" % n for n in range(1000)]  # bench/seed.json: dr-wave n % 4 + 1


def cert_layouts():
    bundle = next(b for b in BUNDLES if Path(b).is_file())
    return {"lambda": {"SSL_CERT_FILE": bundle}, "debian": {}}


def layout_env(env, layout):
    env = {k: v for k, v in env.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env.update(layout)
    return env


def drs_client(url):
    return boto3.client("drs", endpoint_url=url, region_name="eu-west-1",
                        aws_access_key_id="AKIDLOCALBENCH", aws_secret_access_key="local")


def wait_completed(drs, job_id):
    for _ in range(600):
        job = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        if job["status"] == "COMPLETED":
            return job
        time.sleep(0.05)
    raise TimeoutError(job_id)


def fixtures(sim):
    """Jobs in the local endpoint for every handler's representative event."""
    drs = drs_client(sim.url)
    drill = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": s} for s in NAMED[:2]],
                               tags={TAG: "bench#recovery"})["job"]
    real = drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": s} for s in NAMED[2:4]])["job"]
    instances = [s["recoveryInstanceID"] for s in wait_completed(drs, real["jobID"])["participatingServers"]]
    drs.start_failback_launch(recoveryInstanceIDs=instances, tags={TAG: "bench#failback"})
    wait_completed(drs, drill["jobID"])
    big = {}
    for n, servers in ((100, FLEET[:100]), (200, FLEET[100:300])):
        job = drs.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": s} for s in servers])["job"]
        big[n] = wait_completed(drs, job["jobID"])["jobID"]
    events = {
        "start-recovery": {"isDrill": True, "sourceServers": [{"sourceServerID": s} for s in NAMED[:2]],
                           "idempotencyKey": "bench#recovery"},
        "start-failback": {"recoveryInstanceIDs": instances, "idempotencyKey": "bench#failback"},
        "start-restore": {"restore": {"recoveryPointArn": EFS_RP, "metadata": {"newFileSystem": "true"}},
                          "idempotencyKey": "bench#restore"},
        "check-status": wave([{"kind": "DRS_JOB", "jobID": drill["jobID"], "operation": "DRILL", "sourceServerIDs": NAMED[:2]}]),
        "prepare-plan": {"workflow": "RECOVERY_PLAN", "input": tagged_plan(1), "startedAt": "2026-11-25T00:00:00Z",
                         "executionId": "arn:aws:states:eu-west-1:123456789012:execution:bench:prepare"},
    }
    big_refs = {n: wave([{"kind": "DRS_JOB", "jobID": j, "operation": "DRILL",
                          "sourceServerIDs": FLEET[:100] if n == 100 else FLEET[100:300]}]) for n, j in big.items()}
    return events, big_refs


def wave(jobs):
    """A check-status input: the jobs of one wave."""
    return {"wave": "wave 0 (bench)", "giveUpAfterSeconds": 7200, "jobs": jobs}


def tagged_plan(waves):
    """A drill of `waves` waves of 250 generated servers each, chosen by their dr-wave tag."""
    return {"planName": f"bench {waves * 250} by tags", "isDrill": True,
            "waves": [{"name": f"wave-{w + 1}", "select": {"tags": {"fleet": "bench", "dr-wave": str(w + 1)}}}
                      for w in range(waves)]}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure_cold(api, name, argv, env, payload, runs, cwd=None, init_only=False):
    nexts, responses, rss = [], [], []
    for _ in range(runs):
        to_next, to_response, peak, status, body = cold_start(api, argv, env, payload, cwd)
        if status != ("error" if init_only else "response"):
            raise RuntimeError(f"{name}: {status}: {body[:300]!r}")
        nexts.append(to_next)
        responses.append(to_response)
        rss.append(peak)
    return {"name": name, "runs": runs, "toNextMs": median(nexts),
            "toResponseMs": None if init_only else median(responses), "peakRssKiB": max(rss)}


# The deployed artifact: one binary serves every function, the one its Handler names (_HANDLER).
DEPLOYED = "dr-orchestrator"


def deployed(binaries, env, name):
    """The command and environment that start function `name` as Lambda starts it."""
    return [str(binaries / DEPLOYED)], {**env, "_HANDLER": name}


def sizes(binaries):
    out = {}
    for name in (DEPLOYED, "hello-floor"):
        binary = binaries / name
        buf = BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(binary, "bootstrap")
        out[name] = {"binaryBytes": binary.stat().st_size, "zipBytes": len(buf.getvalue())}
    return out


def plan(total, waves):
    per = total // waves
    return {"planName": f"bench {total}", "isDrill": True,
            "waves": [{"name": f"wave-{w}", "sourceServers": [{"sourceServerID": s} for s in FLEET[w * per:(w + 1) * per]]}
                      for w in range(waves)]}


# How a round learns that its jobs ended, side by side at the same poll interval:
# - polling: the round's wait is a plain Wait of pollIntervalSeconds (the workflow before the
#   callback; no completion rules, so no events are delivered);
# - events: the committed workflow, dr-sim's completion events delivered through the rules;
# - events, all dropped: the committed workflow with every event lost (the safety net).
MODES = ("polling", "events", "events, all dropped")


def polling_definition():
    """The recovery-plan workflow with its callback wait replaced by the Wait it replaced."""
    definition = json.loads(load_definition("recovery-plan"))
    wave = definition["States"]["Run wave"]["Branches"][0]["States"]
    rounds = wave["Run rounds"]["ItemProcessor"]["States"]
    rounds["Wait for jobs"] = {"Type": "Wait", "SecondsPath": "$.options.pollIntervalSeconds", "Next": "Check jobs"}
    del rounds["Poll instead"]
    return json.dumps(definition)


def judged_ms(events):
    """When the workflow entered each wave's final check (Judge wave), in order (epoch ms)."""
    return sorted(e["timestamp"].timestamp() * 1000 for e in events
                  if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "Judge wave")


def wave_jobs(state, w):
    """The launch jobs of wave `w` (its idempotency keys name the wave)."""
    return [j for j in state["jobs"] if f"#w{w}#" in j["tags"].get(TAG, "")]


def wave_overheads(events, state, waves):
    """Per wave: seconds from its last server's launch ending (dr-sim's timeline) to the workflow
    entering the wave's final check (Judge wave): what the wave waited for nothing."""
    judged = judged_ms(events)
    out = []
    for w in range(min(waves, len(judged))):
        settled = [s["settlesMs"] for j in wave_jobs(state, w) for s in j["servers"]]
        if settled:  # the bench's plans hold servers only
            out.append(round((judged[w] - max(settled)) / 1000, 1))
    return out


def wave_wakes(events, state, waves, delivered):
    """Per wave woken by an event, the overhead split in two (seconds): `delivery`, from the last
    launch to the end of the on-event invocation that resumed the wave's last wait (dr-sim's
    event, the pump, the harness's queue of deliveries and the invocation: the harness's part),
    and `afterWake`, from there to the workflow entering Judge wave (Step Functions resuming the
    wait, then check-status: the workflow's part). Waves not woken by an event are left out."""
    judged = judged_ms(events)
    out = []
    for w in range(min(waves, len(judged))):
        jobs = wave_jobs(state, w)
        keys = {f"drs:{j['jobID']}" for j in jobs}
        settled = max([s["settlesMs"] for j in jobs for s in j["servers"]] or [0])
        woke = [d.ended * 1000 for d in delivered if isinstance(d.answer, dict)
                and d.answer.get("outcome") == "RESUMED" and d.answer.get("job") in keys
                and d.ended * 1000 <= judged[w]]
        if settled and woke:
            out.append({"delivery": round((max(woke) - settled) / 1000, 1),
                        "afterWake": round((judged[w] - max(woke)) / 1000, 1)})
    return out


def invocation_ms(delivered):
    """The median and the 90th percentile of the on-event invocations' time in the harness (ms)."""
    took = [(d.ended - d.started) * 1000 for d in delivered]
    return {"p50": round(median(took)), "p90": round(percentile(took, 90))} if took else None


def workflow_costs(sim, handlers, aws, sizes_waves, poll, modes=MODES):
    rows = []
    polling = polling_definition()
    for total, waves in sizes_waves:
        for mode in modes:
            sim.reset()
            if mode != "events":
                sim.faults(events={"drop": "ALL"})
            p = tagged_plan(waves) if total == 1000 else plan(total, waves)
            # The history budget prepare-plan enforces (the waves' rounds and the drill's cleanup,
            # each polled until it would give up): polls of 1 s need a shorter give-up time.
            p["options"] = {"pollIntervalSeconds": poll, "giveUpAfterSeconds": 7200 if poll >= 30 else 300}
            with Engine(handlers, aws) as engine:
                # dr-sim's job IDs start over after the reset: what the previous run left in the
                # wake table under a job ID (its reports, its `woken`) must not be taken for this
                # run's job of the same ID.
                engine.restart_completion()
                if mode == "polling":
                    arn = engine.start_definition("dr-orchestrator-bench-polling", polling, p, f"bench-{total}")
                else:
                    arn = engine.start("recovery-plan", p, f"bench-{total}")
                result = engine.wait(arn, timeout=3600)
                events = engine.history(arn)
                completion = engine.completion
            # Read after the harness closed: the deliveries still in flight have ended.
            delivered = list(completion.delivery.delivered)
            invocations = dict(engine.stats.invocations)
            state = sim.state()
            # After the last job of any kind (the drill's TERMINATE jobs end last).
            last_done = max([max(s["settlesMs"] for s in j["servers"]) for j in state["jobs"]] or [0])
            launches = [j for j in state["jobs"] if j["initiatedBy"] != "TERMINATE_RECOVERY_INSTANCES"]
            first_start = min([j["createdMs"] for j in state["jobs"]] or [0])
            ended = result["stopDate"].timestamp() * 1000
            c = cost(events)
            per_wave = wave_overheads(events, state, waves)
            rows.append({"servers": total, "waves": waves, "mode": mode, "selectedByTags": total == 1000,
                         "status": result["status"], "jobs": len(launches),
                         "terminateJobs": len(state["jobs"]) - len(launches),
                         **c, "lambdaInvocations": sum(invocations.values()),
                         "onEventInvocations": invocations.get("on-event", 0),
                         "waits": waits(events),
                         "toFirstStartSeconds": round((first_start - result["startDate"].timestamp() * 1000) / 1000, 2),
                         "preparedPlanBytes": prepared_plan_bytes(events),
                         "waveOverheadSeconds": per_wave,
                         "maxWaveOverheadSeconds": max(per_wave or [0]),
                         "wakes": wave_wakes(events, state, waves, delivered),
                         "onEventMs": invocation_ms(delivered),
                         "overheadSeconds": round((ended - last_done) / 1000, 1)})
    return rows


def prepared_plan_bytes(events):
    """The size of the prepared plan, as the Prepare plan task returned it."""
    for e in events:
        d = e.get("taskSucceededEventDetails")
        if d and '"workflow":"RECOVERY_PLAN"' in d.get("output", "").replace(" ", ""):
            return len(json.dumps(json.loads(d["output"])["Payload"], separators=(",", ":")).encode())
    return 0


PEER_DIR = ROOT / "bench" / "python_peer"


def peer_command(python):
    """The peer: check-status in Python with boto3, under AWS's runtime interface client."""
    return [python, "-m", "awslambdaric", "check_status.handler"]


def cold_starts(api, base, events, runs, python, binaries):
    """Every function's cold start in both certificate layouts, beside the floor and the peer."""
    out = {}
    for layout, certs in cert_layouts().items():
        env = layout_env(base, certs)
        cold = [measure_cold(api, "hello-floor", [str(binaries / "hello-floor")], env, {"hello": "world"}, runs)]
        for name in HANDLERS:
            cold.append(measure_cold(api, name, *deployed(binaries, env, name), events[name], runs))
        for name, refused in INIT_ONLY.items():
            cold.append(measure_cold(api, name, *deployed(binaries, env, name), refused, runs, init_only=True))
        cold.append(measure_cold(api, "check-status (Python, boto3)", peer_command(python), env, events["check-status"],
                                 runs, cwd=PEER_DIR))
        out[layout] = {"certificates": certs or "platform probe", "functions": cold}
    return out


def handler_costs(api, env, big, runs, python, binaries):
    """One warm process judging a completed 100- and 200-server job `runs` times, and the peer."""
    warm = []
    for n, ref in big.items():
        command, rust_env = deployed(binaries, env, "check-status")
        for name, cmd, cmd_env, cwd in (("check-status", command, rust_env, None),
                                        ("check-status (Python, boto3)", peer_command(python), env, PEER_DIR)):
            lat, rss = warm_latencies(api, cmd, cmd_env, [ref] * runs, cwd)
            warm.append({"name": name, "servers": n, "invocations": runs, "p50Ms": round(percentile(lat, 50), 2),
                         "p99Ms": round(percentile(lat, 99), 2), "peakRssKiB": rss})
    return warm


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="a short run for CI: few repetitions, small plans")
    ap.add_argument("--python", default=str(ROOT / ".tools" / "bench" / "bin" / "python"),
                    help="the Python with awslambdaric and boto3 for the peer")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--workflow-only", action="store_true",
                      help="run only the workflow section and replace it in --out (the rest of --out is kept)")
    only.add_argument("--cold-only", action="store_true",
                      help="run only the cold-start and size sections and replace them in --out")
    ap.add_argument("--binaries", type=Path, default=RELEASE,
                    help="where the release binaries are (default target/release): to time another build")
    args = ap.parse_args(argv)
    cold_runs, warm_runs = (3, 20) if args.smoke else (21, 300)
    plans = [(10, 1), (1000, 4)] if args.smoke else [(10, 1), (100, 2), (1000, 4)]
    poll = 1 if args.smoke else 30

    results = {"machine": {"platform": platform.platform(), "processor": platform.processor(),
                           "cpus": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()},
               "smoke": args.smoke}
    if args.workflow_only or args.cold_only:
        # The other sections as the last full run measured them.
        if not Path(args.out).is_file():
            ap.error(f"--workflow-only and --cold-only keep the other sections of --out, and {args.out} "
                     "does not exist: run the whole benchmark first")
        results = {**json.loads(Path(args.out).read_text()), **results,
                   "partial": "workflow" if args.workflow_only else "cold start and sizes"}
    seed = ROOT / "bench" / "seed.json"
    sim = Sim(time_scale=0.02, seed=seed)
    try:
        api = RuntimeApi()
    except BaseException:
        sim.stop()
        raise
    try:
        if not args.workflow_only:
            events, big = fixtures(sim)
            base = function_env(api, "bench", {"AWS_ENDPOINT_URL": sim.url,
                                               "DR_REPORT_BUCKET": "dr-orchestrator-reports-bench",
                                               "DR_WAKE_TABLE": "dr-orchestrator-wake-bench",
                                               "DR_LEASE_TABLE": "dr-orchestrator-leases-bench",
                                               "DR_DRILL_WORKFLOWS": " ".join(DRILL_WORKFLOWS)})
            results["coldStart"] = cold_starts(api, base, events, cold_runs, args.python, args.binaries)
            results["sizes"] = sizes(args.binaries)
            if not args.cold_only:
                env = layout_env(base, cert_layouts()["lambda"])
                results["handlerCost"] = handler_costs(api, env, big, warm_runs, args.python, args.binaries)

        if not args.cold_only:
            # The local AWS (moto in server mode) first: the handlers are told where it is.
            with LocalAws() as aws:
                # Release builds of the ten functions, as deployed; the smoke run (CI) serves the
                # debug builds the tests already made instead of linking ten release binaries.
                handlers = Handlers(sim.url, aws.url, release=not args.smoke)
                try:
                    # The smoke run compares the three on the small plan only.
                    results["workflow"] = workflow_costs(sim, handlers, aws, plans[:1], poll)
                    results["workflow"] += workflow_costs(sim, handlers, aws, plans[1:], poll,
                                                          ("events",) if args.smoke else MODES)
                    results["workflow_poll_seconds"] = poll
                finally:
                    handlers.stop()
    finally:
        api.stop()
        sim.stop()
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))


def report(r):
    lines = [f"Machine: {r['machine']['platform']}, {r['machine']['cpus']} CPUs" + (" (smoke run)" if r["smoke"] else ""), ""]
    for layout, measured in r["coldStart"].items():
        functions = measured["functions"]
        floor = next(c for c in functions if c["name"] == "hello-floor")
        peer = next(c for c in functions if "Python" in c["name"])
        certs = measured["certificates"]
        where = f"SSL_CERT_FILE={certs['SSL_CERT_FILE']}, no SSL_CERT_DIR" if isinstance(certs, dict) else \
            "no SSL_CERT_FILE or SSL_CERT_DIR: the platform probe's bundle and directory"
        lines += [f"Cold start, {layout} certificate layout ({where}):", "",
                  "| function | init: to first `next` (ms, median) | init × floor | to first response (ms, median) | response × floor | Python peer ÷ this | peak RSS (MB) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for c in functions:
            response = c["toResponseMs"]
            lines.append(f"| {c['name']} | {c['toNextMs']:.1f} | {c['toNextMs'] / floor['toNextMs']:.2f} "
                         + (f"| {response:.1f} | {response / floor['toResponseMs']:.2f} | {peer['toResponseMs'] / response:.1f} "
                            if response is not None else "| – | – | – ")
                         + f"| {c['peakRssKiB'] / 1024:.1f} |")
        lines.append("")
    lines += ["", "| binary | stripped size (MB) | zip (MB) |", "| --- | ---: | ---: |"]
    for name, s in r["sizes"].items():
        lines.append(f"| {name} | {s['binaryBytes'] / 1e6:.2f} | {s['zipBytes'] / 1e6:.2f} |")
    lines += ["", "| handler | servers in the job | invocations | p50 (ms) | p99 (ms) | peak RSS (MB) |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for w in r["handlerCost"]:
        lines.append(f"| {w['name']} | {w['servers']} | {w['invocations']} | {w['p50Ms']} | {w['p99Ms']} | {w['peakRssKiB'] / 1024:.1f} |")
    lines += ["", f"Workflow cost (recovery plan, poll interval {r['workflow_poll_seconds']} s):", "",
              "| servers | waves | waits end by | DRS jobs | result | waits woken / timed out | wave overhead after its last launch, max (s) | run end after last job (s) | state transitions | history events | largest payload (KiB) | Lambda invocations (on-event) | prepared plan (KiB) |",
              "| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for w in r["workflow"]:
        wt = w["waits"]
        lines.append(f"| {w['servers']} | {w['waves']} | {w['mode']} | {w['jobs']} | {w['status']} "
                     f"| {wt['woken']} / {wt['timedOut']} | {w['maxWaveOverheadSeconds']} | {w['overheadSeconds']} "
                     f"| {w['stateTransitions']} | {w['historyEvents']} "
                     f"| {w['largestPayloadBytes'] / 1024:.1f} | {w['lambdaInvocations']} ({w['onEventInvocations']}) "
                     f"| {w['preparedPlanBytes'] / 1024:.1f} |")
    lines += ["", "Waves woken by an event: the overhead after the last launch, split (worst wave by its total):", "",
              "| servers | waves woken | event delivered, harness (s) | after the wake, workflow (s) | on-event in the harness, p50 / p90 (ms) |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for w in r["workflow"]:
        if w["mode"] != "events" or not w.get("wakes"):
            continue
        worst = max(w["wakes"], key=lambda x: x["delivery"] + x["afterWake"])
        ms = w["onEventMs"] or {"p50": "–", "p90": "–"}
        lines.append(f"| {w['servers']} | {len(w['wakes'])} / {w['waves']} | {worst['delivery']} | {worst['afterWake']} "
                     f"| {ms['p50']} / {ms['p90']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
