#!/usr/bin/env bash
# The project's test command: formatting, lints, the Rust tests, the state machine checks, the
# boto3 conformance test of the local endpoint, the end-to-end workflow tests, the benchmark's
# smoke run and the deployment checks.
#
# Two slow steps go in the background: the SAM, cfn-lint and checkov virtualenvs install
# (network) while cargo compiles, and the deployment checks (their `sam build` is the arm64
# release build, in its own target directory) run at the lowest CPU priority beside the Python
# tests and the benchmark's smoke run. The Python tests, which mostly wait on the workflows' timers, run in
# two pytest-xdist workers. Each background step's output is printed when it is waited for, and
# its failure fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
logs=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
finish() { # finish PID LOG: wait for a background step, print what it printed, pass on its failure
  local rc=0
  wait "$1" || rc=$?
  cat "$2"
  return "$rc"
}

say "SAM, cfn-lint and checkov virtualenvs: installing in the background"
bash scripts/check_deploy.sh --tools-only > "$logs/tools.log" 2>&1 &
tools=$!

bash scripts/setup.sh --with-browser

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "cargo test"
cargo test --workspace

say "asl-validator"
for definition in statemachine/*.asl.json; do
  npx --no-install asl-validator --json-path "$definition"
done

say "SAM, cfn-lint and checkov virtualenvs (tests/template reads SAM's transform)"
finish "$tools" "$logs/tools.log"

# Beside the Python tests, which mostly wait on the workflows' timers, at the lowest CPU
# priority, so that the build only takes what the tests leave idle. (An earlier run beside them,
# at normal priority, made moto's Step Functions interpreter write events its GetExecutionHistory
# could not serialise: the cause, a task's timeout evaluated after its state had ended, is fixed
# in rehearsal/local_aws.py, and the test suite's processes keep the CPU first.)
say "deployment: SAM's transform, sam validate, cfn-lint on the transformed template, checkov, sam build (in the background, nice 19)"
nice -n 19 bash scripts/check_deploy.sh > "$logs/deploy.log" 2>&1 &
deploy=$!

say "pytest (two workers, a test file each at a time): boto3 conformance of the local endpoint, the transformed template, the browser check, end-to-end workflows and run reports, the deploy rehearsal"
DR_REQUIRE_BROWSER=1 python3 -m pytest -q -n 2 --dist loadfile --durations=15 \
  tests/conformance tests/template tests/browser tests/e2e tests/deploy rehearsal

say "benchmark smoke run (no timing is asserted; the full run is bash bench/run.sh)"
bash bench/run.sh --smoke --out "${TMPDIR:-/tmp}/dr-orchestrator-bench-smoke.json"

say "deployment checks"
finish "$deploy" "$logs/deploy.log"
