#pragma once
// dense<N>: a fully connected layer, PyTorch's nn.Linear(in, N): y = W x + b.
//
// Parameters (state_dict order): "weight" [N, in], "bias" [N] (absent with dense<N, ctnn::no_bias>).
// layer<I>().weight(o, i) reads and writes in PyTorch's [out][in] order whatever the storage; padding
// is zero and stays zero. Forward FLOPs: 2 * in * N, plus N for the bias. An elementwise activation
// that follows fuses into the kernel as an epilogue on the accumulators.
//
// Storage and kernels are chosen for the shape (dense_plan below):
// - "rows" (most layers): the weight is kept transposed, [in][P] with P = N padded to whole
//   registers, so the forward pass is a broadcast-multiply-add of one input against one row of P
//   outputs (no horizontal sums), a register tile of samples x outputs for a batch. The backward pass
//   gets dW the same way; dL/dx = dz W needs W's columns: a batch transposes strips of W in
//   registers first, one sample reduces the rows' products sixteen at a time (simd::reduce_add_many).
// - "dots" (few outputs from many inputs, such as a network's last layer): the weight is kept
//   [N][in padded], each output is a dot product along the inputs, and a set of them is reduced
//   together; dL/dx is then a broadcast-multiply-add over the rows.
// The order of the additions of every output is fixed by the shape alone (not by the register width
// a path uses), so that the scalar path (Lanes = 1), the SIMD path, one sample and a batch all give
// the same bits; see dense_plan. One exception: one sample after a ReLU may skip its zero inputs
// (skips_zero_inputs, at forward), which differs only where a non-finite weight meets a zero input
// and in the sign of a zero output.
#include <ctnn/layers/layer.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace ctnn {

struct no_bias_t {};
inline constexpr no_bias_t no_bias{};

namespace detail {

struct no_callback {
    template <class... A>
    constexpr void operator()(const A&...) const noexcept {}
};

// Registers a kernel may hold as accumulators: AVX-512 has 32 vector registers, narrower x86 16.
template <class T>
inline constexpr std::size_t accumulator_budget = simd::register_bytes<T> >= 64 ? 24 : 12;

// Visits samples 0 .. B-1 as f(s, k), spread over SK interleaved accumulator chains: sample s goes
// to chain s % SK in the whole rounds of SK samples, and the B % SK left over to chains 0, 1, ...
// (the gradient sums over the samples keep SK independent chains busy instead of one long one).
template <std::size_t B, std::size_t SK, class F>
[[gnu::always_inline]] inline void over_sample_chains(F&& f) noexcept {
    constexpr std::size_t full = B / SK * SK;
    for (std::size_t s = 0; s < full; s += SK)
#pragma GCC unroll 4
        for (std::size_t k = 0; k < SK; ++k) f(s + k, k);
#pragma GCC unroll 4
    for (std::size_t s = full; s < B; ++s) f(s, s - full);
}

// The arithmetic of a dense layer, from its shape and the target's register width only.
//   rows: y_o = ((c_0 + c_1) + ...) + c_{K-1}, where chain c_k folds fma(W[o][i], x_i, c) over the
//         inputs i = k, k + K, k + 2K, ... in order, c_0 starting at the bias (0 without one) and the
//         others at 0. K > 1 splits one long chain into independent ones when a single sample has
//         too few output registers to keep the multiply-add units busy.
//   dots: y_o = tree(p), where p_j folds fma(x_i, W[o][i], p) over i = j, j + L, ... (L the register
//         width of the inputs), p_0 starting at the bias and the others at 0, and tree is
//         reduce_add's pairwise order (the bias enters first, off the reduction's critical path).
template <class T, std::size_t In, std::size_t Out>
struct dense_plan {
    static constexpr std::size_t in_lanes = simd::width_for<T>(In);
    static constexpr std::size_t out_lanes = simd::width_for<T>(Out);
    static constexpr std::size_t in_vectors = (In + in_lanes - 1) / in_lanes;
    static constexpr std::size_t out_vectors = (Out + out_lanes - 1) / out_lanes;
    // Multiply-adds per sample (plus about two shuffles per output for the dots' reductions).
    static constexpr bool dots = in_lanes > 1 && Out <= in_lanes && Out * in_vectors + 2 * Out < In * out_vectors;
    static constexpr std::size_t chains = [] {
        std::size_t k = 1;
        if (!dots)
            while (2 * k * out_vectors <= 8 && 2 * k * 4 <= In) k *= 2;
        return k;
    }();
};

template <class T, std::size_t In, std::size_t Out, bool Bias, std::size_t Lanes>
struct dense_layer {
    static_assert(Out > 0);
    using value_type = T;
    using plan = dense_plan<T, In, Out>;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = Out;
    static constexpr bool has_bias = Bias;
    static constexpr bool dots = plan::dots;
    static constexpr std::size_t chains = plan::chains;

    static constexpr std::size_t lanes = simd::width_for<T>(Out, Lanes);     // register width of the outputs
    static constexpr std::size_t row = padded<T, Lanes>(Out);                 // P: padded outputs
    static constexpr std::size_t vectors = row / lanes;                       // registers per output vector
    static constexpr std::size_t in_lanes = simd::width_for<T>(In, Lanes);  // register width of the inputs
    static constexpr std::size_t in_row = padded<T, Lanes>(In);
    static constexpr std::size_t in_vectors = in_row / in_lanes;
    static constexpr std::size_t weight_size = dots ? Out * in_row : In * row;
    static constexpr std::size_t param_size = weight_size + (Bias ? row : 0);
    static constexpr std::size_t param_align = dots && in_lanes > lanes ? in_lanes : lanes;
    static constexpr std::size_t parameter_count = In * Out + (Bias ? Out : 0);
    static constexpr std::size_t flops = 2 * In * Out + (Bias ? Out : 0);
    // Both read x[0, in) only (dots read the last, partial register of a row with a masked load).
    static constexpr bool reads_input_exactly = true;
    static constexpr bool fuses_epilogue = true;
    // backward<..., Accumulate = false> writes the gradients instead of adding to them.
    static constexpr bool overwrites_gradients = true;

    using vec = simd::vec<T, lanes>;
    using ivec = simd::vec<T, in_lanes>;

    // Position of W[o][i] in the block.
    static constexpr std::size_t at(std::size_t o, std::size_t i) noexcept { return dots ? o * in_row + i : i * row + o; }

    // ---- forward, one sample: y[0, row) = epilogue(W x + b) --------------------------------------
    // ShortLatency: for a caller that waits on the result (see forward_batch).
    // SparseInput: x is often zero (it comes from a ReLU; the sequence says so). A layer that
    // skips_zero_inputs then lists the nonzero inputs (simd::nonzero_entries) and walks only their
    // rows of W: the same additions in the same order less the terms x_i W[o][i] with x_i = 0, as
    // the reference BLAS's gemv skips them. Those terms are +-0, so the bits are the dense walk's
    // except in two cases: a weight that is infinite or NaN meets a zero input (0 inf is NaN
    // there, skipped here), and the sign of an output that is exactly zero (-0 + 0 is +0 there).
    // What it saves is reads: W 64-128-128-16's second layer is 64 KB, from L2 on every call, and
    // ReLU zeroes about half of its inputs (fwd1 0.96 -> 0.68 of Eigen's time). With more than
    // 7/8 of the inputs nonzero, the dense walk is the faster one (the list's indirect rows stream
    // worse than fixed addresses) and runs instead, after the listing (1-3 % of the dense walk's time).
    // Where: a rows layer with a single chain of sums (many outputs: the rows are long) and at
    // least 32 inputs, with SIMD; one sample at inference only (a batch's samples have their zeros
    // in different places; the training step reads every row in its backward pass anyway). The
    // lists take (In + native width) (4 + sizeof(T)) bytes of stack (W's second layer: 1.1 KB).
    static constexpr bool skips_zero_inputs = !dots && chains == 1 && lanes > 1 && In >= 32;
    template <class Epilogue = no_epilogue, bool ShortLatency = false, bool SparseInput = false>
    static constexpr void forward(const T* p, const T*, const T* x, T* y, Epilogue = {}) noexcept {
        if constexpr (SparseInput && skips_zero_inputs) {
            alignas(64) std::uint32_t offsets[simd::nonzero_entries_room<T>(In)];
            alignas(64) T values[simd::nonzero_entries_room<T>(In)];
            constexpr std::size_t most = 7 * In / 8;
            const std::size_t n = simd::nonzero_entries<In, row, most>(x, offsets, values);
            if (n <= most) {
                constexpr std::size_t chunk = min_(vectors, accumulator_budget<T>);
                [&]<std::size_t... K>(std::index_sequence<K...>) {
                    (rows_sparse1<Epilogue, K * chunk, min_(chunk, vectors - K * chunk)>(p, offsets, values, n, y),
                     ...);
                }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
                return;
            }
        }
        if constexpr (dots) {
            dots_forward<Epilogue, 1, 0, 0, ShortLatency>(p, x, y);
        } else {
            constexpr std::size_t chunk = min_(vectors, max_(1, accumulator_budget<T> / chains));
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (rows_block1<Epilogue, K * chunk, min_(chunk, vectors - K * chunk)>(p, x, y), ...);
            }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
        }
    }

    // ---- forward, B samples: rows of x have stride XS, rows of y stride YS (>= row) ------------
    template <std::size_t B, std::size_t XS, std::size_t YS, class Epilogue = no_epilogue>
    static constexpr void forward_batch(const T* p, const T*, const T* x, T* y, Epilogue = {}) noexcept {
        static_assert(YS >= row);
        if constexpr (B == 1) {
            // One sample is a training step's forward, whose output the loss and the backward wait
            // on: forward's kernel (all the rows' chains at once; chain by chain, each would wait
            // on its own multiply-adds), with a lone output sum reduced for latency. Independent
            // calls of forward keep the throughput-friendly reduction.
            forward<Epilogue, true>(p, nullptr, x, y);
        } else if constexpr (dots) {
            dots_forward<Epilogue, B, XS, YS>(p, x, y);
        } else {
            // Chain by chain over the whole batch: chain k adds to the partial sums the chains before
            // it left in y (one chain's accumulators in registers at a time).
            [&]<std::size_t... C>(std::index_sequence<C...>) __attribute__((always_inline)) {
                (rows_chain<Epilogue, C, B, XS, YS>(p, x, y), ...);
            }(std::make_index_sequence<chains>{});
        }
    }

    // ---- forward with the samples in the SIMD lanes (a batch of a narrow network) ---------------
    // x is [In][BP] and y [Out][BP], feature by feature, BP samples (a multiple of the native width)
    // per feature: the weights are broadcast, the registers hold samples. Same additions as above.
    static constexpr bool has_forward_lanes = true;
    template <std::size_t BP, class Epilogue = no_epilogue>
    static void forward_lanes(const T* p, const T*, const T* x, T* y, Epilogue = {}) noexcept {
        constexpr std::size_t N = simd::native_width<T>;
        static_assert(BP % N == 0);
        using V = simd::vec<T, N>;
        constexpr std::size_t SB = BP / N;  // registers of samples per feature
        if constexpr (dots) {
            constexpr std::size_t L = plan::in_lanes;
            for (std::size_t o = 0; o < Out; ++o)
                for (std::size_t sb = 0; sb < SB; ++sb) {
                    V part[L];
#pragma GCC unroll 16
                    for (std::size_t j = 0; j < L; ++j) part[j] = j == 0 && Bias ? V(p[weight_size + o]) : V(T(0));
                    for (std::size_t i = 0; i < In; ++i)
                        part[i % L] = fma(V::load_aligned(x + i * BP + sb * N), V(p[at(o, i)]), part[i % L]);
#pragma GCC unroll 16
                    for (std::size_t h = L / 2; h >= 1; h /= 2)
#pragma GCC unroll 16
                        for (std::size_t j = 0; j < h; ++j) part[j] = part[j] + part[j + h];
                    Epilogue::apply(part[0]).store_aligned(y + o * BP + sb * N);
                }
        } else {
            constexpr std::size_t K = chains;
            // Outputs per tile. An activation applied to the tile needs registers of its own (fast_tanh
            // holds 9 constants and 3 temporaries per register): with a third of the budget, T fwd32
            // went 0.75 -> 0.71 of Eigen's time (its spills went away), S fwd32 stayed at 0.61.
            constexpr std::size_t budget = std::is_same_v<Epilogue, no_epilogue> ? accumulator_budget<T> : accumulator_budget<T> / 3;
            constexpr std::size_t OT = min_(Out, max_(1, budget / (SB * K)));
            auto tile = [&]<std::size_t O>(std::size_t o0) {
                V acc[O][SB][K];
#pragma GCC unroll 16
                for (std::size_t o = 0; o < O; ++o)
#pragma GCC unroll 16
                    for (std::size_t sb = 0; sb < SB; ++sb)
#pragma GCC unroll 8
                        for (std::size_t k = 0; k < K; ++k)
                            acc[o][sb][k] = k == 0 && Bias ? V(p[weight_size + o0 + o]) : V(T(0));
                for (std::size_t i = 0; i < In; ++i) {
                    const std::size_t k = i % K;
                    V xv[SB];
#pragma GCC unroll 16
                    for (std::size_t sb = 0; sb < SB; ++sb) xv[sb] = V::load_aligned(x + i * BP + sb * N);
#pragma GCC unroll 16
                    for (std::size_t o = 0; o < O; ++o) {
                        const V w(p[i * row + o0 + o]);
#pragma GCC unroll 16
                        for (std::size_t sb = 0; sb < SB; ++sb) acc[o][sb][k] = fma(w, xv[sb], acc[o][sb][k]);
                    }
                }
#pragma GCC unroll 16
                for (std::size_t o = 0; o < O; ++o)
#pragma GCC unroll 16
                    for (std::size_t sb = 0; sb < SB; ++sb) {
                        V r = acc[o][sb][0];
#pragma GCC unroll 8
                        for (std::size_t k = 1; k < K; ++k) r = r + acc[o][sb][k];
                        Epilogue::apply(r).store_aligned(y + (o0 + o) * BP + sb * N);
                    }
            };
            constexpr std::size_t full = Out / OT * OT;
            for (std::size_t o0 = 0; o0 < full; o0 += OT) tile.template operator()<OT>(o0);
            if constexpr (full < Out) tile.template operator()<Out - full>(full);
        }
    }

    // ---- backward, B samples -------------------------------------------------------------------
    // Given dz = dL/dy (rows of stride YS >= row, padding zero): dW = x^T dz and db = the sum of the
    // dz rows, added to gp (Accumulate) or written there, and when NeedDx dx = dz W (rows of stride
    // DXS, padding zero).
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx, bool Accumulate = true>
    static constexpr void backward(const T* p, const T*, const T* x, const T*, const T* dz, T* dx, T* gp) noexcept {
        static_assert(YS >= row);
        if constexpr (dots) {
            dots_weight_gradient<B, XS, YS, Accumulate>(x, dz, gp);
        } else {
            rows_weight_gradient<B, XS, YS, Accumulate>(x, dz, gp);
        }
        if constexpr (Bias) {
            for (std::size_t v = 0; v < vectors; ++v) {
                T* g = gp + weight_size + v * lanes;
                constexpr std::size_t SK = min_(B, 4);  // interleaved chains over the samples
                vec acc[SK];
                acc[0] = Accumulate ? vec::load_aligned(g) : vec(T(0));
#pragma GCC unroll 4
                for (std::size_t k = 1; k < SK; ++k) acc[k] = vec(T(0));
                over_sample_chains<B, SK>([&](std::size_t s, std::size_t k) {
                    const vec d = vec::load(dz + s * YS + v * lanes);
                    acc[k] = B == 1 && !Accumulate ? d : acc[k] + d;
                });
                vec r = acc[0];
#pragma GCC unroll 4
                for (std::size_t k = 1; k < SK; ++k) r = r + acc[k];
                r.store_aligned(g);
            }
        }
        if constexpr (NeedDx) {
            static_assert(DXS >= In);
            if constexpr (dots)
                dots_input_gradient<B, YS, DXS>(p, dz, dx);
            else if constexpr (B >= 8 && lanes == in_lanes && lanes > 1)
                rows_input_gradient_transposed<B, YS, DXS>(p, dz, dx);
            else
                rows_input_gradient_reduced<B, YS, DXS>(p, dz, dx);
        }
    }

    // ---- backward and optimizer step fused, one sample -----------------------------------------
    // backward<1, ..., Accumulate = false>, with each register of the gradient handed to
    // step(k, g) (k: its offset in this layer's parameters) as soon as it is made, which updates
    // it in place: the optimizer's pass then never reads the gradients back, and W is read once
    // for dx and its update. dx is computed from W before its update; every gradient and dx has
    // backward's bits (with Factor, below, with the exceptions sequence::backward_step gives): one
    // sample's gradients are the products x dz themselves (no + 0 of a zeroed
    // accumulator, which only turned -0 into +0 and cost the step's chain two cycles: T 2-8-1's
    // train1 0.762 -> 0.744 of Eigen's time), and the first term of each sum in dx is a product.
    static constexpr bool fuses_step = true;
    // A lone output (a regression head) whose weights and bias fit in one register together can
    // take one step for the whole layer (WholeLayer), its gradient gathered on the stack, instead of
    // one per weight register and a one-lane step for the bias (T 2-8-1's train1: 0.734 -> 0.703
    // of Eigen's time). The register reaches past the layer's parameters into the padding of the
    // parameter block, which the sequence checks there is (whole_layer_width floats from the
    // layer's start); those lanes get a zero gradient. The wait for the gathered register is off
    // the chain: the next step reads these parameters only after its forward up to this layer.
    static constexpr std::size_t whole_layer_width =
        dots && Out == 1 && Bias && std::bit_ceil(param_size) <= simd::native_width<T> ? std::bit_ceil(param_size) : 0;
    // Factor (sequence::backward_step): dz = Factor dz_core, and dx is computed as
    // dz_core (Factor W), the same bits (both round the same product once; the exceptions are
    // there) with the multiplication by Factor on W, off the chain from dz. The dots kernel takes
    // it; the sequence gives it to no other.
    static constexpr bool folds_gradient_factor = dots;
    template <std::size_t DXS, bool NeedDx, bool WholeLayer = false, int Factor = 0, class Step>
    static void backward_step(const T* p, const T* x, const T* dz, T* dx, Step&& step,
                              [[maybe_unused]] const T* dz_core = nullptr) noexcept {
        constexpr bool whole = WholeLayer && whole_layer_width > 0;
        // With whole: the layer's gradient gathered, then stepped as one register (after the bias).
        [[maybe_unused]] alignas(64) T whole_gradient[whole ? whole_layer_width : 1] = {};
        if constexpr (dots) {
            const auto update = [&](std::size_t o, std::size_t c, const ivec& d) {
                const std::size_t k = o * in_row + c * in_lanes;
                if constexpr (whole) (d * load_input(x, c)).store_aligned(whole_gradient + k);
                else step(k, d * load_input(x, c));
            };
            if constexpr (NeedDx) {
                dots_input_gradient<1, row, DXS, Factor>(p, dz, dx, update, dz_core);
            } else {
#pragma GCC unroll 16
                for (std::size_t o = 0; o < Out; ++o) {
                    const ivec d(dz[o]);
#pragma GCC unroll 16
                    for (std::size_t c = 0; c < in_vectors; ++c) update(o, c, d);
                }
            }
        } else {
            const auto update = [&](std::size_t i, const vec (&d)[vectors]) {
                const vec xs(x[i]);
#pragma GCC unroll 32
                for (std::size_t v = 0; v < vectors; ++v) step(i * row + v * lanes, xs * d[v]);
            };
            if constexpr (NeedDx) {
                rows_input_gradient_reduced<1, row, DXS>(p, dz, dx, update);
            } else {
                vec d[vectors];
#pragma GCC unroll 32
                for (std::size_t v = 0; v < vectors; ++v) d[v] = vec::load(dz + v * lanes);
                for (std::size_t i = 0; i < In; ++i) update(i, d);
            }
        }
        if constexpr (whole) {
            whole_gradient[weight_size] = dz[0];
            step(0, simd::vec<T, whole_layer_width>::load_aligned(whole_gradient));
        } else if constexpr (Bias) {
#pragma GCC unroll 32
            for (std::size_t v = 0; v < vectors; ++v) step(weight_size + v * lanes, vec::load(dz + v * lanes));
        }
    }

    // ---- views in PyTorch's logical layout ------------------------------------------------------
    template <class P>
    struct view {
        P* p;
        static constexpr std::size_t in_features = In;
        static constexpr std::size_t out_features = Out;
        constexpr P& weight(std::size_t o, std::size_t i) const noexcept { return p[at(o, i)]; }
        constexpr P& bias(std::size_t o) const noexcept
            requires Bias
        {
            return p[weight_size + o];
        }
    };

    template <class P, class F>
    static constexpr void for_each_tensor(P* p, F&& f) {
        if constexpr (dots)
            f(param_tensor<P>{"weight", 2, {Out, In}, p, in_row, 1});
        else
            f(param_tensor<P>{"weight", 2, {Out, In}, p, 1, row});
        if constexpr (Bias) f(param_tensor<P>{"bias", 1, {Out, 1}, p + weight_size, 1, 0});
    }

    // PyTorch draws the weight in [out][in] order, then the bias.
    template <class Scheme, class Rng>
    static constexpr void initialize(T* p, const Scheme& scheme, Rng& rng) {
        for (std::size_t o = 0; o < Out; ++o)
            for (std::size_t i = 0; i < In; ++i) p[at(o, i)] = scheme.template weight<T>(rng, In, Out);
        if constexpr (Bias)
            for (std::size_t o = 0; o < Out; ++o) p[weight_size + o] = scheme.template bias<T>(rng, In, Out);
    }

private:
    static constexpr std::size_t min_(std::size_t a, std::size_t b) noexcept { return a < b ? a : b; }
    static constexpr std::size_t max_(std::size_t a, std::size_t b) noexcept { return a < b ? b : a; }

    // ---- rows -------------------------------------------------------------------------------------
    // One sample, V registers of outputs from register V0, all the chains in registers at once.
    template <class Epilogue, std::size_t V0, std::size_t V>
    static constexpr void rows_block1(const T* p, const T* x, T* y) noexcept {
        constexpr std::size_t K = chains;
        vec acc[K][V];
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v) {
            acc[0][v] = Bias ? vec::load_aligned(p + weight_size + (V0 + v) * lanes) : vec(T(0));
#pragma GCC unroll 8
            for (std::size_t k = 1; k < K; ++k) acc[k][v] = vec(T(0));
        }
        constexpr std::size_t full = In / K * K;
        for (std::size_t i = 0; i < full; i += K) {
#pragma GCC unroll 8
            for (std::size_t k = 0; k < K; ++k) {
                const vec xs(x[i + k]);
                const T* w = p + (i + k) * row + V0 * lanes;
#pragma GCC unroll 32
                for (std::size_t v = 0; v < V; ++v) acc[k][v] = fma(vec::load_aligned(w + v * lanes), xs, acc[k][v]);
            }
        }
#pragma GCC unroll 8
        for (std::size_t k = 0; k < In - full; ++k) {
            const vec xs(x[full + k]);
            const T* w = p + (full + k) * row + V0 * lanes;
#pragma GCC unroll 32
            for (std::size_t v = 0; v < V; ++v) acc[k][v] = fma(vec::load_aligned(w + v * lanes), xs, acc[k][v]);
        }
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v) {
            vec r = acc[0][v];
#pragma GCC unroll 8
            for (std::size_t k = 1; k < K; ++k) r = r + acc[k][v];
            Epilogue::apply(r).store(y + (V0 + v) * lanes);
        }
    }

    // One sample, V registers of outputs from register V0, over the n rows listed by offset.
    template <class Epilogue, std::size_t V0, std::size_t V>
    static void rows_sparse1(const T* p, const std::uint32_t* offsets, const T* values, std::size_t n, T* y) noexcept {
        vec acc[V];
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v)
            acc[v] = Bias ? vec::load_aligned(p + weight_size + (V0 + v) * lanes) : vec(T(0));
        // Unrolled by 8: W 64-128-128-16's fwd1 took 0.79 of Eigen's time rolled, 0.74 by 2, 0.70
        // by 4, 0.68 by 8 and by 16.
#pragma GCC unroll 8
        for (std::size_t j = 0; j < n; ++j) {
            const vec xs(values[j]);
            const T* w = p + offsets[j] + V0 * lanes;
#pragma GCC unroll 32
            for (std::size_t v = 0; v < V; ++v) acc[v] = fma(vec::load_aligned(w + v * lanes), xs, acc[v]);
        }
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v) Epilogue::apply(acc[v]).store(y + (V0 + v) * lanes);
    }

    // Chain k over B samples, in tiles of samples x output registers.
    template <class Epilogue, std::size_t k, std::size_t B, std::size_t XS, std::size_t YS>
    static constexpr void rows_chain(const T* p, const T* x, T* y) noexcept {
        constexpr std::size_t chunk = vectors < accumulator_budget<T> / 2 ? vectors : accumulator_budget<T> / 2;
        constexpr std::size_t tile = min_(8, max_(1, accumulator_budget<T> / chunk));  // samples per tile
        constexpr std::size_t full = B / tile;
        for (std::size_t t = 0; t < full; ++t) {
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (rows_block<Epilogue, k, tile, XS, YS, K * chunk, min_(chunk, vectors - K * chunk)>(
                     p, x + t * tile * XS, y + t * tile * YS),
                 ...);
            }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
        }
        if constexpr (B % tile != 0) {
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (rows_block<Epilogue, k, B % tile, XS, YS, K * chunk, min_(chunk, vectors - K * chunk)>(
                     p, x + full * tile * XS, y + full * tile * YS),
                 ...);
            }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
        }
    }

    // Chain k of S samples x V registers of outputs from register V0: with several chains, chain k
    // runs on its own and is added to the partial sum the chains before it left in y (the same
    // additions, in the same order, as rows_block1).
    template <class Epilogue, std::size_t k, std::size_t S, std::size_t XS, std::size_t YS, std::size_t V0, std::size_t V>
    static constexpr void rows_block(const T* p, const T* x, T* y) noexcept {
        constexpr std::size_t K = chains;
        // The pragmas keep acc and wv in registers at -O2 too (g++ 12 unrolls these only at -O3).
        vec acc[S][V];
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v) {
            const vec b0 = Bias && k == 0 ? vec::load_aligned(p + weight_size + (V0 + v) * lanes) : vec(T(0));
#pragma GCC unroll 32
            for (std::size_t s = 0; s < S; ++s) acc[s][v] = b0;
        }
        for (std::size_t i = k; i < In; i += K) {
            const T* w = p + i * row + V0 * lanes;
            vec wv[V];
#pragma GCC unroll 32
            for (std::size_t v = 0; v < V; ++v) wv[v] = vec::load_aligned(w + v * lanes);
#pragma GCC unroll 32
            for (std::size_t s = 0; s < S; ++s) {
                const vec xs(x[s * XS + i]);
#pragma GCC unroll 32
                for (std::size_t v = 0; v < V; ++v) acc[s][v] = fma(wv[v], xs, acc[s][v]);
            }
        }
#pragma GCC unroll 32
        for (std::size_t s = 0; s < S; ++s)
#pragma GCC unroll 32
            for (std::size_t v = 0; v < V; ++v) {
                T* out = y + s * YS + (V0 + v) * lanes;
                vec r = acc[s][v];
                if constexpr (k > 0) r = vec::load(out) + r;
                if constexpr (k + 1 == K) r = Epilogue::apply(r);
                r.store(out);
            }
    }

    // dW[i][o] (+)= sum over s of x[s][i] dz[s][o]: a tile of input rows x output registers stays in
    // registers over the samples.
    template <std::size_t B, std::size_t XS, std::size_t YS, bool Accumulate>
    static constexpr void rows_weight_gradient(const T* x, const T* dz, T* gp) noexcept {
        constexpr std::size_t VT = min_(vectors, 4);  // output registers per tile
        constexpr std::size_t IR = min_(In, 4);       // input rows per tile
        auto tile = [&]<std::size_t I, std::size_t V>(std::size_t i0, std::size_t v0) {
            // Few accumulators would each be one long chain over the samples: split the samples
            // into SK interleaved chains, added at the end.
            constexpr std::size_t SK = max_(1, min_(min_(B, 4), 8 / (I * V)));
            vec acc[SK][I][V];
#pragma GCC unroll 8
            for (std::size_t ii = 0; ii < I; ++ii)
#pragma GCC unroll 8
                for (std::size_t vv = 0; vv < V; ++vv) {
                    acc[0][ii][vv] = Accumulate ? vec::load_aligned(gp + (i0 + ii) * row + (v0 + vv) * lanes) : vec(T(0));
#pragma GCC unroll 4
                    for (std::size_t k = 1; k < SK; ++k) acc[k][ii][vv] = vec(T(0));
                }
            auto sample = [&](std::size_t s, std::size_t k) {
                vec d[V];
#pragma GCC unroll 8
                for (std::size_t vv = 0; vv < V; ++vv) d[vv] = vec::load(dz + s * YS + (v0 + vv) * lanes);
#pragma GCC unroll 8
                for (std::size_t ii = 0; ii < I; ++ii) {
                    const vec xs(x[s * XS + i0 + ii]);
#pragma GCC unroll 8
                    for (std::size_t vv = 0; vv < V; ++vv)
                        acc[k][ii][vv] = B == 1 && !Accumulate ? xs * d[vv] : fma(xs, d[vv], acc[k][ii][vv]);
                }
            };
            over_sample_chains<B, SK>(sample);
#pragma GCC unroll 8
            for (std::size_t ii = 0; ii < I; ++ii)
#pragma GCC unroll 8
                for (std::size_t vv = 0; vv < V; ++vv) {
                    vec r = acc[0][ii][vv];
#pragma GCC unroll 4
                    for (std::size_t k = 1; k < SK; ++k) r = r + acc[k][ii][vv];
                    r.store_aligned(gp + (i0 + ii) * row + (v0 + vv) * lanes);
                }
        };
        auto over_rows = [&]<std::size_t V>(std::size_t v0) {
            constexpr std::size_t full = In / IR * IR;
            for (std::size_t i0 = 0; i0 < full; i0 += IR) tile.template operator()<IR, V>(i0, v0);
            if constexpr (full < In) tile.template operator()<In - full, V>(full, v0);
        };
        constexpr std::size_t vfull = vectors / VT * VT;
        for (std::size_t v0 = 0; v0 < vfull; v0 += VT) over_rows.template operator()<VT>(v0);
        if constexpr (vfull < vectors) over_rows.template operator()<vectors - vfull>(vfull);
    }

    // dx[s][i] = <row i of W, dz[s]> for a few samples: the products of `lanes` rows are reduced
    // together (reduce_add_many), which costs a few shuffles per row instead of a full reduction.
    // after_row(i, d) runs once row i has been read (d: the sample's dz registers).
    template <std::size_t B, std::size_t YS, std::size_t DXS, class AfterRow = no_callback>
    static constexpr void rows_input_gradient_reduced(const T* p, const T* dz, T* dx, AfterRow after_row = {}) noexcept {
        constexpr std::size_t G = lanes;  // rows reduced together
        for (std::size_t s = 0; s < B; ++s) {
            vec d[vectors];
#pragma GCC unroll 32
            for (std::size_t v = 0; v < vectors; ++v) d[v] = vec::load(dz + s * YS + v * lanes);
            auto group = [&]<std::size_t M>(std::size_t i0) {
                vec t[G];
#pragma GCC unroll 16
                for (std::size_t r = 0; r < M; ++r) {
                    vec acc = vec::load_aligned(p + (i0 + r) * row) * d[0];
#pragma GCC unroll 32
                    for (std::size_t v = 1; v < vectors; ++v) acc = fma(vec::load_aligned(p + (i0 + r) * row + v * lanes), d[v], acc);
                    t[r] = acc;
                    after_row(i0 + r, d);
                }
                const vec sums = simd::reduce_add_many<M>(t);
                T* out = dx + s * DXS + i0;
                if constexpr (G > 1) {
                    if (i0 + G <= DXS) {  // lanes from M on are zero: the padding of dx
                        sums.store(out);
                        return;
                    }
                    alignas(64) T tmp[G];
                    sums.store(tmp);
                    for (std::size_t r = 0; r < M; ++r) out[r] = tmp[r];
                } else {
                    out[0] = sums[0];
                }
            };
            constexpr std::size_t full = In / G * G;
            for (std::size_t i0 = 0; i0 < full; i0 += G) group.template operator()<G>(i0);
            if constexpr (full < In) group.template operator()<In - full>(full);
            for (std::size_t i = In; i < DXS; ++i) dx[s * DXS + i] = T(0);
        }
    }

    // dx = dz W for a batch: strips of `lanes` columns of W^T are made by register transposes of W,
    // then every sample's strip of dx is a broadcast-multiply-add over the outputs.
    template <std::size_t B, std::size_t YS, std::size_t DXS>
    static constexpr void rows_input_gradient_transposed(const T* p, const T* dz, T* dx) noexcept {
        constexpr std::size_t L = lanes;
        constexpr std::size_t ST = min_(B, 8);  // samples per register tile
        for (std::size_t i0 = 0; i0 < In; i0 += L) {
            alignas(64) T wt[vectors * L][L];  // wt[o] = W[o][i0, i0 + L)
            for (std::size_t v = 0; v < vectors; ++v) {
                vec b[L];
#pragma GCC unroll 16
                for (std::size_t r = 0; r < L; ++r)
                    b[r] = i0 + r < In ? vec::load_aligned(p + (i0 + r) * row + v * L) : vec(T(0));
                simd::transpose(b);
#pragma GCC unroll 16
                for (std::size_t c = 0; c < L; ++c) b[c].store_aligned(wt[v * L + c]);
            }
            auto tile = [&]<std::size_t S>(std::size_t s0) {
                vec acc[S];
#pragma GCC unroll 8
                for (std::size_t s = 0; s < S; ++s) acc[s] = vec(T(0));
                for (std::size_t o = 0; o < Out; ++o) {
                    const vec w = vec::load_aligned(wt[o]);
#pragma GCC unroll 8
                    for (std::size_t s = 0; s < S; ++s) acc[s] = fma(vec(dz[(s0 + s) * YS + o]), w, acc[s]);
                }
#pragma GCC unroll 8
                for (std::size_t s = 0; s < S; ++s) {
                    T* out = dx + (s0 + s) * DXS + i0;
                    if (i0 + L <= DXS) {
                        acc[s].store(out);
                    } else {
                        alignas(64) T tmp[L];
                        acc[s].store(tmp);
                        for (std::size_t r = 0; i0 + r < DXS; ++r) out[r] = tmp[r];
                    }
                }
            };
            constexpr std::size_t full = B / ST * ST;
            for (std::size_t s0 = 0; s0 < full; s0 += ST) tile.template operator()<ST>(s0);
            if constexpr (full < B) tile.template operator()<B - full>(full);
        }
    }

    // ---- dots -------------------------------------------------------------------------------------
    // Register c of an input row, reading only x[0, In) (the rest of the last register is zero).
    static ivec load_input(const T* x, std::size_t c) noexcept {
        if constexpr (In % in_lanes != 0) {
            if (c + 1 == in_vectors) return simd::load_first<In % in_lanes, T, in_lanes>(x + c * in_lanes);
        }
        return ivec::load(x + c * in_lanes);
    }

    // y[s][o] = epilogue(tree(p)) for B samples (B = 1: one sample); groups of samples whose Out
    // sums fill a register are reduced together.
    // ShortLatency: a lone sum (one output of one sample) is reduced for latency rather than
    // throughput (simd::reduce_add_short_latency; the same bits).
    template <class Epilogue, std::size_t B, std::size_t XS, std::size_t YS, bool ShortLatency = false>
    static constexpr void dots_forward(const T* p, const T* x, T* y) noexcept {
        constexpr std::size_t L = plan::in_lanes;
        using one = simd::vec<T, 1>;
        if constexpr (in_lanes != L) {  // the scalar path: the same chains and tree, one lane at a time
            for (std::size_t s = 0; s < B; ++s) {
                for (std::size_t o = 0; o < Out; ++o) {
                    std::array<one, L> part{};
                    if constexpr (Bias) part[0] = one(p[weight_size + o]);
                    for (std::size_t i = 0; i < In; ++i)
                        part[i % L] = fma(one(x[s * XS + i]), one(p[at(o, i)]), part[i % L]);
                    std::array<T, L> v{};
                    for (std::size_t j = 0; j < L; ++j) v[j] = part[j].v;
                    Epilogue::apply(one(simd::reduce_add_scalar<T, L>(v))).store(y + s * YS + o);
                }
                for (std::size_t o = Out; o < row; ++o) Epilogue::apply(one(T(0))).store(y + s * YS + o);
            }
        } else {
            constexpr std::size_t G = L / Out;  // samples per reduction
            ivec start[Out];                    // b[o] in lane 0: where chain 0 starts
#pragma GCC unroll 16
            for (std::size_t o = 0; o < Out; ++o)
                start[o] = Bias ? simd::load_first<1, T, L>(p + weight_size + o) : ivec(T(0));
            auto group = [&]<std::size_t S>(std::size_t s0) {
                constexpr std::size_t M = S * Out;
                ivec acc[M];
#pragma GCC unroll 16
                for (std::size_t m = 0; m < M; ++m) acc[m] = start[m % Out];
#pragma GCC unroll 16
                for (std::size_t c = 0; c < in_vectors; ++c)
#pragma GCC unroll 16
                    for (std::size_t s = 0; s < S; ++s) {
                        const ivec xv = load_input(x + (s0 + s) * XS, c);
#pragma GCC unroll 16
                        for (std::size_t o = 0; o < Out; ++o)
                            acc[s * Out + o] = fma(xv, ivec::load_aligned(p + o * in_row + c * L), acc[s * Out + o]);
                    }
                if constexpr (M == 1) {  // one output of one sample
                    const T sum = ShortLatency ? simd::reduce_add_short_latency(acc[0]) : simd::reduce_add(acc[0]);
                    Epilogue::apply(one(sum)).store(y + s0 * YS);
                    for (std::size_t o = 1; o < row; ++o) Epilogue::apply(one(T(0))).store(y + s0 * YS + o);
                    return;
                }
                const ivec sums = simd::reduce_add_many<M>(acc);  // lanes from M on are zero
                if constexpr (YS == Out && M == L) {  // whole outputs of whole samples: one register
                    Epilogue::apply(sums).store(y + s0 * YS);
                } else if constexpr (S == 1) {  // one sample: its padded row of outputs
                    alignas(64) T tmp[L];
                    sums.store_aligned(tmp);
                    Epilogue::apply(vec::load_aligned(tmp)).store(y + s0 * YS);
                } else {
                    alignas(64) T tmp[L];
                    sums.store_aligned(tmp);
                    for (std::size_t s = 0; s < S; ++s) {
                        for (std::size_t o = 0; o < Out; ++o) Epilogue::apply(one(tmp[s * Out + o])).store(y + (s0 + s) * YS + o);
                        for (std::size_t o = Out; o < row; ++o) Epilogue::apply(one(T(0))).store(y + (s0 + s) * YS + o);
                    }
                }
            };
            constexpr std::size_t full = B / G * G;
            for (std::size_t s0 = 0; s0 < full; s0 += G) group.template operator()<G>(s0);
            if constexpr (full < B) group.template operator()<B - full>(full);
        }
    }

    // dW[o][i] (+)= sum over s of dz[s][o] x[s][i]: all Out rows of a strip of input registers stay in
    // registers over the samples.
    template <std::size_t B, std::size_t XS, std::size_t YS, bool Accumulate>
    static constexpr void dots_weight_gradient(const T* x, const T* dz, T* gp) noexcept {
        constexpr std::size_t CT = max_(1, min_(in_vectors, accumulator_budget<T> / Out));  // input registers per tile
        auto tile = [&]<std::size_t C>(std::size_t c0) {
            constexpr std::size_t SK = max_(1, min_(min_(B, 4), 8 / (Out * C)));  // chains over the samples
            ivec acc[SK][Out][C];
#pragma GCC unroll 16
            for (std::size_t o = 0; o < Out; ++o)
#pragma GCC unroll 16
                for (std::size_t c = 0; c < C; ++c) {
                    acc[0][o][c] = Accumulate ? ivec::load_aligned(gp + o * in_row + (c0 + c) * in_lanes) : ivec(T(0));
#pragma GCC unroll 4
                    for (std::size_t k = 1; k < SK; ++k) acc[k][o][c] = ivec(T(0));
                }
            auto sample = [&](std::size_t s, std::size_t k) {
                ivec xv[C];
#pragma GCC unroll 16
                for (std::size_t c = 0; c < C; ++c) xv[c] = load_input(x + s * XS, c0 + c);
#pragma GCC unroll 16
                for (std::size_t o = 0; o < Out; ++o) {
                    const ivec d(dz[s * YS + o]);
#pragma GCC unroll 16
                    for (std::size_t c = 0; c < C; ++c)
                        acc[k][o][c] = B == 1 && !Accumulate ? d * xv[c] : fma(d, xv[c], acc[k][o][c]);
                }
            };
            over_sample_chains<B, SK>(sample);
#pragma GCC unroll 16
            for (std::size_t o = 0; o < Out; ++o)
#pragma GCC unroll 16
                for (std::size_t c = 0; c < C; ++c) {
                    ivec r = acc[0][o][c];
#pragma GCC unroll 4
                    for (std::size_t k = 1; k < SK; ++k) r = r + acc[k][o][c];
                    r.store_aligned(gp + o * in_row + (c0 + c) * in_lanes);
                }
        };
        constexpr std::size_t full = in_vectors / CT * CT;
        for (std::size_t c0 = 0; c0 < full; c0 += CT) tile.template operator()<CT>(c0);
        if constexpr (full < in_vectors) tile.template operator()<in_vectors - full>(full);
    }

    // dx[s] = sum over o of dz[s][o] W[o]: rows of W against a broadcast of dz.
    // after(o, c, d) runs once register c of row o has been read (d: dz[s][o] broadcast).
    // With Factor, dz = Factor core, and the products are core (Factor W): the same bits.
    template <std::size_t B, std::size_t YS, std::size_t DXS, int Factor = 0, class After = no_callback>
    static constexpr void dots_input_gradient(const T* p, const T* dz, T* dx, After after = {},
                                              [[maybe_unused]] const T* core = nullptr) noexcept {
        static_assert(Factor >= 0 && (Factor & (Factor - 1)) == 0, "ctnn internal: the factor must be a power of two");
        for (std::size_t s = 0; s < B; ++s) {
            ivec acc[in_vectors];
#pragma GCC unroll 16
            for (std::size_t o = 0; o < Out; ++o) {
                const ivec d(dz[s * YS + o]);
                const ivec a = Factor != 0 ? ivec(core[s * YS + o]) : d;  // against Factor W
#pragma GCC unroll 16
                for (std::size_t c = 0; c < in_vectors; ++c) {
                    ivec w = ivec::load_aligned(p + o * in_row + c * in_lanes);
                    if constexpr (Factor != 0) w = w * ivec(static_cast<T>(Factor));
                    acc[c] = o == 0 ? a * w : fma(a, w, acc[c]);
                    after(o, c, d);
                }
            }
#pragma GCC unroll 16
            for (std::size_t c = 0; c < in_vectors; ++c) acc[c].store(dx + s * DXS + c * in_lanes);
            for (std::size_t i = in_row; i < DXS; ++i) dx[s * DXS + i] = T(0);
        }
    }
};

}  // namespace detail

// dense<N>: N outputs with a bias; dense<N, ctnn::no_bias>: without.
template <std::size_t N, auto... Options>
struct dense_t {
    static_assert(N > 0, "ctnn: dense<N> needs at least one output: N must be > 0");
    static_assert(((std::is_same_v<std::remove_cvref_t<decltype(Options)>, no_bias_t>) && ...),
                  "ctnn: dense<N, ...> takes only the option ctnn::no_bias");
    static constexpr std::size_t out_width(std::size_t) noexcept { return N; }
    template <class T, std::size_t In, std::size_t Lanes>
    using bind = detail::dense_layer<T, In, N, sizeof...(Options) == 0, Lanes>;
};
template <std::size_t N, auto... Options>
inline constexpr dense_t<N, Options...> dense{};

}  // namespace ctnn
