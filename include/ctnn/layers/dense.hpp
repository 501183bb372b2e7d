#pragma once
// dense<N>: a fully connected layer, PyTorch's nn.Linear(in, N): y = W x + b.
//
// Parameters (state_dict order): "weight" [N, in], "bias" [N] (absent with dense<N, ctnn::no_bias>).
// Storage is chosen for the kernels, not for the user: the weight is kept transposed, [in][P] with
// P = N padded to whole registers, so the forward pass is a broadcast-multiply-add of one input
// against one row of P outputs (no horizontal sums), and the backward pass reuses the same rows.
// Padding is zero and stays zero. layer<I>().weight(o, i) reads and writes in PyTorch's [out][in]
// order whatever the storage.
// An elementwise activation that follows fuses into the kernel as an epilogue on the accumulators.
// Forward FLOPs: 2 * in * N, plus N for the bias.
#include <ctnn/layers/layer.hpp>

#include <cstddef>
#include <utility>

namespace ctnn {

struct no_bias_t {};
inline constexpr no_bias_t no_bias{};

namespace detail {

struct no_epilogue {
    template <class V>
    static constexpr V apply(V v) noexcept { return v; }
};

// Registers a kernel may hold as accumulators: AVX-512 has 32 vector registers, narrower x86 16.
template <class T>
inline constexpr std::size_t accumulator_budget = simd::register_bytes<T> >= 64 ? 24 : 12;

template <class T, std::size_t In, std::size_t Out, bool Bias, std::size_t Lanes>
struct dense_layer {
    static_assert(Out > 0);
    using value_type = T;
    static constexpr std::size_t in = In;
    static constexpr std::size_t out = Out;
    static constexpr bool has_bias = Bias;

    static constexpr std::size_t lanes = simd::width_for<T>(Out, Lanes);  // register width of this layer
    static constexpr std::size_t row = padded<T, Lanes>(Out);               // P: padded outputs per weight row
    static constexpr std::size_t vectors = row / lanes;              // registers per output vector
    static constexpr std::size_t weight_size = In * row;
    static constexpr std::size_t param_size = weight_size + (Bias ? row : 0);
    static constexpr std::size_t param_align = lanes;
    static constexpr std::size_t parameter_count = In * Out + (Bias ? Out : 0);
    static constexpr std::size_t flops = 2 * In * Out + (Bias ? Out : 0);
    static constexpr bool reads_input_exactly = true;  // reads x[0, in) one scalar at a time
    static constexpr bool fuses_epilogue = true;

    using vec = simd::vec<T, lanes>;

    // ---- forward, one sample: y[0, row) = epilogue(W^T x + b) -------------------------------
    template <class Epilogue = no_epilogue>
    static constexpr void forward(const T* p, const T*, const T* x, T* y, Epilogue = {}) noexcept {
        constexpr std::size_t chunk = vectors < accumulator_budget<T> ? vectors : accumulator_budget<T>;
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            (block<Epilogue, 1, 0, 0, K * chunk, min_(chunk, vectors - K * chunk)>(p, x, y), ...);
        }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
    }

    // ---- forward, B samples: rows of x have stride XS, rows of y stride YS (>= row) ---------
    template <std::size_t B, std::size_t XS, std::size_t YS, class Epilogue = no_epilogue>
    static constexpr void forward_batch(const T* p, const T*, const T* x, T* y, Epilogue = {}) noexcept {
        static_assert(YS >= row);
        constexpr std::size_t chunk = vectors < accumulator_budget<T> / 2 ? vectors : accumulator_budget<T> / 2;
        constexpr std::size_t tile = min_(8, max_(1, accumulator_budget<T> / chunk));  // samples per tile
        constexpr std::size_t full = B / tile;
        for (std::size_t t = 0; t < full; ++t) {
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (block<Epilogue, tile, XS, YS, K * chunk, min_(chunk, vectors - K * chunk)>(
                     p, x + t * tile * XS, y + t * tile * YS),
                 ...);
            }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
        }
        if constexpr (B % tile != 0) {
            [&]<std::size_t... K>(std::index_sequence<K...>) {
                (block<Epilogue, B % tile, XS, YS, K * chunk, min_(chunk, vectors - K * chunk)>(
                     p, x + full * tile * XS, y + full * tile * YS),
                 ...);
            }(std::make_index_sequence<(vectors + chunk - 1) / chunk>{});
        }
    }

    // ---- backward, B samples ---------------------------------------------------------------
    // Given dz = dL/dy (rows of stride YS >= row, padding zero): accumulates dW += x^T dz and
    // db += sum of dz rows into gp, and when NeedDx writes dx = dz W^T (rows of stride DXS).
    template <std::size_t B, std::size_t XS, std::size_t YS, std::size_t DXS, bool NeedDx>
    static constexpr void backward(const T* p, const T*, const T* x, const T*, const T* dz, T* dx, T* gp) noexcept {
        static_assert(YS >= row);
        // dW, row i: sum over samples of x[s][i] * dz[s], one register of outputs at a time.
        for (std::size_t i = 0; i < In; ++i)
            for (std::size_t v = 0; v < vectors; ++v) {
                T* g = gp + i * row + v * lanes;
                vec acc = vec::load_aligned(g);
                for (std::size_t s = 0; s < B; ++s) acc = fma(vec(x[s * XS + i]), vec::load(dz + s * YS + v * lanes), acc);
                acc.store_aligned(g);
            }
        if constexpr (Bias)
            for (std::size_t v = 0; v < vectors; ++v) {
                T* g = gp + weight_size + v * lanes;
                vec acc = vec::load_aligned(g);
                for (std::size_t s = 0; s < B; ++s) acc += vec::load(dz + s * YS + v * lanes);
                acc.store_aligned(g);
            }
        // dx[s][i] = <row i of W, dz[s]>.
        if constexpr (NeedDx)
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t i = 0; i < In; ++i) {
                    vec acc(T(0));
#pragma GCC unroll 16
                    for (std::size_t v = 0; v < vectors; ++v)
                        acc = fma(vec::load_aligned(p + i * row + v * lanes), vec::load(dz + s * YS + v * lanes), acc);
                    dx[s * DXS + i] = simd::reduce_add(acc);
                }
        if constexpr (NeedDx && DXS > In)  // padding of dx is zero, so a layer below reads whole registers
            for (std::size_t s = 0; s < B; ++s)
                for (std::size_t i = In; i < DXS; ++i) dx[s * DXS + i] = T(0);
    }

    // ---- views in PyTorch's logical layout ------------------------------------------------
    template <class P>
    struct view {
        P* p;
        static constexpr std::size_t in_features = In;
        static constexpr std::size_t out_features = Out;
        constexpr P& weight(std::size_t o, std::size_t i) const noexcept { return p[i * row + o]; }
        constexpr P& bias(std::size_t o) const noexcept
            requires Bias
        {
            return p[weight_size + o];
        }
    };

    template <class P, class F>
    static constexpr void for_each_tensor(P* p, F&& f) {
        f(param_tensor<P>{"weight", 2, {Out, In}, p, 1, row});
        if constexpr (Bias) f(param_tensor<P>{"bias", 1, {Out, 1}, p + weight_size, 1, 0});
    }

    // PyTorch draws the weight in [out][in] order, then the bias.
    template <class Scheme, class Rng>
    static constexpr void initialize(T* p, const Scheme& scheme, Rng& rng) {
        for (std::size_t o = 0; o < Out; ++o)
            for (std::size_t i = 0; i < In; ++i) p[i * row + o] = scheme.template weight<T>(rng, In, Out);
        if constexpr (Bias)
            for (std::size_t o = 0; o < Out; ++o) p[weight_size + o] = scheme.template bias<T>(rng, In, Out);
    }

private:
    static constexpr std::size_t min_(std::size_t a, std::size_t b) noexcept { return a < b ? a : b; }
    static constexpr std::size_t max_(std::size_t a, std::size_t b) noexcept { return a < b ? b : a; }

    // S samples x V registers of outputs starting at register V0, accumulated over all inputs.
    template <class Epilogue, std::size_t S, std::size_t XS, std::size_t YS, std::size_t V0, std::size_t V>
    static constexpr void block(const T* p, const T* x, T* y) noexcept {
        // The pragmas keep acc and wv in registers at -O2 too (g++ 12 unrolls these only at -O3).
        vec acc[S][V];
#pragma GCC unroll 32
        for (std::size_t v = 0; v < V; ++v) {
            const vec b0 = Bias ? vec::load_aligned(p + weight_size + (V0 + v) * lanes) : vec(T(0));
#pragma GCC unroll 32
            for (std::size_t s = 0; s < S; ++s) acc[s][v] = b0;
        }
        for (std::size_t i = 0; i < In; ++i) {
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
            for (std::size_t v = 0; v < V; ++v) Epilogue::apply(acc[s][v]).store(y + s * YS + (V0 + v) * lanes);
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
