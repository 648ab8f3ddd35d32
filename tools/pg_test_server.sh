#!/usr/bin/env bash
# tools/pg_test_server.sh: a throw-away PostgreSQL server on loopback, for trying several
# aggregatord replicas locally and for load measurements (docs/operations.md, docs/benchmarks.md).
#
#   eval "$(bash tools/pg_test_server.sh start /tmp/pgdev)"   # sets PG_CONNINFO, PG_PASSWORD_FILE,
#                                                            # PG_PORT, PG_PID, PG_SOCKET_DIR
#   aggregatord --store=postgres --postgres="$PG_CONNINFO" --postgres_password_file="$PG_PASSWORD_FILE" ...
#   bash tools/pg_test_server.sh stop /tmp/pgdev              # stops it and deletes the directory
#
# start: runs initdb in DIR (which must not exist; as the `postgres` user when run as root, since
# initdb and postgres refuse root), then postgres listening on 127.0.0.1 at a free port with its
# unix socket in DIR. TCP logins need the password in DIR/password (random, mode 0600); socket
# logins are trusted. Environment: PG_FSYNC=on|off (default on), PG_BIN (default: the newest
# /usr/lib/postgresql/*/bin), PG_SETTINGS (extra "-c name=value" arguments).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
dir=$2

case "$cmd" in
  start)
    bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    [[ -x "$bin/postgres" ]] || { echo "no PostgreSQL server binaries: run tools/setup.sh" >&2; exit 1; }
    [[ ! -e "$dir" ]] || { echo "$dir exists" >&2; exit 1; }
    as_pg=()
    if [[ $(id -u) -eq 0 ]]; then as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups --); fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chmod 700 "$dir"
    if [[ $(id -u) -eq 0 ]] && ! "${as_pg[@]}" test -x "$(dirname "$dir")"; then
      rmdir "$dir"
      echo "the postgres user cannot reach $(dirname "$dir"); use a directory under /tmp" >&2
      exit 1
    fi
    head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/password"
    chmod 600 "$dir/password"
    if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$dir"; fi
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 --pwfile="$dir/password" -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # shellcheck disable=SC2086  # PG_SETTINGS is a list of arguments
    "${as_pg[@]}" "$bin/postgres" -D "$dir/data" -k "$dir" -h 127.0.0.1 -p "$port" \
      -c fsync="${PG_FSYNC:-on}" -c shared_buffers=256MB -c max_wal_size=2GB \
      -c dynamic_shared_memory_type=mmap ${PG_SETTINGS:-} >"$dir/postgres.log" 2>&1 </dev/null &
    pid=$!
    for _ in $(seq 1 300); do
      "$bin/pg_isready" -q -h "$dir" -p "$port" && break
      kill -0 "$pid" 2>/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
      sleep 0.1
    done
    "$bin/pg_isready" -q -h "$dir" -p "$port" || { cat "$dir/postgres.log" >&2; exit 1; }
    echo "PG_CONNINFO='host=127.0.0.1 port=$port user=postgres dbname=postgres'"
    echo "PG_PASSWORD_FILE='$dir/password'"
    echo "PG_PORT=$port"
    echo "PG_PID=$pid"
    echo "PG_SOCKET_DIR='$dir'"
    ;;
  stop)
    [[ -d "$dir" ]] || exit 0
    pidfile="$dir/data/postmaster.pid"
    if [[ -f "$pidfile" ]]; then
      pid=$(head -n 1 "$pidfile")
      if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres ]]; then
        kill -INT "$pid"
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
