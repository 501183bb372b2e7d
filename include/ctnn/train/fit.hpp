#pragma once
// ctnn::fit: the training loop every framework gives, over a dataset in the caller's memory.
//
//   ctnn::trainer<Net, ctnn::loss::cross_entropy, ctnn::optim::adam> tr{net, {.lr = 1e-3}};
//   ctnn::fit_result r = ctnn::fit<32>(tr, train, {          // 32: the batch size, a compile-time constant
//       .epochs = 100, .seed = 7, .validation = val,
//       .schedule = ctnn::optim::cosine_annealing_lr{.t_max = 100},
//       .early_stop = {.patience = 10},                          // and restore the best weights
//       .checkpoint_every = 10, .on_checkpoint = [](auto& tr, std::size_t epoch) { ... },
//       .on_epoch = [](ctnn::epoch_stats& s) { ... },            // s.stop = true ends training
//   });
//
// Each epoch: the learning rate from the schedule (optimizer.lr = schedule.lr(base, epoch), base
// being the optimizer's lr when fit starts; fit puts it back at the end), the samples in a seeded
// order (epoch_permutation: the same for the same seed and epoch), one trainer step per batch, then
// the metrics, early stopping, on_epoch and the checkpoint hook, in that order.
//
// Policies, stated:
// - Last partial batch: dropped, as PyTorch's DataLoader(drop_last=True). A batch size fixed at
//   compile time makes a smaller batch another type, and batch normalization's statistics differ
//   on a smaller batch; since the order changes every epoch, every sample is trained on over
//   the epochs. A training set smaller than one batch is an error (std::invalid_argument).
//   Evaluation (metrics, validation) always covers every sample.
// - Metrics (metrics.hpp): train_loss is the mean of the epoch's step losses (the L1 penalty
//   included), as a PyTorch loop usually reports it. train_metric, val_loss and val_metric are
//   evaluated after the epoch in inference behaviour over every sample (train_metric only with
//   options.train_metric, which costs one forward pass over the training set).
// - Gradient clipping and the L1 penalty are the trainer's (trainer_options).
// - Early stopping (patience > 0) watches the validation loss, or the training loss without a
//   validation set (or the metric: early_stopping.watch). After `patience` epochs without an
//   improvement larger than min_delta, training stops. With restore_best, the network (parameters
//   and buffers) is then set bit for bit to its state after the best epoch, also when the epochs
//   run out (not after a divergence, below); the optimizer state stays that of the last epoch,
//   as in Keras.
// - Divergence: after every step fit checks the loss, the gradients and the parameters. When one
//   is NaN or infinite, training stops and the network, the optimizer (its state, its lr, the
//   step count) and the trainer's generator are set back to their state before that step: fit
//   restores the epoch's starting state and replays the epoch's earlier steps, which are
//   deterministic, so the per-step path copies nothing. fit_result says at which step and why.
// - fit prints nothing. It allocates once, before the first step, and owns what it allocates:
//   the shuffle index (n indices), a batch of inputs and targets, an evaluation batch, room for the
//   network and the optimizer state as they were at the start of the epoch, and with restore_best
//   room for the best network. The steps, evaluations and epochs allocate nothing (the callbacks
//   may).
// - Resuming: fit runs the epochs [start_epoch, epochs). With the trainer restored from a
//   checkpoint taken after epoch k (parameters, optimizer state, step count, and the generator
//   when the network has dropout), start_epoch = k + 1 gives the same batches and learning rates
//   as the uninterrupted run (early stopping's counters start afresh).
#include <ctnn/core/random.hpp>
#include <ctnn/core/tensor.hpp>
#include <ctnn/train/dataset.hpp>
#include <ctnn/train/metrics.hpp>
#include <ctnn/train/trainer.hpp>

#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctnn {

// A learning-rate schedule of optim/schedule.hpp (anything with lr(base, epoch)), or a callable
// double(double base, std::size_t epoch). Empty: the lr stays as it is.
class lr_schedule {
public:
    lr_schedule() = default;
    template <class S>
        requires requires(const S& s, double base, std::size_t epoch) {
            { s.lr(base, epoch) } -> std::convertible_to<double>;
        }
    lr_schedule(S s) : f_{[s](double base, std::size_t epoch) { return static_cast<double>(s.lr(base, epoch)); }} {}
    template <class F>
        requires std::is_invocable_r_v<double, const F&, double, std::size_t>
    lr_schedule(F f) : f_{std::move(f)} {}

    explicit operator bool() const noexcept { return static_cast<bool>(f_); }
    double lr(double base, std::size_t epoch) const { return f_(base, epoch); }

private:
    std::function<double(double, std::size_t)> f_;
};

enum class monitor { loss, metric };

struct early_stopping {
    std::size_t patience = 0;  // 0: off; else stop after this many epochs without improvement
    double min_delta = 0;      // an improvement must be larger than this
    monitor watch = monitor::loss;  // the validation set's (or without one, the training set's)
    bool restore_best = true;  // at the end, set the network to its state after the best epoch
};

struct epoch_stats {
    static constexpr double none = std::numeric_limits<double>::quiet_NaN();
    std::size_t epoch = 0;   // from 0, the schedule's epoch
    std::size_t epochs = 0;  // options.epochs
    double lr = 0;           // the optimizer's lr during the epoch
    double train_loss = none;
    double train_metric = none;  // with options.train_metric
    double val_loss = none;      // with a validation set
    double val_metric = none;
    metric kind = metric::none;  // what the metrics are: accuracy or mae
    std::uint64_t steps = 0;     // the trainer's step count after the epoch
    std::size_t samples = 0;     // samples trained on in the epoch (whole batches)
    bool improved = false;       // the watched value is the best so far
    std::size_t best_epoch = 0;
    bool stop = false;  // on_epoch may set it: training ends after this epoch
};

enum class stop_reason { completed, early_stopped, requested, diverged };
enum class divergence { none, loss_not_finite, gradient_not_finite, parameter_not_finite };

struct fit_result {
    stop_reason reason = stop_reason::completed;
    std::size_t epochs_run = 0;  // epochs completed in this call
    std::size_t best_epoch = 0;  // by the early-stopping criterion (tracked also when it is off)
    double best_value = std::numeric_limits<double>::quiet_NaN();
    bool restored_best = false;  // the network was set to its state after best_epoch
    epoch_stats last{};          // the last completed epoch (when epochs_run > 0)

    // On divergence (reason == stop_reason::diverged):
    divergence cause = divergence::none;
    std::uint64_t diverged_step = 0;  // the failing step, counted as trainer::steps() counts (from 1)
    std::size_t diverged_epoch = 0;
    std::size_t diverged_batch = 0;   // its batch in that epoch, from 0
    double diverged_loss = 0;         // the loss that step returned

    // One line for people (epochs and batches counted from 1 here), e.g.
    // "diverged at step 1234 (epoch 6, batch 18, loss inf): the loss is not finite; ...".
    std::string describe() const {
        auto num = [](double v) { return std::to_string(v); };
        const std::string best = "best epoch " + std::to_string(best_epoch + 1) + " (" + num(best_value) + ")" +
                                 (restored_best ? ", its network restored" : "");
        switch (reason) {
            case stop_reason::completed:
                return "completed " + std::to_string(epochs_run) + " epochs" + (restored_best ? "; " + best : "");
            case stop_reason::early_stopped:
                return "stopped early after " + std::to_string(epochs_run) + " epochs; " + best;
            case stop_reason::requested: return "stopped by on_epoch after " + std::to_string(epochs_run) + " epochs";
            case stop_reason::diverged: break;
        }
        const char* why = cause == divergence::loss_not_finite       ? "the loss is not finite"
                          : cause == divergence::gradient_not_finite ? "a gradient is not finite"
                                                                     : "a parameter is not finite after the update";
        return "diverged at step " + std::to_string(diverged_step) + " (epoch " + std::to_string(diverged_epoch + 1) +
               ", batch " + std::to_string(diverged_batch + 1) + ", loss " + num(diverged_loss) + "): " + why +
               "; the network and optimizer are back to their state before that step";
    }
};

template <class Trainer>
struct fit_options {
    using network_type = typename Trainer::network_type;
    std::size_t epochs = 10;
    std::size_t start_epoch = 0;  // to resume: the epochs run are [start_epoch, epochs)
    std::uint64_t seed = 0;       // the order of the samples
    bool shuffle = true;          // false: the stored order every epoch
    dataset_for<network_type> validation{};
    ctnn::metric metric = ctnn::metric::automatic;
    bool train_metric = true;  // evaluate the metric on the training set after each epoch
    lr_schedule schedule{};
    early_stopping early_stop{};
    std::size_t checkpoint_every = 0;  // > 0: on_checkpoint after every this many epochs
    std::function<void(Trainer&, std::size_t epoch)> on_checkpoint{};
    std::function<void(epoch_stats&)> on_epoch{};
};

namespace detail {

// True when every value is finite: a value is NaN or infinite exactly when its exponent bits
// are all ones, i.e. when |bits| >= the bits of infinity. An integer max, which vectorizes.
template <class T, std::size_t N>
bool all_finite(std::span<const T, N> v) noexcept {
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr U magnitude = ~U(0) >> 1;
    constexpr U inf = std::bit_cast<U>(std::numeric_limits<T>::infinity());
    U m = 0;
    for (const T x : v) {
        const U b = std::bit_cast<U>(x) & magnitude;
        m = b > m ? b : m;
    }
    return m < inf;
}

template <class Trainer>
inline constexpr bool has_generator = requires(Trainer& t) { t.generator(); };

template <class Trainer, std::size_t Batch>
struct fit_workspace {
    using Net = typename Trainer::network_type;
    using T = typename Net::value_type;
    static constexpr std::size_t In = Net::input_size, Out = Net::output_size;

    tensor<T, Batch, In> x;
    tensor<T, Batch, Out> y;
    evaluation_scratch<T, In, Out> eval;
    // The state at the start of the current epoch, for the replay after a divergence.
    Net start_net{};
    typename Trainer::state_type start_state{};
    std::uint64_t start_steps = 0;
    rng start_generator{};
};

}  // namespace detail

// Trains tr's network on `train` in batches of Batch samples; see the top of this file.
template <std::size_t Batch, class Net, class Loss, class Optimizer>
fit_result fit(trainer<Net, Loss, Optimizer>& tr, const dataset_for<Net>& train,
               const fit_options<trainer<Net, Loss, Optimizer>>& options = {}) {
    static_assert(Batch >= 1, "ctnn: fit's batch size must be at least 1");
    using Trainer = trainer<Net, Loss, Optimizer>;
    using T = typename Net::value_type;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size;

    if (train.size() < Batch)
        throw std::invalid_argument("ctnn::fit: the training set has " + std::to_string(train.size()) +
                                    " samples, fewer than one batch of " + std::to_string(Batch) +
                                    " (the last partial batch is dropped)");
    const metric kind = resolve_metric<Loss>(options.metric);
    if (options.early_stop.watch == monitor::metric && kind == metric::none)
        throw std::invalid_argument("ctnn::fit: early stopping watches the metric, but the metric is none");
    if (options.early_stop.watch == monitor::metric && options.validation.empty() && !options.train_metric)
        throw std::invalid_argument("ctnn::fit: early stopping watches the metric without a validation set, "
                                    "which needs train_metric = true");

    // Everything fit allocates, allocated here.
    std::vector<std::size_t> index(train.size());
    auto ws = std::make_unique<detail::fit_workspace<Trainer, Batch>>();
    const bool keep_best = options.early_stop.patience > 0 && options.early_stop.restore_best;
    std::unique_ptr<Net> best = keep_best ? std::make_unique<Net>() : nullptr;

    Net& net = tr.network();
    const double base_lr = tr.optimizer().lr;
    const std::size_t batches = train.size() / Batch;
    const bool lower_is_better = options.early_stop.watch == monitor::loss || kind == metric::mae;

    auto gather = [&](std::size_t b) noexcept {
        for (std::size_t s = 0; s < Batch; ++s) {
            const std::size_t i = index[b * Batch + s];
            const T* x = train.input(i);
            T* xb = ws->x.data() + s * In;
            for (std::size_t f = 0; f < In; ++f) xb[f] = x[f];
            train.target(i, ws->y.data() + s * Out);
        }
    };

    fit_result result;
    std::size_t since_best = 0;
    bool have_best = false;

    for (std::size_t epoch = options.start_epoch; epoch < options.epochs; ++epoch) {
        if (options.schedule) tr.optimizer().lr = options.schedule.lr(base_lr, epoch);
        if (options.shuffle) {
            epoch_permutation(std::span<std::size_t>(index), options.seed, epoch);
        } else {
            for (std::size_t i = 0; i < index.size(); ++i) index[i] = i;
        }
        // The epoch's starting state (the replay after a divergence starts from it).
        ws->start_net = net;
        ws->start_state = tr.state();
        const Optimizer start_optimizer = tr.optimizer();
        ws->start_steps = tr.steps();
        if constexpr (detail::has_generator<Trainer>) ws->start_generator = tr.generator();

        double loss_sum = 0;
        for (std::size_t b = 0; b < batches; ++b) {
            gather(b);
            const T loss = tr.step(ws->x, ws->y);
            divergence cause = divergence::none;
            if (!detail::all_finite(std::span<const T, 1>(&loss, 1)))
                cause = divergence::loss_not_finite;
            else if (!detail::all_finite(tr.gradients().parameter_block()))
                cause = divergence::gradient_not_finite;
            else if (!detail::all_finite(std::as_const(net).parameter_block()))
                cause = divergence::parameter_not_finite;
            if (cause != divergence::none) {
                result.reason = stop_reason::diverged;
                result.cause = cause;
                result.diverged_step = tr.steps();
                result.diverged_epoch = epoch;
                result.diverged_batch = b;
                result.diverged_loss = static_cast<double>(loss);
                net = ws->start_net;
                tr.state() = ws->start_state;
                tr.optimizer() = start_optimizer;
                tr.set_steps(ws->start_steps);
                if constexpr (detail::has_generator<Trainer>) tr.generator() = ws->start_generator;
                for (std::size_t r = 0; r < b; ++r) {
                    gather(r);
                    tr.step(ws->x, ws->y);
                }
                break;
            }
            loss_sum += static_cast<double>(loss);
        }
        if (result.reason == stop_reason::diverged) break;

        epoch_stats stats;
        stats.epoch = epoch;
        stats.epochs = options.epochs;
        stats.lr = tr.optimizer().lr;
        stats.train_loss = loss_sum / static_cast<double>(batches);
        stats.kind = kind;
        stats.steps = tr.steps();
        stats.samples = batches * Batch;
        if (options.train_metric && kind != metric::none)
            stats.train_metric = detail::evaluate_with<Net, Loss>(net, train, kind, ws->eval).value;
        if (!options.validation.empty()) {
            const evaluation v = detail::evaluate_with<Net, Loss>(net, options.validation, kind, ws->eval);
            stats.val_loss = v.loss;
            stats.val_metric = v.value;
        }

        const bool on_validation = !options.validation.empty();
        const double watched = options.early_stop.watch == monitor::loss
                                   ? (on_validation ? stats.val_loss : stats.train_loss)
                                   : (on_validation ? stats.val_metric : stats.train_metric);
        const double delta = options.early_stop.min_delta;
        const bool improved = !std::isnan(watched) &&
                              (!have_best || (lower_is_better ? watched < result.best_value - delta
                                                              : watched > result.best_value + delta));
        if (improved) {
            have_best = true;
            result.best_value = watched;
            result.best_epoch = epoch;
            since_best = 0;
            if (best) *best = net;
        } else {
            ++since_best;
        }
        stats.improved = improved;
        stats.best_epoch = result.best_epoch;

        if (options.on_epoch) options.on_epoch(stats);
        if (options.checkpoint_every > 0 && options.on_checkpoint && (epoch + 1) % options.checkpoint_every == 0)
            options.on_checkpoint(tr, epoch);
        ++result.epochs_run;
        result.last = stats;
        if (stats.stop) {
            result.reason = stop_reason::requested;
            break;
        }
        if (options.early_stop.patience > 0 && since_best >= options.early_stop.patience) {
            result.reason = stop_reason::early_stopped;
            break;
        }
    }

    if (best && have_best && result.reason != stop_reason::diverged) {
        net = *best;
        result.restored_best = true;
    }
    if (options.schedule) tr.optimizer().lr = base_lr;
    return result;
}

namespace detail {
template <class D>
inline constexpr bool is_dataset_v = false;
template <class T, std::size_t In, std::size_t Out>
inline constexpr bool is_dataset_v<dataset<T, In, Out>> = true;

template <class Net, class D>
constexpr bool check_fit_data() {
    static_assert(is_dataset_v<D>, "ctnn: fit's training data must be a ctnn::dataset_for<Net>");
    if constexpr (is_dataset_v<D>) {
        static_assert(std::is_same_v<typename D::value_type, typename Net::value_type>,
                      "ctnn: the dataset's scalar type differs from the network's (float vs double)");
        static_assert(D::input_size == Net::input_size, "ctnn: the dataset's input width differs from the network's input<N>");
        static_assert(D::target_size == Net::output_size,
                      "ctnn: the dataset's target width differs from the network's output width");
    }
    return false;  // never called with the network's own dataset type
}
}  // namespace detail

// A dataset of another shape: the checks at the boundary the user called, so the first error
// is a ctnn: message naming the widths.
template <std::size_t Batch, class Net, class Loss, class Optimizer, class D>
    requires(!std::is_same_v<std::remove_cvref_t<D>, dataset_for<Net>>)
fit_result fit(trainer<Net, Loss, Optimizer>&, const D&, const fit_options<trainer<Net, Loss, Optimizer>>& = {}) {
    [[maybe_unused]] constexpr bool checked = detail::check_fit_data<Net, D>();
    return {};
}

}  // namespace ctnn
