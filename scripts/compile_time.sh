#!/usr/bin/env bash
# The compile-time bar of the speed issue: compiles bench/compile_time_tu.cpp (forward on one
# sample and on 32, a trainer step on one sample and on 32, for the benchmark's four networks, in
# float) at -O3 -march=native and prints the wall time and the compiler's peak memory, measured by
# /usr/bin/time -v. Bar: at most 12 s and 1.2 GB. Extra arguments go to the compiler
# (e.g. -ftime-report). CXX selects the compiler (default g++).
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=${CXX:-g++}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -v -o "$out/time" "$cxx" -std=c++20 -O3 -march=native -Iinclude "$@" \
  -c bench/compile_time_tu.cpp -o "$out/tu.o"
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time")
user=$(sed -n 's/.*User time (seconds): //p' "$out/time")
echo "compiler      : $("$cxx" --version | head -1)"
echo "translation   : bench/compile_time_tu.cpp (-std=c++20 -O3 -march=native $*)"
echo "wall          : $wall (m:ss), user CPU ${user} s"
echo "peak memory   : $((rss_kb / 1024)) MB (max RSS)"
echo "load average  : $(cut -d' ' -f1-3 /proc/loadavg)"
