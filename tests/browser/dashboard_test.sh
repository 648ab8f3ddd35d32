#!/usr/bin/env bash
# Browser test of the dashboard against a real aggregatord:
#   1. start aggregatord (plaintext on loopback, gRPC and HTTP on free ports) in a fresh data dir;
#   2. fill it through its gRPC APIs with a synthetic population (known rates, a MITM spike for
#      "Umbra Security" yesterday, rollout events) encoded by the privacy encoder;
#   3. wait until the alert monitor has raised the spike's alert (HTTP API);
#   4. install playwright-core with `npm ci` (tests/browser/package-lock.json) in a temp dir and run
#      dashboard_test.mjs, which drives Debian's headless Chromium and saves a screenshot into
#      $TEST_UNDECLARED_OUTPUTS_DIR (bazel-testlogs/tests/browser/.../test.outputs/).
# Needs node, npm and /usr/bin/chromium (tools/setup.sh installs them) and the npm registry the
# first time (later runs use the npm cache).
set -euo pipefail

fail() { echo "dashboard_test: $*" >&2; exit 1; }
log() { echo "$(date -u +%T) $*"; }

runfiles=${RUNFILES_DIR:-$0.runfiles}
ws="$runfiles/pinning_telemetry"
aggregatord="$ws/aggregator/serve/aggregatord"
filler="$ws/aggregator/alerts/testing/fill_aggregator"
www="$ws/aggregator/dashboard/www"
here="$ws/tests/browser"
for f in "$aggregatord" "$filler" "$www/index.html" "$here/package-lock.json" "$here/dashboard_test.mjs"; do
  [[ -e "$f" ]] || fail "missing $f"
done
command -v node >/dev/null || fail "node not found (run tools/setup.sh)"
command -v npm >/dev/null || fail "npm not found (run tools/setup.sh)"
[[ -x /usr/bin/chromium ]] || fail "/usr/bin/chromium not found (run tools/setup.sh)"

tmp=${TEST_TMPDIR:-$(mktemp -d)}
out=${TEST_UNDECLARED_OUTPUTS_DIR:-$tmp}
work="$tmp/dashboard_test"
rm -rf "$work"
mkdir -p "$work"
reader_token="reader-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
admin_token="admin-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
printf '%s reader browser-test\n%s privacy-admin browser-test-admin\n' "$reader_token" "$admin_token" >"$work/tokens"
printf '%s\n' "$admin_token" >"$work/admin.token"
chmod 600 "$work/tokens" "$work/admin.token"

# ---- 1. aggregatord ----
"$aggregatord" --insecure --data_dir="$work/data" --token_file="$work/tokens" \
  --listen=127.0.0.1:0 --port_file="$work/grpc.port" \
  --http_listen=127.0.0.1:0 --http_port_file="$work/http.port" --dashboard_dir="$www" \
  --max_age_days=120 --retention_days=121 --max_epsilon_one=100 --max_epsilon_inf=100000 \
  --alert_interval_s=1 >"$work/aggregatord.log" 2>&1 &
agg_pid=$!
cleanup() {
  kill "$agg_pid" 2>/dev/null || true
  wait "$agg_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  [[ -s "$work/grpc.port" && -s "$work/http.port" ]] && break
  kill -0 "$agg_pid" 2>/dev/null || { cat "$work/aggregatord.log" >&2; fail "aggregatord exited"; }
  sleep 0.1
done
[[ -s "$work/http.port" ]] || { cat "$work/aggregatord.log" >&2; fail "aggregatord did not start"; }
grpc_port=$(cat "$work/grpc.port")
http_port=$(cat "$work/http.port")
log "aggregatord: gRPC on $grpc_port, HTTP on $http_port"

# ---- 2. pings ----
"$filler" --server="127.0.0.1:$grpc_port" --insecure --token_file="$work/admin.token" \
  --days=60 --clients=1200 || fail "filling the aggregator failed"
log "filled"

# ---- 3. playwright-core ----
node_dir="$work/node"
mkdir -p "$node_dir"
cp "$here/package.json" "$here/package-lock.json" "$here/dashboard_test.mjs" "$node_dir/"
npm_home=$(getent passwd "$(id -u)" | cut -d: -f6)
cache=${npm_config_cache:-${npm_home:-$work}/.npm}
if ! (cd "$node_dir" && npm ci --prefer-offline --no-audit --no-fund --ignore-scripts \
        --cache "$cache" --loglevel=error) >"$work/npm.log" 2>&1; then
  cat "$work/npm.log" >&2
  fail "npm ci failed"
fi
log "playwright-core installed"

# ---- 4. wait for the spike's alert ----
alerts=""
for _ in $(seq 1 120); do
  alerts=$(node -e '
    fetch(process.argv[1], { headers: { Authorization: "Bearer " + process.argv[2] } })
      .then((r) => r.text()).then((t) => console.log(t)).catch((e) => console.log(String(e)));
  ' "http://127.0.0.1:$http_port/api/v1/alerts" "$reader_token")
  [[ "$alerts" == *"Umbra Security"* ]] && break
  sleep 1
done
[[ "$alerts" == *"Umbra Security"* ]] || fail "no alert for the spike: $alerts"
log "alert raised: ${alerts:0:200}"

# ---- 5. the browser ----
mkdir -p "$out"
DASHBOARD_URL="http://127.0.0.1:$http_port/" READER_TOKEN="$reader_token" \
  SCREENSHOT="$out/dashboard.png" PROFILE_DIR="$work/chromium-profile" SPIKE_ORG="Umbra Security" \
  node "$node_dir/dashboard_test.mjs"
log "PASS"
