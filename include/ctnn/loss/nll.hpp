#pragma once
// nll: PyTorch's nn.NLLLoss() on log-probabilities x [B, C] (for instance the output of a
// log_softmax), with one-hot (or probability) targets t [B, C]:
//   per sample  -sum_c t_c x_c,  mean over the B samples;  d/dx = -t / B.
// (PyTorch takes class indices; a one-hot row selects the same term.)
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct nll {
    template <class T, std::size_t B, std::size_t C>
    static T evaluate(const T* x, std::size_t xs, const T* t, T* dx, std::size_t gs) noexcept {
        T total = 0;
        for (std::size_t s = 0; s < B; ++s) {
            for (std::size_t c = 0; c < C; ++c) {
                total -= t[s * C + c] * x[s * xs + c];
                dx[s * gs + c] = -t[s * C + c] / static_cast<T>(B);
            }
            for (std::size_t c = C; c < gs; ++c) dx[s * gs + c] = T(0);
        }
        return total / static_cast<T>(B);
    }
};

}  // namespace ctnn::loss
