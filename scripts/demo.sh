#!/usr/bin/env bash
# ctnn's demo command (the README's): installs what it needs, builds the examples, runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTNN_NATIVE=ON >/dev/null
cmake --build build/native -j "${CTNN_JOBS:-2}" --target demo
build/native/examples/demo "$@"
