#!/usr/bin/env bash
# Installs everything the rehearsal and the tests need on a fresh machine. Safe to run again:
# what is already installed is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "cargo is not installed: install the Rust toolchain (https://rustup.rs) first" >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  for component in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
  done
fi

say "Python tools (requirements-dev.txt)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

say "Node tools (package-lock.json)"
if [ ! -d node_modules/asl-validator ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

say "building the handlers and the local endpoint"
# Exactly what `cargo lambda watch` builds (`cargo run --bin <handler>` of this package), so
# that the rehearsal does not compile the handlers a second time with other unified features.
cargo build --quiet -p dr-orchestrator --bins
cargo build --quiet -p dr-sim
