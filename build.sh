#!/bin/sh
# usage: build.sh out [extra flags]
out=$1; shift
/usr/bin/c++ -DCTNN_BENCH_BUILD_TYPE=\"Release\" -DCTNN_BENCH_FLAGS="\"x\"" -I/work/main/bench -I/work/main/include -isystem /usr/include/eigen3 -O3 -DNDEBUG -march=native --param=inline-unit-growth=1000 -std=gnu++20 "$@" -o $out /tmp/tb/tb.cpp /usr/lib/x86_64-linux-gnu/libbenchmark.so.1.7.1
