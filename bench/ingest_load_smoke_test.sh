#!/usr/bin/env bash
# Smoke test of bench/ingest_load: a tiny run of every phase and server (bare, deferred,
# aggregator) and of --rss_pings, checking that each prints its lines, reports no errors, and
# prints the medians over repetitions. The numbers themselves are not checked (a test machine's
# load decides them); docs/benchmarks.md records real runs.
set -euo pipefail

fail() { echo "ingest_load_smoke_test: $*" >&2; exit 1; }
runfiles=${RUNFILES_DIR:-$0.runfiles}
load="$runfiles/pinning_telemetry/bench/ingest_load"
[[ -x "$load" ]] || fail "missing $load"

out=$("$load" --phases=submit,batch --repetitions=2 --submit_pings=600 --clients=4 --in_flight=2 \
  --batch_pings=4000 --batch_clients=2 --stream_pings=500 --duration_s=60 2>&1) ||
  fail "exit status $?; output:"$'\n'"$out"
echo "$out"
for pattern in \
  '^\(a\) bare gRPC Submit +600 pings' \
  '^\(b\) aggregator Submit \(durable\) +600 pings' \
  '^\(c\) deferred gRPC Submit +600 pings' \
  '^\(a\) bare gRPC SubmitBatch +4000 pings' \
  '^\(b\) aggregator SubmitBatch \(durable\) +4000 pings' \
  '^Submit ratio b/a over 2 repetitions: median [0-9.]+ \(min [0-9.]+, max [0-9.]+\)$' \
  '^Submit ratio c/a over 2 repetitions: median ' \
  '^SubmitBatch ratio b/a over 2 repetitions: median ' \
  'server since start: [0-9]+ commits'; do
  grep -Eq "$pattern" <<<"$out" || fail "no line matching /$pattern/"
done
# Each server was measured twice per phase (rotating order), every call succeeded, and every ping
# had an id of its own (a repeated id would be a cheap duplicate, not a counted ping).
[[ $(grep -E '^\((a|b|c)\) ' <<<"$out" | grep -vc SubmitBatch) -eq 6 ]] || fail "expected 6 Submit lines"
[[ $(grep -Ec '^\((a|b)\) .* SubmitBatch' <<<"$out") -eq 4 ]] || fail "expected 4 SubmitBatch lines"
if grep -E '^\((a|b|c)\) ' <<<"$out" | grep -Evq 'dups 0  errors 0$'; then
  fail "a phase had errors or duplicate ids"
fi

# --rss_pings: the aggregatord binary as a child process, its RSS reported along the way.
aggregatord="$runfiles/pinning_telemetry/aggregator/serve/aggregatord"
[[ -x "$aggregatord" ]] || fail "missing $aggregatord"
rss=$("$load" --rss_pings=3000 --batch_clients=2 --stream_pings=500 --aggregatord="$aggregatord" 2>&1) ||
  fail "--rss_pings: exit status $?; output:"$'\n'"$rss"
echo "$rss"
grep -Eq '^aggregatord pid [0-9]+, RSS at start: [0-9]+ KiB$' <<<"$rss" || fail "no RSS at start"
grep -Eq '^aggregatord RSS after 3000 pings: [0-9]+ KiB$' <<<"$rss" || fail "no final RSS"
echo "ingest_load_smoke_test: OK"
