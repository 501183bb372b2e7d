#pragma once
// Learning-rate schedules, usable with any optimizer: each maps (base lr, epoch) to the lr of that
// epoch with PyTorch's closed forms (torch.optim.lr_scheduler, torch 1.13), where "epoch" counts
// scheduler.step() calls (call it per epoch or per batch, as in PyTorch):
//   step_lr{step_size, gamma = 0.1}            base gamma^floor(epoch / step_size)
//   multi_step_lr<K>{{m1, ..., mK}, gamma}     base gamma^(number of milestones <= epoch)
//   exponential_lr{gamma}                      base gamma^epoch
//   cosine_annealing_lr{t_max, eta_min = 0}    eta_min + (base - eta_min)(1 + cos(pi epoch / t_max)) / 2
//   linear_warmup{start_factor = 1/3, end_factor = 1, total_iters = 5}   PyTorch's LinearLR:
//                                              base (start + (end - start) min(epoch, total) / total)
// Apply one with trainer.optimizer().lr = schedule.lr(base, epoch). (step_size and t_max must be
// at least 1, total_iters too.)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace ctnn::optim {

struct step_lr {
    std::size_t step_size = 1;
    double gamma = 0.1;
    double lr(double base, std::size_t epoch) const noexcept {
        return base * std::pow(gamma, static_cast<double>(epoch / step_size));
    }
};

template <std::size_t K>
struct multi_step_lr {
    std::array<std::size_t, K> milestones{};
    double gamma = 0.1;
    double lr(double base, std::size_t epoch) const noexcept {
        const auto passed = std::count_if(milestones.begin(), milestones.end(), [&](std::size_t m) { return m <= epoch; });
        return base * std::pow(gamma, static_cast<double>(passed));
    }
};

struct exponential_lr {
    double gamma = 0.9;
    double lr(double base, std::size_t epoch) const noexcept { return base * std::pow(gamma, static_cast<double>(epoch)); }
};

struct cosine_annealing_lr {
    std::size_t t_max = 10;
    double eta_min = 0;
    double lr(double base, std::size_t epoch) const noexcept {
        constexpr double pi = 3.14159265358979323846;
        return eta_min + (base - eta_min) * (1 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(t_max))) / 2;
    }
};

struct linear_warmup {
    double start_factor = 1.0 / 3;
    double end_factor = 1.0;
    std::size_t total_iters = 5;
    double lr(double base, std::size_t epoch) const noexcept {
        const double t = static_cast<double>(std::min(epoch, total_iters)) / static_cast<double>(total_iters);
        return base * (start_factor + (end_factor - start_factor) * t);
    }
};

}  // namespace ctnn::optim
