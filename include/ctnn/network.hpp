#pragma once
// network<T, input<N>, Specs...>: a neural network whose topology is its type.
//
// Layers are numbered like a PyTorch nn.Sequential: input<N> is not a layer, every other entry
// (activations included) is one. The network owns its parameters in one aligned block (and the
// buffers of layers that have some, such as running statistics) and nothing else: sizeof(network)
// is its (padded) parameters. Gradients, caches and optimizer state belong to the trainer.
//
//   using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>>;
//   Net net{};                                   // every parameter zero
//   ctnn::init::xavier_uniform(net, 42);
//   ctnn::tensor<float, 1> y = net.forward(ctnn::tensor<float, 2>{0.5f, 0.3f});
//   float w = net.layer<0>().weight(3, 1);       // PyTorch's [out][in] layout
//
// forward is inference behaviour; it never allocates, throws or locks.
#include <ctnn/core/tensor.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/layer.hpp>
#include <ctnn/parameters.hpp>
#include <ctnn/sequence.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

namespace ctnn {

namespace detail {

template <auto... Specs>
struct first_spec {
    using type = void;
};
template <auto First, auto... Rest>
struct first_spec<First, Rest...> {
    using type = std::remove_cvref_t<decltype(First)>;
};

template <class T, auto... Specs>
struct network_traits {
    using first = typename first_spec<Specs...>::type;
    static constexpr bool scalar_ok = std::is_same_v<T, float> || std::is_same_v<T, double>;
    static constexpr bool starts_with_input = is_input_v<first>;
    static constexpr bool specs_ok = [] {
        if constexpr (sizeof...(Specs) == 0) {
            return false;
        } else {
            bool ok = true, head = true;
            ((ok = ok && (head ? is_input_v<std::remove_cvref_t<decltype(Specs)>>
                               : layer_spec<std::remove_cvref_t<decltype(Specs)>>),
              head = false),
             ...);
            return ok;
        }
    }();
    static constexpr bool has_layers = sizeof...(Specs) > 1;
    static constexpr bool valid = scalar_ok && starts_with_input && specs_ok && has_layers;
};

// The checks run in a base class that is instantiated before anything else of the network, so the
// first error a user sees is one of these messages.
template <class T, auto... Specs>
struct network_checks {
    using traits = network_traits<T, Specs...>;
    static_assert(traits::scalar_ok, "ctnn: a network's scalar type must be float or double");
    static_assert(sizeof...(Specs) > 0 && traits::starts_with_input,
                  "ctnn: a network's layer list must start with input<N>, the number of input features");
    static_assert(!traits::starts_with_input || traits::specs_ok,
                  "ctnn: every entry after input<N> must be a layer (dense<N>, an activation such as "
                  "ctnn::tanh, ...); input<N> may appear only first");
    static_assert(!traits::starts_with_input || traits::has_layers,
                  "ctnn: a network needs at least one layer after input<N>");
};

template <class T, bool Valid, auto... Specs>
struct sequence_of {
    using type = sequence<float, 1, 1, dense_t<1>{}>;  // stands in for an invalid list, so one error shows
};
template <class T, auto First, auto... Rest>
struct sequence_of<T, true, First, Rest...> {
    using type = sequence<T, std::remove_cvref_t<decltype(First)>::size, simd::native_width<T>, Rest...>;
};

}  // namespace detail

template <class T, auto... Specs>
class network : detail::network_checks<T, Specs...>,
                public detail::parameter_store<typename detail::sequence_of<
                    T, detail::network_traits<T, Specs...>::valid, Specs...>::type, true> {
    using seq = typename detail::sequence_of<T, detail::network_traits<T, Specs...>::valid, Specs...>::type;
    using store = detail::parameter_store<seq, true>;
    using value = typename seq::value_type;

public:
    using value_type = T;
    using sequence_type = seq;
    // The gradients of this network's parameters: same layout, same layer<I>() views.
    using gradients = detail::parameter_store<seq>;

    static constexpr std::size_t input_size = seq::in;
    static constexpr std::size_t output_size = seq::out;
    static constexpr std::size_t layer_count = seq::count;
    static constexpr std::size_t parameter_count = seq::parameter_count;  // as PyTorch counts them
    static constexpr std::size_t forward_flops = seq::flops;              // per sample
    static constexpr std::size_t parameter_block_size = seq::param_size;  // storage, with padding
    static constexpr std::size_t buffer_block_size = seq::buffer_size;
    // Training behaviour of the layers: random layers (dropout) need a generator in training,
    // batch statistics (batch_norm) need a batch of at least min_training_batch samples.
    static constexpr bool stochastic = seq::stochastic;
    static constexpr std::size_t min_training_batch = seq::min_training_batch;

    template <std::size_t I>
    using layer_type = typename seq::template layer_t<I>;

    // Inference on one sample tensor<T, In> or a batch tensor<T, B, In>.
    template <class U, std::size_t... D>
    auto forward(const tensor<U, D...>& x) const noexcept {
        static_assert(std::is_same_v<U, T>, "ctnn: the input's scalar type differs from the network's (float vs double)");
        static_assert(sizeof...(D) == 1 || sizeof...(D) == 2,
                      "ctnn: forward takes one sample tensor<T, In> or a batch tensor<T, Batch, In>");
        static_assert(tensor<U, D...>::shape[sizeof...(D) - 1] == input_size,
                      "ctnn: the input's feature count differs from the network's input<N>");
        if constexpr (!std::is_same_v<U, T> || tensor<U, D...>::shape[sizeof...(D) - 1] != input_size) {
            return tensor<value, output_size>{};
        } else if constexpr (sizeof...(D) == 1) {
            tensor<value, output_size> y;
            forward_one(x.data(), y.data());
            return y;
        } else {
            constexpr std::size_t B = tensor<U, D...>::shape[0];
            tensor<value, B, output_size> y;
            forward_many<B>(x.data(), y.data());
            return y;
        }
    }
    template <class U, std::size_t... D>
    auto operator()(const tensor<U, D...>& x) const noexcept {
        return forward(x);
    }

    // Raw-pointer inference for callers that hold their own storage: x has input_size values,
    // y receives output_size values.
    void forward(const value* x, value* y) const noexcept { forward_one(x, y); }

    friend constexpr bool operator==(const network& a, const network& b) noexcept {
        return static_cast<const store&>(a) == static_cast<const store&>(b);
    }

private:
    static constexpr std::size_t out_padded = detail::padded<value, seq::lanes>(output_size);
    static constexpr std::size_t batch_chunk = 32;  // samples per pass through the network

    const value* params() const noexcept { return this->parameter_block().data(); }

    void forward_one(const value* x, value* y) const noexcept {
        if constexpr (out_padded == output_size) {
            seq::forward(params(), this->buffer_data(), x, y);
        } else {
            alignas(64) value yp[out_padded];
            seq::forward(params(), this->buffer_data(), x, yp);
            std::memcpy(y, yp, output_size * sizeof(value));
        }
    }

    template <std::size_t B>
    void forward_many(const value* x, value* y) const noexcept {
        constexpr std::size_t C = B < batch_chunk ? B : batch_chunk;
        for (std::size_t s = 0; s + C <= B; s += C) chunk<C>(x + s * input_size, y + s * output_size);
        if constexpr (B % C != 0) chunk<B % C>(x + (B - B % C) * input_size, y + (B - B % C) * output_size);
    }
    template <std::size_t C>
    void chunk(const value* x, value* y) const noexcept {
        if constexpr (out_padded == output_size) {
            seq::template forward_batch<C, input_size>(params(), this->buffer_data(), x, y);
        } else {
            alignas(64) value yp[C * out_padded];
            seq::template forward_batch<C, input_size>(params(), this->buffer_data(), x, yp);
            for (std::size_t s = 0; s < C; ++s)
                std::memcpy(y + s * output_size, yp + s * out_padded, output_size * sizeof(value));
        }
    }
};

}  // namespace ctnn
