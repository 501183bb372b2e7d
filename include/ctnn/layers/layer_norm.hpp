#pragma once
// layer_norm: PyTorch's nn.LayerNorm(features) over the features of each sample, eps 1e-5,
// elementwise affine weight and bias. layer_norm_with<Eps> sets eps.
//   mean = (1/N) sum x_j      var = (1/N) sum (x_j - mean)^2      rstd = 1 / sqrt(var + eps)
//   y_j = (x_j - mean) rstd weight_j + bias_j
// The same in training and inference; each sample on its own (a batch of one is fine). Moments
// are computed in double. Names: "weight" [N] (1 after any ctnn::init scheme, 0 in Net{}), "bias" [N].
#include <ctnn/layers/affine.hpp>
#include <ctnn/layers/layer.hpp>

#include <cmath>
#include <cstddef>

namespace ctnn {

namespace detail {

template <class T, std::size_t N, std::size_t Lanes, double Eps>
struct layer_norm_layer : per_feature_affine<T, N, padded<T, Lanes>(N)> {
    using value_type = T;
    static constexpr std::size_t in = N;
    static constexpr std::size_t out = N;
    static constexpr std::size_t row = padded<T, Lanes>(N);
    static constexpr std::size_t param_align = simd::width_for<T>(N, Lanes);
    static constexpr std::size_t flops = 7 * N;

    struct moments {
        T mean, rstd;
    };
    static moments moments_of(const T* x) noexcept {
        double sum = 0;
        for (std::size_t j = 0; j < N; ++j) sum += static_cast<double>(x[j]);
        const double m = sum / static_cast<double>(N);
        double var = 0;
        for (std::size_t j = 0; j < N; ++j) {
            const double d = static_cast<double>(x[j]) - m;
            var += d * d;
        }
        return {static_cast<T>(m), static_cast<T>(1 / std::sqrt(var / static_cast<double>(N) + Eps))};
    }

    static void forward(const T* p, const T* b, const T* x, T* y) noexcept { forward_batch<1, row, row>(p, b, x, y); }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static void forward_batch(const T* p, const T*, const T* x, T* y) noexcept {
        for (std::size_t s = 0; s < B; ++s) {
            const T* xs = x + s * XS;
            T* ys = y + s * YS;
            const moments mo = moments_of(xs);
            const T shift = -mo.rstd * mo.mean;
            for (std::size_t j = 0; j < N; ++j) ys[j] = (xs[j] * mo.rstd + shift) * p[j] + p[row + j];
            for (std::size_t j = N; j < row; ++j) ys[j] = T(0);
        }
    }

    // PyTorch's layer_norm backward, per sample with a = rstd:
    //   ds = sum dy_j w_j x_j     db = sum dy_j w_j
    //   b = (db mean - ds) a^3 / N       c = -b mean - db a / N
    //   dx_j = a dy_j w_j + b x_j + c;  dweight_j += dy_j (x_j - mean) a;  dbias_j += dy_j
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static void backward(const T* p, const T*, const T* x, const T*, const T* dy, T* dx, T* gp) noexcept {
        for (std::size_t s = 0; s < B; ++s) {
            const T* xs = x + s * XS;
            const T* dys = dy + s * YS;
            const moments mo = moments_of(xs);
            for (std::size_t j = 0; j < N; ++j) {
                gp[j] += dys[j] * (xs[j] - mo.mean) * mo.rstd;
                gp[row + j] += dys[j];
            }
            if constexpr (NeedDx) {
                double ds = 0, db = 0;
                for (std::size_t j = 0; j < N; ++j) {
                    const double dyw = static_cast<double>(dys[j]) * static_cast<double>(p[j]);
                    ds += dyw * static_cast<double>(xs[j]);
                    db += dyw;
                }
                const double a = static_cast<double>(mo.rstd), mean = static_cast<double>(mo.mean);
                const double bb = (db * mean - ds) * a * a * a / static_cast<double>(N);
                const double c = -bb * mean - db * a / static_cast<double>(N);
                const T at = mo.rstd, bt = static_cast<T>(bb), ct = static_cast<T>(c);
                T* dxs = dx + s * DXS;
                for (std::size_t j = 0; j < N; ++j) dxs[j] = at * dys[j] * p[j] + bt * xs[j] + ct;
                for (std::size_t j = N; j < DXS; ++j) dxs[j] = T(0);
            }
        }
    }


    template <class P>
    struct view {
        P* p;
        static constexpr std::size_t normalized_shape = N;
        constexpr P& weight(std::size_t j) const noexcept { return p[j]; }
        constexpr P& bias(std::size_t j) const noexcept { return p[row + j]; }
    };
};

}  // namespace detail

template <double Eps = 1e-5>
struct layer_norm_t {
    static_assert(Eps > 0, "ctnn: layer_norm_with<Eps>: Eps must be > 0");
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::layer_norm_layer<T, In, Lanes, Eps>;
};
inline constexpr layer_norm_t<> layer_norm{};
template <double Eps>
inline constexpr layer_norm_t<Eps> layer_norm_with{};

}  // namespace ctnn
