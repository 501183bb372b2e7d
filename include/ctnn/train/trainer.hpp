#pragma once
// trainer<Net, Loss, Optimizer>: one call per training step on one sample or a minibatch:
// forward (training behaviour), loss, backward, optional L1 penalty and gradient clipping, and
// the optimizer's update of the whole parameter block.
//
//   ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::adam> tr{net, {.lr = 1e-3}};
//   float loss = tr.step(x, y);       // x: tensor<T, In> or tensor<T, B, In>
//
// The trainer owns the gradients and the optimizer state (an inference network carries none of
// it) and refers to the network it trains. step never allocates, throws or locks.
#include <ctnn/backprop.hpp>
#include <ctnn/optim/clip.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ctnn {

struct trainer_options {
    double clip_grad_norm = 0;   // > 0: clip the gradients' global L2 norm to this (PyTorch's clip_grad_norm_)
    double clip_grad_value = 0;  // > 0: clamp every gradient to [-value, value]
    double l1 = 0;               // > 0: add l1 * sum |w| over every weight tensor (not biases) to the loss
    std::uint64_t seed = 0;      // of the generator of dropout's masks (reproducible runs)
};

template <class Net, class Loss, class Optimizer>
class trainer {
    static_assert(loss::loss_function<Loss>,
                  "ctnn: trainer<Net, Loss, Optimizer>: Loss must be a ctnn loss, such as ctnn::loss::mse");
    static_assert(requires { typename Optimizer::template state<float, 1>; },
                  "ctnn: trainer<Net, Loss, Optimizer>: Optimizer must be a ctnn optimizer, such as ctnn::optim::adam");

public:
    using network_type = Net;
    using value_type = typename Net::value_type;
    using gradients_type = typename Net::gradients;
    using state_type = typename Optimizer::template state<value_type, Net::parameter_block_size>;

    explicit trainer(Net& net, Optimizer optimizer = {}, trainer_options options = {}) noexcept
        : net_{&net}, optimizer_{optimizer}, options_{options}, generator_{options.seed} {
        // A state that keeps its arrays in the optimizer's own scale (adam's float moments) starts
        // in it, so that a checkpoint loaded before the first step comes back bit for bit.
        if constexpr (requires { optimizer_.prepare(state_); }) optimizer_.prepare(state_);
    }

    // One step on a sample or a batch; returns the loss before the update (with the L1 term).
    template <class X, class Y>
    value_type step(const X& x, const Y& y) noexcept {
        // One sample, and no option that needs the whole gradient first (L1, clipping): for the
        // block sizes given at fuses_one_sample_steps, the backward pass applies the optimizer's
        // update as it makes the gradients (optimizer.hpp's stepper), so the update never reads
        // them back, and W is read once for dx and its update. The same bits as the path after this
        // (but for the overflow and flush-to-zero cases of sequence::backward_step's Factor).
        if constexpr (requires { requires X::rank == 1; } && fuses_one_sample_steps &&
                      optim::detail::has_stepper<Optimizer, value_type, Net::parameter_block_size>) {
            if (options_.l1 <= 0 && options_.clip_grad_value <= 0 && options_.clip_grad_norm <= 0 &&
                optimizer_.fuses()) {
                ++steps_;
                const auto st = optimizer_.stepper(net_->parameter_block().data(), state_, steps_);
                const value_type loss = detail::backprop_step(*net_, Loss{}, x, y, grads_, generator_, st);
                net_->zero_padding();
                return loss;
            }
        }
        value_type loss = detail::backprop_overwrite(*net_, Loss{}, x, y, grads_, generator_);  // grads_ = dL/dtheta
        if (options_.l1 > 0) loss += add_l1_penalty();
        if (options_.clip_grad_value > 0) clip_grad_value(grads_, options_.clip_grad_value);
        if (options_.clip_grad_norm > 0) clip_grad_norm(grads_, options_.clip_grad_norm);
        ++steps_;
        optimizer_.update(net_->parameter_block().data(), grads_.parameter_block().data(), state_, steps_);
        net_->zero_padding();
        return loss;
    }

    Optimizer& optimizer() noexcept { return optimizer_; }
    const Optimizer& optimizer() const noexcept { return optimizer_; }
    trainer_options& options() noexcept { return options_; }
    const gradients_type& gradients() const noexcept { return grads_; }  // of the last step
    state_type& state() noexcept { return state_; }
    const state_type& state() const noexcept { return state_; }
    std::uint64_t steps() const noexcept { return steps_; }
    void set_steps(std::uint64_t n) noexcept { steps_ = n; }
    Net& network() noexcept { return *net_; }
    // The generator of the random layers' masks (dropout), seeded by trainer_options::seed.
    rng& generator() noexcept { return generator_; }
    const rng& generator() const noexcept { return generator_; }

    // Whether a step on one sample applies the optimizer inside the backward pass (see step), by
    // the size of the parameter block, as measured against the separate pass (train1 benchmark):
    // - 8 KB and more: the separate pass would stream p, g and the optimizer state through L2
    //   (M 16-64-64-4: 0.87 -> 0.76 of the Eigen baseline; W 64-128-128-16: 0.96 -> 0.75);
    // - 256 bytes and less (a few registers): the separate pass's wide loads of gradients just
    //   stored by narrower registers stall on store forwarding (T 2-8-1: 0.93 -> 0.89);
    // - in between, the separate pass runs from L1 after a backward pass that nothing slows,
    //   which measured faster (S 8-16-16-1: 0.71 separate, 0.80 fused), no slower after Adam's
    //   shorter chain (0.70 both), and faster again with its scaled moments (0.665 against 0.70).
    static constexpr std::size_t parameter_bytes = Net::parameter_block_size * sizeof(value_type);
    static constexpr bool fuses_one_sample_steps =
        parameter_bytes >= 8192 || parameter_bytes <= optim::detail::tiny_block_bytes;

private:
    value_type add_l1_penalty() noexcept {
        const value_type lambda = static_cast<value_type>(options_.l1);
        value_type penalty = 0;
        net_->for_each_parameter([&](const layer_path& path, const auto& w) {
            if (w.name != "weight") return;
            // The gradient tensor at the same place, found through the same visit of grads_.
            grads_.for_each_parameter([&](const layer_path& gpath, const auto& gw) {
                if (gw.name != "weight" || gpath.depth != path.depth || gpath.index != path.index) return;
                for (std::size_t k = 0; k < w.size(); ++k) {
                    const value_type v = w.flat(k);
                    penalty += std::abs(v);
                    gw.flat(k) += v > 0 ? lambda : (v < 0 ? -lambda : value_type(0));
                }
            });
        });
        return lambda * penalty;
    }

    Net* net_;
    gradients_type grads_{};
    Optimizer optimizer_;
    trainer_options options_;
    state_type state_{};
    std::uint64_t steps_ = 0;
    rng generator_;
};

}  // namespace ctnn
