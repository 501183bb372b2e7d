#pragma once
// smooth_l1<Beta = 1>: PyTorch's nn.SmoothL1Loss(beta): with z = |y - t|,
//   z < Beta ? z^2 / (2 Beta) : z - Beta / 2;   d/dy = z < Beta ? (y - t) / Beta : sign(y - t), over n.
// Beta = 0 is the L1 loss, as in PyTorch.
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

template <double Beta = 1.0>
struct smooth_l1 : elementwise_loss<smooth_l1<Beta>> {
    static_assert(Beta >= 0, "ctnn: smooth_l1<Beta> needs Beta >= 0");
    template <class V>
    static V value(V y, V t) noexcept {
        using T = typename V::value_type;
        const V z = abs(y - t);
        if constexpr (Beta == 0) {
            return z;
        } else {
            const V beta(static_cast<T>(Beta));
            return select(z < beta, V(T(0.5)) * z * z / beta, z - V(T(0.5)) * beta);
        }
    }
    template <class V>
    static V gradient(V y, V t) noexcept {
        using T = typename V::value_type;
        const V d = y - t, z = abs(d);
        const V sign = select(d > V(T(0)), V(T(1)), select(d < V(T(0)), V(T(-1)), V(T(0))));
        if constexpr (Beta == 0) {
            return sign;
        } else {
            const V beta(static_cast<T>(Beta));
            return select(z < beta, d / beta, sign);
        }
    }
};

}  // namespace ctnn::loss
