#pragma once
// cross_entropy: PyTorch's nn.CrossEntropyLoss() on logits x [B, C] with one-hot or probability
// targets t [B, C] (each row summing to 1 for a distribution):
//   per sample  sum_c t_c (logsumexp(x) - x_c),  mean over the B samples;
//   d/dx = (softmax(x) sum_c t_c - t) / B.
// logsumexp subtracts the row's maximum, so any finite logits give a finite loss.
#include <ctnn/core/math.hpp>
#include <ctnn/loss/loss.hpp>

#include <limits>

namespace ctnn::loss {

struct cross_entropy {
    template <class T, std::size_t B, std::size_t C>
    static T evaluate(const T* x, std::size_t xs, const T* t, T* dx, std::size_t gs) noexcept {
        using one = simd::vec<T, 1>;
        T total = 0;
        for (std::size_t s = 0; s < B; ++s) {
            const T* xr = x + s * xs;
            const T* tr = t + s * C;
            T* gr = dx + s * gs;
            T m = -std::numeric_limits<T>::infinity();
            for (std::size_t c = 0; c < C; ++c) m = xr[c] > m ? xr[c] : m;
            T sum = 0, tsum = 0;
            for (std::size_t c = 0; c < C; ++c) {
                gr[c] = math::exp(one{xr[c] - m}).v;  // e^(x - max), softmax up to 1 / sum
                sum += gr[c];
                tsum += tr[c];
            }
            const T lse = m + math::log(one{sum}).v;
            const T inv = T(1) / sum;
            for (std::size_t c = 0; c < C; ++c) {
                total += tr[c] * (lse - xr[c]);
                gr[c] = (gr[c] * inv * tsum - tr[c]) / static_cast<T>(B);
            }
            for (std::size_t c = C; c < gs; ++c) gr[c] = T(0);
        }
        return total / static_cast<T>(B);
    }
};

}  // namespace ctnn::loss
