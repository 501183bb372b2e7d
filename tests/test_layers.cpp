// Layers: every activation against PyTorch (extremes included), every SIMD kernel (dense, each
// activation, softmax) against the scalar path, and dense against a long double reference.
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace {

// ctnn's activation names (tanh, erf, ...) collide with <cmath>'s in the global namespace, so
// they are brought in by name rather than with a using-directive.
using ctnn::network;
using ctnn::network_of;
using ctnn::input;
using ctnn::dense;
using ctnn::no_bias;
using ctnn::tensor;
using ctnn::layer_path;
using ctnn::identity;
using ctnn::sigmoid;
using ctnn::tanh;
using ctnn::relu;
using ctnn::leaky_relu;
using ctnn::elu;
using ctnn::gelu;
using ctnn::gelu_tanh;
using ctnn::silu;
using ctnn::softplus;
using ctnn::softmax;
using ctnn_test::close;
using ctnn_test::eps;

const ctnn_test::reference& activation_reference() {
    static const ctnn_test::reference ref{ctnn_test::reference_path("activations.txt")};
    return ref;
}

constexpr std::size_t golden_n = 96;  // length of the act.x records

// Runs an activation as a one-layer network on the golden inputs and compares with PyTorch:
// a few roundings of relative error, and an absolute floor of 2 eps |x| where PyTorch's own formula
// cancels (elu's exp(x) - 1 near 0, gelu's x (1 + erf(x / sqrt 2)) / 2 in the left tail, whose
// error is eps |x| / 2 in PyTorch as in any implementation of that formula).
template <class T, auto Act>
void check_activation(const std::string& name) {
    const auto& ref = activation_reference();
    const std::string dt = ctnn_test::dtype<T>();
    const auto x = ctnn_test::tensor_from<T, golden_n>(ref.get("act.x." + dt));
    const auto& yref = ref.get(name + ".y." + dt).values;
    network<T, input<golden_n>, Act> net{};
    const auto y = net.forward(x);
    for (std::size_t i = 0; i < golden_n; ++i) {
        CAPTURE(name);
        CAPTURE(x[i]);
        CAPTURE(y[i]);
        CAPTURE(yref[i]);
        CHECK(std::isfinite(y[i]) == std::isfinite(yref[i]));
        CHECK(close(y[i], static_cast<T>(yref[i]), 8 * eps<T>, 2 * eps<T> * std::max(T(1), std::abs(x[i]))));
    }
}


TEST_CASE_TEMPLATE("activations match PyTorch, extremes included", T, float, double) {
    check_activation<T, identity>("identity");
    check_activation<T, sigmoid>("sigmoid");
    check_activation<T, tanh>("tanh");
    check_activation<T, relu>("relu");
    check_activation<T, leaky_relu<>>("leaky_relu");
    check_activation<T, leaky_relu<0.2>>("leaky_relu_0.2");
    check_activation<T, elu<>>("elu");
    check_activation<T, elu<0.5>>("elu_0.5");
    check_activation<T, gelu>("gelu");
    check_activation<T, gelu_tanh>("gelu_tanh");
    check_activation<T, silu>("silu");
    check_activation<T, softplus<>>("softplus");
    check_activation<T, softplus<2.0, 10.0>>("softplus_2_10");
}

TEST_CASE_TEMPLATE("softmax matches PyTorch, extremes included", T, float, double) {
    const auto& ref = activation_reference();
    const std::string dt = ctnn_test::dtype<T>();
    const auto& xr = ref.get("softmax.x." + dt);
    REQUIRE(xr.shape.size() == 2);
    REQUIRE(xr.shape[1] == 7);
    constexpr std::size_t rows = 20;
    REQUIRE(xr.shape[0] == rows);
    const auto x = ctnn_test::tensor_from<T, rows, 7>(xr);
    const auto y = network<T, input<7>, softmax>{}.forward(x);
    const auto& yref = ref.get("softmax.y." + dt).values;
    for (std::size_t i = 0; i < rows * 7; ++i) {
        CAPTURE(i);
        CHECK(close(y[i], static_cast<T>(yref[i]), 8 * eps<T>, 2 * eps<T>));
    }
    const auto y1 = network<T, input<1>, softmax>{}.forward(tensor<T, 1>{T(-1e30)});
    CHECK(y1[0] == T(1));
}

TEST_CASE_TEMPLATE("activations stay finite where PyTorch does, up to +-1e30", T, float, double) {
    const T big = T(1e30);
    auto finite_at = [&]<auto Act>() {
        network<T, input<6>, Act> net{};
        const auto y = net.forward(tensor<T, 6>{-big, big, T(-1e10), T(1e10), T(-100), T(100)});
        for (std::size_t i = 0; i < 6; ++i) CHECK(std::isfinite(y[i]));
    };
    finite_at.template operator()<sigmoid>();
    finite_at.template operator()<tanh>();
    finite_at.template operator()<elu<>>();
    finite_at.template operator()<gelu>();
    finite_at.template operator()<gelu_tanh>();
    finite_at.template operator()<silu>();
    finite_at.template operator()<softplus<>>();
    finite_at.template operator()<softmax>();
}

// ---- SIMD kernels against the scalar path ----------------------------------------------------------

template <class T, std::size_t In, std::size_t Out, bool Bias>
void check_dense_kernel() {
    using simd_layer = ctnn::detail::dense_layer<T, In, Out, Bias, ctnn::simd::native_width<T>>;
    using scalar_layer = ctnn::detail::dense_layer<T, In, Out, Bias, 1>;
    static_assert(scalar_layer::lanes == 1 && scalar_layer::row == Out);
    alignas(64) T ps[simd_layer::param_size + 1]{};
    alignas(64) T p1[scalar_layer::param_size + 1]{};
    ctnn::rng r{In * 100 + Out};
    long double w[Out][In], b[Out];
    for (std::size_t o = 0; o < Out; ++o) {
        for (std::size_t i = 0; i < In; ++i) {
            const T v = r.normal<T>();
            typename simd_layer::template view<T>{ps}.weight(o, i) = v;
            typename scalar_layer::template view<T>{p1}.weight(o, i) = v;
            w[o][i] = v;
        }
        const T v = Bias ? r.normal<T>() : T(0);
        if constexpr (Bias) {
            typename simd_layer::template view<T>{ps}.bias(o) = v;
            typename scalar_layer::template view<T>{p1}.bias(o) = v;
        }
        b[o] = v;
    }
    constexpr std::size_t B = 13;
    alignas(64) T x[B * In];
    for (auto& v : x) v = r.normal<T>();
    alignas(64) T ys[B * simd_layer::row], y1[B * Out], yb[B * simd_layer::row];
    for (std::size_t s = 0; s < B; ++s) {
        simd_layer::forward(ps, nullptr, x + s * In, ys + s * simd_layer::row);
        scalar_layer::forward(p1, nullptr, x + s * In, y1 + s * Out);
    }
    simd_layer::template forward_batch<B, In, simd_layer::row>(ps, nullptr, x, yb);
    for (std::size_t s = 0; s < B; ++s)
        for (std::size_t o = 0; o < Out; ++o) {
            CAPTURE(s);
            CAPTURE(o);
            CHECK(ys[s * simd_layer::row + o] == y1[s * Out + o]);  // same FMA chain per lane
            CHECK(yb[s * simd_layer::row + o] == y1[s * Out + o]);
            long double exact = b[o];
            for (std::size_t i = 0; i < In; ++i) exact += w[o][i] * x[s * In + i];
            CHECK(close(y1[s * Out + o], static_cast<T>(exact), 4 * In * eps<T>, 4 * In * eps<T>));
        }
    // Padding lanes are zero after the kernel (the next layer may read whole registers).
    for (std::size_t o = Out; o < simd_layer::row; ++o) CHECK(ys[o] == T(0));
}

template <class T, std::size_t N, class Layer, class ScalarLayer>
void check_rowwise_kernel(T scale) {
    constexpr std::size_t W = Layer::width;
    alignas(64) T x[W]{}, ys[W], y1[N];
    ctnn::rng r{N};
    for (std::size_t i = 0; i < N; ++i) x[i] = r.normal<T>() * scale;
    Layer::forward(nullptr, nullptr, x, ys);
    ScalarLayer::forward(nullptr, nullptr, x, y1);
    for (std::size_t i = 0; i < N; ++i) {
        CAPTURE(i);
        CAPTURE(x[i]);
        if constexpr (requires { requires Layer::elementwise; })
            CHECK(((ys[i] == y1[i]) || (std::isnan(ys[i]) && std::isnan(y1[i]))));
        else
            CHECK(close(ys[i], y1[i], 4 * eps<T>, 1e-3 * eps<T>));
    }
}

template <class T, std::size_t N, auto Spec>
void check_activation_kernel() {
    using S = std::remove_cvref_t<decltype(Spec)>;
    using simd_layer = typename S::template bind<T, N, ctnn::simd::native_width<T>>;
    using scalar_layer = typename S::template bind<T, N, 1>;
    for (T scale : {T(0.1), T(3), T(40), T(1e30)}) check_rowwise_kernel<T, N, simd_layer, scalar_layer>(scale);
}

template <class T, std::size_t N>
void check_all_activation_kernels() {
    check_activation_kernel<T, N, identity>();
    check_activation_kernel<T, N, sigmoid>();
    check_activation_kernel<T, N, tanh>();
    check_activation_kernel<T, N, relu>();
    check_activation_kernel<T, N, leaky_relu<>>();
    check_activation_kernel<T, N, elu<>>();
    check_activation_kernel<T, N, gelu>();
    check_activation_kernel<T, N, gelu_tanh>();
    check_activation_kernel<T, N, silu>();
    check_activation_kernel<T, N, softplus<>>();
    check_activation_kernel<T, N, softplus<2.0, 10.0>>();
    check_activation_kernel<T, N, softmax>();
}


TEST_CASE_TEMPLATE("dense kernel: SIMD equals the scalar path and the exact sum", T, float, double) {
    check_dense_kernel<T, 1, 1, true>();
    check_dense_kernel<T, 3, 7, true>();
    check_dense_kernel<T, 7, 13, false>();
    check_dense_kernel<T, 13, 17, true>();
    check_dense_kernel<T, 17, 33, true>();
    check_dense_kernel<T, 33, 3, false>();
    check_dense_kernel<T, 8, 16, true>();
    check_dense_kernel<T, 16, 64, true>();
    check_dense_kernel<T, 64, 128, true>();
    check_dense_kernel<T, 128, 200, true>();  // more registers than one accumulator block
}

// A one-sample forward told that its input is often zero (after a ReLU) walks only the rows of the
// nonzero inputs (dense's skips_zero_inputs): the dense walk's bits, whatever the pattern of zeros,
// on both sides of the 7/8 switch back to the dense walk, with -0 skipped and NaN and inf kept.
// Which walk ran is told by a probe: an infinite weight on a zero input makes the dense walk's
// output NaN and leaves the listed walk's finite.
template <class T, std::size_t In, std::size_t Out, bool Bias>
void check_sparse_input_forward() {
    using L = ctnn::detail::dense_layer<T, In, Out, Bias, ctnn::simd::native_width<T>>;
    static_assert(L::skips_zero_inputs == (!L::dots && L::chains == 1 && L::lanes > 1 && In >= 32));
    alignas(64) static T p[L::param_size], probe[L::param_size];
    ctnn::rng r{In * 7 + Out};
    for (std::size_t o = 0; o < Out; ++o) {
        for (std::size_t i = 0; i < In; ++i) typename L::template view<T>{p}.weight(o, i) = r.normal<T>();
        if constexpr (Bias) typename L::template view<T>{p}.bias(o) = r.normal<T>();
    }
    using relu_layer = ctnn::detail::elementwise_layer<ctnn::relu_t, T, Out, ctnn::simd::native_width<T>>;
    constexpr ctnn::detail::activation_epilogue<relu_layer> relu_e{};
    // Past x[In), a value that would show if the listing read it.
    alignas(64) T x[L::in_row + ctnn::simd::native_width<T>];
    std::fill(std::begin(x), std::end(x), T(7));
    auto check = [&](const std::string& pattern) {
        CAPTURE(pattern);
        alignas(64) T dense[L::row], sparse[L::row], relu_dense[L::row], relu_sparse[L::row];
        L::forward(p, nullptr, x, dense);
        L::template forward<ctnn::detail::no_epilogue, false, true>(p, nullptr, x, sparse);
        L::forward(p, nullptr, x, relu_dense, relu_e);
        L::template forward<decltype(relu_e), false, true>(p, nullptr, x, relu_sparse, relu_e);
        CHECK(std::memcmp(dense, sparse, sizeof dense) == 0);
        CHECK(std::memcmp(relu_dense, relu_sparse, sizeof relu_dense) == 0);
        std::size_t nonzero = 0, zero_at = In;
        bool finite = true;
        for (std::size_t i = 0; i < In; ++i) {
            if (x[i] == T(0)) zero_at = std::min(zero_at, i);
            nonzero += !(x[i] == T(0));
            finite = finite && std::isfinite(x[i]);
        }
        if (zero_at < In && finite) {
            std::copy(std::begin(p), std::end(p), probe);
            typename L::template view<T>{probe}.weight(Out - 1, zero_at) = std::numeric_limits<T>::infinity();
            alignas(64) T y[L::row];
            L::template forward<ctnn::detail::no_epilogue, false, true>(probe, nullptr, x, y);
            CAPTURE(nonzero);
            CHECK(std::isnan(y[Out - 1]) == (8 * nonzero > 7 * In));  // listed up to 7/8 nonzero
        }
        return std::isnan(sparse[0]);
    };
    auto fill = [&](auto nonzero) {
        for (std::size_t i = 0; i < In; ++i) x[i] = nonzero(i) ? r.normal<T>() : T(0);
    };
    fill([](std::size_t) { return false; });
    check("all zero");
    fill([](std::size_t) { return true; });
    check("none zero");
    fill([](std::size_t i) { return i % 2 == 0; });
    check("every other");
    fill([&](std::size_t) { return r.uniform<T>(T(0), T(1)) < T(0.5); });
    check("random half");
    fill([](std::size_t i) { return i % 8 != 3; });  // exactly 7/8 nonzero when In % 8 == 0: still listed
    check("7/8");
    fill([](std::size_t i) { return i != 5; });  // above 7/8: the dense walk
    check("all but one");
    fill([](std::size_t i) { return i == In - 1; });  // the last input only (a partial register)
    check("last only");
    fill([](std::size_t i) { return i % 3 == 0; });
    x[1] = -T(0);  // -0 is zero: the probe tells that it was skipped
    check("-0");
    x[2] = std::numeric_limits<T>::infinity();
    check("inf input");
    x[4] = std::numeric_limits<T>::quiet_NaN();  // NaN is not zero: it reaches every output
    CHECK(check("NaN input"));
}

TEST_CASE_TEMPLATE("dense kernel: skipping zero inputs keeps the dense walk's bits", T, float, double) {
    check_sparse_input_forward<T, 128, 128, true>();
    check_sparse_input_forward<T, 100, 100, true>();  // a partial last register of inputs and outputs
    check_sparse_input_forward<T, 40, 96, false>();
    check_sparse_input_forward<T, 32, 400, true>();  // more output registers than one accumulator block
    using ctnn::detail::dense_layer;
    constexpr std::size_t N = ctnn::simd::native_width<T>;
#if defined(__AVX512F__)
    // The cases above do take the path on this machine (W 64-128-128-16's second layer among them),
    // the last one in two blocks of registers.
    static_assert(dense_layer<T, 128, 128, true, N>::skips_zero_inputs);
    static_assert(dense_layer<T, 100, 100, true, N>::skips_zero_inputs);
    static_assert(dense_layer<T, 40, 96, false, N>::skips_zero_inputs);
    static_assert(dense_layer<T, 32, 400, true, N>::vectors > ctnn::detail::accumulator_budget<T>);
    // M 16-64-64-4's second layer sums in two chains (four output registers of floats): no skipping.
    if constexpr (std::is_same_v<T, float>) static_assert(!dense_layer<T, 64, 64, true, N>::skips_zero_inputs);
#endif
    // Too few inputs, the dots kernel, the scalar path.
    static_assert(!dense_layer<T, 16, 128, true, N>::skips_zero_inputs);
    static_assert(!dense_layer<T, 128, 1, true, N>::skips_zero_inputs);
    static_assert(!dense_layer<T, 128, 128, true, 1>::skips_zero_inputs);
}

TEST_CASE_TEMPLATE("a one-sample forward skips the weights of a ReLU's zero outputs; a batch does not", T, float,
                   double) {
    // What the skipping changes (dense.hpp): a weight that is infinite meets a zero input. The
    // batch computes 0 inf = NaN, as PyTorch does; one sample skips the term, as the reference
    // BLAS's gemv does.
    using Net = network<T, input<4>, dense<128>, relu, dense<128>>;
    static_assert(Net::sequence_type::template sparse_input<2>() ==
                  ctnn::detail::dense_layer<T, 128, 128, true, ctnn::simd::native_width<T>>::skips_zero_inputs);
    static_assert(!Net::sequence_type::template sparse_input<0>());
    Net net{};
    ctnn::init::torch_default(net, 5);
    // Half of the hidden units (the odd ones) are always 0; the infinite weight meets unit 7.
    for (std::size_t o = 0; o < 128; ++o) net.template layer<0>().bias(o) = o % 2 ? T(-100) : T(1);
    net.template layer<2>().weight(3, 7) = std::numeric_limits<T>::infinity();
    tensor<T, 4> x{T(0.1), T(-0.2), T(0.3), T(0.05)};
    tensor<T, 1, 4> xb;
    for (std::size_t i = 0; i < 4; ++i) xb(0, i) = x[i];
    const auto y = net.forward(x);
    const auto yb = net.forward(xb);
    CHECK(std::isnan(yb(0, 3)));
    CHECK(std::isnan(y[3]) == !Net::sequence_type::template sparse_input<2>());
    for (std::size_t o = 0; o < 128; ++o)
        if (o != 3) CHECK(y[o] == yb(0, o));
}

TEST_CASE_TEMPLATE("activation and softmax kernels: SIMD equals the scalar path", T, float, double) {
    check_all_activation_kernels<T, 1>();
    check_all_activation_kernels<T, 3>();
    check_all_activation_kernels<T, 7>();
    check_all_activation_kernels<T, 13>();
    check_all_activation_kernels<T, 16>();
    check_all_activation_kernels<T, 17>();
    check_all_activation_kernels<T, 33>();
    check_all_activation_kernels<T, 64>();
}

}  // namespace
