"""python3 -m rehearsal [PLAN] [options]: runs a workflow offline and prints what happened.

With no PLAN, runs the sample drill events/statemachine/recovery-drill.json on the
recovery-plan workflow; --workflow names another. Exits non-zero when the run fails.
"""

import argparse
import functools
import json
import sys
import time

from .processes import ROOT, Handlers, Sim
from .report import Progress, print_summary
from .workflow import WORKFLOWS, Engine, cost, last_statuses

print = functools.partial(print, flush=True)  # progress must show while the run goes

DEFAULT_PLAN = ROOT / "events" / "statemachine" / "recovery-drill.json"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m rehearsal", description=__doc__.splitlines()[0])
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
    args = ap.parse_args(argv)

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
        print("  starting the handlers under cargo lambda watch (builds them the first time)...")
        handlers = Handlers(sim.url)
        print(f"  handlers ready: {handlers.url}")
        with Engine(handlers) as engine:
            status = run(engine, sim, workflow, plan, "rehearsal")
        if status["status"] == "SUCCEEDED" and args.then_failback:
            if plan.get("isDrill"):
                print("\n--then-failback: skipped, a drill's instances are not failed back")
            else:
                output = json.loads(status["output"])
                output["options"] = {"pollIntervalSeconds": args.poll_seconds,
                                     "giveUpAfterSeconds": args.give_up_seconds}
                # A fresh interpreter: moto cannot start a second execution in the same mock
                # once one has run (it deep-copies objects holding locks); dr-sim keeps the
                # recovered instances.
                with Engine(handlers) as engine:
                    status = run(engine, sim, "failback", output, "rehearsal-failback")
        return 0 if status["status"] == "SUCCEEDED" else 1
    finally:
        if handlers:
            handlers.stop()
        sim.stop()


def run(engine, sim, workflow, plan, name):
    progress = Progress(sim)
    started = time.time()
    arn = engine.start(workflow, plan, name)
    print(f"\n{workflow}: execution {arn}")
    result = engine.wait(arn, on_tick=progress.tick)
    progress.tick()
    events = engine.history(arn)
    print_summary(result, last_statuses(events))
    c = cost(events)
    print(f"\n  {time.time() - started:.1f}s, {c['stateTransitions']} state transitions, "
          f"{c['historyEvents']} history events, largest state payload {c['largestPayloadBytes']} bytes, "
          f"Lambda invocations {sum(engine.stats.invocations.values())}")
    return result


if __name__ == "__main__":
    sys.exit(main())
