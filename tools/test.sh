#!/usr/bin/env bash
# tools/test.sh: sets up a fresh machine and runs every test.
# Usage: bash tools/test.sh [extra bazel test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh

test_args=()
# The real Chromium and Firefox pin lists live beside the repository (../shared) and are never copied
# into it; tests that parse them find them through PINLISTS_DIR.
if [[ -z "${PINLISTS_DIR:-}" && -d ../shared/data/pinlists ]]; then
  PINLISTS_DIR=$(cd ../shared/data/pinlists && pwd)
fi
if [[ -n "${PINLISTS_DIR:-}" ]]; then
  test_args+=("--test_env=PINLISTS_DIR=${PINLISTS_DIR}")
fi

# The source folders, named explicitly: `//...` would also walk the bazel-<workspace> link, whose
# name depends on the clone's directory.
targets=()
for dir in proto privacy client aggregator bench tests; do
  [[ -f "$dir/BUILD" ]] || compgen -G "$dir/*/BUILD" >/dev/null && targets+=("//$dir/...")
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
bazel test --keep_going --nocache_test_results "${targets[@]}" "${test_args[@]}" "$@" 2>&1 | tee "$log" | grep -vE '^(Loading|Analyzing|\[[0-9,]+ / [0-9,]+\])'
status=${PIPESTATUS[0]}
set -e

# One plain closing line for CI: counts from Bazel's per-target summary.
passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
failed=$(grep -cE '^//[^ ]+ +(FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|INCOMPLETE)' "$log" || true)
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi  # e.g. a build error before any test ran
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
