#pragma once
// adagrad: PyTorch's torch.optim.Adagrad (torch 1.13):
//   g' = g + weight_decay p;   clr = lr / (1 + (t - 1) lr_decay)
//   sum += g'^2  (starting from initial_accumulator_value);   p -= clr g' / (sqrt(sum) + eps)
#include <ctnn/optim/optimizer.hpp>

namespace ctnn::optim {

struct adagrad {
    double lr = 1e-2;
    double lr_decay = 0;
    double weight_decay = 0;
    double initial_accumulator_value = 0;
    double eps = 1e-10;

    template <class T, std::size_t N>
    struct state {
        alignas(64) T sum[N]{};
        bool started = false;
    };

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept {
        if (!s.started) {
            for (std::size_t i = 0; i < N; ++i) s.sum[i] = static_cast<T>(initial_accumulator_value);
            s.started = true;
        }
        const T clr = static_cast<T>(lr / (1 + static_cast<double>(step - 1) * lr_decay)),
                eps_ = static_cast<T>(eps), wd = static_cast<T>(weight_decay);
        detail::for_each_register<T, N>([&](std::size_t i, auto tag) {
            using V = decltype(tag);
            const V pv = V::load(p + i);
            V gv = V::load(g + i);
            if (weight_decay != 0) gv = fma(V(wd), pv, gv);
            const V sum = fma(gv, gv, V::load(s.sum + i));
            sum.store(s.sum + i);
            (pv - V(clr) * gv / (sqrt(sum) + V(eps_))).store(p + i);
        });
    }
};

}  // namespace ctnn::optim
