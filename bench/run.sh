#!/usr/bin/env bash
# The benchmark, one command: bash bench/run.sh [--smoke]. Builds the deployed release binary
# (dr-orchestrator: it serves every function) and the floor, installs the Python peer's runtime
# (awslambdaric, boto3) in .tools/bench, and prints the tables that docs/PERFORMANCE.md holds.
# It takes minutes. --smoke (CI) checks that the benchmark runs, on the debug builds the tests
# already made: few repetitions, small plans, and no number in it means anything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x .tools/bench/bin/python ]; then
  python3 -m venv .tools/bench
  .tools/bench/bin/pip install --quiet --disable-pip-version-check awslambdaric==4.2.2 boto3==1.43.11
fi
if [[ " $* " == *" --smoke "* ]]; then
  cargo build --quiet -p dr-bench-floor --bin hello-floor
  exec python3 -m bench.bench --binaries target/debug "$@"
fi
# The workflow section's `cargo lambda watch --release` builds its release handlers itself.
cargo build --release --quiet -p dr-orchestrator --bin dr-orchestrator -p dr-bench-floor --bin hello-floor
exec python3 -m bench.bench "$@"
