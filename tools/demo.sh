#!/usr/bin/env bash
# tools/demo.sh: sets up a fresh machine, builds, and runs the self-checking demo.
# Exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
echo "demo: building (the first build on a fresh machine takes a few minutes)"
bazel build -c opt //privacy:privacyctl 2>&1 | grep -E '^(ERROR|FAILED)' || true
exec bazel-bin/privacy/privacyctl demo
