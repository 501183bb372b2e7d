#!/usr/bin/env bash
# Fuzzes ctnn's safetensors loader: builds fuzz/fuzz_safetensors.cpp with clang and libFuzzer
# (-fsanitize=fuzzer,address,undefined) and runs it for a bounded time, starting from the seed
# corpus in fuzz/ (valid and broken files; regenerate with fuzz/make_corpus.py). A crash, a
# sanitizer report or a broken invariant of the target stops the run with a non-zero status and
# leaves the input that caused it in build/fuzz/ (replay: build/fuzz/fuzz_safetensors <file>).
#
#   scripts/fuzz.sh [seconds]      default 60 (or CTNN_FUZZ_SECONDS)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${CTNN_FUZZ_SECONDS:-60}}
out=build/fuzz
bin=$out/fuzz_safetensors
mkdir -p "$out/corpus"

# Rebuild when the target or any header is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find fuzz include -newer "$bin" -name '*.[ch]pp' -print -quit)" ]; then
  echo "fuzz: building $bin"
  clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer -Iinclude fuzz/fuzz_safetensors.cpp -o "$bin"
fi

echo "fuzz: running for ${seconds} s"
set +e
"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
  -dict=fuzz/safetensors.dict -artifact_prefix="$out/" -print_final_stats=1 \
  "$out/corpus" fuzz/corpus >"$out/log" 2>&1
status=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$out/log" || true
if [ "$status" -ne 0 ]; then
  tail -n 60 "$out/log"
  echo "fuzz: FAILED (status $status); the input is in $out/, the log in $out/log"
  exit "$status"
fi
echo "fuzz: no crash, no sanitizer report, no broken invariant in ${seconds} s"
