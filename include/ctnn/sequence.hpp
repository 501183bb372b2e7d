#pragma once
// sequence<T, In, Specs...>: the machinery under every layer list. It folds the specs over the
// widths (shape inference), lays the layers' parameters out in one block at compile-time offsets,
// and unrolls the kernels over the list. The network is a thin owner on top of a sequence; layers
// that nest a list (residual blocks) hold a sequence too, so no layer header includes network.hpp.
//
// Kernel contract: buffers between layers are padded to whole registers (detail::padded); x may
// be the user's unpadded input only when the first layer reads its input exactly.
#include <ctnn/layers/layer.hpp>
#include <ctnn/optim/optimizer.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

namespace ctnn::detail {

// An elementwise activation as the epilogue of the kernel it fuses into.
template <class Activation>
struct activation_epilogue {
    template <class V>
    static constexpr V apply(V v) noexcept { return Activation::apply(v); }
};

// A layer whose backward<..., Accumulate = false> writes its gradients instead of adding to them.
template <class L>
concept writes_gradients = requires { requires L::overwrites_gradients; };

// A layer with backward_step: its backward hands each gradient register to an optimizer step.
template <class L>
concept steps_in_backward = requires { requires L::fuses_step; };
// ... and can take its dz as a power-of-two factor times a core (see sequence::backward_step).
template <class L>
concept folds_gradient_factor = requires { requires L::folds_gradient_factor; };

template <class T, std::size_t In, std::size_t Lanes, auto... Specs>
struct sequence {
    using value_type = T;
    using spec_types = std::tuple<std::remove_cvref_t<decltype(Specs)>...>;
    static constexpr std::size_t count = sizeof...(Specs);

    // widths[i] is the input width of layer i; widths[count] the output width.
    static constexpr std::array<std::size_t, count + 1> widths = [] {
        std::array<std::size_t, count + 1> w{In};
        std::size_t i = 0;
        ((w[i + 1] = std::remove_cvref_t<decltype(Specs)>::out_width(w[i]), ++i), ...);
        return w;
    }();

    template <std::size_t I>
    using layer_t = typename std::tuple_element_t<I, spec_types>::template bind<T, widths[I], Lanes>;

    static constexpr std::size_t lanes = Lanes;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = widths[count];

    template <class F>
    static constexpr void for_each_index(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f(std::integral_constant<std::size_t, I>{}), ...);
        }(std::make_index_sequence<count>{});
    }

    // ---- layout of the parameter and buffer blocks ------------------------------------------
    static constexpr std::size_t param_align = [] {
        std::size_t a = 1;
        for_each_index([&](auto i) { a = std::max(a, param_align_of<layer_t<i>>()); });
        return a;
    }();
    static constexpr auto param_offsets = [] {
        std::array<std::size_t, count + 1> off{};
        std::size_t o = 0;
        for_each_index([&](auto i) {
            o = round_up(o, param_align_of<layer_t<i>>());
            off[i] = o;
            o += param_size_of<layer_t<i>>();
        });
        off[count] = o;
        return off;
    }();
    static constexpr std::size_t param_size = round_up(param_offsets[count], param_align);
    static constexpr std::size_t buffer_align = [] {
        std::size_t a = 1;
        for_each_index([&](auto i) { a = std::max(a, buffer_align_of<layer_t<i>>()); });
        return a;
    }();
    static constexpr auto buffer_offsets = [] {
        std::array<std::size_t, count + 1> off{};
        std::size_t o = 0;
        for_each_index([&](auto i) {
            o = round_up(o, buffer_align_of<layer_t<i>>());
            off[i] = o;
            o += buffer_size_of<layer_t<i>>();
        });
        off[count] = o;
        return off;
    }();
    static constexpr std::size_t buffer_size = buffer_offsets[count] == 0 ? 0 : round_up(buffer_offsets[count], buffer_align);

    // Training behaviour, found through the layers (absent members mean none).
    static constexpr bool stochastic = [] {
        bool s = false;
        for_each_index([&](auto i) { s = s || stochastic_of<layer_t<i>>(); });
        return s;
    }();
    static constexpr bool couples_samples = [] {
        bool c = false;
        for_each_index([&](auto i) { c = c || couples_samples_of<layer_t<i>>(); });
        return c;
    }();
    static constexpr std::size_t min_training_batch = [] {
        std::size_t m = 1;
        for_each_index([&](auto i) { m = std::max(m, min_training_batch_of<layer_t<i>>()); });
        return m;
    }();

    static constexpr std::size_t parameter_count = [] {
        std::size_t n = 0;
        for_each_index([&](auto i) { n += parameter_count_of<layer_t<i>>(); });
        return n;
    }();
    static constexpr std::size_t flops = [] {
        std::size_t n = 0;
        for_each_index([&](auto i) { n += flops_of<layer_t<i>>(); });
        return n;
    }();
    // Widest padded buffer between two layers.
    static constexpr std::size_t max_width = [] {
        std::size_t w = 0;
        for (std::size_t v : widths) w = std::max(w, padded<T, Lanes>(v));
        return w;
    }();

    // ---- parameters and buffers as named tensors ---------------------------------------------
    // Calls f(layer_path, param_tensor<P>) for every parameter tensor, in state_dict order.
    // Layers that nest a list take the path and recurse: for_each_tensor(p, f, path).
    template <class P, class F>
    static constexpr void for_each_tensor(P* p, F&& f, layer_path path = {}) {
        for_each_index([&](auto i) {
            using L = layer_t<i>;
            const layer_path sub = path.child(i);
            P* q = p + param_offsets[i];
            if constexpr (requires { L::for_each_tensor(q, f, sub); })
                L::for_each_tensor(q, f, sub);
            else if constexpr (requires { L::for_each_tensor(q, [](const param_tensor<P>&) {}); })
                L::for_each_tensor(q, [&](const param_tensor<P>& t) { f(sub, t); });
        });
    }
    // The same for the buffers (running statistics), over the buffer block b.
    template <class P, class F>
    static constexpr void for_each_buffer(P* b, F&& f, layer_path path = {}) {
        for_each_index([&](auto i) {
            using L = layer_t<i>;
            const layer_path sub = path.child(i);
            P* q = b + buffer_offsets[i];
            if constexpr (requires { L::for_each_buffer(q, f, sub); })
                L::for_each_buffer(q, f, sub);
            else if constexpr (requires { L::for_each_buffer(q, [](const param_tensor<P>&) {}); })
                L::for_each_buffer(q, [&](const param_tensor<P>& t) { f(sub, t); });
        });
    }
    // Every buffer to its initial value (zero unless the layer says otherwise).
    static constexpr void reset_buffers(T* b) noexcept {
        std::fill(b, b + buffer_size, T(0));
        for_each_index([&](auto i) {
            using L = layer_t<i>;
            if constexpr (requires { L::reset_buffers(b); }) L::reset_buffers(b + buffer_offsets[i]);
        });
    }
    // Applies an initialization scheme to every layer that knows how to initialize itself.
    template <class Scheme>
    static constexpr void initialize(T* p, const Scheme& scheme, rng& r) {
        for_each_index([&](auto i) {
            using L = layer_t<i>;
            if constexpr (requires { L::initialize(p, scheme, r); }) L::initialize(p + param_offsets[i], scheme, r);
        });
    }

    // ---- fusion plan ---------------------------------------------------------------------------
    template <std::size_t I>
    static constexpr bool fuses_next() noexcept {
        if constexpr (I + 1 >= count) {
            return false;
        } else {
            using L = layer_t<I>;
            if constexpr (requires { requires L::fuses_epilogue; })
                return fusable_activation<layer_t<I + 1>>;
            else
                return false;
        }
    }
    // Layer I runs its own kernel unless it fused into layer I - 1.
    template <std::size_t I>
    static constexpr bool runs() noexcept {
        if constexpr (I == 0) return true; else return !fuses_next<I - 1>();
    }
    // Layer I's input is often zero (it is a ReLU's output) and the layer can skip such inputs: a
    // one-sample forward tells it so (dense.hpp, skips_zero_inputs).
    template <std::size_t I>
    static constexpr bool sparse_input() noexcept {
        if constexpr (I == 0)
            return false;
        else
            return requires { requires layer_t<I - 1>::sparse_output; } &&
                   requires { requires layer_t<I>::skips_zero_inputs; };
    }

    // Ping-pong slot each running layer writes (the last one writes the caller's y).
    static constexpr auto slots = [] {
        std::array<int, count + 1> s{};
        int next = 0;
        for_each_index([&](auto i) {
            if constexpr (runs<i>()) s[i] = next, next ^= 1;
        });
        return s;
    }();
    static constexpr std::size_t last_running = [] {
        std::size_t last = 0;
        for_each_index([&](auto i) {
            if constexpr (runs<i>()) last = i;
        });
        return last;
    }();
    static constexpr bool first_reads_exactly = requires { requires layer_t<0>::reads_input_exactly; };

    // ---- forward (inference), one sample: x has in (or padded(in)) values, y padded(out) ----
    static constexpr void forward(const T* p, const T* b, const T* x, T* y) noexcept {
        alignas(64) T ws[2][max_width];
        const T* src = x;
        if constexpr (!first_reads_exactly && padded<T, Lanes>(In) != In) {
            std::copy(x, x + In, ws[1]);
            std::fill(ws[1] + In, ws[1] + padded<T, Lanes>(In), T(0));
            src = ws[1];
        }
        for_each_index([&](auto i) {
            if constexpr (runs<i>()) {
                T* dst = i == last_running ? y : ws[slots[i]];
                run<i>(p, b, src, dst);
                src = dst;
            }
        });
    }

    // ---- forward (inference), B samples: rows of x have stride XS, rows of y stride YS ----
    template <std::size_t B, std::size_t XS, std::size_t YS = padded<T, Lanes>(out)>
    static constexpr void forward_batch(const T* p, const T* b, const T* x, T* y) noexcept {
        if constexpr (samples_in_lanes && B > 1) {
            forward_lanes<B, XS, YS>(p, b, x, y);
            return;
        }
        constexpr std::size_t W = max_width;
        alignas(64) T ws[2][B * W];
        if constexpr (!first_reads_exactly && XS < padded<T, Lanes>(In)) {
            for (std::size_t s = 0; s < B; ++s) {
                std::copy(x + s * XS, x + s * XS + In, ws[1] + s * W);
                std::fill(ws[1] + s * W + In, ws[1] + s * W + padded<T, Lanes>(In), T(0));
            }
            run_batch_from<B, W, YS>(p, b, ws[1], y, ws);
        } else {
            run_batch_from<B, XS, YS>(p, b, x, y, ws);
        }
    }

    // ---- forward (inference) of a narrow network, B samples in the SIMD lanes ----------------
    // When every layer is narrower than half a register, sample-major rows would leave most lanes
    // empty: the batch is transposed to feature-major [width][BP] (BP = B rounded up to whole
    // registers), every layer runs on registers of samples, and the output is transposed back.
    // Each output element sees the same additions as in the sample-major kernels.
    static constexpr bool samples_in_lanes = [] {
        bool ok = Lanes >= 8 && Lanes == simd::native_width<T> && 2 * max_width <= Lanes;
        for_each_index([&](auto i) { ok = ok && requires { requires layer_t<i>::has_forward_lanes; }; });
        return ok;
    }();

    // Widest layer output, unpadded: the rows of the feature-major buffers.
    static constexpr std::size_t lanes_width = [] {
        std::size_t w = 0;
        for (std::size_t v : widths) w = std::max(w, v);
        return w;
    }();
    // B rows of F values (stride XS) -> F features of BP samples (padding samples zero).
    template <std::size_t B, std::size_t XS, std::size_t F, std::size_t BP>
    static void to_lanes(const T* x, T* dst) noexcept {
        constexpr std::size_t N = Lanes;
        using V = simd::vec<T, N>;
        if constexpr (XS == F && N % F == 0 && B % N == 0) {
            for (std::size_t s0 = 0; s0 < B; s0 += N) {
                V r[F];
                for (std::size_t k = 0; k < F; ++k) r[k] = V::load(x + s0 * F + k * N);
                simd::deinterleave<F>(r);
                for (std::size_t i = 0; i < F; ++i) r[i].store_aligned(dst + i * BP + s0);
            }
        } else {
            for (std::size_t i = 0; i < F; ++i)
                for (std::size_t s = 0; s < BP; ++s) dst[i * BP + s] = s < B ? x[s * XS + i] : T(0);
        }
    }
    // F features of BP samples -> B rows of stride YS (F values, then zeros).
    template <std::size_t B, std::size_t F, std::size_t YS, std::size_t BP>
    static void from_lanes(const T* src, T* y) noexcept {
        constexpr std::size_t N = Lanes;
        using V = simd::vec<T, N>;
        if constexpr (YS == F && N % F == 0 && B % N == 0) {
            for (std::size_t s0 = 0; s0 < B; s0 += N) {
                V r[F];
                for (std::size_t o = 0; o < F; ++o) r[o] = V::load_aligned(src + o * BP + s0);
                simd::interleave<F>(r);
                for (std::size_t k = 0; k < F; ++k) r[k].store(y + s0 * F + k * N);
            }
        } else {
            for (std::size_t s = 0; s < B; ++s) {
                for (std::size_t o = 0; o < F; ++o) y[s * YS + o] = src[o * BP + s];
                for (std::size_t o = F; o < YS; ++o) y[s * YS + o] = T(0);
            }
        }
    }
    // Layer I on feature-major buffers, with the activation I + 1 as its epilogue when Fuse.
    template <std::size_t I, std::size_t BP, bool Fuse>
    static void run_lanes(const T* p, const T* b, const T* src, T* dst) noexcept {
        using L = layer_t<I>;
        if constexpr (Fuse)
            L::template forward_lanes<BP>(p + param_offsets[I], b + buffer_offsets[I], src, dst,
                                          activation_epilogue<layer_t<I + 1>>{});
        else
            L::template forward_lanes<BP>(p + param_offsets[I], b + buffer_offsets[I], src, dst);
    }

    template <std::size_t B, std::size_t XS, std::size_t YS>
    static void forward_lanes(const T* p, const T* b, const T* x, T* y) noexcept {
        constexpr std::size_t BP = round_up(B, Lanes);
        alignas(64) T ws[2][lanes_width * BP];
        to_lanes<B, XS, In, BP>(x, ws[1]);
        const T* src = ws[1];
        for_each_index([&](auto i) {
            if constexpr (runs<i>()) {
                T* dst = ws[slots[i]];
                run_lanes<i, BP, fuses_next<i>()>(p, b, src, dst);
                src = dst;
            }
        });
        from_lanes<B, out, YS, BP>(src, y);
    }

    // The training forward of a narrow network: the same on feature-major buffers, every stored
    // output transposed back into its slot of the training workspace (where backward reads it).
    template <std::size_t B, std::size_t XS>
    static void forward_train_lanes(const T* p, const T* b, const T* x, T* acts) noexcept {
        constexpr std::size_t BP = round_up(B, Lanes);
        alignas(64) T ws[2][lanes_width * BP];
        to_lanes<B, XS, In, BP>(x, ws[1]);
        const T* src = ws[1];
        int slot = 0;
        for_each_index([&](auto i) {
            if constexpr (!(i > 0 && fuses_in_training<(i > 0 ? i - 1 : 0)>())) {
                constexpr bool fuse = fuses_in_training<i>();
                constexpr std::size_t o = fuse ? i + 1 : i;  // the slot of the output
                T* dst = ws[slot];
                run_lanes<i, BP, fuse>(p, b, src, dst);
                from_lanes<B, widths[o + 1], stride<o + 1>, BP>(dst, acts + activation_offsets<B>[o]);
                src = dst;
                slot ^= 1;
            }
        });
    }

    // ---- training ----------------------------------------------------------------------------
    // The training forward keeps every layer's output for the backward pass, in one workspace of
    // activation_size<B> elements: layer i writes B rows of stride padded(widths[i + 1]) at
    // activation_offset<B>(i). Slot "input" holds a padded copy of x when the first layer needs one.
    template <std::size_t I>
    static constexpr std::size_t stride = padded<T, Lanes>(widths[I]);
    // After the layer outputs and the input copy come the layers' caches: layer i keeps
    // cache_size(B) elements at cache_offset<B>(i) from its training forward for its backward.
    template <std::size_t B>
    static constexpr auto activation_offsets = [] {
        // [0, count): layer outputs; count: padded input; count + 1 + i: cache of layer i; 2 count + 1: end
        std::array<std::size_t, 2 * count + 2> off{};
        std::size_t o = 0;
        for (std::size_t i = 0; i < count; ++i) off[i] = o, o += B * padded<T, Lanes>(widths[i + 1]);
        off[count] = o;
        o += first_reads_exactly ? 0 : B * padded<T, Lanes>(In);
        for_each_index([&](auto i) {
            o = round_up(o, 64 / sizeof(T));
            off[count + 1 + i] = o;
            o += cache_size_of<layer_t<i>, B>();
        });
        off[2 * count + 1] = o;
        return off;
    }();
    template <std::size_t B>
    static constexpr std::size_t activation_size = activation_offsets<B>[2 * count + 1];

    // The input of layer I during training, and its row stride (XS for the user's x).
    template <std::size_t I, std::size_t B, std::size_t XS>
    static constexpr const T* layer_input(const T* x, const T* acts) noexcept {
        if constexpr (I > 0) return acts + activation_offsets<B>[I - 1];
        else if constexpr (first_reads_exactly) return x;
        else return acts + activation_offsets<B>[count];
    }
    template <std::size_t I, std::size_t XS>
    static constexpr std::size_t input_stride = I > 0 ? stride<I> : (first_reads_exactly ? XS : stride<0>);

    template <std::size_t B, std::size_t XS>
    static constexpr void forward_train(const T* p, T* b, const T* x, T* acts, const train_context& ctx) noexcept {
        if constexpr (!first_reads_exactly) {
            T* in = acts + activation_offsets<B>[count];
            for (std::size_t s = 0; s < B; ++s) {
                std::copy(x + s * XS, x + s * XS + In, in + s * stride<0>);
                std::fill(in + s * stride<0> + In, in + (s + 1) * stride<0>, T(0));
            }
        }
        if constexpr (samples_in_lanes && B > 1) {
            forward_train_lanes<B, XS>(p, b, x, acts);
            return;
        }
        for_each_index([&](auto i) {
            using L = layer_t<i>;
            if constexpr (fuses_in_training<i>())  // the activation i + 1 as the epilogue, into its slot
                L::template forward_batch<B, input_stride<i, XS>, stride<i + 2>>(
                    p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                    acts + activation_offsets<B>[i + 1], activation_epilogue<layer_t<i + 1>>{});
            else if constexpr (i > 0 && fuses_in_training<(i > 0 ? i - 1 : 0)>())
                ;  // ran as the epilogue of layer i - 1
            else if constexpr (has_training_forward<L>)
                L::template forward_train<B, input_stride<i, XS>, stride<i + 1>>(
                    p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                    acts + activation_offsets<B>[i], acts + activation_offsets<B>[count + 1 + i], ctx);
            else
                L::template forward_batch<B, input_stride<i, XS>, stride<i + 1>>(
                    p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                    acts + activation_offsets<B>[i]);
        });
    }
    // In training, an activation fuses into the dense layer before it when its derivative needs
    // only its output (tanh, sigmoid, relu): its input, the dense layer's output, is then never
    // stored, and its backward reads its output in that place.
    template <std::size_t I>
    static constexpr bool fuses_in_training() noexcept {
        if constexpr (I + 1 >= count) {
            return false;
        } else if constexpr (fuses_next<I>() && !has_training_forward<layer_t<I>>) {
            return requires { requires layer_t<I + 1>::derivative_from_output; };
        } else {
            return false;
        }
    }
    // The output of the training forward (B rows of stride padded(out)).
    template <std::size_t B>
    static constexpr const T* train_output(const T* acts) noexcept { return acts + activation_offsets<B>[count - 1]; }

    // Backward through every layer, last to first: dy is dL/d(output) (B rows of stride
    // padded(out), padding zero); accumulates parameter gradients into gp (or, with Accumulate
    // false, writes them: layers that can write theirs do, the others' slices are zeroed first);
    // when NeedDx writes dL/dx into dx (B rows of stride padded(In)).
    template <std::size_t B, std::size_t XS, bool NeedDx, bool Accumulate = true>
    static constexpr void backward(const T* p, const T* b, const T* x, const T* acts, const T* dy, T* dx,
                                   T* gp) noexcept {
        alignas(64) T ws[2][B * max_width];
        const T* cur = dy;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (
                [&] {
                    constexpr std::size_t i = count - 1 - K;
                    constexpr bool need = i > 0 || NeedDx;
                    T* dst = i == 0 ? dx : ws[K % 2];
                    backward_layer<i, B, XS, need, Accumulate>(p, b, x, acts, cur, dst, gp);
                    cur = dst;
                }(),
                ...);
        }(std::make_index_sequence<count>{});
    }

    // Whether layer I's whole_layer_width floats from its start stay inside its own parameters and
    // the padding after them (before the next layer with parameters, or the block's end).
    template <std::size_t I>
    static constexpr bool has_room_after() noexcept {
        if constexpr (requires { layer_t<I>::whole_layer_width; }) {
            std::size_t end = param_size;
            for_each_index([&](auto j) {
                if (j > I && param_size_of<layer_t<j>>() > 0 && param_offsets[j] < end) end = param_offsets[j];
            });
            return layer_t<I>::whole_layer_width > 0 && param_offsets[I] + layer_t<I>::whole_layer_width <= end;
        } else {
            return false;
        }
    }

    // backward<1, XS, false, false> fused with an optimizer step (optimizer.hpp's stepper st,
    // indexed by offsets in the parameter block): every layer's gradients are written to gp as
    // backward writes them, and the layer's parameters are updated right after its backward, which
    // is safe because the layers before it never read them. Dense layers hand each gradient
    // register to the step as they make it (backward_step); the others' slices are stepped from gp.
    // With Factor (a power of two), dy = Factor dy_core, and a last layer that takes it (dense's
    // dots kernel) computes dx = dy_core (Factor W): the same bits as dy W (one rounding of the
    // same product) unless Factor dy_core or Factor W overflows, or W is subnormal with flush-to-
    // zero on and denormals-are-zero off; the multiplication by Factor is then off the chain that
    // leads to the next step (mean squared error's 2 (y - t) for a lone output, see
    // folds_loss_factor: T 2-8-1's train1 0.695-0.700 -> 0.690-0.694 of Eigen's time).
    template <std::size_t XS, int Factor = 0, class Step>
    static void backward_step(T* p, const T* b, const T* x, const T* acts, const T* dy, T* gp,
                              const Step& step, const T* dy_core = nullptr) noexcept {
        // A local copy whose address never escapes: its scalars stay in registers across the
        // stores of the update (through a reference they could alias them, and would be reloaded).
        const Step st = step;
        alignas(64) T ws[2][max_width];
        const T* cur = dy;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (
                [&] {
                    constexpr std::size_t i = count - 1 - K;
                    using L = layer_t<i>;
                    constexpr std::size_t off = param_offsets[i];
                    T* dst = ws[K % 2];
                    if constexpr (steps_in_backward<L>) {
                        constexpr int factor = K == 0 && folds_gradient_factor<L> ? Factor : 0;
                        L::template backward_step<stride<i>, (i > 0), has_room_after<i>(), factor>(
                            p + off, layer_input<i, 1, XS>(x, acts), cur, dst,
                            [&](std::size_t k, auto g) {
                                g.store(gp + off + k);
                                st(off + k, g);
                            },
                            dy_core);
                    } else {
                        backward_layer<i, 1, XS, (i > 0), false>(p, b, x, acts, cur, i > 0 ? dst : nullptr, gp);
                        if constexpr (param_size_of<L>() > 0)
                            optim::detail::step_over<T, param_size_of<L>()>(st, gp + off, off);
                    }
                    cur = dst;
                }(),
                ...);
        }(std::make_index_sequence<count>{});
    }

private:
    // Layer i's part of backward: dL/d(its input) into dst when NeedDx, its gradients into gp.
    template <std::size_t i, std::size_t B, std::size_t XS, bool need, bool Accumulate>
    static constexpr void backward_layer(const T* p, const T* b, const T* x, const T* acts, const T* cur, T* dst,
                                         T* gp) noexcept {
        using L = layer_t<i>;
        if constexpr (!Accumulate && !writes_gradients<L> && param_size_of<L>() > 0)
            std::fill(gp + param_offsets[i], gp + param_offsets[i] + param_size_of<L>(), T(0));
        if constexpr (has_training_forward<L>)
            L::template backward<B, input_stride<i, XS>, stride<i + 1>, stride<i>, need>(
                p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                acts + activation_offsets<B>[i], cur, dst, gp + param_offsets[i],
                acts + activation_offsets<B>[count + 1 + i]);
        else if constexpr (!Accumulate && writes_gradients<L>)
            L::template backward<B, input_stride<i, XS>, stride<i + 1>, stride<i>, need, false>(
                p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                acts + activation_offsets<B>[i], cur, dst, gp + param_offsets[i]);
        else if constexpr (i > 0 && fuses_in_training<(i > 0 ? i - 1 : 0)>())
            L::template backward<B, input_stride<i, XS>, stride<i + 1>, stride<i>, need>(
                p + param_offsets[i], b + buffer_offsets[i], acts + activation_offsets<B>[i],
                acts + activation_offsets<B>[i], cur, dst, gp + param_offsets[i]);
        else
            L::template backward<B, input_stride<i, XS>, stride<i + 1>, stride<i>, need>(
                p + param_offsets[i], b + buffer_offsets[i], layer_input<i, B, XS>(x, acts),
                acts + activation_offsets<B>[i], cur, dst, gp + param_offsets[i]);
    }

    template <std::size_t I>
    static constexpr void run(const T* p, const T* b, const T* x, T* y) noexcept {
        using L = layer_t<I>;
        using E = decltype([] {
            if constexpr (fuses_next<I>()) return activation_epilogue<layer_t<I + 1>>{}; else return no_epilogue{};
        }());
        if constexpr (sparse_input<I>())
            L::template forward<E, false, true>(p + param_offsets[I], b + buffer_offsets[I], x, y, E{});
        else if constexpr (fuses_next<I>())
            L::forward(p + param_offsets[I], b + buffer_offsets[I], x, y, E{});
        else
            L::forward(p + param_offsets[I], b + buffer_offsets[I], x, y);
    }

    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t W>
    static constexpr void run_batch_from(const T* p, const T* b, const T* x, T* y, T (&ws)[2][W]) noexcept {
        constexpr std::size_t stride = W / B;
        const T* src = x;
        for_each_index([&](auto i) {
            if constexpr (runs<i>()) {
                constexpr std::size_t in_stride = i == 0 ? XS : stride;
                using L = layer_t<i>;
                if constexpr (i == last_running) {
                    if constexpr (fuses_next<i>())
                        L::template forward_batch<B, in_stride, YS>(p + param_offsets[i], b + buffer_offsets[i],
                                                                    src, y, activation_epilogue<layer_t<i + 1>>{});
                    else
                        L::template forward_batch<B, in_stride, YS>(p + param_offsets[i], b + buffer_offsets[i],
                                                                    src, y);
                } else {
                    T* dst = ws[slots[i]];
                    if constexpr (fuses_next<i>())
                        L::template forward_batch<B, in_stride, stride>(p + param_offsets[i], b + buffer_offsets[i],
                                                                        src, dst, activation_epilogue<layer_t<i + 1>>{});
                    else
                        L::template forward_batch<B, in_stride, stride>(p + param_offsets[i], b + buffer_offsets[i],
                                                                        src, dst);
                    src = dst;
                }
            }
        });
    }
};

}  // namespace ctnn::detail
