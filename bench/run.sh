#!/usr/bin/env bash
# The benchmark, one command: bash bench/run.sh [--smoke]. Builds the release handlers and the
# floor, installs the Python peer's runtime (awslambdaric, boto3) in .tools/bench, and prints
# the tables that docs/PERFORMANCE.md holds. It takes minutes; --smoke takes about one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x .tools/bench/bin/python ]; then
  python3 -m venv .tools/bench
  .tools/bench/bin/pip install --quiet --disable-pip-version-check awslambdaric==4.2.2 boto3==1.43.11
fi
cargo build --release --quiet -p dr-orchestrator -p dr-bench-floor --bins
exec python3 bench/bench.py "$@"
