#pragma once
// adamw: PyTorch's torch.optim.AdamW (torch 1.13): Adam with decoupled weight decay,
//   p *= 1 - lr weight_decay, then the Adam step on the plain gradient (weight_decay defaults to 0.01).
#include <ctnn/optim/adam.hpp>

namespace ctnn::optim {

struct adamw {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 1e-2;
    bool amsgrad = false;

    template <class T, std::size_t N>
    using state = adam::state<T, N>;
    template <class T, std::size_t N>
    void prepare(state<T, N>& s) const noexcept { detail::adam_rescale<T>(s, beta1, beta2); }
    template <class T>
    std::array<double, 2> moment_scales() const noexcept { return detail::adam_moment_scales<T>(beta1, beta2); }

    template <class T, std::size_t N>
    void update(T* p, const T* g, state<T, N>& s, std::uint64_t step) const noexcept {
        detail::adam_update<true, T, N>(p, g, s, step, lr, beta1, beta2, eps, weight_decay, amsgrad);
    }

    // The fused step (optimizer.hpp) without AMSGrad. It always multiplies p by 1 - lr weight_decay,
    // which is exactly p when the decay is 0, so it gives update()'s bits in every case it takes.
    bool fuses() const noexcept { return !amsgrad; }
    template <class T, std::size_t N>
    auto stepper(T* p, state<T, N>& s, std::uint64_t step) const noexcept {
        return detail::make_adam_stepper<true, true, false, T>(p, s, step, lr, beta1, beta2, eps, weight_decay);
    }
};

}  // namespace ctnn::optim
