#!/usr/bin/env bash
# ctnn's demo command (the README's): installs what it needs, builds the examples, and runs the
# Digits example: a 64-32-10 network trained on the 8x8 handwritten digits, its held-out accuracy,
# its training time and the latency of one prediction (examples/digits.cpp).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_NATIVE=ON >/dev/null
cmake --build build/native -j "${CTNN_JOBS:-2}" --target digits
build/native/examples/digits "$@"
