#pragma once
// residual<Specs...>: y = x + f(x), where f is the layer list Specs... (a nested nn.Sequential).
//
//   using Net = ctnn::network<float, ctnn::input<4>, ctnn::dense<16>, ctnn::relu,
//                             ctnn::residual<ctnn::dense<16>, ctnn::relu, ctnn::dense<16>>,   // layer 2
//                             ctnn::dense<1>>;
//   net.layer<2>().layer<0>().weight(o, i);   // the first dense of the branch: "2.0.weight"
//
// The branch must keep the width (its output adds to its input); a branch that changes it does not
// compile, and the message shows both widths. Blocks nest: a branch may hold residual blocks. The
// branch is a sequence like the network's, so everything a layer has (parameters, buffers, training
// behaviour, fusion of activations into dense kernels) works inside it unchanged. In PyTorch the
// block is a module whose forward is x + self.f(x), with f's layers registered as "0", "1", ...
// (so the state_dict keys match an nn.Sequential nested at the block's index).
#include <ctnn/layers/layer.hpp>
#include <ctnn/sequence.hpp>

#include <cstddef>
#include <type_traits>

namespace ctnn {

namespace detail {

template <class T, std::size_t In, std::size_t Lanes, auto... Specs>
struct residual_layer {
    using branch = sequence<T, In, Lanes, Specs...>;
    static_assert(branch::out == In,
                  "ctnn: a residual branch must keep the width, since its output is added to its input: "
                  "the branch's output width (left) differs from the block's input width (right)");
    using value_type = T;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = In;
    static constexpr std::size_t width = padded<T, Lanes>(In);

    static constexpr std::size_t param_size = branch::param_size;
    static constexpr std::size_t param_align = branch::param_align;
    static constexpr std::size_t buffer_size = branch::buffer_size;
    static constexpr std::size_t buffer_align = branch::buffer_align;
    static constexpr std::size_t parameter_count = branch::parameter_count;
    static constexpr std::size_t flops = branch::flops + In;  // the branch, and the addition
    static constexpr bool has_forward_train = true;
    static constexpr bool stochastic = branch::stochastic;
    static constexpr bool couples_samples = branch::couples_samples;
    static constexpr std::size_t min_training_batch = branch::min_training_batch;
    template <std::size_t B>
    static constexpr std::size_t cache_size = branch::template activation_size<B>;  // the branch's workspace

    static constexpr void forward(const T* p, const T* b, const T* x, T* y) noexcept {
        branch::forward(p, b, x, y);
        for (std::size_t k = 0; k < width; ++k) y[k] += x[k];
    }
    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_batch(const T* p, const T* b, const T* x, T* y) noexcept {
        branch::template forward_batch<B, XS, YS>(p, b, x, y);
        for (std::size_t s = 0; s < B; ++s)
            for (std::size_t k = 0; k < width; ++k) y[s * YS + k] += x[s * XS + k];
    }

    template <std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void forward_train(const T* p, T* b, const T* x, T* y, T* cache,
                                        const train_context& ctx) noexcept {
        branch::template forward_train<B, XS>(p, b, x, cache, ctx);
        const T* f = branch::template train_output<B>(cache);
        for (std::size_t s = 0; s < B; ++s)
            for (std::size_t k = 0; k < width; ++k) y[s * YS + k] = f[s * width + k] + x[s * XS + k];
    }
    // dL/dx = dL/dy + the branch's dL/dx.
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static constexpr void backward(const T* p, const T* b, const T* x, const T*, const T* dy, T* dx, T* gp,
                                   const T* cache) noexcept {
        static_assert(YS == width && DXS == width, "the branch's gradients have the sequence's strides");
        branch::template backward<B, XS, NeedDx>(p, b, x, cache, dy, dx, gp);
        if constexpr (NeedDx)
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t k = 0; k < width; ++k) dx[s * DXS + k] += dy[s * YS + k];
    }

    template <class P, class F>
    static constexpr void for_each_tensor(P* p, F&& f, const layer_path& path) {
        branch::for_each_tensor(p, f, path);
    }
    template <class P, class F>
    static constexpr void for_each_buffer(P* b, F&& f, const layer_path& path) {
        branch::for_each_buffer(b, f, path);
    }
    static constexpr void reset_buffers(T* b) noexcept { branch::reset_buffers(b); }
    template <class Scheme>
    static constexpr void initialize(T* p, const Scheme& scheme, rng& r) {
        branch::initialize(p, scheme, r);
    }

    template <class P>
    struct view {
        P* p;
        P* b;  // null in the gradients, which have no buffers
        static constexpr std::size_t layer_count = branch::count;
        // The branch's layer I, numbered from 0 like a nested nn.Sequential.
        template <std::size_t I>
        constexpr auto layer() const noexcept {
            static_assert(I < branch::count,
                          "ctnn: layer<I> is out of range for this residual block: its branch's layers are "
                          "numbered from 0");
            if constexpr (I < branch::count)
                return make_view<typename branch::template layer_t<I>>(
                    p + branch::param_offsets[I], b ? b + branch::buffer_offsets[I] : b);
            else
                return view{p, b};
        }
    };
};

}  // namespace detail

template <auto... Specs>
struct residual_t {
    static_assert(sizeof...(Specs) > 0, "ctnn: residual<...> needs at least one layer in its branch");
    static_assert((layer_spec<std::remove_cvref_t<decltype(Specs)>> && ...),
                  "ctnn: every entry of residual<...> must be a layer (dense<N>, an activation such as "
                  "ctnn::relu, ...); input<N> belongs only at the start of a network");
    static constexpr std::size_t out_width(std::size_t in) noexcept { return in; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::residual_layer<T, In, Lanes, Specs...>;
};
template <auto... Specs>
inline constexpr residual_t<Specs...> residual{};

}  // namespace ctnn
