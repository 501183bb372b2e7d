#pragma once
// mse: PyTorch's nn.MSELoss(): mean over all elements of (y - t)^2; d/dy = 2 (y - t) / n.
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct mse : elementwise_loss<mse> {
    template <class V>
    static V value(V y, V t) noexcept {
        const V d = y - t;
        return d * d;
    }
    // The gradient is gradient_factor times gradient_core (doubling is exact while 2 (y - t) is
    // finite): a one-sample step of a lone output takes y - t and folds the 2 into the last layer's
    // weights (detail::folds_loss_factor), one operation fewer on the step's chain.
    static constexpr int gradient_factor = 2;
    template <class V>
    static V gradient_core(V y, V t) noexcept {
        return y - t;
    }
    template <class V>
    static V gradient(V y, V t) noexcept {
        return gradient_core(y, t) * V(typename V::value_type(gradient_factor));
    }
};

}  // namespace ctnn::loss
