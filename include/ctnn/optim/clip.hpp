#pragma once
// Gradient clipping, PyTorch's torch.nn.utils formulas, over a whole gradient set (Net::gradients):
//   clip_grad_norm(g, max_norm)   total = ||g||_2 over every parameter; g *= min(1, max_norm / (total + 1e-6));
//                                 returns total (the norm before clipping)
//   clip_grad_value(g, clip)      every element clamped to [-clip, clip]
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace ctnn {

template <class Gradients>
typename Gradients::value_type clip_grad_norm(Gradients& g, double max_norm) noexcept {
    using T = typename Gradients::value_type;
    auto block = g.parameter_block();
    double sum = 0;  // padding is zero and adds nothing
    for (T v : block) sum += static_cast<double>(v) * static_cast<double>(v);
    const double total = std::sqrt(sum);
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1)
        for (T& v : block) v = static_cast<T>(v * static_cast<T>(coef));
    return static_cast<T>(total);
}

template <class Gradients>
void clip_grad_value(Gradients& g, double clip) noexcept {
    using T = typename Gradients::value_type;
    const T c = static_cast<T>(clip);
    for (T& v : g.parameter_block()) v = std::clamp(v, -c, c);
}

}  // namespace ctnn
