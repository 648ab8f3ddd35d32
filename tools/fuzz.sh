#!/usr/bin/env bash
# tools/fuzz.sh: runs the libFuzzer targets (clang-14, ASan + UBSan) for a while each.
#
#   bash tools/fuzz.sh                 # every target, 60 s each
#   bash tools/fuzz.sh 600 validator   # one target (name contains "validator"), 10 minutes
#
# Corpora grow in fuzz-corpus/<target>/ (not committed); each starts from the target's seeds
# (FuzzerSeeds(), written by its replay test). A crash leaves its input in fuzz-corpus/ as
# crash-*; add it to the target's seeds once fixed. Needs clang-14 and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
filter=${2:-}
command -v clang++-14 >/dev/null || { echo "fuzz.sh: clang++-14 not found" >&2; exit 1; }

targets=(//aggregator/ingest:validator_fuzzer //client:pin_list_fuzzer //client:client_store_fuzzer)
bazel_fuzz=(bazel --output_base="$HOME/.cache/pinning-telemetry-bazel-fuzz")
selected=()
for t in "${targets[@]}"; do [[ -z "$filter" || "$t" == *"$filter"* ]] && selected+=("$t"); done
((${#selected[@]})) || { echo "fuzz.sh: no target matches '$filter'" >&2; exit 1; }

replays=()
for t in "${selected[@]}"; do replays+=("${t%_fuzzer}_fuzz_test"); done
bazel build "${replays[@]}"  # the usual (gcc) build: its replay tests write the seeds
replay_bin=$(bazel info bazel-bin 2>/dev/null)
# --symlink_prefix=/: no bazel-* links, so the usual build's links keep pointing at its outputs.
"${bazel_fuzz[@]}" build --config=fuzz --symlink_prefix=/ "${selected[@]}"
bin=$("${bazel_fuzz[@]}" info --config=fuzz bazel-bin 2>/dev/null)
for t in "${selected[@]}"; do
  pkg=${t#//}; pkg=${pkg%%:*}; name=${t##*:}
  corpus="fuzz-corpus/$name"
  mkdir -p "$corpus"
  FUZZ_WRITE_SEEDS="$corpus" "$replay_bin/$pkg/${name%_fuzzer}_fuzz_test" >/dev/null
  echo "== $name: $seconds s, corpus $corpus ($(ls "$corpus" | wc -l) files)"
  "$bin/$pkg/$name" -max_total_time="$seconds" -artifact_prefix="fuzz-corpus/" -print_final_stats=1 \
    "$corpus" 2>&1 | grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' || true
done
