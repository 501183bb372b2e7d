#pragma once
// dataset<T, In, Out>: a view of training data held in the caller's memory (nothing is copied),
// and the seeded shuffling that fit uses each epoch.
//
//   std::vector<float> x(n * 64);           // n samples of 64 features, row-major
//   std::vector<int> labels(n);             // class indices in [0, 10)
//   ctnn::dataset_for<Net> train{x, labels};                // targets: one-hot rows of width 10
//   ctnn::dataset_for<Net> reg{x, y};                       // y: n * Out values, the targets themselves
//   ctnn::dataset_for<Net> same{std::span(xs), std::span(ys)};  // or spans of tensor<T, In>, tensor<T, Out>
//
// A sample's target is either Out values, or a class index: expanded to a one-hot row of width
// Out (cross_entropy, nll), or taken as the value itself when Out == 1 (a 0/1 label for bce).
// The constructors check the sizes and the class indices and throw std::invalid_argument; after
// that, reading a sample never fails. The view does not own the data: keep it alive while in use.
//
// Shuffling is Fisher-Yates over an index array with ctnn::rng. epoch_permutation(index, seed,
// epoch) depends only on (seed, epoch), so a run resumed at epoch k sees the same batches as an
// uninterrupted one.
#include <ctnn/core/random.hpp>
#include <ctnn/core/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace ctnn {

template <class T, std::size_t In, std::size_t Out>
class dataset {
    static_assert(In > 0 && Out > 0, "ctnn: a dataset's input and target widths must be at least 1");

public:
    using value_type = T;
    static constexpr std::size_t input_size = In;
    static constexpr std::size_t target_size = Out;

    dataset() = default;  // empty: no samples (fit's "no validation set")

    // Flat row-major arrays: x holds n * In values, y n * Out.
    dataset(std::span<const T> x, std::span<const T> y)
        : x_{x.data()}, y_{y.data()}, n_{x.size() / In}, x_stride_{In}, y_stride_{Out} {
        check_inputs(x.size());
        if (y.size() != n_ * Out)
            throw std::invalid_argument("ctnn::dataset: " + std::to_string(n_) + " samples need " +
                                        std::to_string(n_ * Out) + " target values (" + std::to_string(Out) +
                                        " per sample), got " + std::to_string(y.size()));
    }

    // Flat row-major inputs and one class index per sample.
    dataset(std::span<const T> x, std::span<const int> labels)
        : x_{x.data()}, labels_{labels.data()}, n_{x.size() / In}, x_stride_{In} {
        check_inputs(x.size());
        check_labels(labels);
    }

    // Spans of tensors (a tensor may be padded for alignment: the stride is its size in T).
    dataset(std::span<const tensor<T, In>> x, std::span<const tensor<T, Out>> y)
        : x_{x.empty() ? nullptr : x.front().data()}, y_{y.empty() ? nullptr : y.front().data()}, n_{x.size()},
          x_stride_{sizeof(tensor<T, In>) / sizeof(T)}, y_stride_{sizeof(tensor<T, Out>) / sizeof(T)} {
        static_assert(sizeof(tensor<T, In>) % sizeof(T) == 0 && sizeof(tensor<T, Out>) % sizeof(T) == 0);
        if (y.size() != x.size())
            throw std::invalid_argument("ctnn::dataset: " + std::to_string(x.size()) + " input samples but " +
                                        std::to_string(y.size()) + " targets");
    }
    dataset(std::span<const tensor<T, In>> x, std::span<const int> labels)
        : x_{x.empty() ? nullptr : x.front().data()}, labels_{labels.data()}, n_{x.size()},
          x_stride_{sizeof(tensor<T, In>) / sizeof(T)} {
        check_labels(labels);
    }

    std::size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    bool has_labels() const noexcept { return labels_ != nullptr; }

    // The In features of sample i.
    const T* input(std::size_t i) const noexcept { return x_ + i * x_stride_; }
    // Sample i's class index (only with labels).
    int label(std::size_t i) const noexcept { return labels_[i]; }
    // Writes sample i's target (Out values) to t.
    void target(std::size_t i, T* t) const noexcept {
        if (labels_ == nullptr) {
            const T* y = y_ + i * y_stride_;
            for (std::size_t o = 0; o < Out; ++o) t[o] = y[o];
        } else if constexpr (Out == 1) {
            t[0] = static_cast<T>(labels_[i]);
        } else {
            for (std::size_t o = 0; o < Out; ++o) t[o] = T(0);
            t[labels_[i]] = T(1);
        }
    }

private:
    void check_inputs(std::size_t values) const {
        if (values % In != 0)
            throw std::invalid_argument("ctnn::dataset: " + std::to_string(values) +
                                        " input values are not a whole number of samples of " + std::to_string(In) +
                                        " features");
    }
    void check_labels(std::span<const int> labels) const {
        if (labels.size() != n_)
            throw std::invalid_argument("ctnn::dataset: " + std::to_string(n_) + " input samples but " +
                                        std::to_string(labels.size()) + " labels");
        // Out == 1: a binary 0/1 label; otherwise a class index into the Out outputs.
        const int classes = Out == 1 ? 2 : static_cast<int>(Out);
        for (std::size_t i = 0; i < labels.size(); ++i)
            if (labels[i] < 0 || labels[i] >= classes)
                throw std::invalid_argument("ctnn::dataset: label " + std::to_string(labels[i]) + " of sample " +
                                            std::to_string(i) + " is not a class index in [0, " +
                                            std::to_string(classes) + ")");
    }

    const T* x_ = nullptr;
    const T* y_ = nullptr;
    const int* labels_ = nullptr;
    std::size_t n_ = 0;
    std::size_t x_stride_ = In;
    std::size_t y_stride_ = Out;
};

// The dataset type whose samples fit Net: its scalar type, input width and output width.
template <class Net>
using dataset_for = dataset<typename Net::value_type, Net::input_size, Net::output_size>;

// An integer uniform in [0, bound), bound >= 1, without modulo bias: draws below 2^64 mod bound
// are rejected, so every residue has the same number of preimages.
inline std::uint64_t uniform_index(rng& generator, std::uint64_t bound) noexcept {
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t r = generator.next();
        if (r >= threshold) return r % bound;
    }
}

// Fisher-Yates: every permutation of index equally likely.
template <class I, std::size_t Extent>
void shuffle(std::span<I, Extent> index, rng& generator) noexcept {
    for (std::size_t i = index.size(); i > 1; --i) {
        const std::size_t j = static_cast<std::size_t>(uniform_index(generator, i));
        const I t = index[i - 1];
        index[i - 1] = index[j];
        index[j] = t;
    }
}

// The order of the samples in epoch `epoch` of a run seeded with `seed`: 0..n-1 shuffled by a
// generator seeded with the (epoch + 1)-th output of rng(seed). Depends on (seed, epoch) only.
template <class I, std::size_t Extent>
void epoch_permutation(std::span<I, Extent> index, std::uint64_t seed, std::size_t epoch) noexcept {
    for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<I>(i);
    // SplitMix64's k-th output is mix(seed + k gamma): epoch seeds well spread over 2^64, whose
    // streams do not overlap in practice (consecutive raw seeds would give shifted copies).
    rng seeder{seed + static_cast<std::uint64_t>(epoch) * 0x9e3779b97f4a7c15ULL};
    rng generator{seeder.next()};
    shuffle(index, generator);
}

}  // namespace ctnn
