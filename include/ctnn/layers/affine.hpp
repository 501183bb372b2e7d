#pragma once
// The per-feature affine parameters of the normalization layers (batch_norm, layer_norm):
// "weight" [N] then "bias" [N], each stored in Row = N padded to whole registers. PyTorch's
// initialization: weight 1, bias 0 (no random draws).
#include <ctnn/layers/layer.hpp>

#include <cstddef>

namespace ctnn::detail {

template <class T, std::size_t N, std::size_t Row>
struct per_feature_affine {
    static constexpr std::size_t param_size = 2 * Row;  // weight, bias
    static constexpr std::size_t parameter_count = 2 * N;

    template <class P, class F>
    static constexpr void for_each_tensor(P* p, F&& f) {
        f(param_tensor<P>{"weight", 1, {N, 1}, p, 1, 0});
        f(param_tensor<P>{"bias", 1, {N, 1}, p + Row, 1, 0});
    }
    template <class Scheme>
    static constexpr void initialize(T* p, const Scheme&, rng&) noexcept {
        for (std::size_t j = 0; j < N; ++j) p[j] = T(1), p[Row + j] = T(0);
    }
};

}  // namespace ctnn::detail
