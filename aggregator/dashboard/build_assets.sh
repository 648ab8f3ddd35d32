#!/usr/bin/env bash
# build_assets.sh: the dashboard's build step. Installs the pinned front-end packages with `npm ci`
# (package-lock.json) in a temporary folder and copies the charting library's dist files next to
# the dashboard's own HTML, JS and CSS in OUT_DIR. No bundler.
# Usage: build_assets.sh OUT_DIR package.json package-lock.json FILE...
set -euo pipefail
out=$1
package_json=$2
package_lock=$3
shift 3

if ! command -v npm >/dev/null 2>&1; then
  echo "build_assets.sh: npm not found (run tools/setup.sh)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$package_json" "$work/package.json"
cp "$package_lock" "$work/package-lock.json"
# The user's npm cache makes rebuilds work offline once the package has been fetched.
cache=${npm_config_cache:-${HOME:-$work}/.npm}
log="$work/npm.log"
if ! (cd "$work" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts \
        --cache "$cache" --loglevel=error) >"$log" 2>&1; then
  cat "$log" >&2
  echo "build_assets.sh: npm ci failed" >&2
  exit 1
fi
mkdir -p "$out"
cp "$work/node_modules/uplot/dist/uPlot.iife.min.js" "$work/node_modules/uplot/dist/uPlot.min.css" "$out/"
cp "$@" "$out/"
