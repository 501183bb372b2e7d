#pragma once
// l1: PyTorch's nn.L1Loss(): mean of |y - t|; d/dy = sign(y - t) / n, with sign(0) = 0 as in PyTorch.
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct l1 : elementwise_loss<l1> {
    template <class V>
    static V value(V y, V t) noexcept { return abs(y - t); }
    template <class V>
    static V gradient(V y, V t) noexcept {
        using T = typename V::value_type;
        const V d = y - t;
        return select(d > V(T(0)), V(T(1)), select(d < V(T(0)), V(T(-1)), V(T(0))));
    }
};

}  // namespace ctnn::loss
