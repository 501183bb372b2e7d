#pragma once
// What a loss is to ctnn, and the driver shared by the elementwise losses.
//
// A loss L is an empty aggregate (its hyper-parameters are template parameters, like
// huber<Delta>) with
//   template <class T, std::size_t B, std::size_t N>
//   static T evaluate(const T* y, std::size_t ys, const T* t, T* dy, std::size_t gs) noexcept;
// which returns the loss of B samples of N outputs (rows of y have stride ys; the target t is the
// user's tensor<T, B, N>, rows of stride N) reduced by PyTorch's default 'mean', and writes its
// gradient dL/dy into dy (rows of stride gs >= N; the padding of each row is set to zero). The
// gradient includes the 1/mean factor, so a batch's parameter gradients are mean-reduced as in
// PyTorch.
//
// Elementwise losses (mse, l1, huber, smooth_l1, bce, bce_with_logits) define, per element,
//   template <class V> static V value(V y, V t);      the unreduced loss
//   template <class V> static V gradient(V y, V t);   its derivative in y
// and derive from elementwise_loss<Self>, which averages over all B * N elements.
#include <ctnn/core/simd.hpp>

#include <cstddef>

namespace ctnn::loss {

template <class L>
concept loss_function = requires(const float* y, const float* t, float* dy) {
    { L::template evaluate<float, 1, 1>(y, 1, t, dy, 1) };
};

template <class Self>
struct elementwise_loss {
    template <class T, std::size_t B, std::size_t N>
    static T evaluate(const T* y, std::size_t ys, const T* t, T* dy, std::size_t gs) noexcept {
        constexpr std::size_t L = simd::width_for<T>(N);
        using vec = simd::vec<T, L>;
        using one = simd::vec<T, 1>;
        const T scale = T(1) / static_cast<T>(B * N);
        vec sum(T(0));
        one tail(T(0));
        for (std::size_t s = 0; s < B; ++s) {
            const T* yr = y + s * ys;
            const T* tr = t + s * N;
            T* gr = dy + s * gs;
            std::size_t k = 0;
            for (; k + L <= N; k += L) {
                const vec yv = vec::load(yr + k), tv = vec::load(tr + k);
                sum += Self::value(yv, tv);
                (Self::gradient(yv, tv) * vec(scale)).store(gr + k);
            }
            for (; k < N; ++k) {
                const one yv{yr[k]}, tv{tr[k]};
                tail += Self::value(yv, tv);
                gr[k] = (Self::gradient(yv, tv) * one(scale)).v;
            }
            for (; k < gs; ++k) gr[k] = T(0);
        }
        return (simd::reduce_add(sum) + tail.v) * scale;
    }
};

}  // namespace ctnn::loss
