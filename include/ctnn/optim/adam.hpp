#pragma once
// adam: PyTorch's torch.optim.Adam (torch 1.13), L2 weight decay added to the gradient, optional AMSGrad
// (float keeps m and v divided by 1 - beta1 and 1 - beta2; see adam_scales_moments):
//   g' = g + weight_decay p
//   m  = beta1 m + (1 - beta1) g'           v = beta2 v + (1 - beta2) g'^2      (vmax = max(vmax, v))
//   p -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
// adamw (adamw.hpp) is the decoupled-decay variant.
#include <ctnn/core/math.hpp>
#include <ctnn/optim/optimizer.hpp>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace ctnn::optim {

namespace detail {

// beta1^t and beta2^t for the bias corrections 1 - beta^t, remembered for the next step: std::pow
// costs about 30 ns, as much as a whole training step of a small network. beta^(t+1) is beta^t *
// beta, which differs from PyTorch's pow by a few double roundings after millions of steps, far
// below float resolution. The value is always that same product of t factors: any other step (a
// restored checkpoint, a freshly made optimizer) or other betas recompute it by t multiplications, once, so
// a training resumed from a checkpoint is bit-identical to one that never stopped.
struct bias_corrections {
    std::uint64_t step = 0;
    double beta1 = 0, beta2 = 0, pow1 = 1, pow2 = 1;

    void advance(std::uint64_t t, double b1, double b2) noexcept {
        if (t == step + 1 && b1 == beta1 && b2 == beta2 && step != 0) {
            pow1 *= b1;
            pow2 *= b2;
        } else {
            pow1 = 1;
            pow2 = 1;
            for (std::uint64_t k = 0; k < t; ++k) pow1 *= b1, pow2 *= b2;
            beta1 = b1;
            beta2 = b2;
        }
        step = t;
    }

    // The step's two scalars (adam_stepper's step size and eps), kept with what they are made of:
    // once beta^t is below double's resolution next to 1 (after 356 steps for beta1 = 0.9 and
    // 37,412 for beta2 = 0.999), 1 - beta^t stops changing, and every later step takes the same
    // scalars without their square root and divisions, which a tiny network's step would share the
    // divider with (T 2-8-1's train1: 0.745 -> 0.731 of Eigen's time; a long training's steady
    // state, which the benchmark measures).
    struct scalars {
        double step_size, eps;
    };
    // What made was made of, bit for bit (a learning rate of -0 is not one of +0). has_made is a
    // word, not a bool, so that the state has no padding bytes (tests compare states bytewise).
    std::uint64_t has_made = 0;
    std::array<std::uint64_t, 6> made_of{};
    scalars made{};
    scalars step_scalars(double lr, double eps, double scale1, double scale2) noexcept {
        const double bc1 = 1 - pow1, bc2 = 1 - pow2;
        const std::array<std::uint64_t, 6> of{std::bit_cast<std::uint64_t>(bc1),    std::bit_cast<std::uint64_t>(bc2),
                                              std::bit_cast<std::uint64_t>(lr),     std::bit_cast<std::uint64_t>(eps),
                                              std::bit_cast<std::uint64_t>(scale1), std::bit_cast<std::uint64_t>(scale2)};
        if (!has_made || of != made_of) {
            // w = sqrt(1 - beta2^t) / sqrt(scale2), as one square root (scale1 = scale2 = 1 for double).
            const double w = std::sqrt(bc2 / scale2);
            made = {lr / bc1 * scale1 * w, eps * w};
            made_of = of;
            has_made = 1;
        }
        return made;
    }
};

// Float keeps the moments divided by (1 - beta): the state's arrays hold m / c1 and v / c2
// (c = 1 - beta; state::scale1 and scale2 say which c the arrays are divided by). The updates are
// then m' = beta1 m' + g and v' = beta2 v' + g^2, one multiply-add and a multiply-add with a
// product, where PyTorch's form takes two and three operations of the multiply-add units; with the
// division below, that made M train1 0.72 -> 0.67 and W train1 0.73 -> 0.69 of Eigen's time (the
// division alone, or the moments alone, gained 0-1 %: the step is bound by the divider and the
// multiply-add units at once). Checkpoints still hold PyTorch's moments (io/state_dict.hpp: in
// F64, m' c1 computed in double, which divides back to m' exactly). Double keeps PyTorch's form
// (scale 1): no F128 would bring its scaled moments back exactly. One difference at the edge:
// v' = v / c2 overflows when |g| passes about 1.8e19 (PyTorch's v at 5.8e20), and an infinite
// denominator then gives NaN through simd::divide (or minus_quotient_by_sqrt_plus) where PyTorch's
// update is 0; clamping it cost 2-3 % of W train1, for gradients no training survives anyway.
template <class T>
inline constexpr bool adam_scales_moments = std::is_same_v<T, float>;

// The Adam step on one register of the block at offset i, given its gradient (Decoupled: AdamW's
// p *= 1 - lr weight_decay; WeightDecay: the decay is non-zero; Amsgrad: the max of the second
// moments is kept and used). It is what the optimizer's pass runs per register, and what a fused
// backward calls with each gradient register it has just made (optimizer.hpp's stepper).
//
// The update is written with sqrt(1 - beta2^t) moved from the denominator to the step size,
//   p -= [lr sqrt(1 - beta2^t) / (1 - beta1^t)] m / (sqrt(v) + eps sqrt(1 - beta2^t)),
// the same quantity: the denominator is then one addition instead of a multiply-add, which takes
// an operation off the multiply-add units and a cycle off the latency between a gradient and its
// update (a one-sample step waits on that chain). With scaled moments (m = c1 m', v = c2 v') the
// bracket takes c1 / sqrt(c2) and eps 1 / sqrt(c2) as well. The two scalars are computed in double
// once per step and rounded to T. The quotient is simd::divide's (a reciprocal estimate and one
// correction on AVX-512, within an ulp), which keeps the divider for the square root, or for a
// tiny block simd::minus_quotient_by_sqrt_plus's (below).
template <bool Decoupled, bool WeightDecay, bool Amsgrad, class T, class State>
struct adam_stepper {
    // A block of a few registers (a tiny network's): its one-sample step is a chain of dependent
    // latencies through the next step's forward, so the update is simd::minus_quotient_by_sqrt_plus:
    // its reciprocal estimate starts before the square root is done, and the step size is spread
    // over the quotient's correction (T 2-8-1's train1: 0.79 -> 0.77 -> 0.76 of Eigen's time).
    // Larger blocks are bound by throughput: divide, fewer operations.
    static constexpr bool latency_bound = sizeof(State::exp_avg) <= tiny_block_bytes;
    T* p;
    State* s;
    T step_size, b1, b2, c1, c2, eps, wd, decay;  // step_size and eps as above

    template <class V>
    [[gnu::always_inline]] void operator()(std::size_t i, V gv) const noexcept {
        V pv = V::load(p + i);
        if constexpr (WeightDecay) {
            if constexpr (Decoupled) pv = pv * V(decay); else gv = fma(V(wd), pv, gv);
        }
        V m, v;
        if constexpr (adam_scales_moments<T>) {
            m = fma(V(b1), V::load(s->exp_avg + i), gv);
            v = fma(gv, gv, V(b2) * V::load(s->exp_avg_sq + i));
        } else {
            // beta m rounded first, as PyTorch's mul_ does; the gradient's product enters the fma
            // last, so a gradient waits on two operations to reach v and one to reach m.
            m = fma(V(c1), gv, V(b1) * V::load(s->exp_avg + i));
            v = fma(V(c2) * gv, gv, V(b2) * V::load(s->exp_avg_sq + i));
        }
        m.store(s->exp_avg + i);
        v.store(s->exp_avg_sq + i);
        V vd = v;
        if constexpr (Amsgrad) {
            vd = max(V::load(s->max_exp_avg_sq + i), v);
            vd.store(s->max_exp_avg_sq + i);
        }
        if constexpr (latency_bound) minus_quotient_by_sqrt_plus(pv, V(step_size), m, vd, V(eps)).store(p + i);
        else fnma(V(step_size), divide(m, sqrt(vd) + V(eps)), pv).store(p + i);
    }
};

// The scales a state of T keeps its moments in for these betas.
template <class T>
inline std::array<double, 2> adam_moment_scales(double beta1, double beta2) noexcept {
    if constexpr (adam_scales_moments<T>) return {1 - beta1, 1 - beta2};
    else return {1, 1};
}

// Brings the state's arrays to the scale of these betas (float), by one pass when they changed
// since the last step (or on a state that never stepped and was not prepared by a trainer).
// Each value is x scale_old / scale_new in double, rounded once: the bits a checkpoint saved at
// the old scale and loaded at the new one gives (io/state_dict.hpp's scaled_tensor).
template <class T, class State>
inline void adam_rescale(State& s, double beta1, double beta2) noexcept {
    if constexpr (adam_scales_moments<T>) {
        const auto [c1, c2] = adam_moment_scales<T>(beta1, beta2);
        const auto rescale = [](T& x, double from, double to) {
            x = static_cast<T>(static_cast<double>(x) * from / to);
        };
        if (s.scale1 != c1) {
            for (auto& x : s.exp_avg) rescale(x, s.scale1, c1);
            s.scale1 = c1;
        }
        if (s.scale2 != c2) {
            for (auto& x : s.exp_avg_sq) rescale(x, s.scale2, c2);
            for (auto& x : s.max_exp_avg_sq) rescale(x, s.scale2, c2);
            s.scale2 = c2;
        }
    }
}

// The stepper of step number `step` (advances the cached bias corrections).
template <bool Decoupled, bool WeightDecay, bool Amsgrad, class T, class State>
inline adam_stepper<Decoupled, WeightDecay, Amsgrad, T, State> make_adam_stepper(
    T* p, State& s, std::uint64_t step, double lr, double beta1, double beta2, double eps,
    double weight_decay) noexcept {
    // Scalars in double, as PyTorch computes them in Python, then used in T.
    adam_rescale<T>(s, beta1, beta2);
    s.bias.advance(step, beta1, beta2);
    const auto sc = s.bias.step_scalars(lr, eps, s.scale1, s.scale2);
    return {p,
            &s,
            static_cast<T>(sc.step_size),
            static_cast<T>(beta1),
            static_cast<T>(beta2),
            static_cast<T>(1 - beta1),
            static_cast<T>(1 - beta2),
            static_cast<T>(sc.eps),
            static_cast<T>(weight_decay),
            static_cast<T>(1 - lr * weight_decay)};
}

// The Adam step shared by adam and adamw over the whole block. The options that are off cost
// nothing in the loop: each combination is its own pass.
template <bool Decoupled, class T, std::size_t N, class State>
inline void adam_update(T* p, const T* g, State& s, std::uint64_t step, double lr, double beta1, double beta2,
                        double eps, double weight_decay, bool amsgrad) noexcept {
    const auto run = [&]<bool WeightDecay, bool Amsgrad>() {
        const auto st = make_adam_stepper<Decoupled, WeightDecay, Amsgrad, T>(p, s, step, lr, beta1, beta2, eps,
                                                                              weight_decay);
        step_over<T, N>(st, g);
    };
    if (weight_decay != 0) {
        if (amsgrad) run.template operator()<true, true>(); else run.template operator()<true, false>();
    } else {
        if (amsgrad) run.template operator()<false, true>(); else run.template operator()<false, false>();
    }
}

}  // namespace detail

struct adam {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0;
    bool amsgrad = false;

    template <class T, std::size_t N>
    struct state {
        alignas(64) T exp_avg[N]{};
        alignas(64) T exp_avg_sq[N]{};
        alignas(64) T max_exp_avg_sq[N]{};
        // The arrays hold PyTorch's moments divided by these (float: 1 - beta1 and 1 - beta2 of the
        // last step, see adam_scales_moments; double: 1). Checkpoints save and load PyTorch's.
        double scale1 = 1, scale2 = 1;
        // A cache of beta^t and the step's scalars: nothing to save or restore.
        detail::bias_corrections bias{};
    };

    // Sets a fresh state's scales to these betas (a trainer does, so that a checkpoint loaded before
    // the first step comes back bit for bit), and the scales a checkpoint loads into.
    template <class T, std::size_t N>
    void prepare(state<T, N>& s) const noexcept { detail::adam_rescale<T>(s, beta1, beta2); }
    template <class T>
    std::array<double, 2> moment_scales() const noexcept { return detail::adam_moment_scales<T>(beta1, beta2); }

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept {
        detail::adam_update<false, T, N>(p, g, s, step, lr, beta1, beta2, eps, weight_decay, amsgrad);
    }

    // The fused step (optimizer.hpp): without weight decay or AMSGrad, the common case.
    bool fuses() const noexcept { return weight_decay == 0 && !amsgrad; }
    template <class T, std::size_t N>
    auto stepper(T* p, state<T, N>& s, std::uint64_t step) const noexcept {
        return detail::make_adam_stepper<false, false, false, T>(p, s, step, lr, beta1, beta2, eps, 0);
    }
};

}  // namespace ctnn::optim
