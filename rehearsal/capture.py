"""Writes the runs the Rust tests read without an e2e run: `events/run-state/runs.json` (each
state a run entered, once per state name: tests/run_state.rs reads them back into the run
state's types) and `events/history/runs.json` (each run's history, cut to what
tests/history_budget.rs checks against the history budget). One run of each kind: a drill whose
events are all dropped (every wait runs to its timeout, the cleanup polls), an approved real
recovery, a rejected one, a drill with a failed launch, a restore and the approved recovery's
failback.

    python3 -m rehearsal.capture     # after a change to the definition or the run state
"""

import json

from .processes import ROOT, Handlers, Sim
from .local_aws import LocalAws
from .workflow import Engine, budgeted, run_states

RUNS = [
    ("drill", "recovery-plan", "recovery-drill.json", "auto", {"events": {"drop": "ALL"}}),
    ("approved", "recovery-plan", "real-recovery.json", "auto", {}),
    # The failback of the approved real recovery, from its output, right after it (the endpoint
    # keeps its instances).
    ("failback", "failback", "@approved", "auto", {}),
    ("rejected", "recovery-plan", "real-recovery.json", "reject", {}),
    ("failed-launch", "recovery-plan", "two-wave-batched-drill.json", "auto",
     {"failLaunch": {"s-fleet000000000002": "InsufficientInstanceCapacity"}}),
    ("restore", "restore", "restores.json", "auto", {}),
]


def first_of_each(states):
    seen, kept = set(), []
    for state in states:
        if state["state"] not in seen:
            seen.add(state["state"])
            kept.append(state)
    return kept


def main():
    sim = Sim(time_scale=0.1)
    handlers = None
    states, histories, outputs = {}, {}, {}
    try:
        with LocalAws() as aws:
            handlers = Handlers(sim.url, aws.url)
            for name, workflow, file, approval, faults in RUNS:
                if file.startswith("@"):
                    plan = outputs[file[1:]]
                else:
                    sim.reset()
                    plan = json.loads((ROOT / "events/statemachine" / file).read_text())
                if faults:
                    sim.faults(**faults)
                plan.setdefault("options", {}).update({"pollIntervalSeconds": 1, "giveUpAfterSeconds": 300})
                with Engine(handlers, aws, approval=approval) as engine:
                    arn = engine.start(workflow, plan, name)
                    result = engine.wait(arn)
                    events = engine.history(arn)
                print(f"{name}: {result['status']} {result.get('error') or ''} ({len(events)} events)"
                      + (f": {result.get('cause', '')[:300]}" if result['status'] != 'SUCCEEDED' else ''))
                if result.get("output"):
                    outputs[name] = json.loads(result["output"])
                states[name] = first_of_each(run_states(events))
                histories[name] = budgeted(events)
    finally:
        if handlers:
            handlers.stop()
        sim.stop()
    for path, content in (("events/run-state/runs.json", states), ("events/history/runs.json", histories)):
        (ROOT / path).parent.mkdir(exist_ok=True)
        (ROOT / path).write_text(json.dumps(content, separators=(",", ":")) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
