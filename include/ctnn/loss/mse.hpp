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
    template <class V>
    static V gradient(V y, V t) noexcept {
        return (y - t) * V(typename V::value_type(2));
    }
};

}  // namespace ctnn::loss
