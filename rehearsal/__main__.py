"""python3 -m rehearsal [PLAN] [options]: runs a workflow offline and prints what happened.

With no PLAN, runs the sample drill events/statemachine/recovery-drill.json on the
recovery-plan workflow; --workflow names another. Exits non-zero when the run fails.

Approvals (a real recovery, a failback, a restore, a wave marked pauseBefore): --approval auto
prints the request and approves it, --approval manual prints it with the commands that answer it
and waits, --reject rejects it. From another terminal, through the approval endpoint (the
answer-approval handler, as its function URL would call it):

    python3 -m rehearsal approve --endpoint URL --approval-id ID --reason WHY [--as ARN]
    python3 -m rehearsal reject --endpoint URL --approval-id ID --reason WHY [--as ARN]
"""

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path

from .approval import AUTO_APPROVER, answer as send_answer, check_loopback, function_url_event
from .local_aws import LocalAws, client
from .processes import REPORT_BUCKET, ROOT, Handlers, Sim
from .report import Progress, fetch_report, print_report, print_summary
from .workflow import WORKFLOWS, Engine, cost, last_statuses, waits

print = functools.partial(print, flush=True)  # progress must show while the run goes

DEFAULT_PLAN = ROOT / "events" / "statemachine" / "recovery-drill.json"
# Where the rehearsal copies each run's report (from the local S3 the report function wrote to).
REPORTS = Path(os.environ.get("DR_REHEARSAL_REPORTS", ROOT / "target" / "rehearsal-reports"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("approve", "reject"):
        return answer(argv)
    ap = argparse.ArgumentParser(prog="python3 -m rehearsal", description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("plan", nargs="?", default=str(DEFAULT_PLAN), help="workflow input (JSON file)")
    ap.add_argument("--workflow", choices=WORKFLOWS, default="recovery-plan",
                    help="the state machine that runs PLAN (default recovery-plan)")
    ap.add_argument("--time-scale", type=float, default=0.1,
                    help="how fast the local endpoint's jobs run, 1.0 = as configured in its seed (default 0.1)")
    ap.add_argument("--poll-seconds", type=int, default=1,
                    help="options.pollIntervalSeconds given to the run unless the plan sets it (default 1)")
    ap.add_argument("--give-up-seconds", type=int, default=300,
                    help="options.giveUpAfterSeconds given to the run unless the plan sets it (default 300)")
    ap.add_argument("--faults", help="faults for the local endpoint, as JSON (see README)")
    ap.add_argument("--then-failback", action="store_true",
                    help="after a successful real recovery, fail back its instances")
    ap.add_argument("--approval", choices=("auto", "manual"), default="auto",
                    help="auto: print each approval request and approve it (default); manual: print it with "
                         "the commands that approve or reject it from another terminal, and wait")
    ap.add_argument("--reject", action="store_true", help="reject every approval request")
    args = ap.parse_args(argv)
    if args.reject and args.approval == "manual":
        ap.error("--reject and --approval manual: choose one")
    mode = "reject" if args.reject else args.approval

    plan = json.loads(open(args.plan).read())
    options = plan.setdefault("options", {})
    options.setdefault("pollIntervalSeconds", args.poll_seconds)
    options.setdefault("giveUpAfterSeconds", args.give_up_seconds)
    workflow = args.workflow
    print(f"dr-orchestrator rehearsal: {workflow} from {args.plan}")

    sim = Sim(time_scale=args.time_scale)
    handlers = None
    try:
        print(f"  local DRS/Backup endpoint: {sim.url}")
        if args.faults:
            sim.faults(**json.loads(args.faults))
        with LocalAws() as aws:
            print(f"  local AWS (moto: Step Functions, SNS, SQS, Lambda, ...): {aws.url}")
            print("  starting the handlers under cargo lambda watch (builds them the first time)...")
            handlers = Handlers(sim.url, aws.url)
            print(f"  handlers ready: {handlers.url}")
            with Engine(handlers, aws, approval=mode, out=print) as engine:
                status = run(engine, sim, workflow, plan, "rehearsal")
                if status["status"] == "SUCCEEDED" and args.then_failback:
                    if plan.get("isDrill"):
                        print("\n--then-failback: skipped, a drill's instances are not failed back")
                    else:
                        output = json.loads(status["output"])
                        output["options"] = {"pollIntervalSeconds": args.poll_seconds,
                                             "giveUpAfterSeconds": args.give_up_seconds}
                        # The same interpreter; dr-sim keeps the recovered instances.
                        status = run(engine, sim, "failback", output, "rehearsal-failback")
        return 0 if status["status"] == "SUCCEEDED" else 1
    finally:
        if handlers:
            handlers.stop()
        sim.stop()


def run(engine, sim, workflow, plan, name):
    """One execution; the engine prints and answers its approval requests while it waits."""
    progress = Progress(sim, out=print)
    invoked_before = sum(engine.stats.invocations.values())
    started = time.time()
    arn = engine.start(workflow, plan, name)
    print(f"\n{workflow}: execution {arn}")
    # A person may take a while to answer; the run's own approval timeout ends it.
    manual = engine.approver.mode == "manual"
    result = engine.wait(arn, on_tick=progress.tick, timeout=7 * 24 * 3600 if manual else 900)
    progress.tick()
    events = engine.history(arn)
    print_summary(result, last_statuses(events), out=print)
    report = fetch_report(engine.aws.client("s3"), REPORT_BUCKET, arn, REPORTS)
    if report:
        print_report(report, out=print)
    else:
        print("\n  this run left no run report: the report function failed (see its log)")
    c = cost(events)
    print(f"\n  {time.time() - started:.1f}s, {c['stateTransitions']} state transitions, "
          f"{c['historyEvents']} history events, largest state payload {c['largestPayloadBytes']} bytes, "
          f"Lambda invocations {sum(engine.stats.invocations.values()) - invoked_before}")
    w = waits(events)
    print(f"  waits for jobs: {w['woken']} ended by an AWS event, {w['timedOut']} at the poll interval"
          + (f", {w['failed']} could not register (polled)" if w["failed"] else ""))
    return result


def answer(argv):
    """python3 -m rehearsal approve|reject: a request to the approval endpoint of the rehearsal
    running at the local endpoint it printed (the answer-approval function, invoked as its
    function URL would invoke it, with the caller ARN AWS would have verified: --as)."""
    verb = argv[0]
    ap = argparse.ArgumentParser(prog=f"python3 -m rehearsal {verb}",
                                 description=f"{verb.capitalize()} a rehearsal's approval request at its approval endpoint.")
    ap.add_argument("--endpoint", required=True, help="the local AWS endpoint the rehearsal printed (http://127.0.0.1:PORT)")
    ap.add_argument("--approval-id", required=True, help="the approval id the request names (apr-...)")
    ap.add_argument("--reason", required=True, help="why: recorded with who answered, in the run report")
    ap.add_argument("--as", dest="caller", default=AUTO_APPROVER.replace("rehearsal-auto", "rehearsal-cli"),
                    help="the caller's ARN, as the function URL's IAM auth would verify it "
                         "(default: a session of the rehearsal's approver role)")
    args = ap.parse_args(argv[1:])
    try:
        check_loopback(args.endpoint)
    except ValueError as err:
        ap.error(str(err))
    lam = client("lambda", args.endpoint)

    def call(caller, body):
        out = lam.invoke(FunctionName="answer-approval", Payload=json.dumps(function_url_event(caller, body)))
        response = json.loads(out["Payload"].read())
        return response["statusCode"], json.loads(response.get("body") or "{}")

    try:
        status, body = send_answer(call, args.approval_id, "APPROVE" if verb == "approve" else "REJECT",
                                   args.reason, args.caller)
    except Exception as err:  # noqa: BLE001 - a person reads this
        print(f"could not {verb}: {err}", file=sys.stderr)
        return 1
    print(f"HTTP {status}: {json.dumps(body)}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
