#pragma once
// sgd: PyTorch's torch.optim.SGD (torch 1.13), with momentum, dampening, Nesterov and L2 weight decay:
//   g' = g + weight_decay p
//   b  = g' on the first step, else momentum b + (1 - dampening) g'       (when momentum != 0)
//   d  = nesterov ? g' + momentum b : b                                    (g' when momentum == 0)
//   p -= lr d
#include <ctnn/optim/optimizer.hpp>

namespace ctnn::optim {

struct sgd {
    double lr = 1e-3;  // PyTorch requires lr; 1e-3 is a common starting point
    double momentum = 0;
    double dampening = 0;
    bool nesterov = false;
    double weight_decay = 0;

    template <class T, std::size_t N>
    struct state {
        alignas(64) T momentum_buffer[N]{};
    };

    // The update of one register at offset i given its gradient (optimizer.hpp's stepper).
    template <class T, class State>
    struct stepper_type {
        T* p;
        State* s;
        T lr, mu, damp, wd;
        bool first, decay, momentum, nesterov;

        template <class V>
        [[gnu::always_inline]] void operator()(std::size_t i, V d) const noexcept {
            const V pv = V::load(p + i);
            if (decay) d = fma(V(wd), pv, d);
            if (momentum) {
                const V b = first ? d : fma(V(mu), V::load(s->momentum_buffer + i), V(damp) * d);
                b.store(s->momentum_buffer + i);
                d = nesterov ? fma(V(mu), b, d) : b;
            }
            fma(V(-lr), d, pv).store(p + i);
        }
    };

    bool fuses() const noexcept { return true; }
    template <class T, std::size_t N>
    stepper_type<T, state<T, N>> stepper(T* p, state<T, N>& s, std::uint64_t step) const noexcept {
        return {p,
                &s,
                static_cast<T>(lr),
                static_cast<T>(momentum),
                static_cast<T>(1 - dampening),
                static_cast<T>(weight_decay),
                step <= 1,
                weight_decay != 0,
                momentum != 0,
                nesterov};
    }

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept {
        detail::step_over<T, N>(stepper(p, s, step), g);
    }
};

}  // namespace ctnn::optim
