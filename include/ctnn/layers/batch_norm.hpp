#pragma once
// batch_norm: PyTorch's nn.BatchNorm1d(features) over the features of a [batch, features] input,
// with its defaults: momentum 0.1, eps 1e-5, affine weight and bias, running statistics tracked.
// batch_norm_with<Momentum, Eps> sets the two constants.
//
// Training (backprop, trainer::step), over the B samples of the batch, per feature j:
//   mean_j = (1/B) sum x_j      var_j = (1/B) sum (x_j - mean_j)^2            (biased)
//   y_j = (x_j - mean_j) / sqrt(var_j + eps) * weight_j + bias_j
//   running_mean_j = (1 - momentum) running_mean_j + momentum mean_j
//   running_var_j  = (1 - momentum) running_var_j + momentum var_j B / (B - 1)  (unbiased)
//   num_batches_tracked += 1
// Inference (net.forward): y_j = (x_j - running_mean_j) / sqrt(running_var_j + eps) * weight_j + bias_j.
// A batch of one has no statistics: training on one sample does not compile (min_training_batch).
// Sums run in double, as PyTorch's CPU kernels accumulate.
//
// Names (state_dict order): parameters "weight" [N] (1 after any ctnn::init scheme, 0 in Net{}),
// "bias" [N]; buffers "running_mean" [N] (0), "running_var" [N] (1), "num_batches_tracked"
// (an int64 scalar, 0).
#include <ctnn/layers/affine.hpp>
#include <ctnn/layers/layer.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ctnn {

namespace detail {

template <class T, std::size_t N, std::size_t Lanes, double Momentum, double Eps>
struct batch_norm_layer : per_feature_affine<T, N, padded<T, Lanes>(N)> {
    using value_type = T;
    static constexpr std::size_t in = N;
    static constexpr std::size_t out = N;
    static constexpr std::size_t row = padded<T, Lanes>(N);
    static constexpr std::size_t param_align = simd::width_for<T>(N, Lanes);
    static constexpr std::size_t counter_size = sizeof(std::int64_t) / sizeof(T);
    static constexpr std::size_t buffer_size = 2 * row + counter_size;  // running_mean, running_var, count
    static constexpr std::size_t buffer_align = param_align;
    static constexpr std::size_t flops = 2 * N;
    static constexpr bool has_forward_train = true;
    static constexpr bool couples_samples = true;
    static constexpr std::size_t min_training_batch = 2;
    template <std::size_t B>
    static constexpr std::size_t cache_size = 2 * row;  // the batch's mean and 1 / sqrt(var + eps)

    // ---- inference: y = x alpha + beta, alpha = weight / sqrt(running_var + eps), as PyTorch ----
    static void affine_from_running(const T* p, const T* b, T* alpha, T* beta) noexcept {
        for (std::size_t j = 0; j < N; ++j) {
            const T invstd = T(1) / std::sqrt(b[row + j] + static_cast<T>(Eps));
            alpha[j] = invstd * p[j];
            beta[j] = p[row + j] - b[j] * alpha[j];
        }
    }
    static void forward(const T* p, const T* b, const T* x, T* y) noexcept {
        forward_batch<1, row, row>(p, b, x, y);
    }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static void forward_batch(const T* p, const T* b, const T* x, T* y) noexcept {
        alignas(64) T alpha[row], beta[row];
        affine_from_running(p, b, alpha, beta);
        for (std::size_t s = 0; s < B; ++s) {
            for (std::size_t j = 0; j < N; ++j) y[s * YS + j] = x[s * XS + j] * alpha[j] + beta[j];
            for (std::size_t j = N; j < row; ++j) y[s * YS + j] = T(0);
        }
    }

    // ---- training: batch statistics, running statistics updated ----------------------------
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static void forward_train(const T* p, T* b, const T* x, T* y, T* cache, const train_context&) noexcept {
        static_assert(B >= 2, "ctnn: batch_norm needs a batch of at least 2 samples in training");
        T* mean = cache;
        T* invstd = cache + row;
        for (std::size_t j = 0; j < N; ++j) {
            double sum = 0;
            for (std::size_t s = 0; s < B; ++s) sum += static_cast<double>(x[s * XS + j]);
            const double m = sum / static_cast<double>(B);
            double var_sum = 0;
            for (std::size_t s = 0; s < B; ++s) {
                const double d = static_cast<double>(x[s * XS + j]) - m;
                var_sum += d * d;
            }
            mean[j] = static_cast<T>(m);
            invstd[j] = static_cast<T>(1 / std::sqrt(var_sum / static_cast<double>(B) + Eps));
            b[j] = static_cast<T>(Momentum * m + (1 - Momentum) * static_cast<double>(b[j]));
            b[row + j] = static_cast<T>(Momentum * var_sum / static_cast<double>(B - 1) +
                                        (1 - Momentum) * static_cast<double>(b[row + j]));
        }
        for (std::size_t j = N; j < row; ++j) mean[j] = invstd[j] = T(0);
        std::int64_t tracked;
        std::memcpy(&tracked, b + 2 * row, sizeof tracked);
        ++tracked;
        std::memcpy(b + 2 * row, &tracked, sizeof tracked);
        for (std::size_t j = 0; j < N; ++j) {
            const T alpha = invstd[j] * p[j], beta = p[row + j] - mean[j] * alpha;
            for (std::size_t s = 0; s < B; ++s) y[s * YS + j] = x[s * XS + j] * alpha + beta;
        }
        for (std::size_t s = 0; s < B; ++s)
            for (std::size_t j = N; j < row; ++j) y[s * YS + j] = T(0);
    }

    // PyTorch's batch_norm backward in training mode:
    //   dweight = sum dy (x - mean) invstd     dbias = sum dy
    //   dx = (dy - mean(dy) - (x - mean) invstd^2 mean(dy (x - mean))) invstd weight
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static void backward(const T* p, const T*, const T* x, const T*, const T* dy, T* dx, T* gp,
                         const T* cache) noexcept {
        const T* mean = cache;
        const T* invstd = cache + row;
        for (std::size_t j = 0; j < N; ++j) {
            double sum = 0, dotp = 0;
            for (std::size_t s = 0; s < B; ++s) {
                const double d = static_cast<double>(dy[s * YS + j]);
                sum += d;
                dotp += (static_cast<double>(x[s * XS + j]) - static_cast<double>(mean[j])) * d;
            }
            gp[j] += static_cast<T>(dotp * static_cast<double>(invstd[j]));
            gp[row + j] += static_cast<T>(sum);
            if constexpr (NeedDx) {
                const T k = static_cast<T>(dotp * static_cast<double>(invstd[j]) * static_cast<double>(invstd[j]) /
                                           static_cast<double>(B));
                const T grad_mean = static_cast<T>(sum / static_cast<double>(B));
                const T w = invstd[j] * p[j];
                for (std::size_t s = 0; s < B; ++s)
                    dx[s * DXS + j] = (dy[s * YS + j] - grad_mean - (x[s * XS + j] - mean[j]) * k) * w;
            }
        }
        if constexpr (NeedDx)
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t j = N; j < DXS; ++j) dx[s * DXS + j] = T(0);
    }

    // ---- parameters, buffers, initialization, views -------------------------------------------
    template <class P, class F>
    static constexpr void for_each_buffer(P* b, F&& f) {
        f(param_tensor<P>{"running_mean", 1, {N, 1}, b, 1, 0, tensor_kind::buffer});
        f(param_tensor<P>{"running_var", 1, {N, 1}, b + row, 1, 0, tensor_kind::buffer});
        f(param_tensor<P>{"num_batches_tracked", 0, {1, 1}, b + 2 * row, 0, 0, tensor_kind::counter});
    }
    static constexpr void reset_buffers(T* b) noexcept {
        for (std::size_t j = 0; j < buffer_size; ++j) b[j] = T(0);
        for (std::size_t j = 0; j < N; ++j) b[row + j] = T(1);
    }

    template <class P>
    struct view {
        P* p;
        P* b;  // null in the gradients, which have no buffers
        static constexpr std::size_t num_features = N;
        constexpr P& weight(std::size_t j) const noexcept { return p[j]; }
        constexpr P& bias(std::size_t j) const noexcept { return p[row + j]; }
        constexpr P& running_mean(std::size_t j) const noexcept { return b[j]; }
        constexpr P& running_var(std::size_t j) const noexcept { return b[row + j]; }
        std::int64_t num_batches_tracked() const noexcept {
            std::int64_t v;
            std::memcpy(&v, b + 2 * row, sizeof v);
            return v;
        }
    };
};

}  // namespace detail

template <double Momentum = 0.1, double Eps = 1e-5>
struct batch_norm_t {
    static_assert(Momentum >= 0 && Momentum <= 1, "ctnn: batch_norm_with<Momentum, Eps>: Momentum must be in [0, 1]");
    static_assert(Eps > 0, "ctnn: batch_norm_with<Momentum, Eps>: Eps must be > 0");
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::batch_norm_layer<T, In, Lanes, Momentum, Eps>;
};
inline constexpr batch_norm_t<> batch_norm{};
template <double Momentum, double Eps = 1e-5>
inline constexpr batch_norm_t<Momentum, Eps> batch_norm_with{};

}  // namespace ctnn
