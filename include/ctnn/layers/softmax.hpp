#pragma once
// softmax: y_i = e^(x_i - max x) / sum_j e^(x_j - max x), over the features of each sample
// (PyTorch's nn.Softmax(dim=-1) on a [batch, features] tensor). Subtracting the maximum keeps it
// finite for any finite input; a row of equal values (even +-1e30) gives the uniform distribution.
// No parameters. Forward FLOPs: counted as 3 per element (subtract, exponentiate, scale).
#include <ctnn/core/math.hpp>
#include <ctnn/layers/layer.hpp>

#include <cstddef>
#include <limits>

namespace ctnn {

namespace detail {

template <class T, std::size_t In, std::size_t Lanes>
struct softmax_layer {
    using value_type = T;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = In;
    static constexpr std::size_t flops = 3 * In;
    static constexpr std::size_t lanes = simd::width_for<T>(In, Lanes);
    static constexpr std::size_t width = padded<T, Lanes>(In);
    using vec = simd::vec<T, lanes>;

    // Lanes past the last feature (padding) must not take part in the max or the sum.
    static constexpr vec valid_lanes(std::size_t k, vec v, T fill) noexcept {
        if (k + lanes <= In) return v;
        alignas(64) T idx[lanes]{};
        for (std::size_t l = 0; l < lanes; ++l) idx[l] = static_cast<T>(k + l);
        return select(vec::load_aligned(idx) < vec(static_cast<T>(In)), v, vec(fill));
    }

    static constexpr void forward(const T*, const T*, const T* x, T* y) noexcept {
        constexpr T lowest = -std::numeric_limits<T>::infinity();
        vec m(lowest);
        for (std::size_t k = 0; k < width; k += lanes) m = max(m, valid_lanes(k, vec::load(x + k), lowest));
        const vec mx(simd::reduce_max(m));
        vec sum(T(0));
        for (std::size_t k = 0; k < width; k += lanes) {
            const vec e = valid_lanes(k, math::exp(vec::load(x + k) - mx), T(0));
            e.store(y + k);
            sum += e;
        }
        const vec inv(T(1) / simd::reduce_add(sum));
        for (std::size_t k = 0; k < width; k += lanes) (vec::load(y + k) * inv).store(y + k);
    }
    // dx = y * (dy - sum_j dy_j y_j), per row (padding lanes of y are zero, so they add nothing).
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static constexpr void backward(const T*, const T*, const T*, const T* y, const T* dy, T* dx, T*) noexcept {
        static_assert(YS >= width && DXS >= width);
        if constexpr (NeedDx)
            for (std::size_t s = 0; s < B; ++s) {
                vec dot(T(0));
                for (std::size_t k = 0; k < width; k += lanes)
                    dot = fma(vec::load(dy + s * YS + k), vec::load(y + s * YS + k), dot);
                const vec d(simd::reduce_add(dot));
                for (std::size_t k = 0; k < width; k += lanes)
                    (vec::load(y + s * YS + k) * (vec::load(dy + s * YS + k) - d)).store(dx + s * DXS + k);
            }
    }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_batch(const T* p, const T* b, const T* x, T* y) noexcept {
        static_assert(XS >= width && YS >= width);
        for (std::size_t s = 0; s < B; ++s) forward(p, b, x + s * XS, y + s * YS);
    }
    template <class P>
    struct view {  // no parameters
        P* p;
    };
};

}  // namespace detail

struct softmax_t {
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::softmax_layer<T, In, Lanes>;
};
inline constexpr softmax_t softmax{};

}  // namespace ctnn
