#!/usr/bin/env bash
# tools/setup.sh: installs every Debian package the project needs, idempotently and quietly.
# Usage: bash tools/setup.sh [--with-postgres] [--with-browser]
# Safe to run repeatedly; it only calls apt-get when a package is missing.
set -euo pipefail

packages=(
  bazel-bootstrap g++ git ca-certificates openssl pkg-config
  protobuf-compiler protobuf-compiler-grpc libgrpc++-dev libprotobuf-dev
  libssl-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql procps libcpp-httplib-dev
)
for arg in "$@"; do
  case "$arg" in
    --with-postgres) packages+=(postgresql) ;;
    --with-browser) ;;  # accepted for compatibility: browser-test packages are always installed
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

# Browser tests (tests/browser) and the dashboard's assets need Chromium, node and npm. node and npm
# come from Debian only when absent: a machine may already have another node build with npm inside.
packages+=(chromium)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} package(s): ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { "${sudo_cmd[@]}" apt-get update -qq &&
         "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: apt-get failed (output above)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
fi
echo "setup: all packages present"
