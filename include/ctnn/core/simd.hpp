#pragma once
// ctnn's one SIMD code path: a thin wrapper over xsimd 8.1's batch (Debian's version).
//
// vec<T, N> is N lanes of T. N == 1 is the scalar path: plain T, constexpr, used by constant
// evaluation and by the tests as the reference every SIMD kernel is compared against. N > 1 maps to
// the best instruction set the translation unit is compiled for whose register holds exactly N lanes
// (xsimd::make_sized_batch_t), so a kernel can pick a narrow register for a narrow layer.
// Every xsimd call in ctnn is in this file: a change of xsimd version touches only here.
#include <xsimd/xsimd.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace ctnn::simd {

// Widest register of the target, in lanes of T (1 when the target has no SIMD for T).
template <class T>
inline constexpr std::size_t native_width = [] {
    if constexpr (std::is_same_v<xsimd::default_arch, xsimd::unavailable>)
        return std::size_t{1};
    else
        return std::size_t{xsimd::batch<T>::size};
}();

// True when the target has a register of exactly N lanes of T.
template <class T, std::size_t N>
inline constexpr bool has_width =
    N == 1 || (N <= native_width<T> && !std::is_void_v<xsimd::make_sized_batch_t<T, N>>);

// Narrowest available width >= n, capped at max_lanes (the native width unless a caller asks for
// less; 1 is the scalar path): the register a layer of n outputs uses.
template <class T>
constexpr std::size_t width_for(std::size_t n, std::size_t max_lanes = native_width<T>) noexcept {
    constexpr bool available[] = {has_width<T, 1>, has_width<T, 2>,  has_width<T, 4>, has_width<T, 8>,
                                  has_width<T, 16>, has_width<T, 32>, has_width<T, 64>};
    std::size_t w = 1, log2w = 0;
    const std::size_t cap = max_lanes < native_width<T> ? max_lanes : native_width<T>;
    while (w < cap && (w < n || !available[log2w])) w *= 2, ++log2w;
    return w;
}

// Bytes a target register of T occupies: the alignment of ctnn's parameter and tensor storage.
template <class T>
inline constexpr std::size_t register_bytes = native_width<T> * sizeof(T);

template <class T>
using int_of = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

template <class T>
struct ieee;
template <>
struct ieee<float> {
    static constexpr int mantissa_bits = 23;
    static constexpr std::int32_t exponent_bias = 127;
    static constexpr std::int32_t exponent_mask = 0xff;
};
template <>
struct ieee<double> {
    static constexpr int mantissa_bits = 52;
    static constexpr std::int64_t exponent_bias = 1023;
    static constexpr std::int64_t exponent_mask = 0x7ff;
};

template <class T, std::size_t N>
struct vec;
template <class T, std::size_t N>
struct mask;

// GCC's vector extension types of N lanes of T (clang has them too).
namespace detail {
template <class T, std::size_t N>
struct gnu_vector {
    typedef T real __attribute__((vector_size(N * sizeof(T))));
    typedef int_of<T> integer __attribute__((vector_size(N * sizeof(T))));
};
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Scalar path (N == 1): constexpr throughout.
template <class T>
struct mask<T, 1> {
    bool m;
    constexpr friend mask operator&(mask a, mask b) noexcept { return {a.m && b.m}; }
    constexpr friend mask operator|(mask a, mask b) noexcept { return {a.m || b.m}; }
    constexpr friend mask operator~(mask a) noexcept { return {!a.m}; }
};

template <class T>
struct vec<T, 1> {
    static_assert(std::is_floating_point_v<T>);
    using value_type = T;
    using mask_type = mask<T, 1>;
    static constexpr std::size_t size = 1;
    T v;

    constexpr vec() noexcept : v{} {}
    constexpr vec(T s) noexcept : v(s) {}

    static constexpr vec load(const T* p) noexcept { return {*p}; }
    static constexpr vec load_aligned(const T* p) noexcept { return {*p}; }
    constexpr void store(T* p) const noexcept { *p = v; }
    constexpr void store_aligned(T* p) const noexcept { *p = v; }
    constexpr T operator[](std::size_t) const noexcept { return v; }

    constexpr friend vec operator+(vec a, vec b) noexcept { return {a.v + b.v}; }
    constexpr friend vec operator-(vec a, vec b) noexcept { return {a.v - b.v}; }
    constexpr friend vec operator*(vec a, vec b) noexcept { return {a.v * b.v}; }
    constexpr friend vec operator/(vec a, vec b) noexcept { return {a.v / b.v}; }
    constexpr friend vec operator-(vec a) noexcept { return {-a.v}; }
    constexpr vec& operator+=(vec b) noexcept { v += b.v; return *this; }
    constexpr vec& operator-=(vec b) noexcept { v -= b.v; return *this; }
    constexpr vec& operator*=(vec b) noexcept { v *= b.v; return *this; }
    constexpr friend mask_type operator<(vec a, vec b) noexcept { return {a.v < b.v}; }
    constexpr friend mask_type operator<=(vec a, vec b) noexcept { return {a.v <= b.v}; }
    constexpr friend mask_type operator>(vec a, vec b) noexcept { return {a.v > b.v}; }
    constexpr friend mask_type operator>=(vec a, vec b) noexcept { return {a.v >= b.v}; }
    constexpr friend mask_type operator==(vec a, vec b) noexcept { return {a.v == b.v}; }
    constexpr friend mask_type operator!=(vec a, vec b) noexcept { return {a.v != b.v}; }
};

// Multiply-add, a * b + c: fused (one rounding) where the target has FMA instructions, a multiply
// then an add where it has not (baseline x86-64), in the scalar and the SIMD path alike, so that
// the two paths agree bit for bit on every target. Constant evaluation multiplies then adds.
// (AVX-512F fuses its 512-bit registers even without -mfma; the scalar, 128- and 256-bit forms
// need FMA3.)
#if defined(__FMA__)
inline constexpr bool has_fma = true;
#else
inline constexpr bool has_fma = false;
#endif

template <class T>
constexpr vec<T, 1> fma(vec<T, 1> a, vec<T, 1> b, vec<T, 1> c) noexcept {
    if (std::is_constant_evaluated() || !has_fma) return {a.v * b.v + c.v};
    if constexpr (std::is_same_v<T, float>)
        return {__builtin_fmaf(a.v, b.v, c.v)};
    else
        return {__builtin_fma(a.v, b.v, c.v)};
}
template <class T>
constexpr vec<T, 1> fnma(vec<T, 1> a, vec<T, 1> b, vec<T, 1> c) noexcept { return fma(-a, b, c); }
template <class T>
constexpr vec<T, 1> select(mask<T, 1> m, vec<T, 1> a, vec<T, 1> b) noexcept { return m.m ? a : b; }
template <class T>
constexpr vec<T, 1> min(vec<T, 1> a, vec<T, 1> b) noexcept { return {b.v < a.v ? b.v : a.v}; }
template <class T>
constexpr vec<T, 1> max(vec<T, 1> a, vec<T, 1> b) noexcept { return {a.v < b.v ? b.v : a.v}; }
template <class T>
constexpr vec<T, 1> abs(vec<T, 1> a) noexcept { return {a.v < T(0) ? -a.v : (a.v == T(0) ? T(0) : a.v)}; }
template <class T>
constexpr vec<T, 1> sqrt(vec<T, 1> a) noexcept {
    if (std::is_constant_evaluated()) {  // Newton's iteration, exact enough for constants
        if (!(a.v > T(0))) return {a.v == T(0) ? a.v : T(0) / T(0)};
        T x = a.v > T(1) ? a.v : T(1);
        for (int i = 0; i < 200; ++i) {
            T nx = (x + a.v / x) / T(2);
            if (nx >= x) break;
            x = nx;
        }
        return {x};
    }
#if defined(__SSE2__)
    // The instruction itself: __builtin_sqrt keeps errno's branch to the library call for a
    // negative input, which spills the caller's registers around it (every one-output network's
    // Adam step takes this square root).
    if constexpr (std::is_same_v<T, double>)
        return {_mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(a.v)))};
    else
#endif
        return {__builtin_sqrt(a.v)};
}
template <>
constexpr vec<float, 1> sqrt(vec<float, 1> a) noexcept {
    if (std::is_constant_evaluated()) return {static_cast<float>(sqrt(vec<double, 1>{a.v}).v)};
#if defined(__SSE2__)
    return {_mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(a.v)))};
#else
    return {__builtin_sqrtf(a.v)};
#endif
}
template <class T>
constexpr T reduce_add(vec<T, 1> a) noexcept { return a.v; }
template <class T>
constexpr T reduce_max(vec<T, 1> a) noexcept { return a.v; }
template <class T>
constexpr bool any(mask<T, 1> m) noexcept { return m.m; }
template <class T>
constexpr bool all(mask<T, 1> m) noexcept { return m.m; }

// 2^k for integer-valued k with k + bias in the normal exponent range.
template <class T>
constexpr vec<T, 1> pow2i(vec<T, 1> k) noexcept {
    using I = int_of<T>;
    using U = std::make_unsigned_t<I>;
    const I e = static_cast<I>(k.v) + ieee<T>::exponent_bias;
    return {std::bit_cast<T>(static_cast<U>(static_cast<U>(e) << ieee<T>::mantissa_bits))};
}
// For positive normal x: exponent e (as T) and mantissa m in [1, 2) with x = m * 2^e.
template <class T>
constexpr void split_exponent(vec<T, 1> x, vec<T, 1>& mantissa, vec<T, 1>& exponent) noexcept {
    using I = int_of<T>;
    using U = std::make_unsigned_t<I>;
    constexpr int mb = ieee<T>::mantissa_bits;
    const U bits = std::bit_cast<U>(x.v);
    const I e = static_cast<I>((bits >> mb) & static_cast<U>(ieee<T>::exponent_mask)) - ieee<T>::exponent_bias;
    const U mbits = (bits & ((U(1) << mb) - 1)) | (static_cast<U>(ieee<T>::exponent_bias) << mb);
    mantissa = vec<T, 1>{std::bit_cast<T>(mbits)};
    exponent = vec<T, 1>{static_cast<T>(e)};
}

// ---------------------------------------------------------------------------------------------
// SIMD path (N > 1).
template <class T, std::size_t N>
struct mask {
    using batch_type = xsimd::make_sized_batch_t<T, N>;
    typename batch_type::batch_bool_type m;
    friend mask operator&(mask a, mask b) noexcept { return {a.m & b.m}; }
    friend mask operator|(mask a, mask b) noexcept { return {a.m | b.m}; }
    friend mask operator~(mask a) noexcept { return {~a.m}; }
};

template <class T, std::size_t N>
struct vec {
    static_assert(has_width<T, N>, "ctnn internal: no SIMD register of this width on this target");
    using batch_type = xsimd::make_sized_batch_t<T, N>;
    using value_type = T;
    using mask_type = mask<T, N>;
    static constexpr std::size_t size = N;
    batch_type v;

    vec() noexcept = default;
    vec(T s) noexcept : v(s) {}
    vec(batch_type b) noexcept : v(b) {}

    static vec load(const T* p) noexcept { return {batch_type::load_unaligned(p)}; }
    static vec load_aligned(const T* p) noexcept { return {batch_type::load_aligned(p)}; }
    void store(T* p) const noexcept { v.store_unaligned(p); }
    void store_aligned(T* p) const noexcept { v.store_aligned(p); }
    T operator[](std::size_t i) const noexcept { return v.get(i); }

    friend vec operator+(vec a, vec b) noexcept { return {a.v + b.v}; }
    friend vec operator-(vec a, vec b) noexcept { return {a.v - b.v}; }
    friend vec operator*(vec a, vec b) noexcept { return {a.v * b.v}; }
    friend vec operator/(vec a, vec b) noexcept { return {a.v / b.v}; }
    friend vec operator-(vec a) noexcept { return {-a.v}; }
    vec& operator+=(vec b) noexcept { v += b.v; return *this; }
    vec& operator-=(vec b) noexcept { v -= b.v; return *this; }
    vec& operator*=(vec b) noexcept { v *= b.v; return *this; }
    friend mask_type operator<(vec a, vec b) noexcept { return {a.v < b.v}; }
    friend mask_type operator<=(vec a, vec b) noexcept { return {a.v <= b.v}; }
    friend mask_type operator>(vec a, vec b) noexcept { return {a.v > b.v}; }
    friend mask_type operator>=(vec a, vec b) noexcept { return {a.v >= b.v}; }
    friend mask_type operator==(vec a, vec b) noexcept { return {a.v == b.v}; }
    friend mask_type operator!=(vec a, vec b) noexcept { return {a.v != b.v}; }
};

// The first M lanes from p, the others zero, reading only p[0, M): a row's last, partial register.
template <std::size_t M, class T, std::size_t N>
inline vec<T, N> load_first(const T* p) noexcept {
    static_assert(M >= 1 && M <= N);
    if constexpr (M == N) {
        return vec<T, N>::load(p);
    } else if constexpr (M == 1) {  // one scalar load, zero-extended (movss / movsd)
        using B = typename vec<T, N>::batch_type;
        typename detail::gnu_vector<T, N>::real r{};
        r[0] = *p;
        return {B((typename B::register_type)r)};
    } else {
        [[maybe_unused]] constexpr std::size_t bytes = N * sizeof(T);
        [[maybe_unused]] constexpr bool f32 = std::is_same_v<T, float>;
#if defined(__AVX512F__)
        if constexpr (bytes == 64) {
            if constexpr (f32) return {_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << M) - 1), p)};
            else return {_mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << M) - 1), p)};
        } else
#endif
#if defined(__AVX512VL__)
        if constexpr (bytes == 32) {
            if constexpr (f32) return {_mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << M) - 1), p)};
            else return {_mm256_maskz_loadu_pd(static_cast<__mmask8>((1u << M) - 1), p)};
        } else if constexpr (bytes == 16) {
            if constexpr (f32) return {_mm_maskz_loadu_ps(static_cast<__mmask8>((1u << M) - 1), p)};
            else return {_mm_maskz_loadu_pd(static_cast<__mmask8>((1u << M) - 1), p)};
        } else
#endif
        {
            alignas(64) T t[N]{};
            for (std::size_t i = 0; i < M; ++i) t[i] = p[i];
            return vec<T, N>::load_aligned(t);
        }
    }
}
// The entries of x[0, N) that are not zero (NaN is not zero), in order: the j-th of them, x[i],
// gives offsets[j] = i * Stride and values[j] = x[i]. Returns how many there are; with more than
// Max, the lists may be left unwritten. offsets and values need room for
// nonzero_entries_room<T>(N) entries (whole registers are stored); those from the count on are
// unspecified. AVX-512 compresses a register of inputs at a time (a compare, two compresses, two
// stores), AVX2 permutes one (float) by a table of each mask's lanes; elsewhere the inputs are
// counted first and listed by a branch-free scalar loop only when there are at most Max.
template <class T>
inline constexpr std::size_t nonzero_entries_room(std::size_t n) noexcept { return n + native_width<T>; }
namespace detail {
// Byte k of entry m: the lane of the k-th set bit of m (zero past its last).
inline constexpr auto set_lanes_of_mask8 = [] {
    std::array<std::uint64_t, 256> t{};
    for (unsigned m = 0; m < 256; ++m)
        for (unsigned b = 0, k = 0; b < 8; ++b)
            if (m >> b & 1u) t[m] |= std::uint64_t{b} << (8 * k++);
    return t;
}();
}  // namespace detail
template <std::size_t N, std::size_t Stride, std::size_t Max = N, class T>
inline std::size_t nonzero_entries(const T* x, std::uint32_t* offsets, T* values) noexcept {
    static_assert(N * Stride <= 0xffffffffu);
    std::size_t n = 0;
#if defined(__AVX512F__) && defined(__AVX512VL__)
    if constexpr (native_width<T> * sizeof(T) == 64) {
        constexpr auto s = static_cast<int>(Stride);
        constexpr std::size_t L = native_width<T>;
        // Lanes at or past N are masked off (x is read exactly).
        auto in_range = [](std::size_t i) { return i + L <= N ? (1u << L) - 1 : (1u << (N - i)) - 1; };
        if constexpr (std::is_same_v<T, float>) {
            __m512i off = _mm512_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s, 8 * s, 9 * s, 10 * s,
                                            11 * s, 12 * s, 13 * s, 14 * s, 15 * s);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < N; i += L) {
                const auto k = static_cast<__mmask16>(in_range(i));
                const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
                const __mmask16 m = _mm512_mask_cmpneq_ps_mask(k, v, _mm512_setzero_ps());
                _mm512_storeu_si512(offsets + n, _mm512_maskz_compress_epi32(m, off));
                _mm512_storeu_ps(values + n, _mm512_maskz_compress_ps(m, v));
                n += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(m)));
                off = _mm512_add_epi32(off, _mm512_set1_epi32(16 * s));
            }
        } else {
            __m256i off = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
#pragma GCC unroll 16
            for (std::size_t i = 0; i < N; i += L) {
                const auto k = static_cast<__mmask8>(in_range(i));
                const __m512d v = _mm512_maskz_loadu_pd(k, x + i);
                const __mmask8 m = _mm512_mask_cmpneq_pd_mask(k, v, _mm512_setzero_pd());
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(offsets + n), _mm256_maskz_compress_epi32(m, off));
                _mm512_storeu_pd(values + n, _mm512_maskz_compress_pd(m, v));
                n += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(m)));
                off = _mm256_add_epi32(off, _mm256_set1_epi32(8 * s));
            }
        }
        return n;
    }
#elif defined(__AVX2__)
    if constexpr (std::is_same_v<T, float>) {
        // No compress: a table gives, for each 8-bit mask, the lanes of its set bits from lane 0.
        constexpr const auto& lanes_of = detail::set_lanes_of_mask8;
        constexpr auto s = static_cast<int>(Stride);
        __m256i off = _mm256_setr_epi32(0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < N; i += 8) {
            __m256 v;
            unsigned m;
            if (i + 8 <= N) {
                v = _mm256_loadu_ps(x + i);
                m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ)));
            } else {  // x is read exactly
                const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                v = _mm256_maskload_ps(x + i, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(N - i)), lane));
                m = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_UQ))) &
                    ((1u << (N - i)) - 1);
            }
            const __m256i perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(&lanes_of[m])));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(offsets + n), _mm256_permutevar8x32_epi32(off, perm));
            _mm256_storeu_ps(values + n, _mm256_permutevar8x32_ps(v, perm));
            n += static_cast<std::size_t>(std::popcount(m));
            off = _mm256_add_epi32(off, _mm256_set1_epi32(8 * s));
        }
        return n;
    }
#endif
#if defined(__SSE2__)
    constexpr std::size_t L = 16 / sizeof(T), whole = N / L * L;
#pragma GCC unroll 16
    for (std::size_t i = 0; i < whole; i += L) {
        int m;
        if constexpr (std::is_same_v<T, float>)
            m = _mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x + i), _mm_setzero_ps()));
        else
            m = _mm_movemask_pd(_mm_cmpneq_pd(_mm_loadu_pd(x + i), _mm_setzero_pd()));
        n += static_cast<std::size_t>(std::popcount(static_cast<unsigned>(m)));
    }
#else
    constexpr std::size_t whole = 0;
#endif
    for (std::size_t i = whole; i < N; ++i) n += !(x[i] == T(0));
    if (n > Max) return n;
    n = 0;
    for (std::size_t i = 0; i < N; ++i) {
        offsets[n] = static_cast<std::uint32_t>(i * Stride);
        values[n] = x[i];
        n += !(x[i] == T(0));
    }
    return n;
}

// xsimd 8.1 fuses only on its fma3 architectures; its AVX-512 fma is a multiply and an add. Call
// the instructions directly: a b + c, or with Negated c - a b (fma(-a, b, c) bit for bit, in one
// instruction: g++ does not always fold xsimd's negation, an xor, into the multiply-add).
namespace detail {
template <bool Negated, class T, std::size_t N>
inline vec<T, N> fused_multiply_add(vec<T, N> a, vec<T, N> b, vec<T, N> c) noexcept {
    [[maybe_unused]] constexpr std::size_t bytes = N * sizeof(T);
    [[maybe_unused]] constexpr bool f32 = std::is_same_v<T, float>;
#if defined(__AVX512F__)
    if constexpr (bytes == 64 && f32) return {Negated ? _mm512_fnmadd_ps(a.v, b.v, c.v) : _mm512_fmadd_ps(a.v, b.v, c.v)};
    else if constexpr (bytes == 64) return {Negated ? _mm512_fnmadd_pd(a.v, b.v, c.v) : _mm512_fmadd_pd(a.v, b.v, c.v)};
    else
#endif
#if defined(__FMA__)
    if constexpr (bytes == 32 && f32) return {Negated ? _mm256_fnmadd_ps(a.v, b.v, c.v) : _mm256_fmadd_ps(a.v, b.v, c.v)};
    else if constexpr (bytes == 32) return {Negated ? _mm256_fnmadd_pd(a.v, b.v, c.v) : _mm256_fmadd_pd(a.v, b.v, c.v)};
    else if constexpr (bytes == 16 && f32) return {Negated ? _mm_fnmadd_ps(a.v, b.v, c.v) : _mm_fmadd_ps(a.v, b.v, c.v)};
    else if constexpr (bytes == 16) return {Negated ? _mm_fnmadd_pd(a.v, b.v, c.v) : _mm_fmadd_pd(a.v, b.v, c.v)};
    else
#endif
    {
        // no FMA3 for this register: the scalar path does the same
        return {Negated ? c.v - a.v * b.v : a.v * b.v + c.v};
    }
}
}  // namespace detail
template <class T, std::size_t N>
inline vec<T, N> fma(vec<T, N> a, vec<T, N> b, vec<T, N> c) noexcept {
    return detail::fused_multiply_add<false>(a, b, c);
}
template <class T, std::size_t N>
inline vec<T, N> fnma(vec<T, N> a, vec<T, N> b, vec<T, N> c) noexcept {
    return detail::fused_multiply_add<true>(a, b, c);
}
template <class T, std::size_t N>
inline vec<T, N> select(mask<T, N> m, vec<T, N> a, vec<T, N> b) noexcept { return {xsimd::select(m.m, a.v, b.v)}; }
// min/max with the scalar path's NaN behaviour: min(a, b) = b < a ? b : a, max(a, b) = a < b ? b : a
// (a NaN in a is kept, a NaN in b gives a). That is x86's minps(b, a) / maxps(b, a) exactly: one
// instruction, where a compare and a blend is what g++ makes of the select. (AVX-512 through the
// zero-masked forms: see the note above pow2i.)
template <class T, std::size_t N>
inline vec<T, N> min(vec<T, N> a, vec<T, N> b) noexcept {
    [[maybe_unused]] constexpr std::size_t bytes = N * sizeof(T);
    [[maybe_unused]] constexpr bool f32 = std::is_same_v<T, float>;
#if defined(__AVX512F__)
    if constexpr (bytes == 64) {
        if constexpr (f32) return {_mm512_maskz_min_ps(static_cast<__mmask16>(0xffff), b.v, a.v)};
        else return {_mm512_maskz_min_pd(static_cast<__mmask8>(0xff), b.v, a.v)};
    } else
#endif
#if defined(__AVX__)
    if constexpr (bytes == 32) {
        if constexpr (f32) return {_mm256_min_ps(b.v, a.v)}; else return {_mm256_min_pd(b.v, a.v)};
    } else
#endif
#if defined(__SSE2__)
    if constexpr (bytes == 16) {
        if constexpr (f32) return {_mm_min_ps(b.v, a.v)}; else return {_mm_min_pd(b.v, a.v)};
    } else
#endif
    {
        return select(b < a, b, a);
    }
}
template <class T, std::size_t N>
inline vec<T, N> max(vec<T, N> a, vec<T, N> b) noexcept {
    [[maybe_unused]] constexpr std::size_t bytes = N * sizeof(T);
    [[maybe_unused]] constexpr bool f32 = std::is_same_v<T, float>;
#if defined(__AVX512F__)
    if constexpr (bytes == 64) {
        if constexpr (f32) return {_mm512_maskz_max_ps(static_cast<__mmask16>(0xffff), b.v, a.v)};
        else return {_mm512_maskz_max_pd(static_cast<__mmask8>(0xff), b.v, a.v)};
    } else
#endif
#if defined(__AVX__)
    if constexpr (bytes == 32) {
        if constexpr (f32) return {_mm256_max_ps(b.v, a.v)}; else return {_mm256_max_pd(b.v, a.v)};
    } else
#endif
#if defined(__SSE2__)
    if constexpr (bytes == 16) {
        if constexpr (f32) return {_mm_max_ps(b.v, a.v)}; else return {_mm_max_pd(b.v, a.v)};
    } else
#endif
    {
        return select(a < b, b, a);
    }
}
template <class T, std::size_t N>
inline vec<T, N> abs(vec<T, N> a) noexcept { return {xsimd::abs(a.v)}; }
// max(min(x, c), -c) for c >= 0 and x not NaN: AVX-512DQ's range instruction in one step (imm 2:
// the smaller magnitude of x and c, with x's sign), a min and a max elsewhere. A NaN in x gives NaN
// through min and max but +-c through range, so a caller that must propagate NaN carries it along
// another path (math::fast_tanh does, through x^2). Zero-masked forms, as for min and max.
template <class T>
constexpr vec<T, 1> clamp_magnitude(vec<T, 1> x, vec<T, 1> c) noexcept { return max(min(x, c), -c); }
template <class T, std::size_t N>
inline vec<T, N> clamp_magnitude(vec<T, N> x, vec<T, N> c) noexcept {
#if defined(__AVX512DQ__) && defined(__AVX512VL__)
    constexpr std::size_t bytes = N * sizeof(T);
    constexpr bool f32 = std::is_same_v<T, float>;
    if constexpr (bytes == 64) {
        if constexpr (f32) return {_mm512_maskz_range_ps(static_cast<__mmask16>(0xffff), x.v, c.v, 2)};
        else return {_mm512_maskz_range_pd(static_cast<__mmask8>(0xff), x.v, c.v, 2)};
    } else if constexpr (bytes == 32) {
        if constexpr (f32) return {_mm256_maskz_range_ps(static_cast<__mmask8>(0xff), x.v, c.v, 2)};
        else return {_mm256_maskz_range_pd(static_cast<__mmask8>(0xf), x.v, c.v, 2)};
    } else if constexpr (bytes == 16) {
        if constexpr (f32) return {_mm_maskz_range_ps(static_cast<__mmask8>(0xf), x.v, c.v, 2)};
        else return {_mm_maskz_range_pd(static_cast<__mmask8>(0x3), x.v, c.v, 2)};
    } else
#endif
        return max(min(x, c), -c);
}
template <class T, std::size_t N>
inline vec<T, N> sqrt(vec<T, N> a) noexcept {
#if defined(__AVX512F__)
    if constexpr (N * sizeof(T) == 64) {  // zero-masked form: see the note above pow2i
        if constexpr (std::is_same_v<T, float>)
            return {_mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xffff), a.v)};
        else
            return {_mm512_maskz_sqrt_pd(static_cast<__mmask8>(0xff), a.v)};
    } else
#endif
        return {xsimd::sqrt(a.v)};
}

// a / b to within an ulp, off the divider where AVX-512 (with VL and FMA) has a 14-bit reciprocal
// estimate: r ~ 1/b, q0 = a r, q = q0 + r (a - b q0). The correction leaves about 2^-28 of
// relative error before the last rounding, so where a, b and the quotient are normal it is the
// quotient or a neighbour of it (99.7 % correctly rounded in the test). Elsewhere, for double, and
// in constant evaluation, the division itself. Every width, the scalar one included, gives the
// same bits for the same operands at run time, but for the sign of a NaN (g++ folds the negation
// into the multiply-add at some widths, xsimd flips the NaN's sign at others). Unlike the
// division, it gives NaN where an infinity meets the correction: b = +-inf, b = 0, a = +-inf, and
// quotients that overflow; with a subnormal a or quotient the correction underflows, which leaves
// the estimate's error (a few ulps). Adam divides m by sqrt(v) + eps with it, for blocks larger
// than a few registers (see optim/adam.hpp for its edge); divide_by_sqrt_plus falls back to it.
// Why: a division takes the divider for 2.5 cycles per 16 floats and 2.6 multiply-add issue slots;
// this takes 3 slots and no divider.
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
inline constexpr bool has_fast_reciprocal = true;
#else
inline constexpr bool has_fast_reciprocal = false;
#endif
namespace detail {
// AVX-512's 14-bit estimates of 1/x and sqrt(x) (relative error below 2^-14), for the float
// widths divide and divide_by_sqrt_plus take them at: 1, 4, 8 and 16 lanes, the same bits at each.
template <std::size_t N>
inline constexpr bool has_estimates = has_fast_reciprocal && (N == 1 || N == 4 || N == 8 || N == 16);
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
template <std::size_t N>
inline vec<float, N> rcp14(vec<float, N> x) noexcept {
    if constexpr (N == 16) return {_mm512_maskz_rcp14_ps(static_cast<__mmask16>(0xffff), x.v)};
    else if constexpr (N == 8) return {_mm256_maskz_rcp14_ps(static_cast<__mmask8>(0xff), x.v)};
    else if constexpr (N == 4) return {_mm_maskz_rcp14_ps(static_cast<__mmask8>(0xf), x.v)};
    else {
        const __m128 s = _mm_set_ss(x.v);
        return {_mm_cvtss_f32(_mm_maskz_rcp14_ss(1, s, s))};
    }
}
// sqrt(x) to 2^-14 as x rsqrt14(x), and 0 for x = 0 (where rsqrt14 is +inf): the product is
// zero-masked on x != 0 by a compare straight into a mask register, off the estimate's path.
template <std::size_t N>
inline vec<float, N> sqrt14(vec<float, N> x) noexcept {
    if constexpr (N == 16) {
        const __mmask16 nz = _mm512_cmp_ps_mask(x.v, _mm512_setzero_ps(), _CMP_NEQ_OQ);
        return {_mm512_maskz_mul_ps(nz, x.v, _mm512_maskz_rsqrt14_ps(static_cast<__mmask16>(0xffff), x.v))};
    } else if constexpr (N == 8) {
        const __mmask8 nz = _mm256_cmp_ps_mask(x.v, _mm256_setzero_ps(), _CMP_NEQ_OQ);
        return {_mm256_maskz_mul_ps(nz, x.v, _mm256_maskz_rsqrt14_ps(static_cast<__mmask8>(0xff), x.v))};
    } else if constexpr (N == 4) {
        const __mmask8 nz = _mm_cmp_ps_mask(x.v, _mm_setzero_ps(), _CMP_NEQ_OQ);
        return {_mm_maskz_mul_ps(nz, x.v, _mm_maskz_rsqrt14_ps(static_cast<__mmask8>(0xf), x.v))};
    } else {
        const __m128 s = _mm_set_ss(x.v);
        const __mmask8 nz = _mm_cmp_ss_mask(s, _mm_setzero_ps(), _CMP_NEQ_OQ);
        return {_mm_cvtss_f32(_mm_maskz_mul_ss(nz, s, _mm_maskz_rsqrt14_ss(1, s, s)))};
    }
}
#endif
// q0 + r (a - b q0), q0 = a r: one correction of the quotient a / b from an estimate r of 1 / b.
template <class T, std::size_t N>
inline vec<T, N> corrected_quotient(vec<T, N> a, vec<T, N> b, vec<T, N> r) noexcept {
    const vec<T, N> q0 = a * r;
    return fma(r, fnma(b, q0, a), q0);
}
}  // namespace detail
template <class T>
constexpr vec<T, 1> divide(vec<T, 1> a, vec<T, 1> b) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, float>)
        if (!std::is_constant_evaluated()) return detail::corrected_quotient(a, b, detail::rcp14(b));
#endif
    return {a.v / b.v};
}
template <class T, std::size_t N>
inline vec<T, N> divide(vec<T, N> a, vec<T, N> b) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, float> && detail::has_estimates<N>)
        return detail::corrected_quotient(a, b, detail::rcp14(b));
    else
#endif
        return a / b;
}
// a / (sqrt(v) + e) for v >= 0 and e >= 0, within an ulp like divide, for a chain of dependent
// latencies (a one-sample Adam step of a tiny network, which the next step's forward waits on).
// divide's reciprocal estimate starts when sqrt(v) + e is known, 17 cycles after v on Zen 5, and
// adds 5 + 3 before its correction. Here the estimate r ~ 1 / (v rsqrt14(v) + e) is made from v by
// estimates alone, ready by then, so the correction q0 + r (a - d q0), d = sqrt(v) + e, follows the
// square root directly: 8 cycles shorter. v rsqrt14(v) is within 2^-14 of sqrt(v), so r is within
// about 2^-13 of 1 / d, and the correction leaves about 2^-26: the quotient or a neighbour, where
// a and the quotient are normal (as for divide). v rsqrt14(v) is taken as 0 where v = 0
// (rsqrt14(0) is +inf). Two more operations than divide per register, and an rsqrt14:
// for latency, not throughput. The same bits at every width, but for the sign of a NaN (as
// divide); elsewhere (double, no AVX-512VL) divide(a, sqrt(v) + e). NaN where divide gives NaN,
// and for v = +inf.
template <class T, std::size_t N>
inline vec<T, N> divide_by_sqrt_plus(vec<T, N> a, vec<T, N> v, vec<T, N> e) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, float> && detail::has_estimates<N>) {
        return detail::corrected_quotient(a, sqrt(v) + e, detail::rcp14(detail::sqrt14(v) + e));
    } else
#endif
        return divide(a, sqrt(v) + e);
}
// p - s a / (sqrt(v) + e), Adam's update of a tiny block: divide_by_sqrt_plus's q = q0 + r (a - d q0)
// with the multiplication by s spread over its two terms, p1 = p - s q0 beside the residual
// a - d q0, then p1 - (s r) (a - d q0): the update takes one multiply-add after the residual where
// fma(-s, q, p) takes two (4 cycles off T 2-8-1's train1 chain, 0.773 -> 0.760 of Eigen's time).
// Two roundings at p's scale instead of one: within about an ulp of p's scale, and the correctly
// rounded p - s a / d or a neighbour of it (d = fl(sqrt(v) + e), as for the quotient) where p, a,
// the quotient and s / d are normal and the result does not cancel against p (the test; fma(-s,
// q, p) loses as much to such a cancellation). s r must not overflow or underflow, which Adam's
// step sizes (lr between 1e-19 and 1e30) keep far from. The same bits at every width, but for the
// sign of a NaN; elsewhere fnma(s, divide_by_sqrt_plus(a, v, e), p), not always the same bits.
template <class T, std::size_t N>
inline vec<T, N> minus_quotient_by_sqrt_plus(vec<T, N> p, vec<T, N> s, vec<T, N> a, vec<T, N> v,
                                             vec<T, N> e) noexcept {
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__FMA__)
    if constexpr (std::is_same_v<T, float> && detail::has_estimates<N>) {
        const vec<T, N> r = detail::rcp14(detail::sqrt14(v) + e), q0 = a * r;
        return fma(-(s * r), fnma(sqrt(v) + e, q0, a), fnma(s, q0, p));
    } else
#endif
        return fnma(s, divide_by_sqrt_plus(a, v, e), p);
}

// Horizontal sum as a pairwise tree (lanes i and i + N/2, then i + N/4, ...), halving the
// register with GCC's vector extensions: xsimd's AVX-512 hadd trips g++ 12's uninitialized-value
// warning in the intrinsics headers.
template <class T, std::size_t N>
inline T reduce_add(vec<T, N> a) noexcept {
    typedef T whole __attribute__((vector_size(N * sizeof(T))));
    whole w = (whole)(typename vec<T, N>::batch_type::register_type)(a.v);
    if constexpr (N == 2) {
        return w[0] + w[1];
    } else if constexpr (N == 4) {
        // (w0 + w2) + (w1 + w3), the same pairwise order, by two shuffles and two adds: g++ makes
        // a horizontal add (three micro-ops) of the last step when it is written as w[0] + w[1].
        const whole s = w + __builtin_shufflevector(w, w, 2, 3, 2, 3);
        return (s + __builtin_shufflevector(s, s, 1, 1, 1, 1))[0];
    } else {
        typedef T half __attribute__((vector_size(N / 2 * sizeof(T))));
        half lo, hi;
        __builtin_memcpy(&lo, &w, sizeof(half));
        __builtin_memcpy(&hi, reinterpret_cast<const char*>(&w) + sizeof(half), sizeof(half));
        const half s = lo + hi;
        T out = 0;
        if constexpr (N / 2 == 1) {
            out = s[0];
        } else if constexpr (has_width<T, N / 2>) {
            out = reduce_add(vec<T, N / 2>{typename vec<T, N / 2>::batch_type((typename vec<T, N / 2>::batch_type::register_type)s)});
        } else {
            out = s[0];
            for (std::size_t i = 1; i < N / 2; ++i) out += s[i];
        }
        return out;
    }
}
// reduce_add's sum, bit for bit, with a 64-byte register halved by an extract instead of through
// the stack (g++ 12 makes the memcpy above a store and two loads): about ten cycles less latency
// but one more shuffle, which costs in throughput. For a sum that a chain waits on (the output of a
// one-sample training step's forward); independent calls do better with reduce_add.
template <class T, std::size_t N>
inline T reduce_add_short_latency(vec<T, N> a) noexcept {
    if constexpr (N * sizeof(T) == 64 && has_width<T, N / 2>) {
        // Halves by vector shuffles (the intrinsics' extract trips g++ 12's uninitialized-value
        // warning, as hadd does): one vextract, one add.
        typedef T whole __attribute__((vector_size(64)));
        typedef T half __attribute__((vector_size(32)));
        using H = vec<T, N / 2>;
        const whole w = (whole)(typename vec<T, N>::batch_type::register_type)(a.v);
        half s;
        if constexpr (N == 16)
            s = __builtin_shufflevector(w, w, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(w, w, 8, 9, 10, 11, 12, 13, 14, 15);
        else
            s = __builtin_shufflevector(w, w, 0, 1, 2, 3) + __builtin_shufflevector(w, w, 4, 5, 6, 7);
        return reduce_add(H{typename H::batch_type((typename H::batch_type::register_type)s)});
    } else {
        return reduce_add(a);
    }
}
template <class T, std::size_t N>
inline T reduce_max(vec<T, N> a) noexcept {
    alignas(64) T t[N];
    a.v.store_aligned(t);
    T r = t[0];
    for (std::size_t i = 1; i < N; ++i) r = r < t[i] ? t[i] : r;
    return r;
}
template <class T, std::size_t N>
inline bool any(mask<T, N> m) noexcept { return xsimd::any(m.m); }
template <class T, std::size_t N>
inline bool all(mask<T, N> m) noexcept { return xsimd::all(m.m); }

// The bit-level operations below use GCC's vector extensions on the register rather than xsimd:
// xsimd 8.1's AVX-512 shifts and conversions go through intrinsics whose undefined pass-through
// operand makes g++ 12 warn (-Wmaybe-uninitialized) in every user's -Wall build.

template <class T, std::size_t N>
inline vec<T, N> pow2i(vec<T, N> k) noexcept {
    using B = typename vec<T, N>::batch_type;
    using G = detail::gnu_vector<T, N>;
    const auto kr = (typename G::real)(typename B::register_type)(k.v);
    const auto e = __builtin_convertvector(kr, typename G::integer) + static_cast<int_of<T>>(ieee<T>::exponent_bias);
    return {B((typename B::register_type)(e << ieee<T>::mantissa_bits))};
}
template <class T, std::size_t N>
inline void split_exponent(vec<T, N> x, vec<T, N>& mantissa, vec<T, N>& exponent) noexcept {
    using B = typename vec<T, N>::batch_type;
    using G = detail::gnu_vector<T, N>;
    using I = int_of<T>;
    constexpr int mb = ieee<T>::mantissa_bits;
    const auto bits = (typename G::integer)(typename B::register_type)(x.v);
    const auto e = ((bits >> mb) & static_cast<I>(ieee<T>::exponent_mask)) - static_cast<I>(ieee<T>::exponent_bias);
    const auto mbits = (bits & ((I(1) << mb) - 1)) | static_cast<I>(ieee<T>::exponent_bias << mb);
    mantissa = vec<T, N>{B((typename B::register_type)mbits)};
    exponent = vec<T, N>{B((typename B::register_type)__builtin_convertvector(e, typename G::real))};
}

// ---------------------------------------------------------------------------------------------
// Many horizontal sums at once, and register transposes: kernels that would otherwise reduce one
// register at a time (a dot product per output) reduce a whole set of registers with a few
// shuffles per register. Written with GCC's two-operand vector shuffle (clang's
// __builtin_shufflevector), whose constant masks g++ turns into the target's best permutes.
namespace detail {
// r[t] = (Table.v[t] < N ? a[Table.v[t]] : b[Table.v[t] - N]), Table a constexpr table of N lane
// indices.
template <const auto& Table, class T, std::size_t N>
inline typename gnu_vector<T, N>::real shuffle2(typename gnu_vector<T, N>::real a,
                                                typename gnu_vector<T, N>::real b) noexcept {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
#if defined(__clang__)
        return __builtin_shufflevector(a, b, Table.v[I]...);
#else
        return __builtin_shuffle(a, b, typename gnu_vector<T, N>::integer{static_cast<int_of<T>>(Table.v[I])...});
#endif
    }(std::make_index_sequence<N>{});
}

// The lanes of reduce_add_many, level by level: at the level where groups are w lanes wide, the
// pair (a, b) becomes one register whose group 2g holds a's group g halved (lo + hi, the order of
// reduce_add) and group 2g + 1 b's. pick<N, W, Hi> is the lane table of the lo or hi halves.
template <std::size_t N, std::size_t W, bool Hi>
inline constexpr auto halves = [] {
    struct table { int v[N]; } t{};
    for (std::size_t lane = 0; lane < N; ++lane) {
        const std::size_t k = lane / (W / 2), j = lane % (W / 2), g = k / 2;
        t.v[lane] = static_cast<int>((k % 2 ? N : 0) + g * W + j + (Hi ? W / 2 : 0));
    }
    return t;
}();
// Which input register's sum lands in each lane after all the levels (inputs paired in order).
template <std::size_t N, std::size_t M>
constexpr std::array<int, N> reduce_many_sources() noexcept {
    std::array<std::array<int, N>, N> src{};  // src[register][group]: input index or -1
    std::size_t count = M;
    for (std::size_t m = 0; m < N; ++m)
        for (std::size_t g = 0; g < N; ++g) src[m][g] = (g == 0 && m < M) ? static_cast<int>(m) : -1;
    for (std::size_t w = N, groups = 1; w > 1; w /= 2, groups *= 2) {
        std::array<std::array<int, N>, N> next{};
        for (auto& r : next) r.fill(-1);
        for (std::size_t pair = 0; pair < (count + 1) / 2; ++pair)
            for (std::size_t g = 0; g < groups; ++g) {
                next[pair][2 * g] = src[2 * pair][g];
                next[pair][2 * g + 1] = 2 * pair + 1 < count ? src[2 * pair + 1][g] : -1;
            }
        src = next;
        count = (count + 1) / 2;
    }
    return src[0];
}
template <std::size_t N, std::size_t M>
inline constexpr auto reduce_many_order = [] {
    struct table { int v[N]; bool identity; } t{};
    const auto src = reduce_many_sources<N, M>();
    t.identity = true;
    for (std::size_t m = 0; m < N; ++m) {
        t.v[m] = static_cast<int>(N);  // lane 0 of the zero register
        for (std::size_t lane = 0; lane < N; ++lane)
            if (src[lane] == static_cast<int>(m)) t.v[m] = static_cast<int>(lane);
        t.identity = t.identity && t.v[m] == static_cast<int>(m);
    }
    return t;
}();
template <std::size_t N, std::size_t H, bool Second>
inline constexpr auto transpose_step = [] {
    struct table { int v[N]; } t{};
    for (std::size_t lane = 0; lane < N; ++lane) {
        const std::size_t base = lane / (2 * H) * (2 * H), off = lane % (2 * H);
        if (!Second)
            t.v[lane] = static_cast<int>(off < H ? base + off : N + base + off - H);
        else
            t.v[lane] = static_cast<int>(off < H ? base + H + off : N + base + off);
    }
    return t;
}();
}  // namespace detail

// reduce_add_many<M>(v): lane m (m < M) holds reduce_add(v[m]), summed in exactly reduce_add's
// order; lanes from M on are zero. M <= N.
template <std::size_t M, class T, std::size_t N>
inline vec<T, N> reduce_add_many(const vec<T, N>* v) noexcept {
    static_assert(M >= 1 && M <= N);
    if constexpr (N == 1) {
        return v[0];
    } else if constexpr (M == 1) {
        using B = typename vec<T, N>::batch_type;
        using G = typename detail::gnu_vector<T, N>::real;
        G r{};
        r[0] = reduce_add(v[0]);
        return {B((typename B::register_type)r)};
    } else {
        using B = typename vec<T, N>::batch_type;
        using G = typename detail::gnu_vector<T, N>::real;
        G r[N];
#pragma GCC unroll 64
        for (std::size_t m = 0; m < M; ++m) r[m] = (G)(typename B::register_type)(v[m].v);
        const G zero{};
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (
                [&] {
                    constexpr std::size_t w = N >> L;
                    constexpr std::size_t count = (M + (std::size_t{1} << L) - 1) >> L;  // registers left
#pragma GCC unroll 64
                    for (std::size_t pair = 0; pair < (count + 1) / 2; ++pair) {
                        const G a = r[2 * pair], b = 2 * pair + 1 < count ? r[2 * pair + 1] : zero;
                        r[pair] = detail::shuffle2<detail::halves<N, w, false>, T, N>(a, b) +
                                  detail::shuffle2<detail::halves<N, w, true>, T, N>(a, b);
                    }
                }(),
                ...);
        }(std::make_index_sequence<std::bit_width(N) - 1>{});
        if constexpr (!detail::reduce_many_order<N, M>.identity || M < N)
            r[0] = detail::shuffle2<detail::reduce_many_order<N, M>, T, N>(r[0], zero);
        return {B((typename B::register_type)r[0])};
    }
}

// Transposes the N x N block v in place: v[i][j] becomes v[j][i].
template <class T, std::size_t N>
inline void transpose(vec<T, N>* v) noexcept {
    if constexpr (N > 1) {
        using B = typename vec<T, N>::batch_type;
        using G = typename detail::gnu_vector<T, N>::real;
        G r[N];
#pragma GCC unroll 64
        for (std::size_t m = 0; m < N; ++m) r[m] = (G)(typename B::register_type)(v[m].v);
        [&]<std::size_t... L>(std::index_sequence<L...>) {
            (
                [&] {
                    constexpr std::size_t h = N >> (L + 1);
#pragma GCC unroll 64
                    for (std::size_t i = 0; i < N; ++i)
                        if ((i & h) == 0) {
                            const G a = r[i], b = r[i + h];
                            r[i] = detail::shuffle2<detail::transpose_step<N, h, false>, T, N>(a, b);
                            r[i + h] = detail::shuffle2<detail::transpose_step<N, h, true>, T, N>(a, b);
                        }
                }(),
                ...);
        }(std::make_index_sequence<std::bit_width(N) - 1>{});
#pragma GCC unroll 64
        for (std::size_t m = 0; m < N; ++m) v[m] = vec<T, N>{B((typename B::register_type)r[m])};
    }
}

namespace detail {
template <std::size_t N, bool Odd>
inline constexpr auto unzip_table = [] {
    struct table { int v[N]; } t{};
    for (std::size_t lane = 0; lane < N; ++lane) t.v[lane] = static_cast<int>(2 * lane + (Odd ? 1 : 0));
    return t;
}();
template <std::size_t N, bool High>
inline constexpr auto zip_table = [] {
    struct table { int v[N]; } t{};
    for (std::size_t lane = 0; lane < N; ++lane) {
        const std::size_t k = lane + (High ? N : 0);  // element k of the interleaving of a and b
        t.v[lane] = static_cast<int>(k % 2 ? N + k / 2 : k / 2);
    }
    return t;
}();
}  // namespace detail

// F registers holding N rows of F values one after the other (row-major, F a power of two <= N)
// become F registers of N values each, column by column: r[i][s] = the old element s F + i.
template <std::size_t F, class T, std::size_t N>
inline void deinterleave(vec<T, N>* r) noexcept {
    if constexpr (F > 1 && N > 1) {
        using B = typename vec<T, N>::batch_type;
        using G = typename detail::gnu_vector<T, N>::real;
        vec<T, N> even[F / 2], odd[F / 2];
#pragma GCC unroll 16
        for (std::size_t k = 0; k < F / 2; ++k) {
            const G a = (G)(typename B::register_type)(r[2 * k].v), b = (G)(typename B::register_type)(r[2 * k + 1].v);
            even[k] = vec<T, N>{B((typename B::register_type)detail::shuffle2<detail::unzip_table<N, false>, T, N>(a, b))};
            odd[k] = vec<T, N>{B((typename B::register_type)detail::shuffle2<detail::unzip_table<N, true>, T, N>(a, b))};
        }
        deinterleave<F / 2>(even);
        deinterleave<F / 2>(odd);
#pragma GCC unroll 16
        for (std::size_t i = 0; i < F; ++i) r[i] = i % 2 ? odd[i / 2] : even[i / 2];
    }
}
// The inverse of deinterleave: F registers of N values, column by column, become N rows of F.
template <std::size_t F, class T, std::size_t N>
inline void interleave(vec<T, N>* r) noexcept {
    if constexpr (F > 1 && N > 1) {
        using B = typename vec<T, N>::batch_type;
        using G = typename detail::gnu_vector<T, N>::real;
        vec<T, N> even[F / 2], odd[F / 2];
#pragma GCC unroll 16
        for (std::size_t k = 0; k < F / 2; ++k) {
            even[k] = r[2 * k];
            odd[k] = r[2 * k + 1];
        }
        interleave<F / 2>(even);
        interleave<F / 2>(odd);
#pragma GCC unroll 16
        for (std::size_t k = 0; k < F / 2; ++k) {
            const G a = (G)(typename B::register_type)(even[k].v), b = (G)(typename B::register_type)(odd[k].v);
            r[2 * k] = vec<T, N>{B((typename B::register_type)detail::shuffle2<detail::zip_table<N, false>, T, N>(a, b))};
            r[2 * k + 1] = vec<T, N>{B((typename B::register_type)detail::shuffle2<detail::zip_table<N, true>, T, N>(a, b))};
        }
    }
}

// The scalar path of reduce_add on N values: the same pairwise order (p[j] + p[j + N/2], ...).
template <class T, std::size_t N>
constexpr T reduce_add_scalar(std::array<T, N> p) noexcept {
    for (std::size_t h = N / 2; h >= 1; h /= 2)
        for (std::size_t j = 0; j < h; ++j) p[j] = p[j] + p[j + h];
    return p[0];
}

}  // namespace ctnn::simd
