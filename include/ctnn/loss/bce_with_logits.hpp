#pragma once
// bce_with_logits: PyTorch's nn.BCEWithLogitsLoss() on logits x, in the stable fused form:
//   (1 - t) x + log(1 + e^-x) = (1 - t) x + max(-x, 0) + log1p(e^-|x|);   d/dx = (sigmoid(x) - t) / n.
// Finite for any finite x (no exp overflow), unlike sigmoid followed by bce.
#include <ctnn/core/math.hpp>
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct bce_with_logits : elementwise_loss<bce_with_logits> {
    template <class V>
    static V value(V x, V t) noexcept {
        using T = typename V::value_type;
        return (V(T(1)) - t) * x + max(-x, V(T(0))) + math::log1p(math::exp(-abs(x)));
    }
    template <class V>
    static V gradient(V x, V t) noexcept { return math::sigmoid(x) - t; }
};

}  // namespace ctnn::loss
