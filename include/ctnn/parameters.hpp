#pragma once
// parameter_store<Seq>: the parameters of a layer list in one aligned block, with PyTorch's
// logical view of each layer. A network holds one for its parameters; Net::gradients is one for the
// gradients, so g.layer<I>().weight(o, i) reads dL/dW exactly where net.layer<I>().weight(o, i)
// reads W, and optimizers update both blocks element by element in one pass.
#include <ctnn/layers/layer.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

namespace ctnn::detail {

// What layer<I>() returns for an I out of range, after its static_assert: accepts the usual calls
// so that the one ctnn: message is the only error.
template <class T>
struct invalid_layer_view {
    static T& dummy() noexcept {
        static T d{};
        return d;
    }
    T& weight(std::size_t, std::size_t) const noexcept { return dummy(); }
    T& bias(std::size_t) const noexcept { return dummy(); }
};

// The padding of a sequence's parameter block: the gaps between the runs of elements that hold a
// parameter. Runs come from the tensors' strides (a dense weight stored [in][P] is one run of out
// elements per input), so this is cheap to evaluate at compile time even for large layers.
// Calls gap(begin, end) for each gap, in order.
template <class Seq, class Gap>
constexpr void for_each_padding_gap(Gap&& gap) {
    using T = typename Seq::value_type;
    constexpr std::size_t n = Seq::param_size;
    std::array<T, n == 0 ? 1 : n> block{};
    std::size_t covered = 0;  // end of the parameters seen so far (runs arrive in ascending order)
    auto run = [&](std::size_t begin, std::size_t end) {
        if (begin > covered) gap(covered, begin);
        covered = end > covered ? end : covered;
    };
    Seq::for_each_tensor(block.data(), [&](const layer_path&, const auto& t) {
        const std::size_t base = static_cast<std::size_t>(t.base - block.data());
        const std::size_t rows = t.shape[0], cols = t.rank == 2 ? t.shape[1] : 1;
        if (t.rank == 1 || t.row_stride == 1) {  // columns are contiguous runs of rows elements
            for (std::size_t c = 0; c < cols; ++c) run(base + c * t.col_stride, base + c * t.col_stride + rows);
        } else if (t.col_stride == 1) {  // rows are contiguous runs of cols elements
            for (std::size_t r = 0; r < rows; ++r) run(base + r * t.row_stride, base + r * t.row_stride + cols);
        } else {
            for (std::size_t r = 0; r < rows; ++r)
                for (std::size_t c = 0; c < cols; ++c) {
                    const std::size_t at = base + r * t.row_stride + c * t.col_stride;
                    run(at, at + 1);
                }
        }
    });
    if (covered < n) gap(covered, n);
}

// Storage that vanishes when empty (a network without buffers pays nothing for them).
template <class T, std::size_t N, std::size_t Align>
struct block {
    alignas(Align) T values[N]{};
    constexpr T* data() noexcept { return values; }
    constexpr const T* data() const noexcept { return values; }
};
template <class T, std::size_t Align>
struct block<T, 0, Align> {
    constexpr T* data() noexcept { return nullptr; }
    constexpr const T* data() const noexcept { return nullptr; }
};

// Buffers: a network keeps its layers' buffers (running statistics) beside its parameters;
// gradients have none.
template <class Seq, bool Buffers = false>
class parameter_store {
public:
    using value_type = typename Seq::value_type;
    using sequence_type = Seq;
    static constexpr std::size_t layer_count = Seq::count;
    static constexpr std::size_t parameter_count = Seq::parameter_count;  // as PyTorch counts them
    static constexpr std::size_t block_size = Seq::param_size;            // storage, with padding
    static constexpr std::size_t buffer_block_size = Buffers ? Seq::buffer_size : 0;

    // Every parameter zero; buffers at their initial values (batch norm's running_var is 1).
    constexpr parameter_store() noexcept {
        if constexpr (buffer_block_size > 0) Seq::reset_buffers(buffers_.data());
    }

    // Parameters of layer I in PyTorch's logical layout: layer<0>().weight(o, i), .bias(o).
    template <std::size_t I>
    constexpr auto layer() noexcept {
        static_assert(I < layer_count,
                      "ctnn: layer<I> is out of range: layers are numbered from 0 like an nn.Sequential, "
                      "input<N> is not a layer");
        if constexpr (I < layer_count)
            return make_view<typename Seq::template layer_t<I>>(values_ + Seq::param_offsets[I],
                                                                buffer_at(Seq::buffer_offsets[I]));
        else
            return invalid_layer_view<value_type>{};
    }
    template <std::size_t I>
    constexpr auto layer() const noexcept {
        static_assert(I < layer_count,
                      "ctnn: layer<I> is out of range: layers are numbered from 0 like an nn.Sequential, "
                      "input<N> is not a layer");
        if constexpr (I < layer_count)
            return make_view<typename Seq::template layer_t<I>>(static_cast<const value_type*>(values_ + Seq::param_offsets[I]),
                                                                buffer_at(Seq::buffer_offsets[I]));
        else
            return invalid_layer_view<const value_type>{};
    }

    // Visits every tensor as f(layer_path, param_tensor) in state_dict order; the state_dict key is
    // path.str() + "." + tensor.name ("0.weight", "3.0.bias", ...).
    template <class F>
    constexpr void for_each_parameter(F&& f) { Seq::for_each_tensor(values_, f); }
    template <class F>
    constexpr void for_each_parameter(F&& f) const { Seq::for_each_tensor(static_cast<const value_type*>(values_), f); }

    // Visits every buffer the same way (running_mean, running_var, num_batches_tracked); the
    // gradients of a network have none.
    template <class F>
    constexpr void for_each_buffer(F&& f) {
        if constexpr (buffer_block_size > 0) Seq::for_each_buffer(buffers_.data(), f);
    }
    template <class F>
    constexpr void for_each_buffer(F&& f) const {
        if constexpr (buffer_block_size > 0) Seq::for_each_buffer(buffers_.data(), f);
    }
    constexpr std::span<value_type, buffer_block_size> buffer_block() noexcept {
        return std::span<value_type, buffer_block_size>(buffers_.data(), buffer_block_size);
    }
    constexpr std::span<const value_type, buffer_block_size> buffer_block() const noexcept {
        return std::span<const value_type, buffer_block_size>(buffers_.data(), buffer_block_size);
    }
    constexpr value_type* buffer_data() noexcept { return buffers_.data(); }
    constexpr const value_type* buffer_data() const noexcept { return buffers_.data(); }
    // Buffers back to their initial values (PyTorch's reset_running_stats).
    constexpr void reset_buffers() noexcept {
        if constexpr (buffer_block_size > 0) Seq::reset_buffers(buffers_.data());
    }

    // The whole block, padding included (padding is zero and stays zero).
    constexpr std::span<value_type, block_size> parameter_block() noexcept {
        return std::span<value_type, block_size>(values_, block_size);
    }
    constexpr std::span<const value_type, block_size> parameter_block() const noexcept {
        return std::span<const value_type, block_size>(values_, block_size);
    }

    constexpr void zero() noexcept { std::fill(values_, values_ + block_size, value_type(0)); }

    // The padding of the block (elements that hold no parameter) as [begin, end) ranges. Padding
    // must stay zero: kernels read whole registers. Optimizer updates keep it zero except in
    // degenerate settings (eps = 0 gives 0 / 0 there), so the trainer re-zeroes it after each step.
    static constexpr std::size_t padding_range_count = [] {
        std::size_t count = 0;
        for_each_padding_gap<Seq>([&](std::size_t, std::size_t) { ++count; });
        return count;
    }();
    static constexpr auto padding_ranges = [] {
        std::array<std::array<std::size_t, 2>, padding_range_count> r{};
        std::size_t k = 0;
        for_each_padding_gap<Seq>([&](std::size_t b, std::size_t e) { r[k++] = {b, e}; });
        return r;
    }();
    constexpr void zero_padding() noexcept {
        for (const auto& r : padding_ranges) std::fill(values_ + r[0], values_ + r[1], value_type(0));
    }

    friend constexpr bool operator==(const parameter_store& a, const parameter_store& b) noexcept {
        return std::equal(a.values_, a.values_ + block_size, b.values_) &&
               std::equal(a.buffers_.data(), a.buffers_.data() + buffer_block_size, b.buffers_.data());
    }

private:
    constexpr value_type* buffer_at(std::size_t offset) noexcept {
        if constexpr (buffer_block_size > 0) return buffers_.data() + offset; else return nullptr;
    }
    constexpr const value_type* buffer_at(std::size_t offset) const noexcept {
        if constexpr (buffer_block_size > 0) return buffers_.data() + offset; else return nullptr;
    }

    static constexpr std::size_t alignment = std::max<std::size_t>(64, Seq::param_align * sizeof(value_type));
    alignas(alignment) value_type values_[block_size == 0 ? 1 : block_size]{};  // a network of activations only has none
    [[no_unique_address]] block<value_type, buffer_block_size, 64> buffers_;
};

}  // namespace ctnn::detail
