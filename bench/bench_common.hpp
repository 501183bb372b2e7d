// bench_common.hpp — shared by the benchmark executables in bench/: machine/flags report,
// the fp32 FMA peak measurement, flush-to-zero control, and deterministic input rings.
#pragma once

#include <benchmark/benchmark.h>
#include <Eigen/Core>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CTNN_BENCH_X86 1
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <vector>

#ifndef CTNN_BENCH_FLAGS
#define CTNN_BENCH_FLAGS "(unknown: not built through bench/CMakeLists.txt)"
#endif
#ifndef CTNN_BENCH_MARCH
#define CTNN_BENCH_MARCH "(unknown)"
#endif
#ifndef CTNN_BENCH_BUILD_TYPE
#define CTNN_BENCH_BUILD_TYPE "(unknown)"
#endif

namespace bench_common {

// First value of `key` in /proc/cpuinfo ("" if absent).
inline std::string cpuinfo_field(const char* key) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  const std::size_t klen = std::strlen(key);
  while (std::getline(f, line)) {
    if (line.compare(0, klen, key) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string before = line.substr(0, colon);
      if (before.find_first_not_of(" \t", klen) != std::string::npos) continue;  // "model" vs "model name"
      auto v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return {};
}

// Flush-to-zero + denormals-are-zero (MXCSR bits 15 and 6) for the calling thread.
inline bool ftz_enabled() {
#ifdef CTNN_BENCH_X86
  return (_mm_getcsr() & 0x8040u) == 0x8040u;
#else
  return false;
#endif
}
inline void set_ftz_daz(bool on) {
#ifdef CTNN_BENCH_X86
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | 0x8040u) : (csr & ~0x8040u));
#else
  (void)on;
#endif
}

// Prints and records (as Google Benchmark context) what the numbers depend on.
inline void report_machine() {
  const std::string cpu = cpuinfo_field("model name") + " (family " + cpuinfo_field("cpu family") +
                          ", model " + cpuinfo_field("model") + ", stepping " + cpuinfo_field("stepping") + ")";
  const std::string eigen = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                            std::to_string(EIGEN_MINOR_VERSION);
  const std::string isa = Eigen::SimdInstructionSetsInUse();
  std::printf("== machine and build ==\n");
  std::printf("cpu          : %s\n", cpu.c_str());
  std::printf("compiler     : g++ __VERSION__ \"%s\"\n", __VERSION__);
  std::printf("build type   : %s\n", CTNN_BENCH_BUILD_TYPE);
  std::printf("flags        : %s\n", CTNN_BENCH_FLAGS);
  std::printf("-march=native: %s\n", CTNN_BENCH_MARCH);
  std::printf("eigen        : %s, SIMD in use: %s, max align %d bytes\n", eigen.c_str(), isa.c_str(),
              int(EIGEN_MAX_ALIGN_BYTES));
  std::printf("ftz/daz      : %s\n", ftz_enabled() ? "on" : "off");
  std::fflush(stdout);
  benchmark::AddCustomContext("cpu_model", cpu);
  benchmark::AddCustomContext("compiler", __VERSION__);
  benchmark::AddCustomContext("build_type", CTNN_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("flags", CTNN_BENCH_FLAGS);
  benchmark::AddCustomContext("march_native", CTNN_BENCH_MARCH);
  benchmark::AddCustomContext("eigen", eigen + " " + isa);
  benchmark::AddCustomContext("ftz_daz", ftz_enabled() ? "on" : "off");
}

// ---- fp32 peak: NAcc independent FMA dependency chains, each acc = acc * a + c ----
// The chains are independent, so with NAcc >= latency x FMA ports the FMA units never stall.
template <int NAcc>
inline void peak_fma_zmm(benchmark::State& st) {
#if defined(CTNN_BENCH_X86) && defined(__AVX512F__)
  __m512 acc[NAcc];
  for (int k = 0; k < NAcc; ++k) acc[k] = _mm512_set1_ps(0.001f * float(k + 1));
  const __m512 a = _mm512_set1_ps(0.99999994f), c = _mm512_set1_ps(1e-7f);
  constexpr int R = 2048;
  for (auto _ : st) {
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
      for (int k = 0; k < NAcc; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, c);
    }
    for (int k = 0; k < NAcc; ++k) asm volatile("" : "+v"(acc[k]));  // keep them live, in registers
  }
  float sink = 0;
  for (int k = 0; k < NAcc; ++k) sink += _mm512_reduce_add_ps(acc[k]);
  benchmark::DoNotOptimize(sink);
  st.counters["FLOP/s"] = benchmark::Counter(double(st.iterations()) * R * NAcc * 16 * 2, benchmark::Counter::kIsRate);
#else
  st.SkipWithError("no AVX-512F");
#endif
}

template <int NAcc>
inline void peak_fma_ymm(benchmark::State& st) {
#if defined(CTNN_BENCH_X86) && defined(__FMA__) && defined(__AVX__)
  __m256 acc[NAcc];
  for (int k = 0; k < NAcc; ++k) acc[k] = _mm256_set1_ps(0.001f * float(k + 1));
  const __m256 a = _mm256_set1_ps(0.99999994f), c = _mm256_set1_ps(1e-7f);
  constexpr int R = 2048;
  for (auto _ : st) {
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 16
      for (int k = 0; k < NAcc; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, c);
    }
    for (int k = 0; k < NAcc; ++k) asm volatile("" : "+x"(acc[k]));
  }
  alignas(32) float tmp[8];
  float sink = 0;
  for (int k = 0; k < NAcc; ++k) {
    _mm256_store_ps(tmp, acc[k]);
    for (float t : tmp) sink += t;
  }
  benchmark::DoNotOptimize(sink);
  st.counters["FLOP/s"] = benchmark::Counter(double(st.iterations()) * R * NAcc * 8 * 2, benchmark::Counter::kIsRate);
#else
  st.SkipWithError("no AVX2/FMA");
#endif
}

// Common start of a benchmark main(): takes --ftz=0|1 out of argv (default 1: flush-to-zero and
// denormals-are-zero on, because single-sample training with ReLU drives Adam's moments of dead
// units into denormals and the timings then measure microcode assists: W train1 9.0 vs 5.8 us),
// sets it, initializes Google Benchmark and prints the machine report. False on a bad argument.
inline bool initialize(int& argc, char** argv) {
  bool ftz = true;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ftz=0") == 0)
      ftz = false;
    else if (std::strcmp(argv[i], "--ftz=1") == 0)
      ftz = true;
    else
      argv[out++] = argv[i];
  }
  argc = out;
  set_ftz_daz(ftz);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return false;
  report_machine();
  return true;
}

inline void register_peak_benchmarks() {
  benchmark::RegisterBenchmark("peak/fma_zmm_x12", peak_fma_zmm<12>);
  benchmark::RegisterBenchmark("peak/fma_zmm_x8", peak_fma_zmm<8>);
  benchmark::RegisterBenchmark("peak/fma_ymm_x12", peak_fma_ymm<12>);
}

// ---- layout: where a kernel's stack buffers land -------------------------------------------------
// A kernel's time can depend on the addresses of its stack buffers modulo 4 KB, relative to its
// inputs and parameters: a load that shares its low 12 address bits with a recent store waits for
// it. ASLR draws the stack's position once per process, so one process's layout would decide a
// cell. Measured on T fwd32 with the stack moved in 32-byte steps: ctnn 33-44 ns per batch, Eigen
// 49-70 ns, each slow over different ranges; within one process, every repetition saw the same.
// register_shifted's benchmarks run each call (each repetition) with the stack moved down by
// another multiple of 64 bytes: the calls go through the 64 offsets from 0 to 4032 in a fixed
// order (a counter per type of body: each lambda has its own), so the repetitions of a cell sample
// many layouts and its median describes a typical one.
template <class F>
[[gnu::noinline]] void run_below(F& body, benchmark::State& st) {
  body(st);
}
template <class F>
void run_shifted(F& body, benchmark::State& st) {
  static unsigned calls = 0;  // one per F; benchmarks run one at a time
  const std::size_t shift = 64 * ((calls++ * 37u + 11u) % 64u);  // 37 is odd: every offset in 64 calls
  char* pad = static_cast<char*>(__builtin_alloca(shift + 64));
  asm volatile("" : : "r"(pad) : "memory");  // the allocation is kept
  run_below(body, st);
}
template <class F>
benchmark::internal::Benchmark* register_shifted(const std::string& name, F body) {
  return benchmark::RegisterBenchmark(name.c_str(), [body](benchmark::State& st) mutable { run_shifted(body, st); });
}

// ---- deterministic data ----
template <class T>
struct aligned_allocator {
  using value_type = T;
  aligned_allocator() = default;
  template <class U>
  aligned_allocator(const aligned_allocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const aligned_allocator<U>&) const { return true; }
};
using aligned_floats = std::vector<float, aligned_allocator<float>>;

// `count` blocks of `block` floats, uniform in [lo, hi]; block k starts 64-byte aligned when
// block is a multiple of 16 floats.
struct ring {
  aligned_floats data;
  int block = 0, count = 0;
  ring(int block_, int count_, unsigned seed, float lo = -1.f, float hi = 1.f)
      : data(std::size_t(block_) * count_), block(block_), count(count_) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (auto& v : data) v = d(gen);
  }
  const float* operator[](int k) const { return data.data() + std::size_t(k) * block; }
};

}  // namespace bench_common
