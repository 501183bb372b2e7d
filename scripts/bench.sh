#!/usr/bin/env bash
# Builds and runs ctnn's benchmark against the hand-written Eigen baseline (bench/ctnn_vs_eigen),
# and against libtorch when CMake finds it (Debian's libtorch-dev; not installed by setup.sh).
# Extra arguments go to Google Benchmark, e.g. --benchmark_filter=M/ or --benchmark_repetitions=30.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_BUILD_BENCH=ON -DCTNN_BUILD_TESTS=OFF \
  -DCTNN_BUILD_EXAMPLES=OFF -DCTNN_BENCH_LIBTORCH="${CTNN_BENCH_LIBTORCH:-AUTO}" >/dev/null
cmake --build build/bench -j "${CTNN_JOBS:-2}" --target ctnn_vs_eigen
build/bench/bench/ctnn_vs_eigen "$@"
