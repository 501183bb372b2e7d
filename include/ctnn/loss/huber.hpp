#pragma once
// huber<Delta = 1>: PyTorch's nn.HuberLoss(delta): with z = |y - t|,
//   z <= Delta ? z^2 / 2 : Delta (z - Delta / 2);   d/dy = clamp(y - t, -Delta, Delta), over n.
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

template <double Delta = 1.0>
struct huber : elementwise_loss<huber<Delta>> {
    static_assert(Delta > 0, "ctnn: huber<Delta> needs Delta > 0");
    template <class V>
    static V value(V y, V t) noexcept {
        using T = typename V::value_type;
        const V z = abs(y - t), delta(static_cast<T>(Delta));
        return select(z < delta, V(T(0.5)) * z * z, delta * (z - V(T(0.5)) * delta));
    }
    template <class V>
    static V gradient(V y, V t) noexcept {
        using T = typename V::value_type;
        const V delta(static_cast<T>(Delta));
        return min(max(y - t, -delta), delta);
    }
};

}  // namespace ctnn::loss
