#pragma once
// half_mse: the textbook loss of the backpropagation literature, 1/2 (y - t)^2, averaged over all
// elements like mse (so half_mse = 0.5 * nn.MSELoss()); d/dy = (y - t) / n. Not a PyTorch module:
// it exists so the classic worked examples can be reproduced as written.
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct half_mse : elementwise_loss<half_mse> {
    template <class V>
    static V value(V y, V t) noexcept {
        const V d = y - t;
        return V(typename V::value_type(0.5)) * d * d;
    }
    template <class V>
    static V gradient(V y, V t) noexcept { return y - t; }
};

}  // namespace ctnn::loss
