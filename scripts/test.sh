#!/usr/bin/env bash
# ctnn's test command (the README's, and what .ci/run calls). Installs what it needs, then builds
# and runs the tests three ways:
#   native    -O3 -march=native: the widest SIMD of this machine (AVX-512 here)
#   baseline  -O2 for baseline x86-64 (SSE2 only): the narrowest SIMD a user may have
#   sanitize  -O0 -g1 with AddressSanitizer and UndefinedBehaviorSanitizer (-O0: the template-heavy
#             tests compile in 260 s on 2 cores, against 750 s at -O1, and run in 19 s, against 7)
# builds the examples and the benchmarks (the benchmarks are run by scripts/bench.sh), and fuzzes
# the safetensors loader for CTNN_FUZZ_SECONDS (default 60) with clang's libFuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=${CTNN_JOBS:-2}
stage() {  # prints a stage's title and the time the previous stages took
  echo "== $1 == (${SECONDS} s so far)"
}
configure() {  # build dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
}

stage "native (-march=native)"
configure build/native -DCTNN_NATIVE=ON -DCTNN_BUILD_BENCH=ON
cmake --build build/native -j "$jobs"
ctest --test-dir build/native -j "$jobs" --output-on-failure

stage "baseline x86-64 (SSE2)"
configure build/baseline -DCTNN_NATIVE=OFF -DCTNN_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG"
cmake --build build/baseline -j "$jobs" --target ctnn_tests ctnn_noalloc_tests
ctest --test-dir build/baseline -j "$jobs" --output-on-failure -R '^test_'

stage "AddressSanitizer + UndefinedBehaviorSanitizer"
configure build/sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DCTNN_SANITIZE=ON \
  -DCTNN_BUILD_EXAMPLES=OFF
cmake --build build/sanitize -j "$jobs" --target ctnn_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/sanitize -j "$jobs" --output-on-failure -R '^test_'

stage "fuzzing the safetensors loader (libFuzzer + ASan + UBSan, ${CTNN_FUZZ_SECONDS:-60} s)"
scripts/fuzz.sh
echo "== all stages passed in ${SECONDS} s =="
