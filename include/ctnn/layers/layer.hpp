#pragma once
// The layer concept: what the core (sequence, network, initializers, and later backprop, trainer
// and io) may ask of a layer, and the few helpers every layer header shares.
//
// A layer *spec* is an empty, structural tag used as a value in the layer list (dense<8>, tanh,
// residual<...>): network<float, input<2>, dense<8>, tanh, dense<1>>. It states its output width as
// a function of its input width (users never repeat a size) and binds, given the scalar type and
// the input width and the widest register it may use (Lanes; 1 is the scalar path the tests
// compare every kernel against), to a *layer*: a stateless type with static kernels over a slice
// of the network's parameter block.
//
// A layer L = Spec::bind<T, In, Lanes> has
//   value_type, in, out                      scalar type, input and output widths
//   forward(p, b, x, y)                      one sample: y[0, out) = f(x[0, in)); may read and write
//                                            up to padded(in) / padded(out) elements of internal buffers
//   forward_batch<B, XS, YS>(p, b, x, y)     B samples, rows of strides XS and YS
//   backward<B, XS, YS, DXS, NeedDx>(p, b, x, y, dy, dx, gp)
//                                            accumulates dL/dparameters into gp and, when NeedDx,
//                                            writes dL/dx (rows of stride DXS, padding zero)
// and optionally (detected with requires; absent means zero / none)
//   param_size, param_align                  elements it owns in the parameter block, their alignment
//   buffer_size, buffer_align                elements it owns in the buffer block (running statistics)
//   reset_buffers(b)                         the buffers' initial values (PyTorch's reset_running_stats)
//   parameter_count                          trainable scalars, as PyTorch counts them
//   flops                                    forward FLOPs per sample (2 per multiply-add, 1 per
//                                            bias add or activation)
//   for_each_tensor(p, f)                    its parameters as named strided views, in state_dict order
//   for_each_buffer(b, f)                    its buffers, the same way
//   initialize(p, scheme, rng)               how an initialization scheme applies to it
//   view<P>{p} or view<P>{p, b}              what net.layer<I>() returns (parameters, buffers)
//   elementwise + apply(v)                   an elementwise activation, fusable into a preceding dense
// Training behaviour that differs from inference (dropout's mask, batch statistics, a nested list):
//   has_forward_train + forward_train<B, XS, YS>(p, b, x, y, cache, ctx)
//                                            the training forward (may update buffers, draw from
//                                            ctx.generator); without it training uses forward_batch.
//                                            Such a layer gets its cache back in backward:
//                                            backward<...>(p, b, x, y, dy, dx, gp, cache)
//   cache_size<B>                            elements of the training workspace it keeps from its
//                                            training forward for its backward pass, for a batch of B
//   stochastic                               true when its training forward draws random numbers
//   min_training_batch                       the smallest batch its training forward accepts
//   couples_samples                          true when one sample's output depends on the others of
//                                            its batch in training (batch statistics): backprop
//                                            then runs the whole batch in one pass
#include <ctnn/core/random.hpp>
#include <ctnn/core/simd.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace ctnn {

// input<N>: the first entry of every layer list; N features per sample. Not a layer.
template <std::size_t N>
struct input_t {
    static_assert(N > 0, "ctnn: input<N> needs at least one feature: N must be > 0");
    static constexpr std::size_t size = N;
};
template <std::size_t N>
inline constexpr input_t<N> input{};

template <class S>
inline constexpr bool is_input_v = false;
template <std::size_t N>
inline constexpr bool is_input_v<input_t<N>> = true;

template <class S>
concept layer_spec = std::is_empty_v<S> && requires {
    { S::out_width(std::size_t{1}) } -> std::same_as<std::size_t>;
    typename S::template bind<float, 1, 1>;
};

namespace detail {

constexpr std::size_t round_up(std::size_t n, std::size_t m) noexcept { return (n + m - 1) / m * m; }

// A feature vector of width n inside ctnn is stored padded to whole registers of width_for(n).
template <class T, std::size_t Lanes>
constexpr std::size_t padded(std::size_t n) noexcept { return round_up(n, simd::width_for<T>(n, Lanes)); }

// Optional members of a layer, with their defaults.
template <class L>
constexpr std::size_t param_size_of() noexcept {
    if constexpr (requires { L::param_size; }) return L::param_size; else return 0;
}
template <class L>
constexpr std::size_t param_align_of() noexcept {
    if constexpr (requires { L::param_align; }) return L::param_align; else return 1;
}
template <class L>
constexpr std::size_t buffer_size_of() noexcept {
    if constexpr (requires { L::buffer_size; }) return L::buffer_size; else return 0;
}
template <class L>
constexpr std::size_t buffer_align_of() noexcept {
    if constexpr (requires { L::buffer_align; }) return L::buffer_align; else return 1;
}
template <class L, std::size_t B>
constexpr std::size_t cache_size_of() noexcept {
    if constexpr (requires { L::template cache_size<B>; }) return L::template cache_size<B>; else return 0;
}
template <class L>
constexpr bool stochastic_of() noexcept {
    if constexpr (requires { L::stochastic; }) return L::stochastic; else return false;
}
template <class L>
constexpr bool couples_samples_of() noexcept {
    if constexpr (requires { L::couples_samples; }) return L::couples_samples; else return false;
}
template <class L>
constexpr std::size_t min_training_batch_of() noexcept {
    if constexpr (requires { L::min_training_batch; }) return L::min_training_batch; else return 1;
}
template <class L>
concept has_training_forward = requires { L::has_forward_train; };
template <class L>
constexpr std::size_t parameter_count_of() noexcept {
    if constexpr (requires { L::parameter_count; }) return L::parameter_count; else return 0;
}
template <class L>
constexpr std::size_t flops_of() noexcept {
    if constexpr (requires { L::flops; }) return L::flops; else return 0;
}
template <class L>
concept fusable_activation = requires { requires L::elementwise; };
// The epilogue of a kernel that applies no activation.
struct no_epilogue {
    template <class V>
    static constexpr V apply(V v) noexcept { return v; }
};

// The view net.layer<I>() returns: layers with buffers take both blocks.
template <class L, class P>
constexpr auto make_view(P* p, P* b) noexcept {
    using V = typename L::template view<P>;
    if constexpr (requires { V{p, b}; }) return V{p, b}; else return V{p};
}

}  // namespace detail

// What the training forward of a layer may use besides its inputs: the generator of random
// layers (dropout). The trainer owns it; backprop takes it from the caller.
struct train_context {
    rng* generator = nullptr;
};

// Where a layer sits in a (possibly nested) layer list: {3, 0} is the first layer inside the
// residual block at index 3, whose weight PyTorch names "3.0.weight".
struct layer_path {
    static constexpr std::size_t max_depth = 8;
    std::array<std::size_t, max_depth> index{};
    std::size_t depth = 0;

    constexpr layer_path child(std::size_t i) const noexcept {
        layer_path p = *this;
        if (p.depth < max_depth) p.index[p.depth++] = i;
        return p;
    }
    // "3.0" (allocates: for io and diagnostics, never for hot paths).
    template <class String>
    String str() const {
        String s;
        for (std::size_t d = 0; d < depth; ++d) {
            if (d) s += '.';
            s += std::to_string(index[d]);
        }
        return s;
    }
};

// What a named tensor of a layer holds: a trainable parameter, a buffer of T values (running
// statistics), or a counter (PyTorch's int64 num_batches_tracked, a rank-0 tensor).
enum class tensor_kind : unsigned char { parameter, buffer, counter };

// A named tensor of a layer, seen through strides in PyTorch's logical layout: element (r, c) of
// a [rows, cols] tensor is base[r * row_stride + c * col_stride]. Rank 1 tensors have cols == 1.
// P is T or const T. A counter (rank 0) is an int64 kept in the bytes at base: counter() and
// set_counter() read and write it.
template <class P>
struct param_tensor {
    std::string_view name;  // the state_dict suffix: "weight", "bias", "running_mean", ...
    std::size_t rank;
    std::array<std::size_t, 2> shape;
    P* base;
    std::size_t row_stride;
    std::size_t col_stride;
    tensor_kind kind = tensor_kind::parameter;

    std::int64_t counter() const noexcept {
        std::int64_t v;
        std::memcpy(&v, base, sizeof v);
        return v;
    }
    void set_counter(std::int64_t v) const noexcept
        requires(!std::is_const_v<P>)
    {
        std::memcpy(base, &v, sizeof v);
    }

    constexpr std::size_t size() const noexcept { return rank == 0 ? 1 : shape[0] * (rank == 2 ? shape[1] : 1); }
    constexpr P& operator()(std::size_t r, std::size_t c = 0) const noexcept {
        return base[r * row_stride + c * col_stride];
    }
    // Row-major logical index, as in a PyTorch tensor's flat storage.
    constexpr P& flat(std::size_t i) const noexcept {
        return rank == 2 ? (*this)(i / shape[1], i % shape[1]) : (*this)(i);
    }
};

}  // namespace ctnn
