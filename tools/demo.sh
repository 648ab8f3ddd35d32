#!/usr/bin/env bash
# tools/demo.sh: the README's first command. Sets up a fresh machine, builds, starts a development
# aggregator (embedded SQLite, TLS) in the background, runs the self-checking population simulation
# (pinsim: simulated browsers check real pinned chains, send real pings through the real uploader,
# and the decoded rates are compared with the truth), prints the table, and leaves the aggregator
# running with the commands to query it.
#
# Usage: bash tools/demo.sh
# Environment: DEMO_BROWSERS (default 20000), DEMO_DAYS (default 7, at most 7),
#              DEMO_TRANSPORT (submit: one Ingest.Submit per ping, the default; batch: a relay
#              with SubmitBatch), BAZEL_OUTPUT_BASE (passed to bazel --output_base when set).
# Everything it writes is under demo-data/ (ignored by git). Running it again stops the previous
# demo aggregator and starts over with fresh data; the certificates and tokens are kept.
# Exit status: pinsim's (0 when the interval coverage is plausible), or 1 on a setup failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
demo="$root/demo-data"
browsers=${DEMO_BROWSERS:-20000}
days=${DEMO_DAYS:-7}
transport=${DEMO_TRANSPORT:-submit}

bash tools/setup.sh

bazel_startup=()
[[ -n "${BAZEL_OUTPUT_BASE:-}" ]] && bazel_startup=(--output_base="$BAZEL_OUTPUT_BASE")
targets=(//aggregator/serve:aggregatord //aggregator/serve:aggctl //client/sim:pinsim)
echo "demo: building ${targets[*]} (the first build on a fresh machine takes several minutes)"
build_log=$(mktemp)
if ! bazel "${bazel_startup[@]}" build "${targets[@]}" >"$build_log" 2>&1; then
  grep -E '^(ERROR|FAILED)|error:' "$build_log" | head -40 >&2 || tail -40 "$build_log" >&2
  rm -f "$build_log"
  echo "demo: build failed" >&2
  exit 1
fi
rm -f "$build_log"
bin=$(bazel "${bazel_startup[@]}" info bazel-bin 2>/dev/null)
aggregatord="$bin/aggregator/serve/aggregatord"
aggctl="$bin/aggregator/serve/aggctl"
pinsim="$bin/client/sim/pinsim"

mkdir -p "$demo/bin"
chmod 0700 "$demo"
# Short names for the binaries (links into Bazel's output tree).
ln -sfn "$aggregatord" "$demo/bin/aggregatord"
ln -sfn "$aggctl" "$demo/bin/aggctl"
ln -sfn "$pinsim" "$demo/bin/pinsim"

# Stop the aggregator of a previous demo run: only the process recorded in our pid file, and only
# if it still is an aggregatord serving demo-data.
pid_file="$demo/aggregatord.pid"
if [[ -f "$pid_file" ]]; then
  old=$(cat "$pid_file")
  if [[ "$old" =~ ^[0-9]+$ ]] && [[ -r "/proc/$old/cmdline" ]] &&
     tr '\0' ' ' <"/proc/$old/cmdline" | grep -q "aggregatord.*$demo"; then
    echo "demo: stopping the previous demo aggregator (pid $old)"
    kill -TERM "$old" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$old" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$old" 2>/dev/null; then
      echo "demo: pid $old did not stop; stop it and run again" >&2
      exit 1
    fi
  fi
  rm -f "$pid_file"
fi

# Development TLS certificates (localhost) and bearer tokens, made once.
if [[ ! -s "$demo/certs/ca.pem" ]]; then
  bash tools/dev_certs.sh "$demo/certs"
fi
if [[ ! -s "$demo/tokens" ]]; then
  (
    umask 077
    admin=$(openssl rand -hex 24)
    reader=$(openssl rand -hex 24)
    printf '%s privacy-admin demo-admin\n%s reader demo-reader\n' "$admin" "$reader" >"$demo/tokens"
    printf '%s\n' "$admin" >"$demo/admin.token"
    printf '%s\n' "$reader" >"$demo/reader.token"
  )
fi

# A fresh aggregator: the simulation compares this run's pings with this run's truth.
rm -rf "$demo/aggregator" "$demo/port" "$demo/http_port"
# The HTTP/JSON gateway and dashboard (same TLS certificate and tokens as gRPC), on a free port.
extra_flags=()
aggregatord_help=$("$aggregatord" --helpfull 2>&1 || true)  # --helpfull exits non-zero
if [[ "$aggregatord_help" == *--http_listen* ]]; then
  extra_flags+=(--http_listen=127.0.0.1:0 --http_port_file="$demo/http_port")
fi
setsid nohup "$aggregatord" \
  --listen=127.0.0.1:0 --port_file="$demo/port" \
  --tls_cert="$demo/certs/server.pem" --tls_key="$demo/certs/server.key" \
  --data_dir="$demo/aggregator" --token_file="$demo/tokens" \
  "${extra_flags[@]}" >"$demo/aggregatord.log" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 1 300); do
  [[ -s "$demo/port" ]] && break
  if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    cat "$demo/aggregatord.log" >&2
    echo "demo: aggregatord exited" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s "$demo/port" ]]; then
  echo "demo: aggregatord did not start in 30 s; see $demo/aggregatord.log" >&2
  exit 1
fi
port=$(cat "$demo/port")
echo "demo: aggregatord listening on localhost:$port (TLS), data in $demo/aggregator"

set +e
"$pinsim" --server="localhost:$port" --ca_file="$demo/certs/ca.pem" \
  --token_file="$demo/admin.token" --browsers="$browsers" --days="$days" \
  --transport="$transport" | tee "$demo/pinsim.txt"
status=${PIPESTATUS[0]}
set -e

# aggctl flag files: the server, its CA and a token (reader, or privacy-admin for Admin calls).
for role in reader admin; do
  printf -- '--server=localhost:%s\n--ca_file=%s\n--token_file=%s\n' \
    "$port" "$demo/certs/ca.pem" "$demo/$role.token" >"$demo/$role.flags"
done
first=$(date -u -d "-$days days" +%F)
last=$(date -u -d "-1 day" +%F)
cat <<EOF

demo: the aggregator keeps running (pid $(cat "$pid_file"), log demo-data/aggregatord.log).
Query it (from $root):
  demo-data/bin/aggctl --flagfile=demo-data/reader.flags rates --from=$first --to=$last --per_day
  demo-data/bin/aggctl --flagfile=demo-data/reader.flags rates --from=$first --to=$last --group_by=pinset --per_day
  demo-data/bin/aggctl --flagfile=demo-data/reader.flags events --from=$first --to=$last
  demo-data/bin/aggctl --flagfile=demo-data/reader.flags params
  demo-data/bin/aggctl --flagfile=demo-data/reader.flags catalog
  demo-data/bin/aggctl --flagfile=demo-data/admin.flags audit
Add --json for machine-readable output; the simulation's table is in demo-data/pinsim.txt.
EOF
if [[ -s "$demo/http_port" ]]; then
  http="https://localhost:$(cat "$demo/http_port")"
  echo "Dashboard: $http/  (TLS with the development CA demo-data/certs/ca.pem: import it in the"
  echo "  browser or accept its warning; sign in with the token in demo-data/reader.token)"
  echo "JSON API:  curl --cacert demo-data/certs/ca.pem -H \"Authorization: Bearer \$(cat demo-data/reader.token)\" \\"
  echo "             '$http/api/v1/rates?from=$first&to=$last'"
fi
cat <<EOF
Stop it:  kill $(cat "$pid_file")        (running tools/demo.sh again also does)
EOF
if [[ $status -ne 0 ]]; then
  echo "demo: the self-check FAILED (pinsim exit status $status)" >&2
fi
exit "$status"
