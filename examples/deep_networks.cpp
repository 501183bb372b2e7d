// Deep networks with and without residual connections and batch normalization, side by side.
//
// The task: the two-spirals problem (two interleaved spirals in the plane, one class each), a
// classic that is hard for a plain deep net. Four networks with 8 hidden layers of 32 units,
// trained the same way (SGD with momentum, minibatches of 32, binary cross-entropy on a logit),
// once with tanh and once with sigmoid units:
//   plain      dense<32> act, eight times
//   norm       dense<32, no_bias> batch_norm act, eight times
//   residual   residual<dense<32>, act>, eight times (y = x + act(W x + b))
//   res+norm   residual<dense<32, no_bias>, batch_norm, act>, eight times
// What the literature describes (Glorot and Bengio 2010; Ioffe and Szegedy 2015; He et al. 2016)
// and what this prints: with sigmoid units the gradient reaching the first layer of the plain net
// is about 1e-7 of the last layer's (it vanishes) and the plain net does not learn at all; batch
// normalization brings that ratio back to about 1. With identity shortcuts, the residual nets
// learn the spirals quickly where the plain ones stall; with sigmoid units only the net with both
// shortcuts and normalization gets far. Printed: the gradient norm of every layer at
// initialization, the loss after each epoch side by side, the test accuracy and training time.
#include <ctnn/ctnn.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

namespace {

using ctnn::batch_norm, ctnn::dense, ctnn::input, ctnn::network, ctnn::no_bias, ctnn::residual, ctnn::tensor;

// The four nets, for an activation A: 8 hidden layers of 32 units each.
template <auto A>
struct nets {
    static constexpr auto bn = batch_norm;
    using plain = network<float, input<2>, dense<32>, A, dense<32>, A, dense<32>, A, dense<32>, A, dense<32>, A,
                          dense<32>, A, dense<32>, A, dense<32>, A, dense<32>, A, dense<1>>;
    using norm = network<float, input<2>, dense<32, no_bias>, bn, A, dense<32, no_bias>, bn, A, dense<32, no_bias>, bn,
                         A, dense<32, no_bias>, bn, A, dense<32, no_bias>, bn, A, dense<32, no_bias>, bn, A,
                         dense<32, no_bias>, bn, A, dense<32, no_bias>, bn, A, dense<32, no_bias>, bn, A, dense<1>>;
    static constexpr auto block = residual<dense<32>, A>;
    using res = network<float, input<2>, dense<32>, A, block, block, block, block, block, block, block, block, dense<1>>;
    static constexpr auto nblock = residual<dense<32, no_bias>, bn, A>;
    using res_norm = network<float, input<2>, dense<32, no_bias>, bn, A, nblock, nblock, nblock, nblock, nblock, nblock,
                             nblock, nblock, dense<1>>;
};

constexpr std::size_t samples = 1024, batch = 32, epochs = 60;

struct dataset {
    std::vector<std::array<float, 2>> x;
    std::vector<float> y;
};

// Two spirals of 1.75 turns, with a little noise.
dataset spirals(std::uint64_t seed) {
    ctnn::rng r{seed};
    dataset d;
    for (std::size_t i = 0; i < samples; ++i) {
        const int cls = static_cast<int>(i % 2);
        const double t = 0.25 + 1.75 * 2 * std::numbers::pi * r.uniform<double>();
        const double radius = t / (2 * std::numbers::pi * 1.75) * 2.0;
        const double angle = t + (cls ? std::numbers::pi : 0.0);
        d.x.push_back({static_cast<float>(radius * std::cos(angle) + 0.03 * r.normal<double>()),
                       static_cast<float>(radius * std::sin(angle) + 0.03 * r.normal<double>())});
        d.y.push_back(static_cast<float>(cls));
    }
    return d;
}

template <class Net>
struct run {
    Net net{};
    ctnn::trainer<Net, ctnn::loss::bce_with_logits, ctnn::optim::sgd> tr{net, {.lr = 0.05, .momentum = 0.9},
                                                                           {.clip_grad_norm = 5.0, .seed = 3}};
    std::vector<float> losses;
    double seconds = 0;

    explicit run(std::uint64_t seed) { ctnn::init::xavier_uniform(net, seed); }

    // One epoch of minibatch steps, then the loss of the network (inference mode: running
    // statistics, no dropout) on the whole training set.
    void epoch(const dataset& d, const std::vector<std::size_t>& order) {
        const auto start = std::chrono::steady_clock::now();
        std::size_t steps = 0;
        tensor<float, batch, 2> xb;
        tensor<float, batch, 1> yb;
        for (std::size_t k = 0; k + batch <= order.size(); k += batch, ++steps) {
            for (std::size_t s = 0; s < batch; ++s) {
                xb(s, 0) = d.x[order[k + s]][0], xb(s, 1) = d.x[order[k + s]][1];
                yb(s, 0) = d.y[order[k + s]];
            }
            tr.step(xb, yb);
        }
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double sum = 0;
        for (std::size_t i = 0; i < d.x.size(); ++i) {
            const double z = net.forward(tensor<float, 2>{d.x[i][0], d.x[i][1]})[0], y = d.y[i];
            sum += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));  // PyTorch's stable BCE on logits
        }
        losses.push_back(static_cast<float>(sum / static_cast<double>(d.x.size())));
    }

    double accuracy(const dataset& d) const {
        std::size_t right = 0;
        for (std::size_t i = 0; i < d.x.size(); ++i) {
            const float logit = net.forward(tensor<float, 2>{d.x[i][0], d.x[i][1]})[0];
            right += (logit > 0) == (d.y[i] > 0.5f);
        }
        return static_cast<double>(right) / static_cast<double>(d.x.size());
    }

    // The L2 norm of the gradient of each dense weight, on one batch, in layer order.
    std::vector<double> gradient_norms(const dataset& d) {
        Net probe = net;
        typename Net::gradients g{};
        tensor<float, batch, 2> xb;
        tensor<float, batch, 1> yb;
        for (std::size_t s = 0; s < batch; ++s) xb(s, 0) = d.x[s][0], xb(s, 1) = d.x[s][1], yb(s, 0) = d.y[s];
        ctnn::rng masks{1};
        ctnn::backprop(probe, ctnn::loss::bce_with_logits{}, xb, yb, g, masks);
        std::vector<double> norms;
        g.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
            if (t.name != "weight" || t.rank != 2) return;
            double s = 0;
            for (std::size_t k = 0; k < t.size(); ++k) s += double(t.flat(k)) * double(t.flat(k));
            norms.push_back(std::sqrt(s));
        });
        return norms;
    }
};

}  // namespace

template <auto A>
void compare(const char* activation, const dataset& train, const dataset& test) {
    using N = nets<A>;
    run<typename N::plain> a{7};
    run<typename N::norm> b{7};
    run<typename N::res> c{7};
    run<typename N::res_norm> d{7};
    std::printf("== %s ==\nParameters: plain %zu, batch-normalized %zu, residual %zu, residual + batch norm %zu.\n\n",
                activation, N::plain::parameter_count, N::norm::parameter_count, N::res::parameter_count,
                N::res_norm::parameter_count);

    std::printf("Gradient norm of each dense weight at initialization (first layer first):\n");
    auto show = [&](const char* name, const std::vector<double>& norms) {
        std::printf("  %-10s", name);
        for (double v : norms) std::printf(" %.1e", v);
        std::printf("   first/last %.2g\n", norms.front() / norms.back());
    };
    show("plain", a.gradient_norms(train));
    show("norm", b.gradient_norms(train));
    show("residual", c.gradient_norms(train));
    show("res+norm", d.gradient_norms(train));

    std::vector<std::size_t> order(train.x.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    ctnn::rng shuffle{11};
    std::printf("\nLoss on the training set after each epoch (binary cross-entropy, inference mode; bars: 0.7 = full),\n"
                "SGD lr 0.05 momentum 0.9, gradient norm clipped at 5, batches of %zu:\n",
                batch);
    std::printf("  epoch      plain       norm   residual   res+norm\n");
    for (std::size_t e = 1; e <= epochs; ++e) {
        for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[shuffle.next() % (i + 1)]);
        a.epoch(train, order);
        b.epoch(train, order);
        c.epoch(train, order);
        d.epoch(train, order);
        if (e == 1 || e % 5 == 0) {
            const float l[4] = {a.losses.back(), b.losses.back(), c.losses.back(), d.losses.back()};
            std::printf("  %5zu   %8.4f   %8.4f   %8.4f   %8.4f   ", e, l[0], l[1], l[2], l[3]);
            for (float v : l) {
                const int n = static_cast<int>(std::lround(std::clamp(v / 0.7f, 0.0f, 1.0f) * 10));
                std::printf("|%-10.*s", n, "##########");
            }
            std::printf("|\n");
        }
    }
    std::printf("\nTest accuracy: plain %.1f %%, norm %.1f %%, residual %.1f %%, res+norm %.1f %%\n",
                100 * a.accuracy(test), 100 * b.accuracy(test), 100 * c.accuracy(test), 100 * d.accuracy(test));
    std::printf("Training time: plain %.2f s, norm %.2f s, residual %.2f s, res+norm %.2f s\n\n", a.seconds,
                b.seconds, c.seconds, d.seconds);
}

int main() {
    const dataset train = spirals(1), test = spirals(2);
    std::printf("Two spirals, %zu training and %zu test points; 8 hidden layers of 32 units in each net.\n\n",
                train.x.size(), test.x.size());
    compare<ctnn::tanh>("tanh", train, test);
    compare<ctnn::sigmoid>("sigmoid", train, test);
}
