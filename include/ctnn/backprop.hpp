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
// PyTorch's .grad: call g.zero() between steps. Never allocates, throws or locks: batches run in
// chunks of 32 samples whose activations live on the stack for the duration of the call (the
// whole batch at once when a layer couples the samples of a batch, as batch_norm does).
// Training may update the network's buffers (batch norm's running statistics), hence Net&.
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
                  "ctnn: the target's (or upstream gradient's) width differs from the network's output width");
    static_assert(batch_dim<Y> == batch_dim<X>, "ctnn: the target's (or upstream gradient's) batch size differs from the input's");
    return std::is_same_v<typename Y::value_type, T> && Y::rank == X::rank &&
           Y::shape[Y::rank - 1] == Net::output_size && batch_dim<Y> == batch_dim<X>;
}

// Samples per pass of backprop: batches are processed in chunks of this many samples, so the
// activations on the stack stay bounded whatever the batch size; the gradients of the chunks add
// up to the batch's (each chunk's mean is weighted by its share of the batch).
inline constexpr std::size_t backprop_chunk = 32;

// Whether the fused one-sample step of Net under Loss hands the last layer the loss's gradient as
// a factor times a core (mse's 2 (y - t)), which that layer folds into its weights: a lone output
// (the mean over one element is the element, so dy is exactly factor core) and a last layer that
// takes it (sequence::backward_step).
template <class Net, class Loss>
inline constexpr bool folds_loss_factor = [] {
    using seq = typename Net::sequence_type;
    if constexpr (requires { Loss::gradient_factor; } && Net::output_size == 1)
        return folds_gradient_factor<typename seq::template layer_t<seq::count - 1>>;
    else
        return false;
}();

// The shared body: forward in training mode, then either a loss gives dL/dy or the caller does.
// With a Step (optimizer.hpp's stepper; one sample, gradients written, no dx), the backward pass
// also applies the optimizer's update (sequence::backward_step).
template <std::size_t C, std::size_t B, class Net, class Loss, bool Accumulate = true, class Step = void>
typename Net::value_type backprop_chunk_at(Net& net, const typename Net::value_type* x,
                                           const typename Net::value_type* y, typename Net::gradients& g,
                                           typename Net::value_type* dx, const train_context& ctx,
                                           const Step* step = nullptr) noexcept {
    using T = typename Net::value_type;
    using seq = typename Net::sequence_type;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size;
    constexpr std::size_t out_stride = padded<T, seq::lanes>(Out), in_stride = padded<T, seq::lanes>(In);

    alignas(64) T acts[seq::template activation_size<C> + 1];
    alignas(64) T dy[C * out_stride];
    // The training forward may update the network's buffers (batch norm's running statistics),
    // as a PyTorch module in train() mode does; hence the network is taken by reference.
    T* buffers = net.buffer_data();
    seq::template forward_train<C, In>(net.parameter_block().data(), buffers, x, acts, ctx);
    const T* out = seq::template train_output<C>(acts);

    T loss = T(0);
    if constexpr (std::is_void_v<Loss>) {  // y is dL/d(output)
        for (std::size_t s = 0; s < C; ++s) {
            std::memcpy(dy + s * out_stride, y + s * Out, Out * sizeof(T));
            for (std::size_t o = Out; o < out_stride; ++o) dy[s * out_stride + o] = T(0);
        }
    } else {
        loss = Loss::template evaluate<T, C, Out>(out, out_stride, y, dy, out_stride);
        if constexpr (C != B) {  // the chunk's mean, weighted by its share of the batch
            const T share = static_cast<T>(C) / static_cast<T>(B);
            loss *= share;
            for (std::size_t k = 0; k < C * out_stride; ++k) dy[k] *= share;
        }
    }

    if constexpr (!std::is_void_v<Step>) {
        static_assert(C == 1 && B == 1 && !Accumulate);
        constexpr int factor = [] {
            if constexpr (folds_loss_factor<Net, Loss>) return Loss::gradient_factor; else return 0;
        }();
        T core = T(0);
        if constexpr (factor != 0) core = Loss::gradient_core(simd::vec<T, 1>{out[0]}, simd::vec<T, 1>{y[0]}).v;
        seq::template backward_step<In, factor>(net.parameter_block().data(), buffers, x, acts, dy,
                                                g.parameter_block().data(), *step, &core);
    } else if (dx == nullptr) {
        seq::template backward<C, In, false, Accumulate>(net.parameter_block().data(), buffers, x, acts, dy,
                                                         nullptr, g.parameter_block().data());
    } else {
        alignas(64) T dxp[C * in_stride];
        seq::template backward<C, In, true, Accumulate>(net.parameter_block().data(), buffers, x, acts, dy, dxp,
                                                        g.parameter_block().data());
        for (std::size_t s = 0; s < C; ++s) std::memcpy(dx + s * In, dxp + s * in_stride, In * sizeof(T));
    }
    return loss;
}

// Layers whose samples interact in training (batch statistics) see the whole batch in one pass.
template <class Net, std::size_t B>
inline constexpr std::size_t chunk_for = Net::sequence_type::couples_samples || B < backprop_chunk ? B : backprop_chunk;

// Accumulate false: the gradients are written rather than added to g (the trainer's step, which
// would otherwise zero g first); the chunks after the first add theirs.
template <class Net, class Loss, class X, class Y, bool Accumulate = true>
typename Net::value_type run_backprop(Net& net, const X& x, const Y& y, typename Net::gradients& g,
                                      typename Net::value_type* dx, rng* generator) noexcept {
    using T = typename Net::value_type;
    constexpr std::size_t B = batch_of<Net, X>::size, In = Net::input_size, Out = Net::output_size;
    constexpr std::size_t C = chunk_for<Net, B>, full = B / C;
    const train_context ctx{generator};
    T loss = backprop_chunk_at<C, B, Net, Loss, Accumulate>(net, x.data(), y.data(), g, dx, ctx);
    for (std::size_t k = 1; k < full; ++k)
        loss += backprop_chunk_at<C, B, Net, Loss>(net, x.data() + k * C * In, y.data() + k * C * Out, g,
                                                   dx ? dx + k * C * In : nullptr, ctx);
    if constexpr (B % C != 0)
        loss += backprop_chunk_at<B % C, B, Net, Loss>(net, x.data() + full * C * In, y.data() + full * C * Out, g,
                                                       dx ? dx + full * C * In : nullptr, ctx);
    return loss;
}

}  // namespace detail

namespace detail {
// The checks at the boundary the user called, so the first error is a ctnn: message.
template <class Net, class G>
constexpr bool check_training_args() {
    static_assert(!std::is_const_v<Net>,
                  "ctnn: backprop and backward need a non-const network (training may update its buffers)");
    static_assert(std::is_same_v<G, typename std::remove_const_t<Net>::gradients>,
                  "ctnn: the gradients must be the network's own type, Net::gradients");
    return !std::is_const_v<Net> && std::is_same_v<G, typename std::remove_const_t<Net>::gradients>;
}
// What the layers need in training: a batch large enough for batch statistics, a generator for
// random layers (checked where the user called, so the message names their mistake).
template <class Net, class X>
constexpr bool check_training_batch() {
    using N = std::remove_const_t<Net>;
    static_assert(batch_dim<X> >= N::min_training_batch,
                  "ctnn: this network normalizes over the batch (batch_norm) in training, and the statistics of "
                  "one sample are meaningless: train it on a batch tensor<T, B, In> with B >= 2, or use layer_norm");
    return batch_dim<X> >= N::min_training_batch;
}
template <class Net, bool HasGenerator>
constexpr bool check_generator() {
    static_assert(HasGenerator || !std::remove_const_t<Net>::stochastic,
                  "ctnn: this network has dropout, which draws random masks in training: pass a ctnn::rng as the "
                  "last argument of backprop/backward (ctnn::trainer owns one)");
    return HasGenerator || !std::remove_const_t<Net>::stochastic;
}
template <class Loss>
constexpr bool check_loss() {
    static_assert(loss::loss_function<Loss>, "ctnn: the loss must be a ctnn loss, such as ctnn::loss::mse{}");
    return loss::loss_function<Loss>;
}
template <class X, class DX>
constexpr bool check_dx() {
    static_assert(std::is_same_v<DX, X>, "ctnn: the input gradient dx must have the input's type (shape and scalar)");
    return std::is_same_v<DX, X>;
}
}  // namespace detail

// Loss of net on (x, y), and dL/dtheta accumulated into g. A network with dropout takes the
// generator of its masks as the last argument (rng& r); the others may omit it.
template <class Net, class Loss, class X, class Y, class G>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y, G& g) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_loss<Loss>() &&
                  detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>() &&
                  detail::check_training_batch<Net, X>() && detail::check_generator<Net, false>())
        return detail::run_backprop<Net, Loss, X, Y>(net, x, y, g, nullptr, nullptr);
    else
        return typename Net::value_type(0);
}
template <class Net, class Loss, class X, class Y, class G>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y, G& g, rng& r) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_loss<Loss>() &&
                  detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>() &&
                  detail::check_training_batch<Net, X>())
        return detail::run_backprop<Net, Loss, X, Y>(net, x, y, g, nullptr, &r);
    else
        return typename Net::value_type(0);
}

namespace detail {
// The trainer's backprop: backprop(net, loss, x, y, g, r) with the gradients written into g
// instead of added to it, which spares the trainer a pass that zeroes g before every step.
template <class Net, class Loss, class X, class Y, class G>
typename Net::value_type backprop_overwrite(Net& net, const Loss&, const X& x, const Y& y, G& g, rng& r) noexcept {
    if constexpr (check_training_args<Net, G>() && check_loss<Loss>() && check_input<Net, X>() &&
                  check_output_like<Net, X, Y>() && check_training_batch<Net, X>())
        return run_backprop<Net, Loss, X, Y, false>(net, x, y, g, nullptr, &r);
    else
        return typename Net::value_type(0);
}

// The trainer's fused step on one sample: backprop_overwrite, with the optimizer's update applied
// by the backward pass through the stepper st as the gradients are made.
template <class Net, class Loss, class X, class Y, class G, class Step>
typename Net::value_type backprop_step(Net& net, const Loss&, const X& x, const Y& y, G& g, rng& r,
                                       const Step& st) noexcept {
    if constexpr (check_training_args<Net, G>() && check_loss<Loss>() && check_input<Net, X>() &&
                  check_output_like<Net, X, Y>() && check_training_batch<Net, X>()) {
        static_assert(batch_of<Net, X>::size == 1);
        const train_context ctx{&r};
        return backprop_chunk_at<1, 1, Net, Loss, false>(net, x.data(), y.data(), g, nullptr, ctx, &st);
    } else {
        return typename Net::value_type(0);
    }
}
}  // namespace detail

// The same, and dL/dx written into dx (the input's shape): what chaining networks needs.
template <class Net, class Loss, class X, class Y, class G, class DX>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y, G& g, DX& dx) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_loss<Loss>() &&
                  detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>() &&
                  detail::check_dx<X, DX>() && detail::check_training_batch<Net, X>() &&
                  detail::check_generator<Net, false>())
        return detail::run_backprop<Net, Loss, X, Y>(net, x, y, g, dx.data(), nullptr);
    else
        return typename Net::value_type(0);
}
template <class Net, class Loss, class X, class Y, class G, class DX>
typename Net::value_type backprop(Net& net, const Loss&, const X& x, const Y& y, G& g, DX& dx, rng& r) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_loss<Loss>() &&
                  detail::check_input<Net, X>() && detail::check_output_like<Net, X, Y>() &&
                  detail::check_dx<X, DX>() && detail::check_training_batch<Net, X>())
        return detail::run_backprop<Net, Loss, X, Y>(net, x, y, g, dx.data(), &r);
    else
        return typename Net::value_type(0);
}

// Backward from an upstream gradient dy = dL/d(output) (the output's shape): g += dL/dtheta, and
// dx = dL/dx when given. For the first network of a chain, dy is the second network's dx.
template <class Net, class X, class Y, class G>
void backward(Net& net, const X& x, const Y& dy, G& g) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_input<Net, X>() &&
                  detail::check_output_like<Net, X, Y>() && detail::check_training_batch<Net, X>() &&
                  detail::check_generator<Net, false>())
        detail::run_backprop<Net, void, X, Y>(net, x, dy, g, nullptr, nullptr);
}
template <class Net, class X, class Y, class G>
void backward(Net& net, const X& x, const Y& dy, G& g, rng& r) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_input<Net, X>() &&
                  detail::check_output_like<Net, X, Y>() && detail::check_training_batch<Net, X>())
        detail::run_backprop<Net, void, X, Y>(net, x, dy, g, nullptr, &r);
}
template <class Net, class X, class Y, class G, class DX>
void backward(Net& net, const X& x, const Y& dy, G& g, DX& dx) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_input<Net, X>() &&
                  detail::check_output_like<Net, X, Y>() && detail::check_dx<X, DX>() &&
                  detail::check_training_batch<Net, X>() && detail::check_generator<Net, false>())
        detail::run_backprop<Net, void, X, Y>(net, x, dy, g, dx.data(), nullptr);
}
template <class Net, class X, class Y, class G, class DX>
void backward(Net& net, const X& x, const Y& dy, G& g, DX& dx, rng& r) noexcept {
    if constexpr (detail::check_training_args<Net, G>() && detail::check_input<Net, X>() &&
                  detail::check_output_like<Net, X, Y>() && detail::check_dx<X, DX>() &&
                  detail::check_training_batch<Net, X>())
        detail::run_backprop<Net, void, X, Y>(net, x, dy, g, dx.data(), &r);
}

}  // namespace ctnn
