#pragma once
// rmsprop: PyTorch's torch.optim.RMSprop (torch 1.13):
//   g' = g + weight_decay p
//   a  = alpha a + (1 - alpha) g'^2
//   centered: ga = alpha ga + (1 - alpha) g',  avg = sqrt(a - ga^2) + eps;  else avg = sqrt(a) + eps
//   momentum > 0: b = momentum b + g' / avg,  p -= lr b;   else p -= lr g' / avg
#include <ctnn/optim/optimizer.hpp>

namespace ctnn::optim {

struct rmsprop {
    double lr = 1e-2;
    double alpha = 0.99;
    double eps = 1e-8;
    double weight_decay = 0;
    double momentum = 0;
    bool centered = false;

    template <class T, std::size_t N>
    struct state {
        alignas(64) T square_avg[N]{};
        alignas(64) T grad_avg[N]{};
        alignas(64) T momentum_buffer[N]{};
    };

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t) const noexcept {
        const T lr_ = static_cast<T>(lr), a = static_cast<T>(alpha), ca = static_cast<T>(1 - alpha),
                eps_ = static_cast<T>(eps), wd = static_cast<T>(weight_decay), mu = static_cast<T>(momentum);
        detail::for_each_register<T, N>([&](std::size_t i, auto tag) {
            using V = decltype(tag);
            const V pv = V::load(p + i);
            V gv = V::load(g + i);
            if (weight_decay != 0) gv = fma(V(wd), pv, gv);
            const V sq = fma(V(a), V::load(s.square_avg + i), V(ca) * gv * gv);
            sq.store(s.square_avg + i);
            V avg;
            if (centered) {
                const V ga = fma(V(a), V::load(s.grad_avg + i), V(ca) * gv);
                ga.store(s.grad_avg + i);
                avg = sqrt(sq - ga * ga) + V(eps_);
            } else {
                avg = sqrt(sq) + V(eps_);
            }
            if (momentum > 0) {
                const V b = fma(V(mu), V::load(s.momentum_buffer + i), gv / avg);
                b.store(s.momentum_buffer + i);
                fma(V(-lr_), b, pv).store(p + i);
            } else {
                (pv - V(lr_) * gv / avg).store(p + i);
            }
        });
    }
};

}  // namespace ctnn::optim
