#pragma once
// What an optimizer is to ctnn, and the one fused loop every optimizer runs.
//
// An optimizer is an aggregate of PyTorch's hyper-parameters with PyTorch's defaults
// (optim::adam{.lr = 1e-3}). It has a state type sized by the parameter block,
//   template <class T, std::size_t N> struct state;            zero-initialized buffers
// and an update of the whole block in one pass, element by element:
//   template <class T, std::size_t N>
//   void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept;
// where step counts from 1 (PyTorch's state['step'] after its increment). Padding elements of the
// block have zero parameters and gradients and stay zero under every update.
#include <ctnn/core/simd.hpp>

#include <cstddef>
#include <cstdint>

namespace ctnn::optim {

namespace detail {

// Runs f(i, lanes-wide vec tag) over [0, N): whole registers of the target's width, then a scalar
// tail; f receives the offset and a value of the vec type to use.
template <class T, std::size_t N, class F>
inline void for_each_register(F&& f) noexcept {
    constexpr std::size_t L = simd::native_width<T>;
    constexpr std::size_t full = N / L * L;
    for (std::size_t i = 0; i < full; i += L) f(i, simd::vec<T, L>{});
    if constexpr (full < N)
        for (std::size_t i = full; i < N; ++i) f(i, simd::vec<T, 1>{});
}

}  // namespace detail

}  // namespace ctnn::optim
