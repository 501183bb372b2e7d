// A fixed-size network in a real-time audio callback: a simulated 48 kHz stream in blocks of 64
// samples (a 1.33 ms deadline per block), each output sample computed by a 16-32-32-1 tanh network
// from the last 16 input samples (a "neural" distortion with memory).
//
// First the network is trained, briefly, to imitate y[n] = tanh(4 (0.5 x[n] + 0.3 x[n-1] + 0.2 x[n-2])).
// Then the audio thread's loop runs 60 s of audio (45,000 callbacks) back to back, two ways:
// one forward call per sample, and one batched forward per block. Each callback is timed; the
// example prints the latency percentiles and checks the deadline. This file replaces operator new
// and the malloc family with counting versions, and reports how many allocations the callbacks
// made: there must be none.
#include <ctnn/ctnn.hpp>

#include "common/count_allocations.hpp"  // every allocation of the program is counted
#include "common/timing.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

namespace {

constexpr std::size_t window = 16, block = 64;
constexpr double sample_rate = 48000;
using net_type = ctnn::network<float, ctnn::input<window>, ctnn::dense<32>, ctnn::tanh, ctnn::dense<32>, ctnn::tanh,
                               ctnn::dense<1>>;

float target_effect(const float* w) {  // w[window - 1] is the newest sample
    return std::tanh(4.f * (0.5f * w[window - 1] + 0.3f * w[window - 2] + 0.2f * w[window - 3]));
}

// A test signal: two detuned sines and a little noise, amplitude below 1.
struct oscillator {
    double phase1 = 0, phase2 = 0;
    ctnn::rng noise{99};
    float next(double f1, double f2) {
        phase1 += 2 * 3.14159265358979 * f1 / sample_rate;
        phase2 += 2 * 3.14159265358979 * f2 / sample_rate;
        return static_cast<float>(0.5 * std::sin(phase1) + 0.3 * std::sin(phase2) + 0.05 * noise.uniform(-1.0, 1.0));
    }
};

// The state an audio plug-in would hold: the network and the input history. No allocation, no
// lock, no system call in process().
struct processor {
    net_type net{};
    std::array<float, window + block> history{};  // the last window-1 inputs, then this block's

    // Per sample: one forward call on the window that ends at the sample.
    void process(const float* in, float* out) noexcept {
        for (std::size_t i = 0; i < block; ++i) history[window - 1 + i] = in[i];
        for (std::size_t i = 0; i < block; ++i) net.forward(history.data() + i, out + i);
        for (std::size_t i = 0; i + 1 < window; ++i) history[i] = history[block + i];
    }
    // Per block: the 64 windows as one batch, one forward call.
    void process_batched(const float* in, float* out) noexcept {
        for (std::size_t i = 0; i < block; ++i) history[window - 1 + i] = in[i];
        for (std::size_t s = 0; s < block; ++s)
            for (std::size_t k = 0; k < window; ++k) windows(s, k) = history[s + k];
        const ctnn::tensor<float, block, 1> y = net.forward(windows);
        for (std::size_t s = 0; s < block; ++s) out[s] = y[s];
        for (std::size_t i = 0; i + 1 < window; ++i) history[i] = history[block + i];
    }
    ctnn::tensor<float, block, window> windows{};
};

struct run_stats {
    std::vector<double> latency_us;
    long allocations = 0;
    double max_error = 0;
};

template <class Process>
run_stats stream(processor& p, Process process, std::size_t callbacks) {
    run_stats r;
    r.latency_us.reserve(callbacks);  // before the audio starts
    p.history.fill(0.f);              // a new stream starts in silence
    oscillator osc;
    std::array<float, block> in{}, out{};
    std::array<float, window + block> reference{};  // the target effect, for the error
    const long before = count_allocations::allocations();
    for (std::size_t c = 0; c < callbacks; ++c) {
        for (std::size_t i = 0; i < block; ++i) in[i] = osc.next(220 + 0.001 * static_cast<double>(c), 331);
        const auto t0 = std::chrono::steady_clock::now();
        process(p, in.data(), out.data());
        const auto t1 = std::chrono::steady_clock::now();
        r.latency_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        for (std::size_t i = 0; i < block; ++i) {
            reference[window - 1 + i] = in[i];
            r.max_error = std::max(r.max_error, static_cast<double>(std::abs(out[i] - target_effect(reference.data() + i))));
        }
        for (std::size_t i = 0; i + 1 < window; ++i) reference[i] = reference[block + i];
    }
    r.allocations = count_allocations::allocations() - before;
    return r;
}

void report(const char* name, const run_stats& r) {
    const double budget = 1e6 * block / sample_rate;
    const double p50 = examples::percentile(r.latency_us, 50), p99 = examples::percentile(r.latency_us, 99),
                 p999 = examples::percentile(r.latency_us, 99.9), max = examples::percentile(r.latency_us, 100);
    std::printf("%-30s p50 %6.2f us  p99 %6.2f us  p99.9 %6.2f us  max %7.2f us  (%.1f %% of the %.0f us budget at p99.9)\n",
                name, p50, p99, p999, max, 100 * p999 / budget, budget);
    std::printf("%-30s allocations during the callbacks: %ld; largest error against the target effect %.3f\n", "",
                r.allocations, r.max_error);
}

}  // namespace

int main() {
    static processor p;  // static: the audio state lives outside any stack frame
    ctnn::init::xavier_uniform(p.net, 5);

    // Training data: windows of the test signal at random frequencies, and the effect's output.
    std::vector<float> x, y;
    oscillator osc;
    std::array<float, window> w{};
    for (std::size_t i = 0; i < 8192; ++i) {
        const double f = 80 + 40 * static_cast<double>(i % 97);
        for (std::size_t k = 0; k < window; ++k) w[k] = osc.next(f, 1.5 * f);
        x.insert(x.end(), w.begin(), w.end());
        y.push_back(target_effect(w.data()));
    }
    ctnn::trainer<net_type, ctnn::loss::mse, ctnn::optim::adam> tr{p.net, {.lr = 3e-3}};
    const auto t0 = std::chrono::steady_clock::now();
    const ctnn::fit_result fr = ctnn::fit<32>(tr, ctnn::dataset_for<net_type>{x, y}, {.epochs = 30, .seed = 1});
    std::printf("trained the 16-32-32-1 tanh network in %.2f s: %s, mse %.5f\n\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), fr.describe().c_str(),
                fr.last.train_loss);

    constexpr std::size_t callbacks = static_cast<std::size_t>(60 * sample_rate / block);  // 60 s of audio
    std::printf("60 s of 48 kHz audio in %zu callbacks of %zu samples, processed back to back:\n", callbacks, block);
    const run_stats per_sample =
        stream(p, [](processor& q, const float* in, float* out) { q.process(in, out); }, callbacks);
    report("one forward per sample", per_sample);
    const run_stats batched =
        stream(p, [](processor& q, const float* in, float* out) { q.process_batched(in, out); }, callbacks);
    report("one batched forward per block", batched);
    const bool ok = per_sample.allocations == 0 && batched.allocations == 0;
    // On this project's machine (a shared VM) a timer interrupt every millisecond takes ~35 us; it
    // lands in about 1 % of the 7 us per-sample callbacks, which sets their p99, and preemptions by
    // other processes set the p99.9 and the maximum.
    std::printf("\n%s\n(the tails are the machine's: timer interrupts and preemptions by other processes land in\n"
                "some callbacks; the callbacks' own work is the same every time)\n",
                ok ? "zero allocations in the audio callbacks" : "ALLOCATIONS in the audio callbacks");
    return ok ? 0 : 1;
}
