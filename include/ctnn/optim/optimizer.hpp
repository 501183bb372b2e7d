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
//
// An optimizer may also offer the same update one register at a time, for a backward pass that
// applies it to each gradient register as soon as it is computed (the trainer's fused step on one
// sample: the gradients are then never read back from memory):
//   bool fuses() const noexcept;                   whether the current options allow it
//   auto stepper(T* p, state<T, N>& s, std::uint64_t step) const noexcept;
// The stepper st is called as st(i, g) with g a simd::vec of the gradient at offset i of the block,
// at most once per offset and step; calling it over the whole block gives update()'s bits exactly.
#include <ctnn/core/simd.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace ctnn::optim {

namespace detail {

// A parameter block of at most this many bytes (a few registers: T 2-8-1 holds 160) trains on one
// sample as one chain of dependent latencies, each step's forward waiting on the last update: the
// trainer fuses its step into the backward pass, and Adam picks its shorter-latency quotient.
inline constexpr std::size_t tiny_block_bytes = 256;

// Runs f(i, lanes-wide vec tag) over [0, N): whole registers of the target's width, then the tail
// with the widest narrower register that fits (a block padded to 8 floats on a 16-lane target ends
// with one 8-lane register, not 8 scalars); f receives the offset and a value of the vec type to use.
template <class T, std::size_t N, std::size_t L = simd::native_width<T>, class F>
inline void for_each_register(F&& f) noexcept {
    constexpr std::size_t full = N / L * L;
    for (std::size_t i = 0; i < full; i += L) f(i, simd::vec<T, L>{});
    if constexpr (full < N) {
        if constexpr (L == 1)
            ;
        else if constexpr (L / 2 >= 1 && simd::has_width<T, L / 2>)
            for_each_register<T, N - full, L / 2>([&](std::size_t i, auto tag) { f(full + i, tag); });
        else
            for_each_register<T, N - full, 1>([&](std::size_t i, auto tag) { f(full + i, tag); });
    }
}

// Runs a stepper over the N elements of g from offset `at` of the block: st(at + i, register i of g).
// An optimizer's update() is this over the whole block.
template <class T, std::size_t N, class Step>
inline void step_over(const Step& st, const T* g, std::size_t at = 0) noexcept {
    for_each_register<T, N>([&](std::size_t i, auto tag) { st(at + i, decltype(tag)::load(g + i)); });
}

template <class O, class T, std::size_t N>
concept has_stepper = requires(const O& o, T* p, typename O::template state<T, N>& s) {
    { o.fuses() } -> std::convertible_to<bool>;
    o.stepper(p, s, std::uint64_t{1});
};

}  // namespace detail

}  // namespace ctnn::optim
