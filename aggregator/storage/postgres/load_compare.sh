#!/usr/bin/env bash
# load_compare.sh: ingest throughput and CPU time per 1,000 pings of aggregatord on
#   (1) SQLite, one replica; (2) PostgreSQL, one replica; (3) PostgreSQL, two replicas,
# in one run, loaded by bench/ingest_load over loopback (plaintext gRPC, Submit and SubmitBatch).
#
#   bash aggregator/storage/postgres/load_compare.sh                # defaults below
#   BATCH_PINGS=1000000 SUBMIT_PINGS=100000 CLIENTS=8 bash .../load_compare.sh
#   BAZEL="bazel --output_base=/root/.cache/bazel-ob-pg" bash .../load_compare.sh
#
# CPU time is read from /proc/<pid>/stat (utime + stime) before and after each phase: for
# aggregatord the replica processes; for PostgreSQL the postmaster, its live children (one backend
# per connection, plus the WAL writer, checkpointer...) and its reaped children (cutime + cstime).
# The PostgreSQL server is a throw-away one (initdb in /tmp, loopback, fsync on, as the `postgres`
# user when run as root), removed at exit. Everything shares this machine's cores, including the
# load generator: read the numbers as relative costs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
BAZEL=${BAZEL:-bazel}
BATCH_PINGS=${BATCH_PINGS:-400000}
SUBMIT_PINGS=${SUBMIT_PINGS:-60000}
CLIENTS=${CLIENTS:-8}
PINSETS=16

$BAZEL build -c opt //aggregator/serve:aggregatord //bench:ingest_load >/dev/null 2>&1 ||
  $BAZEL build -c opt //aggregator/serve:aggregatord //bench:ingest_load  # again, showing why
BIN=$($BAZEL info -c opt bazel-bin 2>/dev/null)
AGGREGATORD=$BIN/aggregator/serve/aggregatord
INGEST_LOAD=$BIN/bench/ingest_load

WORK=$(mktemp -d /tmp/load_compare.XXXXXX)
chmod 711 "$WORK"  # the postgres user must reach $WORK/pg
REPLICA_PIDS=()
PG_STARTED=""

cleanup() {
  for p in "${REPLICA_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${REPLICA_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n "$PG_STARTED" ]]; then bash tools/pg_test_server.sh stop "$WORK/pg" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- configuration shared by all replicas (K = 16, all pinsets reported, 2 bits each) ----
{
  for ((k = 0; k < PINSETS; k++)); do
    spki=""  # a 32-byte placeholder SPKI hash, as octal escapes (the catalog needs one per pinset)
    for ((b = 0; b < 32; b++)); do spki+=$(printf '\\%03o' "$k"); done
    echo "pinsets { index: $k name: \"pinset-$k\" organization: \"org-$((k / 4))\"" \
      "mode: PIN_MODE_TEST spki_sha256: \"$spki\" }"
  done
} >"$WORK/catalog.textproto"
echo "f: 0.5 p: 0.25 q: 0.75 pinsets_per_ping: $PINSETS bits_per_pinset: 2" >"$WORK/params.textproto"

# ---- PostgreSQL (tools/pg_test_server.sh: initdb in $WORK/pg, loopback, fsync on) ----
PG_STARTED=1
eval "$(PG_FSYNC=on bash tools/pg_test_server.sh start "$WORK/pg")"
[[ -n "${PG_PID:-}" ]] || exit 1
CONNINFO=$PG_CONNINFO

# ---- CPU accounting ----
CLK_TCK=$(getconf CLK_TCK)
# own_ticks PID: utime + stime; all_ticks PID: + cutime + cstime + live children's utime + stime.
own_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
all_ticks() {
  local total child
  total=$(sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}')
  for child in $(ps -o pid= --ppid "$1"); do
    [[ -r /proc/$child/stat ]] && total=$((total + $(own_ticks "$child" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
replica_ticks() { local t=0 p; for p in "${REPLICA_PIDS[@]}"; do t=$((t + $(own_ticks "$p"))); done; echo "$t"; }

# ---- replicas ----
start_replica() {  # NAME STORE-FLAGS...; sets ADDR (not run in a subshell: it records the pid)
  local name=$1; shift
  mkdir -p "$WORK/$name"
  "$AGGREGATORD" --listen=127.0.0.1:0 --port_file="$WORK/$name/port" --insecure \
    --initial_catalog="$WORK/catalog.textproto" --initial_params="$WORK/params.textproto" \
    --max_epsilon_one=1000 --max_epsilon_inf=1000 "$@" >"$WORK/$name/stdout" 2>"$WORK/$name/stderr" &
  REPLICA_PIDS+=($!)
  for _ in $(seq 1 300); do [[ -s "$WORK/$name/port" ]] && break; sleep 0.1; done
  [[ -s "$WORK/$name/port" ]] || { cat "$WORK/$name/stderr" >&2; exit 1; }
  ADDR="127.0.0.1:$(cat "$WORK/$name/port")"
}
stop_replicas() {
  for p in "${REPLICA_PIDS[@]}"; do kill -TERM "$p"; done
  for p in "${REPLICA_PIDS[@]}"; do wait "$p" || true; done
  REPLICA_PIDS=()
}

printf '%-22s %-11s %10s %12s %10s %16s %16s\n' configuration phase pings "pings/s" "p99 ms" \
  "aggregatord ms/1k" "postgres ms/1k"
run_phase() {  # CONFIG TARGETS PHASE USES_PG
  local config=$1 targets=$2 phase=$3 uses_pg=$4 a0 p0 a1 p1 out line pings rate p99
  a0=$(replica_ticks); p0=$(all_ticks "$PG_PID")
  out=$("$INGEST_LOAD" --target="$targets" --phases="$phase" --clients="$CLIENTS" \
    --in_flight=32 --batch_clients="$CLIENTS" --batch_pings="$BATCH_PINGS" \
    --submit_pings="$SUBMIT_PINGS" --duration_s=60 2>&1) || true
  a1=$(replica_ticks); p1=$(all_ticks "$PG_PID")
  line=$(grep -E '^targets (Submit|SubmitBatch) ' <<<"$out" | tail -n 1)
  [[ -n "$line" ]] || { echo "$out" >&2; exit 1; }
  pings=$(awk '{for (i = 1; i <= NF; i++) if ($i == "pings") {print $(i - 1); exit}}' <<<"$line")
  rate=$(awk '{for (i = 1; i <= NF; i++) if ($i == "pings/s") {print $(i - 1); exit}}' <<<"$line")
  p99=$(awk '{for (i = 1; i <= NF; i++) if ($i == "p99") {print $(i + 1); exit}}' <<<"$line")
  local agg_ms pg_ms
  agg_ms=$(awk -v t=$((a1 - a0)) -v hz="$CLK_TCK" -v n="$pings" 'BEGIN {printf "%.2f", t * 1000 / hz * 1000 / n}')
  if [[ $uses_pg == 1 ]]; then
    pg_ms=$(awk -v t=$((p1 - p0)) -v hz="$CLK_TCK" -v n="$pings" 'BEGIN {printf "%.2f", t * 1000 / hz * 1000 / n}')
  else
    pg_ms="-"
  fi
  printf '%-22s %-11s %10s %12s %10s %16s %16s\n' "$config" "$phase" "$pings" "$rate" "$p99" "$agg_ms" "$pg_ms"
  grep -q ' errors 0$' <<<"$line" || echo "  (errors: $line)"
}

pg_replica() {  # NAME SCHEMA
  start_replica "$1" --store=postgres --postgres="$CONNINFO" \
    --postgres_password_file="$PG_PASSWORD_FILE" --postgres_schema="$2" --postgres_pool_size=4
}

for phase in batch submit; do
  # (1) SQLite, one replica.
  start_replica "sqlite_$phase" --store=sqlite --data_dir="$WORK/sqlite_$phase/data"
  run_phase "sqlite x1" "$ADDR" "$phase" 0
  stop_replicas
  # (2) PostgreSQL, one replica.
  pg_replica "pg1_$phase" "one_$phase"
  run_phase "postgres x1" "$ADDR" "$phase" 1
  stop_replicas
  # (3) PostgreSQL, two replicas (the second starts once the first has published the params).
  pg_replica "pg2a_$phase" "two_$phase"
  first=$ADDR
  pg_replica "pg2b_$phase" "two_$phase"
  run_phase "postgres x2" "$first,$ADDR" "$phase" 1
  stop_replicas
done
