// Initializers: seeded and reproducible, PyTorch's distributions (bounds and moments), the random
// generator underneath.
#include <ctnn/ctnn.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace {

using namespace ctnn;

template <class Net>
std::vector<double> weights_of(const Net& net, std::size_t layer) {
    std::vector<double> w;
    net.for_each_parameter([&](const layer_path& path, const auto& t) {
        if (path.index[0] == layer && t.name == "weight")
            for (std::size_t i = 0; i < t.size(); ++i) w.push_back(t.flat(i));
    });
    return w;
}
template <class Net>
std::vector<double> biases_of(const Net& net, std::size_t layer) {
    std::vector<double> b;
    net.for_each_parameter([&](const layer_path& path, const auto& t) {
        if (path.index[0] == layer && t.name == "bias")
            for (std::size_t i = 0; i < t.size(); ++i) b.push_back(t.flat(i));
    });
    return b;
}

struct moments {
    double mean = 0, var = 0, min = 1e300, max = -1e300;
};
moments moments_of(const std::vector<double>& v) {
    moments m;
    for (double x : v) m.mean += x, m.min = std::min(m.min, x), m.max = std::max(m.max, x);
    m.mean /= static_cast<double>(v.size());
    for (double x : v) m.var += (x - m.mean) * (x - m.mean);
    m.var /= static_cast<double>(v.size());
    return m;
}

// fan_in 200, fan_out 300: 60,000 weights, enough for moments to 2 %.
template <class T>
using big_net = network<T, input<200>, dense<300>, ctnn::relu, dense<1>>;

template <class T, class Init>
moments check_uniform(Init init, double bound, bool bias_drawn) {
    big_net<T> net{};
    init(net);
    const auto w = weights_of(net, 0);
    const moments m = moments_of(w);
    CHECK(m.min >= -bound);
    CHECK(m.max <= bound);
    CHECK(m.max > 0.99 * bound);  // the whole interval is used
    CHECK(m.min < -0.99 * bound);
    CHECK(std::abs(m.mean) < 0.02 * bound);
    CHECK(m.var == doctest::Approx(bound * bound / 3).epsilon(0.02));
    const auto b = biases_of(net, 0);
    const moments mb = moments_of(b);
    if (bias_drawn) {
        CHECK(mb.max <= bound);
        CHECK(mb.min >= -bound);
        CHECK(mb.max > 0.5 * bound);
    } else {
        CHECK(mb.max == 0.0);
        CHECK(mb.min == 0.0);
    }
    return m;
}

template <class T, class Init>
void check_normal(Init init, double stddev) {
    big_net<T> net{};
    init(net);
    const moments m = moments_of(weights_of(net, 0));
    CHECK(std::abs(m.mean) < 0.02 * stddev);
    CHECK(std::sqrt(m.var) == doctest::Approx(stddev).epsilon(0.02));
    CHECK(m.max > 3.5 * stddev);  // tails exist: a normal, not a uniform
    const moments mb = moments_of(biases_of(net, 0));
    CHECK(mb.max == 0.0);
    CHECK(mb.min == 0.0);
}

}  // namespace

TEST_CASE_TEMPLATE("initializers follow PyTorch's distributions", T, float, double) {
    const double fan_in = 200, fan_out = 300;
    check_uniform<T>([](auto& n) { init::xavier_uniform(n, 1); }, std::sqrt(6 / (fan_in + fan_out)), false);
    check_uniform<T>([](auto& n) { init::xavier_uniform(n, 1, 2.0); }, 2 * std::sqrt(6 / (fan_in + fan_out)), false);
    check_uniform<T>([](auto& n) { init::he_uniform(n, 2); }, std::sqrt(6 / fan_in), false);
    check_uniform<T>([](auto& n) { init::torch_default(n, 3); }, 1 / std::sqrt(fan_in), true);
    check_normal<T>([](auto& n) { init::xavier_normal(n, 4); }, std::sqrt(2 / (fan_in + fan_out)));
    check_normal<T>([](auto& n) { init::he_normal(n, 5); }, std::sqrt(2 / fan_in));
    check_normal<T>([](auto& n) { init::lecun_normal(n, 6); }, std::sqrt(1 / fan_in));
}

TEST_CASE_TEMPLATE("initialization is reproducible from the seed", T, float, double) {
    using Net = network<T, input<3>, dense<7>, ctnn::tanh, dense<13>, dense<1>>;
    Net a{}, b{}, c{};
    init::xavier_uniform(a, 42);
    init::xavier_uniform(b, 42);
    init::xavier_uniform(c, 43);
    CHECK(a == b);
    CHECK(!(a == c));
    // Layer 3 has fan_in 13, fan_out 1; its bound differs from layer 0's.
    for (double w : weights_of(a, 3)) CHECK(std::abs(w) <= std::sqrt(6.0 / 14.0));
    // The same seed gives the same values in float and double, up to rounding.
    network<float, input<3>, dense<7>, ctnn::tanh, dense<13>, dense<1>> f{};
    network<double, input<3>, dense<7>, ctnn::tanh, dense<13>, dense<1>> d{};
    init::torch_default(f, 9);
    init::torch_default(d, 9);
    const auto wf = weights_of(f, 2), wd = weights_of(d, 2);
    REQUIRE(wf.size() == wd.size());
    for (std::size_t i = 0; i < wf.size(); ++i) CHECK(wf[i] == static_cast<float>(wd[i]));
}

TEST_CASE("the random generator is fixed and well spread") {
    rng r{0};
    // SplitMix64's first outputs from seed 0 (a published test vector of the algorithm).
    CHECK(r.next() == 0xe220a8397b1dcdafULL);
    CHECK(r.next() == 0x6e789e6aa1b965f4ULL);
    rng u{123};
    double sum = 0, sum2 = 0, lo = 1, hi = 0;
    constexpr int n = 100000;
    for (int i = 0; i < n; ++i) {
        const double x = u.uniform<double>();
        CHECK_UNARY(x >= 0.0);
        CHECK_UNARY(x < 1.0);
        sum += x, lo = std::min(lo, x), hi = std::max(hi, x);
        const float g = u.normal<float>();
        sum2 += static_cast<double>(g) * g;
    }
    CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));
    CHECK(lo < 1e-4);
    CHECK(hi > 1 - 1e-4);
    CHECK(sum2 / n == doctest::Approx(1.0).epsilon(0.02));
}
