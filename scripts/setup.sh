#!/usr/bin/env bash
# Installs everything the rehearsal and the tests need on a fresh machine. Safe to run again:
# what is already installed is left as it is.
#   --with-browser   also Debian's chromium (/usr/bin/chromium), which the browser checks of the
#                    run report drive (tests/browser); scripts/test.sh asks for it, the rehearsal
#                    does not need it.
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    *) echo "usage: bash scripts/setup.sh [--with-browser]" >&2; exit 2 ;;
  esac
done

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
if [ ! -d node_modules/asl-validator ] || [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$with_browser" = 1 ]; then
  say "Chromium for the browser checks (Debian's chromium package)"
  if [ ! -x /usr/bin/chromium ]; then
    sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    if ! { "${sudo[@]}" apt-get update -qq \
           && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium; } \
       || [ ! -x /usr/bin/chromium ]; then
      echo "could not install Debian's chromium package (apt-get install chromium): the browser checks" \
           "(tests/browser) need /usr/bin/chromium; install it by hand, or run without --with-browser" >&2
      exit 1
    fi
  fi
fi

say "building the handlers and the local endpoint (the first build compiles ~300 crates: minutes)"
# Exactly what `cargo lambda watch` builds (`cargo run --bin <handler>` of this package), so
# that the rehearsal does not compile the handlers a second time with other unified features.
# Not --quiet: cargo's progress (its bar on a terminal, a line per crate otherwise) shows that a
# long first build is working.
cargo build -p dr-orchestrator --bins
cargo build -p dr-sim
