#!/usr/bin/env bash
# One command for a new user: installs what it needs, builds the handlers, and rehearses a DR
# workflow offline (local DRS/Backup endpoint, handlers under cargo lambda watch, the real
# state machine on moto's Step Functions). Arguments go to `python3 -m rehearsal`, e.g.
#   bash scripts/rehearse.sh events/statemachine/real-recovery.json --then-failback
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m rehearsal "$@"
