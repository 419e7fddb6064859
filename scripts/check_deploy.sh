#!/usr/bin/env bash
# The deployment checks, all with zero findings:
#   1. SAM's real transform (samtranslator, via scripts/sam_transform.py, which inlines the
#      workflows and fakes the S3 code locations like `sam package`) and `sam validate` without
#      lint (the same transform, as `sam deploy` runs it);
#   2. cfn-lint on the TRANSFORMED template, and `sam validate --lint`;
#   3. checkov on template.yaml and on the transformed template (IAM checks included; every skip
#      is justified in template.yaml's Metadata);
#   4. `sam build` (arm64, as deployed), unless DR_SKIP_SAM_BUILD=1.
# SAM, cfn-lint and checkov live in their own virtualenvs (.tools/sam, .tools/checkov) because
# aws-sam-cli pins a botocore that moto and boto3 here do not use.
#   --tools-only   install the virtualenvs and stop (tests/template uses .tools/sam).
set -euo pipefail
cd "$(dirname "$0")/.."

# No telemetry or vendor look-ups: these tools talk to nothing.
export SAM_CLI_TELEMETRY=0 BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false

SAM_VENV=.tools/sam
CHECKOV_VENV=.tools/checkov
if [ ! -x "$SAM_VENV/bin/sam" ] || [ ! -x "$SAM_VENV/bin/cfn-lint" ]; then
  echo "==> installing aws-sam-cli and cfn-lint into $SAM_VENV"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check aws-sam-cli==1.170.0 cfn-lint==1.58.0
fi
if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
  echo "==> installing checkov into $CHECKOV_VENV"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check checkov==3.3.30
fi
[ "${1:-}" = "--tools-only" ] && exit 0

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
transformed="$out/template.json"

echo "==> SAM transform (samtranslator) -> transformed template"
"$SAM_VENV/bin/python" scripts/sam_transform.py template.yaml -o "$transformed"
echo "==> sam validate (the transform as sam deploy runs it, no lint)"
"$SAM_VENV/bin/sam" validate --region eu-west-1
echo "==> cfn-lint on the transformed template"
# cfn-lint resolves an Fn::Join by recursing once per list element, and SAM turns an inline
# definition with substitutions into a Join of one element per line (recovery-plan: ~1,100), past
# Python's default 1,000 frames ("E1022 maximum recursion depth exceeded"). The same cfn-lint, with
# room for that recursion; it checks exactly what it would otherwise.
"$SAM_VENV/bin/python" -c 'import sys; sys.setrecursionlimit(20000); from cfnlint.runner import main; sys.argv[0] = "cfn-lint"; main()' \
  --regions eu-west-1 -- "$transformed"
echo "==> sam validate --lint"
"$SAM_VENV/bin/sam" validate --lint --region eu-west-1
echo "==> checkov template.yaml"
"$CHECKOV_VENV/bin/checkov" --framework cloudformation --skip-download --compact --quiet -f template.yaml
echo "==> checkov on the transformed template (the IAM roles SAM generates)"
(cd "$out" && "$OLDPWD/$CHECKOV_VENV/bin/checkov" --framework cloudformation --skip-download --compact --quiet -f template.json)

if [ "${DR_SKIP_SAM_BUILD:-0}" = "1" ]; then
  echo "==> sam build skipped (DR_SKIP_SAM_BUILD=1)"
  exit 0
fi
echo "==> sam build (arm64)"
# Its own target directory: scripts/test.sh runs this beside the e2e tests, whose `cargo lambda
# watch` must never wait for this build's lock on target/.
export CARGO_TARGET_DIR="$PWD/target/sam"
if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu \
   || timeout 300 rustup target add aarch64-unknown-linux-gnu; then
  # sam runs cargo lambda, which cross-compiles with zig (from the cargo-lambda wheel).
  PATH="$PWD/$SAM_VENV/bin:$PATH" sam build --region eu-west-1
  ls -l .aws-sam/build/*/bootstrap
else
  echo "NOTICE: the aarch64 Rust target cannot be installed on this machine; building x86_64 instead" \
       "(template.yaml stays arm64)."
  cargo lambda build --release --x86-64
  ls -l "$CARGO_TARGET_DIR"/lambda/*/bootstrap
fi
