#!/usr/bin/env bash
# The project's test command: formatting, lints, the Rust tests, the state machine checks, the
# boto3 conformance test of the local endpoint and the end-to-end workflow tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --with-browser
say() { printf '\n==> %s\n' "$*"; }

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

say "SAM, cfn-lint and checkov (their own virtualenvs; tests/template reads SAM's transform)"
bash scripts/check_deploy.sh --tools-only

say "pytest: boto3 conformance of the local endpoint, the transformed template, the browser check, end-to-end workflows and run reports, the deploy rehearsal"
DR_REQUIRE_BROWSER=1 python3 -m pytest -q tests/conformance tests/template tests/browser tests/e2e tests/deploy rehearsal

say "benchmark smoke run (no timing is asserted; the full run is bash bench/run.sh)"
bash bench/run.sh --smoke --out "${TMPDIR:-/tmp}/dr-orchestrator-bench-smoke.json"

say "deployment: SAM's transform, sam validate, cfn-lint on the transformed template, checkov, sam build"
bash scripts/check_deploy.sh
