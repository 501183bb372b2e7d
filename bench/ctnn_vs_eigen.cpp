// ctnn against the hand-written Eigen baseline (eigen_mlp.hpp), in one binary.
//
// Four networks (T 2-8-1 tanh, S 8-16-16-1 tanh, M 16-64-64-4 relu, W 64-128-128-16 relu, linear
// outputs), four cells each: fwd1 (one sample), fwd32 (a batch of 32, time per sample), train1 and
// train32 (forward + mean MSE + backward + one Adam step with PyTorch's defaults). Both
// implementations hold the same weights. Run with repetitions and random interleaving (the
// defaults below) so that machine drift hits both alike, each call with the stack moved by another
// multiple of 64 bytes (bench_common::register_shifted) so that no cell's result rests on one
// process's stack layout. The table at the end gives, per cell, the medians, the ratio
// ctnn / Eigen with its p10 and p90 over the repetitions (ratio of the k-th repetitions), GFLOP/s
// and the fraction of the fp32 peak measured in this binary.
// Times are CPU time (the machine is shared; wall time there is 1.5-2x higher for both sides),
// with flush-to-zero and denormals-are-zero on for both.
//
// FLOPs: forward = 2 in out + out per dense, 1 per activation element; a training step counts
// 3 x the forward FLOPs of its samples (forward, and the backward's two products) plus 14 per
// parameter for Adam.
#include <ctnn/ctnn.hpp>

#include "bench_common.hpp"
#include "eigen_mlp.hpp"
#if defined(CTNN_BENCH_LIBTORCH)
#include "torch_mlp.hpp"
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t ring = 16;  // inputs cycled through, so no call sees a constant input

template <class Act>
using eigen_act = std::conditional_t<std::is_same_v<Act, ctnn::tanh_t>, eigen_baseline::tanh_act, eigen_baseline::relu_act>;

template <class CtnnNet, class EigenNet>
struct pair_of_nets {
    static constexpr std::size_t in = CtnnNet::input_size, out = CtnnNet::output_size;
    // ctnn's and Eigen's forward cells read net and eigen, whose weights never change; their
    // training cells train copies (libtorch's cells share one network). A one-sample forward's
    // time depends on the weights (it skips the inputs a ReLU zeroed), and training on random
    // targets silences ReLU units: sharing the trained weights, W fwd1 drifted from 0.67 to 0.26
    // of Eigen's time over a run.
    CtnnNet net{};
    EigenNet eigen{};
    CtnnNet train_net{};
    EigenNet train_eigen{};
    ctnn::trainer<CtnnNet, ctnn::loss::mse, ctnn::optim::adam> trainer{train_net};
    alignas(64) ctnn::tensor<float, in> x[ring];
    alignas(64) ctnn::tensor<float, out> y[ring];
    alignas(64) ctnn::tensor<float, 32, in> xb[ring];
    alignas(64) ctnn::tensor<float, 32, out> yb[ring];
#if defined(CTNN_BENCH_LIBTORCH)
    std::unique_ptr<torch_baseline::mlp> torch;
    alignas(64) ctnn::tensor<float, 32, out> torch_out{};
#endif

    // hidden_bias_shift: added to every bias but the output layer's (to make every ReLU unit active).
    explicit pair_of_nets([[maybe_unused]] bool tanh, float hidden_bias_shift = 0) {
#if defined(CTNN_BENCH_LIBTORCH)
        torch = torch_baseline::make_mlp(tanh, std::vector<int>(EigenNet::widths.begin(), EigenNet::widths.end()));
#endif
        ctnn::init::torch_default(net, 2026);
        const std::size_t linears = EigenNet::widths.size() - 1;
        net.for_each_parameter([&, seen = std::size_t{0}](const ctnn::layer_path&, auto& t) mutable {
            if (t.name == "bias" && ++seen < linears)
                for (std::size_t o = 0; o < t.shape[0]; ++o) t(o) += hidden_bias_shift;
        });
        std::size_t linear = 0;
        net.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
            if (t.name == "weight") {
                for (std::size_t o = 0; o < t.shape[0]; ++o)
                    for (std::size_t i = 0; i < t.shape[1]; ++i) {
                        eigen.set_weight(int(linear), int(o), int(i), t(o, i));
                        train_eigen.set_weight(int(linear), int(o), int(i), t(o, i));
#if defined(CTNN_BENCH_LIBTORCH)
                        torch->set_weight(int(linear), int(o), int(i), t(o, i));
#endif
                    }
            } else {
                for (std::size_t o = 0; o < t.shape[0]; ++o) {
                    eigen.set_bias(int(linear), int(o), t(o));
                    train_eigen.set_bias(int(linear), int(o), t(o));
#if defined(CTNN_BENCH_LIBTORCH)
                    torch->set_bias(int(linear), int(o), t(o));
#endif
                }
                ++linear;
            }
        });
        train_net = net;
        ctnn::rng r{7};
        for (std::size_t k = 0; k < ring; ++k) {
            for (auto& v : x[k]) v = r.normal<float>();
            for (auto& v : y[k]) v = r.normal<float>();
            for (auto& v : xb[k]) v = r.normal<float>();
            for (auto& v : yb[k]) v = r.normal<float>();
        }
    }

    // With a ReLU after the first layer: the fraction of its outputs that are zero over the fwd1
    // inputs, what the second layer's one-sample forward may skip.
    double zero_hidden_fraction() const {
        const auto first = net.template layer<0>();
        std::size_t zeros = 0, total = 0;
        for (std::size_t k = 0; k < ring; ++k)
            for (std::size_t o = 0; o < first.out_features; ++o) {
                float z = first.bias(o);
                for (std::size_t i = 0; i < in; ++i) z += first.weight(o, i) * x[k][i];
                zeros += z <= 0;
                ++total;
            }
        return double(zeros) / double(total);
    }

    // Both compute the same function: checked once before timing.
    double max_forward_difference() {
        double d = 0;
        for (std::size_t k = 0; k < ring; ++k) {
            const auto a = net.forward(x[k]);
            const float* b = eigen.forward(x[k].data());
            for (std::size_t o = 0; o < out; ++o) d = std::max(d, double(std::abs(a[o] - b[o])));
#if defined(CTNN_BENCH_LIBTORCH)
            torch->forward(x[k].data(), torch_out.data());
            for (std::size_t o = 0; o < out; ++o) d = std::max(d, double(std::abs(a[o] - torch_out[o])));
#endif
        }
        return d;
    }
};

struct cell_info {
    double flops = 0;       // per call
    double per_call = 1;    // samples per call, for "per sample" times
    std::size_t param_bytes = 0;  // the network's parameter block
};
std::map<std::string, cell_info> cells;

template <class Net>
constexpr double train_flops(std::size_t batch) {
    return 3.0 * double(batch) * double(Net::forward_flops) + 14.0 * double(Net::parameter_count);
}

// The least time a one-sample forward can take from memory: one pass of full-width loads over the
// network's parameter block (8 independent add chains), the bytes fwd1 must read on every call.
// When the block outgrows L1 (W: 106 KB), this is the L2 bandwidth floor of the cell.
template <class Net>
float read_block(const Net& net) {
    using V = ctnn::simd::vec<float, ctnn::simd::native_width<float>>;
    constexpr std::size_t L = V::size, N = Net::parameter_block_size / (8 * L) * (8 * L);
    const float* q = net.parameter_block().data();
    V acc[8];
    for (V& a : acc) a = V(0.f);
    for (std::size_t i = 0; i < N; i += 8 * L)
        for (std::size_t k = 0; k < 8; ++k) acc[k] += V::load_aligned(q + i + k * L);
    for (std::size_t k = 1; k < 8; ++k) acc[0] += acc[k];
    return ctnn::simd::reduce_add(acc[0]);
}

template <class Pair>
void register_fwd1(const std::string& name, Pair& p) {
    bench_common::register_shifted(name + "/fwd1/ctnn", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            auto y = p.net.forward(p.x[k++ % ring]);
            benchmark::DoNotOptimize(y);
        }
    });
    bench_common::register_shifted(name + "/fwd1/eigen", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const float* y = p.eigen.forward(p.x[k++ % ring].data());
            benchmark::DoNotOptimize(y);
            benchmark::ClobberMemory();
        }
    });
}

template <class Pair>
void register_net(const std::string& name, Pair& p) {
    using Net = std::remove_cvref_t<decltype(p.net)>;
    const double fwd = double(Net::forward_flops);
    cells[name + "/fwd1"] = {fwd, 1, Net::parameter_block_size * sizeof(float)};
    cells[name + "/fwd32"] = {32 * fwd, 32};
    cells[name + "/train1"] = {train_flops<Net>(1), 1};
    cells[name + "/train32"] = {train_flops<Net>(32), 1};

    bench_common::register_shifted(name + "/floor/read", [&p](benchmark::State& st) {
        for (auto _ : st) {
            benchmark::DoNotOptimize(read_block(p.net));
            benchmark::ClobberMemory();
        }
    });
    register_fwd1(name, p);
    bench_common::register_shifted(name + "/fwd32/ctnn", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            auto y = p.net.forward(p.xb[k++ % ring]);
            benchmark::DoNotOptimize(y);
        }
    });
    bench_common::register_shifted(name + "/fwd32/eigen", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const auto& y = p.eigen.forward_batch(p.xb[k++ % ring].data());
            benchmark::DoNotOptimize(y.data());
            benchmark::ClobberMemory();
        }
    });
    bench_common::register_shifted(name + "/train1/ctnn", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.trainer.step(p.x[i], p.y[i]));
        }
    });
    bench_common::register_shifted(name + "/train1/eigen", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.train_eigen.train_step(p.x[i].data(), p.y[i].data()));
        }
    });
    bench_common::register_shifted(name + "/train32/ctnn", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.trainer.step(p.xb[i], p.yb[i]));
        }
    });
    bench_common::register_shifted(name + "/train32/eigen", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.train_eigen.train_step_batch(p.xb[i].data(), p.yb[i].data()));
        }
    });
#if defined(CTNN_BENCH_LIBTORCH)
    bench_common::register_shifted(name + "/fwd1/torch", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            p.torch->forward(p.x[k++ % ring].data(), p.torch_out.data());
            benchmark::ClobberMemory();
        }
    });
    bench_common::register_shifted(name + "/fwd32/torch", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            p.torch->forward_batch(p.xb[k++ % ring].data(), p.torch_out.data());
            benchmark::ClobberMemory();
        }
    });
    bench_common::register_shifted(name + "/train1/torch", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.torch->train_step(p.x[i].data(), p.y[i].data()));
        }
    });
    bench_common::register_shifted(name + "/train32/torch", [&p](benchmark::State& st) {
        std::size_t k = 0;
        for (auto _ : st) {
            const std::size_t i = k++ % ring;
            benchmark::DoNotOptimize(p.torch->train_step_batch(p.xb[i].data(), p.yb[i].data()));
        }
    });
#endif
}

// Keeps every repetition's time (ns per call) and the peak's FLOP/s, then prints the table.
class collector : public benchmark::ConsoleReporter {
public:
    std::map<std::string, std::vector<double>> times;
    std::vector<double> peak;

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& r : runs) {
            if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
            const std::string name = r.benchmark_name();
            const std::string base = name.substr(0, name.find("/repeats:"));
            if (base.rfind("peak/", 0) == 0) {
                auto it = r.counters.find("FLOP/s");
                if (it != r.counters.end()) peak.push_back(it->second.value);
            } else {
                times[base].push_back(r.GetAdjustedCPUTime());  // ns; CPU time: robust on a shared machine
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }
};

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const double pos = q * double(v.size() - 1);
    const std::size_t i = std::size_t(pos);
    return i + 1 < v.size() ? v[i] + (pos - double(i)) * (v[i + 1] - v[i]) : v[i];
}

// The ratio of the k-th repetitions, ctnn / Eigen.
std::vector<double> ratios_of(const std::vector<double>& ctnn, const std::vector<double>& eigen) {
    std::vector<double> r;
    for (std::size_t k = 0; k < std::min(ctnn.size(), eigen.size()); ++k) r.push_back(ctnn[k] / eigen[k]);
    return r;
}

void print_table(const collector& c) {
    const double peak = c.peak.empty() ? NAN : *std::max_element(c.peak.begin(), c.peak.end());
    std::printf("\n== ctnn / Eigen, medians of CPU time over the repetitions (ns per call; fwd32 per sample) ==\n");
    std::printf("fp32 peak measured here: %.1f GFLOP/s (independent FMA chains, best variant)\n", peak / 1e9);
    const bool torch = std::any_of(c.times.begin(), c.times.end(), [](const auto& t) {
        return t.first.size() > 6 && t.first.compare(t.first.size() - 6, 6, "/torch") == 0;
    });
    std::printf("%-10s %-8s %11s %11s %8s %8s %8s %9s %7s", "net", "cell", "ctnn ns", "eigen ns", "ratio", "p10",
                "p90", "GFLOP/s", "% peak");
    if (torch) std::printf(" %11s %10s", "libtorch ns", "torch/ctnn");
    std::printf("\n");
    for (const char* net : {"T", "S", "M", "W"})
        for (const char* cell : {"fwd1", "fwd32", "train1", "train32"}) {
            const std::string key = std::string(net) + "/" + cell;
            auto a = c.times.find(key + "/ctnn"), b = c.times.find(key + "/eigen");
            if (a == c.times.end() || b == c.times.end()) continue;
            const cell_info& info = cells.at(key);
            const std::vector<double> ratios = ratios_of(a->second, b->second);
            const double ta = quantile(a->second, 0.5), tb = quantile(b->second, 0.5);
            const double gflops = info.flops / ta;
            std::printf("%-10s %-8s %11.1f %11.1f %8.3f %8.3f %8.3f %9.1f %6.1f%%", net, cell, ta / info.per_call,
                        tb / info.per_call, ta / tb, quantile(ratios, 0.1), quantile(ratios, 0.9), gflops,
                        100.0 * gflops * 1e9 / peak);
            if (auto t = c.times.find(key + "/torch"); t != c.times.end()) {
                const double tt = quantile(t->second, 0.5);
                std::printf(" %11.1f %10.1f", tt / info.per_call, tt / ta);
            }
            std::printf("\n");
        }
    if (auto a = c.times.find("W-active/fwd1/ctnn"), b = c.times.find("W-active/fwd1/eigen");
        a != c.times.end() && b != c.times.end()) {
        const std::vector<double> ratios = ratios_of(a->second, b->second);
        const double ta = quantile(a->second, 0.5), tb = quantile(b->second, 0.5);
        std::printf("\n== W fwd1 with the first hidden layer all active (biases + 10): no zero input to skip ==\n");
        std::printf("%-10s %-8s %11.1f %11.1f %8.3f %8.3f %8.3f\n", "W-active", "fwd1", ta, tb, ta / tb,
                    quantile(ratios, 0.1), quantile(ratios, 0.9));
    }
    std::printf("\n== read floor: one pass of full-width loads over each network's parameter block, what fwd1 reads ==\n");
    for (const char* net : {"T", "S", "M", "W"}) {
        const auto r = c.times.find(std::string(net) + "/floor/read"), f = c.times.find(std::string(net) + "/fwd1/ctnn");
        if (r == c.times.end() || f == c.times.end()) continue;
        const double bytes = double(cells.at(std::string(net) + "/fwd1").param_bytes), t = quantile(r->second, 0.5);
        std::printf("%-3s %8.1f KB  read %8.1f ns  (%6.1f GB/s)  fwd1 / read floor %5.2f\n", net, bytes / 1024, t,
                    bytes / t, quantile(f->second, 0.5) / t);
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Defaults that make the ratios trustworthy on a shared machine; any flag given overrides.
    std::vector<char*> args(argv, argv + argc);
    std::string reps = "--benchmark_repetitions=15", interleave = "--benchmark_enable_random_interleaving=true",
                min_time = "--benchmark_min_time=0.05";
    auto given = [&](const char* flag) {
        return std::any_of(args.begin(), args.end(), [&](char* a) { return std::string(a).rfind(flag, 0) == 0; });
    };
    if (!given("--benchmark_repetitions")) args.push_back(reps.data());
    if (!given("--benchmark_enable_random_interleaving")) args.push_back(interleave.data());
    if (!given("--benchmark_min_time")) args.push_back(min_time.data());
    int n = int(args.size());
    // FTZ/DAZ on for both implementations (--ftz=0 turns it off), as in the baseline's tuning:
    // Adam's second moments reach the denormal range, which slows both sides alike (W train1 ~1.5x).
    if (!bench_common::initialize(n, args.data())) return 1;
    std::printf("ctnn         : SIMD width %zu floats, scalar type float\n", ctnn::simd::native_width<float>);

    using namespace ctnn;
    static pair_of_nets<network<float, input<2>, dense<8>, ctnn::tanh, dense<1>>,
                        eigen_baseline::mlp<eigen_baseline::tanh_act, 2, 8, 1>> T{true};
    static pair_of_nets<network<float, input<8>, dense<16>, ctnn::tanh, dense<16>, ctnn::tanh, dense<1>>,
                        eigen_baseline::mlp<eigen_baseline::tanh_act, 8, 16, 16, 1>> S{true};
    static pair_of_nets<network<float, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>,
                        eigen_baseline::mlp<eigen_baseline::relu_act, 16, 64, 64, 4>> M{false};
    static pair_of_nets<network<float, input<64>, dense<128>, relu, dense<128>, relu, dense<16>>,
                        eigen_baseline::mlp<eigen_baseline::relu_act, 64, 128, 128, 16>> W{false};
    // One sample skips the weight rows of the inputs a ReLU zeroed (dense.hpp, skips_zero_inputs).
    // Its worst case, no zero to skip, is measured too: W with every unit of the first hidden layer
    // active (the layer after it, 128 -> 16, does not skip; only its fwd1 cells are registered).
    static pair_of_nets<network<float, input<64>, dense<128>, relu, dense<128>, relu, dense<16>>,
                        eigen_baseline::mlp<eigen_baseline::relu_act, 64, 128, 128, 16>> W_active{false, 10.f};
    std::printf("same function: max |ctnn - eigen|%s forward difference T %.2g, S %.2g, M %.2g, W %.2g, W-active %.2g\n",
#if defined(CTNN_BENCH_LIBTORCH)
                " and |ctnn - libtorch|",
#else
                "",
#endif
                T.max_forward_difference(), S.max_forward_difference(), M.max_forward_difference(),
                W.max_forward_difference(), W_active.max_forward_difference());
    std::printf("zero inputs of W's second layer on the fwd1 inputs: %.0f %% (W-active: %.0f %%)\n",
                100 * W.zero_hidden_fraction(), 100 * W_active.zero_hidden_fraction());
    register_net("T", T);
    register_net("S", S);
    register_net("M", M);
    register_net("W", W);
    register_fwd1("W-active", W_active);
    bench_common::register_peak_benchmarks();

    collector c;
    benchmark::RunSpecifiedBenchmarks(&c);
    print_table(c);
    benchmark::Shutdown();
}
