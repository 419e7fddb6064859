#!/usr/bin/env bash
# The deployment checks: cfn-lint and `sam validate --lint` with zero findings, then `sam build`
# (arm64, as deployed). SAM and cfn-lint live in their own virtualenv (.tools/sam) because
# aws-sam-cli pins a botocore that moto and boto3 here do not use.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_VENV=.tools/sam
if [ ! -x "$SAM_VENV/bin/sam" ] || [ ! -x "$SAM_VENV/bin/cfn-lint" ]; then
  echo "==> installing aws-sam-cli and cfn-lint into $SAM_VENV"
  python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check aws-sam-cli==1.170.0 cfn-lint==1.58.0
fi

echo "==> cfn-lint template.yaml"
"$SAM_VENV/bin/cfn-lint" template.yaml
echo "==> sam validate --lint"
"$SAM_VENV/bin/sam" validate --lint --region eu-west-1

echo "==> sam build (arm64)"
if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu \
   || timeout 300 rustup target add aarch64-unknown-linux-gnu; then
  # sam runs cargo lambda, which cross-compiles with zig (from the cargo-lambda wheel).
  PATH="$PWD/$SAM_VENV/bin:$PATH" sam build --region eu-west-1
  ls -l .aws-sam/build/*/bootstrap
else
  echo "NOTICE: the aarch64 Rust target cannot be installed on this machine; building x86_64 instead" \
       "(template.yaml stays arm64)."
  cargo lambda build --release --x86-64
  ls -l target/lambda/*/bootstrap
fi
