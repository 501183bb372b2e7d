#pragma once
// Elementwise activations, with PyTorch's formulas (torch.nn, torch 1.13):
//   identity    y = x
//   sigmoid     y = 1 / (1 + e^-x)
//   tanh        y = tanh x
//   relu        y = max(0, x)                      (NaN propagates)
//   leaky_relu  y = x > 0 ? x : Slope * x          leaky_relu<Slope = 0.01>
//   elu         y = x > 0 ? x : Alpha * (e^x - 1)  elu<Alpha = 1.0>, expm1 for accuracy near 0
//   gelu        y = x/2 * (1 + erf(x / sqrt 2))    exact, GELU()
//   gelu_tanh   y = x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))    GELU(approximate='tanh')
//   silu        y = x * sigmoid(x)
//   softplus    y = Beta x > Threshold ? x : log(1 + e^(Beta x)) / Beta   softplus<Beta = 1, Threshold = 20>
// Each is finite wherever PyTorch's is, for inputs up to +-1e30. No parameters; each is a layer of
// its own (numbered like an nn.Sequential entry) that fuses into a preceding dense kernel.
// Backward: derivative(x, y) is dy/dx given the input x and the output y, with PyTorch's backward
// formulas (relu's derivative at 0 is 0; elu's below 0 is Alpha e^x; gelu's is Phi(x) + x phi(x)).
// Forward FLOPs: one per element, whatever the function costs (the convention of the benchmarks).
#include <ctnn/core/math.hpp>
#include <ctnn/layers/layer.hpp>

#include <cstddef>

namespace ctnn {

namespace detail {

// The layer an elementwise activation Fn binds to: y = Fn::apply(x), register by register.
template <class Fn, class T, std::size_t In, std::size_t Lanes>
struct elementwise_layer {
    using value_type = T;
    using function = Fn;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = In;
    static constexpr bool elementwise = true;
    static constexpr std::size_t flops = In;
    static constexpr std::size_t lanes = simd::width_for<T>(In, Lanes);
    static constexpr std::size_t width = padded<T, Lanes>(In);

    template <class V>
    static constexpr V apply(V v) noexcept { return Fn::apply(v); }
    // Its derivative reads only its output (the training forward may then skip storing its input).
    static constexpr bool derivative_from_output = requires { requires Fn::derivative_from_output; };
    // Its output is often exactly zero (ReLU: about half of the units): the layer it feeds may skip
    // those inputs (see dense's skips_zero_inputs).
    static constexpr bool sparse_output = requires { requires Fn::sparse_output; };

    static constexpr void forward(const T*, const T*, const T* x, T* y) noexcept {
        using vec = simd::vec<T, lanes>;
        for (std::size_t k = 0; k < width; k += lanes) apply(vec::load(x + k)).store(y + k);
    }

    // dx = dy * f'(x), over B rows; x, y and dy rows have stride S, dx rows stride DXS.
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static constexpr void backward(const T*, const T*, const T* x, const T* y, const T* dy, T* dx, T*) noexcept {
        static_assert(XS >= width && YS >= width && DXS >= width);
        using vec = simd::vec<T, lanes>;
        if constexpr (NeedDx)
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t k = 0; k < width; k += lanes)
                    (vec::load(dy + s * YS + k) * Fn::derivative(vec::load(x + s * XS + k), vec::load(y + s * YS + k)))
                        .store(dx + s * DXS + k);
    }
    // [In][BP] feature by feature (samples in the lanes): one flat array.
    static constexpr bool has_forward_lanes = true;
    template <std::size_t BP>
    static void forward_lanes(const T*, const T*, const T* x, T* y) noexcept {
        using vec = simd::vec<T, simd::native_width<T>>;
        for (std::size_t k = 0; k < In * BP; k += vec::size) apply(vec::load_aligned(x + k)).store_aligned(y + k);
    }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_batch(const T* p, const T* b, const T* x, T* y) noexcept {
        static_assert(XS >= width && YS >= width);
        for (std::size_t s = 0; s < B; ++s) forward(p, b, x + s * XS, y + s * YS);
    }
    template <class P>
    struct view {  // no parameters
        P* p;
    };
};

template <class Fn>
struct activation_spec {
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = elementwise_layer<Fn, T, In, Lanes>;
};

template <class V>
using scalar_of = typename V::value_type;

}  // namespace detail

struct identity_t : detail::activation_spec<identity_t> {
    static constexpr bool derivative_from_output = true;
    template <class V>
    static constexpr V apply(V x) noexcept { return x; }
    template <class V>
    static constexpr V derivative(V, V) noexcept { return V(typename V::value_type(1)); }
};

struct sigmoid_t : detail::activation_spec<sigmoid_t> {
    static constexpr bool derivative_from_output = true;
    template <class V>
    static constexpr V apply(V x) noexcept { return math::sigmoid(x); }
    template <class V>
    static constexpr V derivative(V, V y) noexcept { return y * (V(typename V::value_type(1)) - y); }
};

struct tanh_t : detail::activation_spec<tanh_t> {
    static constexpr bool derivative_from_output = true;
    // math::fast_tanh: within 8 ulps in float (9 without FMA) (a rational function), math::tanh in double.
    template <class V>
    static constexpr V apply(V x) noexcept { return math::fast_tanh(x); }
    template <class V>
    static constexpr V derivative(V, V y) noexcept { return V(typename V::value_type(1)) - y * y; }
};

struct relu_t : detail::activation_spec<relu_t> {
    static constexpr bool derivative_from_output = true;
    static constexpr bool sparse_output = true;
    template <class V>
    static constexpr V apply(V x) noexcept { return max(x, V(0)); }
    template <class V>
    static constexpr V derivative(V, V y) noexcept {
        using T = typename V::value_type;
        return select(y > V(T(0)), V(T(1)), V(T(0)));
    }
};

template <double Slope>
struct leaky_relu_t : detail::activation_spec<leaky_relu_t<Slope>> {
    template <class V>
    static constexpr V apply(V x) noexcept {
        return select(x > V(0), x, x * V(static_cast<detail::scalar_of<V>>(Slope)));
    }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = typename V::value_type;
        return select(x > V(T(0)), V(T(1)), V(static_cast<T>(Slope)));
    }
};

template <double Alpha>
struct elu_t : detail::activation_spec<elu_t<Alpha>> {
    template <class V>
    static constexpr V apply(V x) noexcept {
        return select(x > V(0), x, V(static_cast<detail::scalar_of<V>>(Alpha)) * math::expm1(x));
    }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = typename V::value_type;
        return select(x > V(T(0)), V(T(1)), V(static_cast<T>(Alpha)) * math::exp(x));
    }
};

struct gelu_t : detail::activation_spec<gelu_t> {
    template <class V>
    static constexpr V apply(V x) noexcept {
        using T = detail::scalar_of<V>;
        constexpr T sqrt1_2 = T(0.70710678118654752440084436210484903928);
        return x * V(T(0.5)) * (V(T(1)) + math::erf(x * V(sqrt1_2)));
    }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = detail::scalar_of<V>;
        constexpr T sqrt1_2 = T(0.70710678118654752440084436210484903928);
        constexpr T inv_sqrt_2pi = T(0.39894228040143267793994605993438186848);
        const V cdf = V(T(0.5)) * (V(T(1)) + math::erf(x * V(sqrt1_2)));
        const V pdf = math::exp(V(T(-0.5)) * x * x) * V(inv_sqrt_2pi);
        return fma(x, pdf, cdf);
    }
};

struct gelu_tanh_t : detail::activation_spec<gelu_tanh_t> {
    template <class V>
    static constexpr V apply(V x) noexcept {
        using T = detail::scalar_of<V>;
        constexpr T beta = T(0.79788456080286535587989211986876373695);  // sqrt(2 / pi)
        constexpr T kappa = T(0.044715);
        const V inner = V(beta) * fma(V(kappa) * x * x, x, x);
        return V(T(0.5)) * x * (V(T(1)) + math::tanh(inner));
    }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = detail::scalar_of<V>;
        constexpr T beta = T(0.79788456080286535587989211986876373695);
        constexpr T kappa = T(0.044715);
        const V x2 = x * x;
        const V th = math::tanh(V(beta) * fma(V(kappa) * x2, x, x));
        const V left = V(T(0.5)) * x, right = V(T(1)) + th;
        const V inner_derivative = V(beta) * fma(V(T(3) * kappa), x2, V(T(1)));
        return fma(left * (V(T(1)) - th * th), inner_derivative, V(T(0.5)) * right);
    }
};

struct silu_t : detail::activation_spec<silu_t> {
    template <class V>
    static constexpr V apply(V x) noexcept { return x * math::sigmoid(x); }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = detail::scalar_of<V>;
        const V s = math::sigmoid(x);
        return s * fma(x, V(T(1)) - s, V(T(1)));
    }
};

template <double Beta, double Threshold>
struct softplus_t : detail::activation_spec<softplus_t<Beta, Threshold>> {
    static_assert(Beta > 0, "ctnn: softplus<Beta, Threshold> needs Beta > 0");
    template <class V>
    static constexpr V apply(V x) noexcept {
        using T = detail::scalar_of<V>;
        const V bx = x * V(static_cast<T>(Beta));
        const V soft = math::softplus_core(bx) / V(static_cast<T>(Beta));
        return select(bx > V(static_cast<T>(Threshold)), x, soft);
    }
    template <class V>
    static constexpr V derivative(V x, V) noexcept {
        using T = detail::scalar_of<V>;
        const V bx = x * V(static_cast<T>(Beta));
        return select(bx > V(static_cast<T>(Threshold)), V(T(1)), math::sigmoid(bx));
    }
};

inline constexpr identity_t identity{};
inline constexpr sigmoid_t sigmoid{};
inline constexpr tanh_t tanh{};
inline constexpr relu_t relu{};
template <double Slope = 0.01>
inline constexpr leaky_relu_t<Slope> leaky_relu{};
template <double Alpha = 1.0>
inline constexpr elu_t<Alpha> elu{};
inline constexpr gelu_t gelu{};
inline constexpr gelu_tanh_t gelu_tanh{};
inline constexpr silu_t silu{};
template <double Beta = 1.0, double Threshold = 20.0>
inline constexpr softplus_t<Beta, Threshold> softplus{};

}  // namespace ctnn
