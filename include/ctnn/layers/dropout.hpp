#pragma once
// dropout<P = 0.5>: PyTorch's nn.Dropout(p = P).
//
// Inference (net.forward): the identity; it fuses into a preceding dense kernel and costs nothing.
// Training (backprop, trainer::step): every element is zeroed with probability P and the kept ones
// are scaled by 1 / (1 - P) ("inverted dropout", so inference needs no rescaling); P = 1 zeroes
// everything, as PyTorch does. The mask is drawn from the generator the caller passes (the
// trainer owns one, seeded by trainer_options::seed), so a run is reproducible; the backward pass
// multiplies by the same mask. No parameters.
//
// The draw: each element takes 32 bits of the generator's output and is kept when they are at
// least P * 2^32, so the kept fraction is 1 - P to within 2^-32.
#include <ctnn/layers/layer.hpp>

#include <cstddef>
#include <cstdint>

namespace ctnn {

namespace detail {

template <class T, std::size_t In, std::size_t Lanes, double P>
struct dropout_layer {
    using value_type = T;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = In;
    static constexpr std::size_t lanes = simd::width_for<T>(In, Lanes);
    static constexpr std::size_t width = padded<T, Lanes>(In);
    static constexpr bool elementwise = true;  // the identity in inference: fuses into a dense kernel
    static constexpr bool has_forward_train = true;
    static constexpr bool stochastic = P > 0;
    template <std::size_t B>
    static constexpr std::size_t cache_size = P > 0 ? B * width : 0;  // the mask, scale or 0 per element

    static constexpr T scale = P < 1 ? T(1) / static_cast<T>(1 - P) : T(0);
    // Kept when the 32 random bits are >= threshold; P = 1 is handled apart (threshold 2^32).
    static constexpr std::uint64_t threshold = static_cast<std::uint64_t>(P * 4294967296.0 + 0.5);

    template <class V>
    static constexpr V apply(V v) noexcept { return v; }

    static constexpr void forward(const T*, const T*, const T* x, T* y) noexcept {
        for (std::size_t k = 0; k < width; ++k) y[k] = x[k];
    }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_batch(const T*, const T*, const T* x, T* y) noexcept {
        for (std::size_t s = 0; s < B; ++s)
            for (std::size_t k = 0; k < width; ++k) y[s * YS + k] = x[s * XS + k];
    }

    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_train(const T* p, T* b, const T* x, T* y, T* mask,
                                        const train_context& ctx) noexcept {
        if constexpr (P == 0) {
            forward_batch<B, XS, YS>(p, b, x, y);
        } else {
            std::uint64_t bits = 0;
            bool half = false;  // 32 bits of the last draw left
            for (std::size_t s = 0; s < B; ++s) {
                for (std::size_t k = 0; k < In; ++k) {
                    T m = T(0);
                    if constexpr (P < 1) {
                        std::uint64_t r;
                        if (half) {
                            r = bits >> 32;
                        } else {
                            bits = ctx.generator ? ctx.generator->next() : 0;
                            r = bits & 0xffffffffu;
                        }
                        half = !half;
                        m = r >= threshold ? scale : T(0);
                    }
                    mask[s * width + k] = m;
                    y[s * YS + k] = x[s * XS + k] * m;
                }
                for (std::size_t k = In; k < width; ++k) mask[s * width + k] = T(0), y[s * YS + k] = T(0);
            }
        }
    }

    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static constexpr void backward(const T*, const T*, const T*, const T*, const T* dy, T* dx, T*,
                                   const T* mask) noexcept {
        if constexpr (NeedDx) {
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t k = 0; k < width; ++k)
                    dx[s * DXS + k] = P == 0 ? dy[s * YS + k] : dy[s * YS + k] * mask[s * width + k];
        }
    }

    template <class Q>
    struct view {  // no parameters
        Q* p;
    };
};

}  // namespace detail

template <double P>
struct dropout_t {
    static_assert(P >= 0 && P <= 1,
                  "ctnn: dropout<P>: P is the probability of zeroing an element and must be between 0 and 1");
    static constexpr double probability = P;
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::dropout_layer<T, In, Lanes, P>;
};
template <double P = 0.5>
inline constexpr dropout_t<P> dropout{};

}  // namespace ctnn
