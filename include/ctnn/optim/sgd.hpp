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

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept {
        const T lr_ = static_cast<T>(lr), mu = static_cast<T>(momentum), damp = static_cast<T>(1 - dampening),
                wd = static_cast<T>(weight_decay);
        const bool first = step <= 1;
        detail::for_each_register<T, N>([&](std::size_t i, auto tag) {
            using V = decltype(tag);
            const V pv = V::load(p + i);
            V d = V::load(g + i);
            if (weight_decay != 0) d = fma(V(wd), pv, d);
            if (momentum != 0) {
                const V b = first ? d : fma(V(mu), V::load(s.momentum_buffer + i), V(damp) * d);
                b.store(s.momentum_buffer + i);
                d = nesterov ? fma(V(mu), b, d) : b;
            }
            fma(V(-lr_), d, pv).store(p + i);
        });
    }
};

}  // namespace ctnn::optim
