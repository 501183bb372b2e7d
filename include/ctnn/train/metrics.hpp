#pragma once
// Metrics over a dataset, in inference behaviour (net.forward): the loss and one task metric.
//
//   ctnn::evaluation e = ctnn::evaluate(net, ctnn::loss::cross_entropy{}, test_set);
//   e.loss       the loss over every sample, reduced by 'mean' as in PyTorch (no L1 penalty)
//   e.value      the metric: accuracy in [0, 1] or the mean absolute error
//
// The metric follows the loss unless asked otherwise (metric::automatic):
//   cross_entropy, nll            accuracy: the output's argmax equals the target's (a one-hot
//                                 target's argmax is its class; ties go to the first index)
//   bce, bce_with_logits          accuracy per output: (y > threshold) == (t > 0.5), threshold 0.5 for
//                                 probabilities (bce) and 0 for logits (bce_with_logits); the
//                                 fraction of correct outputs (for one output, of correct samples)
//   every other loss              mean absolute error over all outputs: mean |y - t|
// metric::accuracy with another loss uses argmax when Out > 1 and the 0.5 threshold when Out == 1.
#include <ctnn/core/tensor.hpp>
#include <ctnn/loss/bce.hpp>
#include <ctnn/loss/bce_with_logits.hpp>
#include <ctnn/loss/cross_entropy.hpp>
#include <ctnn/loss/nll.hpp>
#include <ctnn/train/dataset.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <type_traits>

namespace ctnn {

enum class metric { automatic, none, accuracy, mae };

inline constexpr const char* metric_name(metric m) noexcept {
    switch (m) {
        case metric::accuracy: return "accuracy";
        case metric::mae: return "mae";
        case metric::none: return "none";
        default: return "automatic";
    }
}

template <class Loss>
inline constexpr metric default_metric = metric::mae;
template <>
inline constexpr metric default_metric<loss::cross_entropy> = metric::accuracy;
template <>
inline constexpr metric default_metric<loss::nll> = metric::accuracy;
template <>
inline constexpr metric default_metric<loss::bce> = metric::accuracy;
template <>
inline constexpr metric default_metric<loss::bce_with_logits> = metric::accuracy;

// Losses whose outputs are independent binary decisions (multi-label), and where they are cut.
template <class Loss>
inline constexpr bool binary_outputs = std::is_same_v<Loss, loss::bce> || std::is_same_v<Loss, loss::bce_with_logits>;
template <class Loss>
inline constexpr double decision_threshold = std::is_same_v<Loss, loss::bce_with_logits> ? 0.0 : 0.5;

template <class Loss>
constexpr metric resolve_metric(metric m) noexcept {
    return m == metric::automatic ? default_metric<Loss> : m;
}

// The index of the largest of n values (the first on ties).
template <class T>
constexpr std::size_t argmax(const T* v, std::size_t n) noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return best;
}
template <class T, std::size_t N>
constexpr std::size_t argmax(const tensor<T, N>& v) noexcept {
    return argmax(v.data(), N);
}

// Accumulates one metric over samples: add(y, t) with Out outputs and Out target values.
template <class Loss, class T, std::size_t Out>
class metric_accumulator {
public:
    explicit constexpr metric_accumulator(metric m) noexcept : kind_{resolve_metric<Loss>(m)} {}

    constexpr void add(const T* y, const T* t) noexcept {
        switch (kind_) {
            case metric::accuracy:
                if constexpr (Out == 1 || binary_outputs<Loss>) {
                    const T cut = static_cast<T>(decision_threshold<Loss>);
                    for (std::size_t o = 0; o < Out; ++o) sum_ += ((y[o] > cut) == (t[o] > T(0.5))) ? 1 : 0;
                    count_ += Out;
                } else {
                    sum_ += argmax(y, Out) == argmax(t, Out) ? 1 : 0;
                    count_ += 1;
                }
                break;
            case metric::mae:
                for (std::size_t o = 0; o < Out; ++o) sum_ += std::abs(static_cast<double>(y[o]) - static_cast<double>(t[o]));
                count_ += Out;
                break;
            default: break;
        }
    }
    constexpr metric kind() const noexcept { return kind_; }
    // NaN for metric::none or before any sample.
    constexpr double value() const noexcept {
        return kind_ == metric::none || count_ == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                    : sum_ / static_cast<double>(count_);
    }

private:
    metric kind_;
    double sum_ = 0;
    std::size_t count_ = 0;
};

struct evaluation {
    double loss = std::numeric_limits<double>::quiet_NaN();   // mean loss (NaN for an empty set)
    double value = std::numeric_limits<double>::quiet_NaN();  // the metric (NaN for metric::none)
    metric kind = metric::none;
    std::size_t samples = 0;
};

// Samples per forward call when evaluating: the network's own batch chunk.
inline constexpr std::size_t evaluation_batch = 32;

// Scratch for evaluate: a batch of inputs and targets, and the loss's gradient output (unused).
template <class T, std::size_t In, std::size_t Out>
struct evaluation_scratch {
    tensor<T, evaluation_batch, In> x;
    tensor<T, evaluation_batch, Out> t;
    tensor<T, evaluation_batch, Out> dy;
};

namespace detail {

template <class Net, class Loss>
evaluation evaluate_with(const Net& net, const dataset_for<Net>& data, metric m,
                         evaluation_scratch<typename Net::value_type, Net::input_size, Net::output_size>& s) noexcept {
    using T = typename Net::value_type;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size, C = evaluation_batch;
    metric_accumulator<Loss, T, Out> acc{m};
    evaluation e;
    e.kind = acc.kind();
    e.samples = data.size();
    if (data.empty()) return e;
    double loss_sum = 0;  // sum over samples of each sample's mean loss
    std::size_t i = 0;
    for (; i + C <= data.size(); i += C) {
        for (std::size_t k = 0; k < C; ++k) {
            const T* x = data.input(i + k);
            for (std::size_t f = 0; f < In; ++f) s.x[k * In + f] = x[f];
            data.target(i + k, s.t.data() + k * Out);
        }
        const tensor<T, C, Out> y = net.forward(s.x);
        loss_sum += static_cast<double>(Loss::template evaluate<T, C, Out>(y.data(), Out, s.t.data(), s.dy.data(), Out)) *
                    static_cast<double>(C);
        for (std::size_t k = 0; k < C; ++k) acc.add(y.data() + k * Out, s.t.data() + k * Out);
    }
    for (; i < data.size(); ++i) {
        tensor<T, Out> y;
        net.forward(data.input(i), y.data());
        data.target(i, s.t.data());
        loss_sum += static_cast<double>(Loss::template evaluate<T, 1, Out>(y.data(), Out, s.t.data(), s.dy.data(), Out));
        acc.add(y.data(), s.t.data());
    }
    e.loss = loss_sum / static_cast<double>(data.size());
    e.value = acc.value();
    return e;
}

}  // namespace detail

// The loss and metric of net over every sample of data, in inference behaviour. Allocates its
// scratch (one batch) once per call; fit evaluates with its own, allocated before training.
template <class Net, class Loss>
evaluation evaluate(const Net& net, const Loss&, const dataset_for<Net>& data, metric m = metric::automatic) {
    static_assert(loss::loss_function<Loss>, "ctnn: the loss must be a ctnn loss, such as ctnn::loss::mse{}");
    auto scratch = std::make_unique<evaluation_scratch<typename Net::value_type, Net::input_size, Net::output_size>>();
    return detail::evaluate_with<Net, Loss>(net, data, m, *scratch);
}

}  // namespace ctnn
