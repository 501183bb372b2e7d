#pragma once
// Backpropagation: the loss of a network on one sample or a compile-time batch, and the gradient of
// that loss with respect to every parameter (and, when asked, to the input).
//
//   Net::gradients g{};                                           // zero
//   T loss = ctnn::backprop(net, ctnn::loss::mse{}, x, y, g);     // g += dL/dtheta
//   T loss = ctnn::backprop(net, ctnn::loss::mse{}, x, y, g, dx); // and dx = dL/dx
//   ctnn::backward(net, x, dy, g, dx);                            // from an upstream gradient dy = dL/d(output)
//
// Training behaviour (the layers' training forward), PyTorch's semantics: the loss is reduced by
// 'mean', so a batch's gradients are the mean over its samples. Gradients accumulate like
// PyTorch's .grad: call g.zero() between steps. Never allocates, throws or locks: the activations
// live on the stack (about B x the sum of the layer widths) for the duration of the call.
#include <ctnn/core/tensor.hpp>
#include <ctnn/loss/loss.hpp>
#include <ctnn/network.hpp>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace ctnn {

namespace detail {

template <class Net, class X>
struct batch_of;
template <class Net, class U, std::size_t... D>
struct batch_of<Net, tensor<U, D...>> {
    static constexpr std::size_t rank = sizeof...(D);
    static constexpr std::size_t features = tensor<U, D...>::shape[rank - 1];
    static constexpr std::size_t size = rank == 2 ? tensor<U, D...>::shape[0] : 1;
    static constexpr bool valid = std::is_same_v<U, typename Net::value_type> && (rank == 1 || rank == 2) &&
                                  features == Net::input_size;
};

template <class Net, class X>
constexpr bool check_input() {
    using T = typename Net::value_type;
    using info = batch_of<Net, X>;
    static_assert(std::is_same_v<typename X::value_type, T>,
                  "ctnn: the input's scalar type differs from the network's (float vs double)");
    static_assert(info::rank == 1 || info::rank == 2,
                  "ctnn: the input must be one sample tensor<T, In> or a batch tensor<T, Batch, In>");
    static_assert(info::features == Net::input_size,
                  "ctnn: the input's feature count differs from the network's input<N>");
    return info::valid;
}

template <class X>
inline constexpr std::size_t batch_dim = X::rank == 2 ? X::shape[0] : 1;

// The target (or the upstream gradient) has the output's shape: [out] for a sample, [B, out] for a batch.
template <class Net, class X, class Y>
constexpr bool check_output_like() {
    using T = typename Net::value_type;
    static_assert(std::is_same_v<typename Y::value_type, T>,
                  "ctnn: the target's scalar type differs from the network's (float vs double)");
    static_assert(Y::rank == X::rank, "ctnn: the target must be a sample when the input is a sample, a batch when it is a batch");
    static_assert(Y::shape[Y::rank - 1] == Net::output_size,
                  "ctnn: the target's width differs from the network's output width");
    static_assert(batch_dim<Y> == batch_dim<X>, "ctnn: the target's batch size differs from the input's");
    return std::is_same_v<typename Y::value_type, T> && Y::rank == X::rank &&
           Y::shape[Y::rank - 1] == Net::output_size && batch_dim<Y> == batch_dim<X>;
}

// The shared body: forward in training mode, then either a loss gives dL/dy or the caller does.
template <class Net, class Loss, class X, class Y, class DX>
typename Net::value_type run_backprop(Net& net, const X& x, const Y& y, typename Net::gradients& g,
                                      DX* dx) noexcept {
    using T = typename Net::value_type;
    using seq = typename Net::sequence_type;
    constexpr std::size_t B = batch_of<Net, X>::size;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size;
    constexpr std::size_t out_stride = padded<T, seq::lanes>(Out), in_stride = padded<T, seq::lanes>(In);

    alignas(64) T acts[seq::template activation_size<B> + 1];
    alignas(64) T dy[B * out_stride];
    // The training forward may update the network's buffers (batch norm's running statistics),
    // as a PyTorch module in train() mode does; hence the network is taken by reference.
    T* buffers = net.buffer_data();
    seq::template forward_train<B, In>(net.parameter_block().data(), buffers, x.data(), acts);
    const T* out = acts + seq::template activation_offsets<B>[seq::count - 1];

    T loss = T(0);
    if constexpr (std::is_void_v<Loss>) {  // y is dL/d(output)
        for (std::size_t s = 0; s < B; ++s) {
            std::memcpy(dy + s * out_stride, y.data() + s * Out, Out * sizeof(T));
            for (std::size_t o = Out; o < out_stride; ++o) dy[s * out_stride + o] = T(0);
        }
    } else {
        loss = Loss::template evaluate<T, B, Out>(out, out_stride, y.data(), dy, out_stride);
    }

    if constexpr (std::is_void_v<DX>) {
        seq::template backward<B, In, false>(net.parameter_block().data(), buffers, x.data(), acts, dy, nullptr,
                                             g.parameter_block().data());
    } else {
        alignas(64) T dxp[B * in_stride];
        seq::template backward<B, In, true>(net.parameter_block().data(), buffers, x.data(), acts, dy, dxp,
                                            g.parameter_block().data());
        for (std::size_t s = 0; s < B; ++s) std::memcpy(dx->data() + s * In, dxp + s * in_stride, In * sizeof(T));
    }
    return loss;
}

}  // namespace detail

// Loss of net on (x, y), and dL/dtheta accumulated into g.
template <class Net, class Loss, class X, class Y>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y,
                                  typename Net::gradients& g) noexcept {
    if constexpr (detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>())
        return detail::run_backprop<Net, Loss, X, Y, void>(net, x, y, g, nullptr);
    else
        return typename Net::value_type(0);
}

// The same, and dL/dx written into dx (the input's shape): what chaining networks needs.
template <class Net, class Loss, class X, class Y>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y, typename Net::gradients& g,
                                  X& dx) noexcept {
    if constexpr (detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>())
        return detail::run_backprop<Net, Loss, X, Y, X>(net, x, y, g, &dx);
    else
        return typename Net::value_type(0);
}

// Backward from an upstream gradient dy = dL/d(output) (the output's shape): g += dL/dtheta, and
// dx = dL/dx when given. For the first network of a chain, dy is the second network's dx.
template <class Net, class X, class Y>
void backward(Net& net, const X& x, const Y& dy, typename Net::gradients& g) noexcept {
    if constexpr (detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>())
        detail::run_backprop<Net, void, X, Y, void>(net, x, dy, g, nullptr);
}
template <class Net, class X, class Y>
void backward(Net& net, const X& x, const Y& dy, typename Net::gradients& g, X& dx) noexcept {
    if constexpr (detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>())
        detail::run_backprop<Net, void, X, Y, X>(net, x, dy, g, &dx);
}

}  // namespace ctnn
