#!/usr/bin/env bash
# Installs what ctnn's build, tests, examples and benchmarks need, from Debian's packages only,
# skipping what is already installed (so a second run does nothing and needs no network).
set -euo pipefail

packages=(
  cmake ninja-build g++          # build
  libxsimd-dev                   # the library's dependencies (header-only): xsimd 8.1,
  nlohmann-json3-dev             #   and nlohmann-json 3 for the safetensors header (io/)
  doctest-dev                    # tests
  clang libclang-rt-dev          # fuzzing the safetensors loader (libFuzzer and the sanitizers' runtimes)
  libbenchmark-dev libeigen3-dev # benchmarks (Eigen is the hand-written baseline, bench-only)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
