#pragma once
// bce: PyTorch's nn.BCELoss() on probabilities y in [0, 1]:
//   -(t log y + (1 - t) log(1 - y)), each log clamped at -100 as PyTorch does, so y = 0 or 1 gives
//   a finite loss; d/dy = (y - t) / max(y (1 - y), eps), over n (PyTorch's backward formula, whose
//   eps is ATen's float constant 1e-12f, also for double tensors).
// For logits, bce_with_logits is the stable choice.
#include <ctnn/core/math.hpp>
#include <ctnn/loss/loss.hpp>

namespace ctnn::loss {

struct bce : elementwise_loss<bce> {
    template <class V>
    static V value(V y, V t) noexcept {
        using T = typename V::value_type;
        const V floor(T(-100));
        const V log_y = max(math::log(y), floor), log_1my = max(math::log1p(-y), floor);
        return -(t * log_y + (V(T(1)) - t) * log_1my);
    }
    template <class V>
    static V gradient(V y, V t) noexcept {
        using T = typename V::value_type;
        return (y - t) / max((V(T(1)) - y) * y, V(static_cast<T>(1e-12f)));
    }
};

}  // namespace ctnn::loss
