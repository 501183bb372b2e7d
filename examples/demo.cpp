// ctnn's first demo: a network declared as a type, its compile-time facts, a seeded
// initialization, inference on one sample and on a batch, and how long that takes.
//
// Training arrives with the backpropagation issue; this demo grows with it.
#include <ctnn/ctnn.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {

// The topology is the type. Layers are numbered like an nn.Sequential: 0 dense, 1 tanh, ...
using net_type = ctnn::network<float,
                               ctnn::input<16>,
                               ctnn::dense<64>, ctnn::relu,
                               ctnn::dense<64>, ctnn::relu,
                               ctnn::dense<4>, ctnn::softmax>;

// The same type, written with the DSL.
static_assert(std::is_same_v<net_type, ctnn::network_of<float, ctnn::input<16> | ctnn::dense<64> | ctnn::relu |
                                                                   ctnn::dense<64> | ctnn::relu | ctnn::dense<4> |
                                                                   ctnn::softmax>>);

// Median time per call of f, in nanoseconds, over `rounds` rounds of `calls` calls.
template <class F>
double median_ns(F&& f, int calls, int rounds = 31) {
    std::vector<double> t;
    for (int r = 0; r < rounds; ++r) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) f(i);
        const std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - start;
        t.push_back(d.count() / calls);
    }
    std::nth_element(t.begin(), t.begin() + rounds / 2, t.end());
    return t[rounds / 2];
}

template <class T>
void keep(const T& value) {
    asm volatile("" : : "g"(&value) : "memory");  // the optimizer must not drop the computation
}

}  // namespace

int main() {
    std::printf("ctnn demo: a 16-64-64-4 ReLU classifier with a softmax output\n\n");
    std::printf("compile-time facts of the type\n");
    std::printf("  input_size       %zu\n", net_type::input_size);
    std::printf("  output_size      %zu\n", net_type::output_size);
    std::printf("  layer_count      %zu   (dense, relu, dense, relu, dense, softmax)\n", net_type::layer_count);
    std::printf("  parameter_count  %zu   (16*64+64 + 64*64+64 + 64*4+4)\n", net_type::parameter_count);
    std::printf("  forward_flops    %zu per sample\n", net_type::forward_flops);
    std::printf("  sizeof(network)  %zu bytes: the parameters, padded to SIMD registers, and nothing else\n\n",
                sizeof(net_type));

    net_type net{};
    ctnn::init::he_uniform(net, /*seed=*/42);
    std::printf("initialized with he_uniform(seed 42): layer<0>().weight(0, 0) = %+.6f, layer<4>().bias(3) = %+.6f\n\n",
                static_cast<double>(net.layer<0>().weight(0, 0)), static_cast<double>(net.layer<4>().bias(3)));

    ctnn::tensor<float, 16> x{};
    for (std::size_t i = 0; i < 16; ++i) x[i] = static_cast<float>(i) / 8.f - 1.f;
    const ctnn::tensor<float, 4> y = net.forward(x);
    std::printf("forward(x) for x = (-1, -0.875, ..., 0.875):\n  class probabilities %.4f %.4f %.4f %.4f (sum %.6f)\n\n",
                static_cast<double>(y[0]), static_cast<double>(y[1]), static_cast<double>(y[2]),
                static_cast<double>(y[3]), static_cast<double>(y[0] + y[1] + y[2] + y[3]));

    static ctnn::tensor<float, 32, 16> xb{};
    for (std::size_t s = 0; s < 32; ++s)
        for (std::size_t i = 0; i < 16; ++i) xb(s, i) = static_cast<float>((s * 7 + i * 3) % 17) / 8.f - 1.f;

    const double one = median_ns(
        [&](int i) {
            x[0] = static_cast<float>(i & 7) * 0.125f;  // a new input each call
            keep(net.forward(x));
        },
        20000);
    const double batch = median_ns(
        [&](int i) {
            xb[0] = static_cast<float>(i & 7) * 0.125f;
            keep(net.forward(xb));
        },
        2000);
    const double gflops_one = static_cast<double>(net_type::forward_flops) / one;
    const double gflops_batch = 32.0 * static_cast<double>(net_type::forward_flops) / batch;
    std::printf("timing (median of 31 rounds; this machine is shared, so expect some noise)\n");
    std::printf("  one sample        %8.1f ns per call      %6.1f GFLOP/s\n", one, gflops_one);
    std::printf("  batch of 32       %8.1f ns per sample    %6.1f GFLOP/s\n", batch / 32, gflops_batch);
    std::printf("\nforward never allocates, throws or locks; try changing the layer list and recompiling.\n");
}
