#pragma once
// Parameter initialization, seeded and reproducible: the same seed gives the same parameters on
// every run, compiler and platform (ctnn::rng; values are drawn in double, then rounded to T, so a
// float and a double network initialized with one seed agree up to rounding).
//
// Each scheme says how to draw a weight and a bias given the layer's fans; each layer applies it
// to its own tensors in PyTorch's order (a dense layer draws its weight [out][in], then its bias).
//   xavier_uniform(net, seed, gain = 1)  W ~ U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)); b = 0
//   xavier_normal (net, seed, gain = 1)  W ~ N(0, gain^2 2 / (fan_in + fan_out));             b = 0
//   he_uniform    (net, seed)            W ~ U(-a, a), a = sqrt(6 / fan_in)  (kaiming_uniform_, relu); b = 0
//   he_normal     (net, seed)            W ~ N(0, 2 / fan_in)                (kaiming_normal_, relu);  b = 0
//   lecun_normal  (net, seed)            W ~ N(0, 1 / fan_in) (LeCun 1998, not truncated);       b = 0
//   torch_default (net, seed)            nn.Linear's reset_parameters: W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// The distributions are PyTorch's; the random stream is ctnn's own, so the values differ from a
// torch.manual_seed run (load PyTorch's weights with load_safetensors to reproduce those).
#include <ctnn/core/math.hpp>
#include <ctnn/core/random.hpp>
#include <ctnn/core/simd.hpp>

#include <cstddef>
#include <cstdint>

namespace ctnn::init {

namespace detail {

inline constexpr double sqrt_of(double x) noexcept { return simd::sqrt(simd::vec<double, 1>{x}).v; }

struct uniform_scheme {
    double (*bound)(std::size_t fan_in, std::size_t fan_out, double gain);
    double gain;
    bool uniform_bias;  // torch_default also draws the bias
    template <class T>
    constexpr T weight(rng& r, std::size_t fan_in, std::size_t fan_out) const noexcept {
        const double a = bound(fan_in, fan_out, gain);
        return static_cast<T>(r.uniform<double>(-a, a));
    }
    template <class T>
    constexpr T bias(rng& r, std::size_t fan_in, std::size_t fan_out) const noexcept {
        if (!uniform_bias) return T(0);
        const double a = bound(fan_in, fan_out, gain);
        return static_cast<T>(r.uniform<double>(-a, a));
    }
};

struct normal_scheme {
    double (*stddev)(std::size_t fan_in, std::size_t fan_out, double gain);
    double gain;
    template <class T>
    constexpr T weight(rng& r, std::size_t fan_in, std::size_t fan_out) const noexcept {
        return static_cast<T>(stddev(fan_in, fan_out, gain) * r.normal<double>());
    }
    template <class T>
    constexpr T bias(rng&, std::size_t, std::size_t) const noexcept { return T(0); }
};

template <class Net, class Scheme>
constexpr void apply(Net& net, const Scheme& scheme, std::uint64_t seed) {
    rng r{seed};
    Net::sequence_type::initialize(net.parameter_block().data(), scheme, r);
    net.reset_buffers();  // a freshly initialized network, as PyTorch's reset_parameters
}

}  // namespace detail

template <class Net>
constexpr void xavier_uniform(Net& net, std::uint64_t seed, double gain = 1.0) {
    detail::apply(net, detail::uniform_scheme{[](std::size_t i, std::size_t o, double g) {
                      return g * detail::sqrt_of(6.0 / static_cast<double>(i + o));
                  }, gain, false}, seed);
}
template <class Net>
constexpr void xavier_normal(Net& net, std::uint64_t seed, double gain = 1.0) {
    detail::apply(net, detail::normal_scheme{[](std::size_t i, std::size_t o, double g) {
                      return g * detail::sqrt_of(2.0 / static_cast<double>(i + o));
                  }, gain}, seed);
}
template <class Net>
constexpr void he_uniform(Net& net, std::uint64_t seed) {
    detail::apply(net, detail::uniform_scheme{[](std::size_t i, std::size_t, double) {
                      return detail::sqrt_of(6.0 / static_cast<double>(i));
                  }, 1.0, false}, seed);
}
template <class Net>
constexpr void he_normal(Net& net, std::uint64_t seed) {
    detail::apply(net, detail::normal_scheme{[](std::size_t i, std::size_t, double) {
                      return detail::sqrt_of(2.0 / static_cast<double>(i));
                  }, 1.0}, seed);
}
template <class Net>
constexpr void lecun_normal(Net& net, std::uint64_t seed) {
    detail::apply(net, detail::normal_scheme{[](std::size_t i, std::size_t, double) {
                      return detail::sqrt_of(1.0 / static_cast<double>(i));
                  }, 1.0}, seed);
}
template <class Net>
constexpr void torch_default(Net& net, std::uint64_t seed) {
    detail::apply(net, detail::uniform_scheme{[](std::size_t i, std::size_t, double) {
                      return 1.0 / detail::sqrt_of(static_cast<double>(i));
                  }, 1.0, true}, seed);
}

}  // namespace ctnn::init
