// The SIMD wrapper: every operation at every register width the target has, against the scalar path.
#include <ctnn/core/simd.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

using namespace ctnn::simd;

// How many floats apart x and y are (finite x and y).
std::int64_t ulps_apart(float x, float y) {
    const auto ordered = [](float f) {
        std::int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? -static_cast<std::int64_t>(i & 0x7fffffff) : static_cast<std::int64_t>(i);
    };
    const std::int64_t d = ordered(x) - ordered(y);
    return d < 0 ? -d : d;
}

template <class T, std::size_t N>
void check_width() {
    if constexpr (has_width<T, N>) {
        using V = vec<T, N>;
        using S = vec<T, 1>;
        alignas(64) T a[N], b[N], c[N], out[N];
        for (std::size_t i = 0; i < N; ++i) {
            a[i] = static_cast<T>(i) * T(0.75) - T(2);
            b[i] = T(1.5) - static_cast<T>(i) * T(0.25);
            c[i] = static_cast<T>(i % 3) - T(1);
        }
        b[0] = std::numeric_limits<T>::quiet_NaN();
        const V va = V::load_aligned(a), vb = V::load(b), vc = V::load(c);
        auto lanes_equal = [&](V v, auto scalar) {
            v.store_aligned(out);
            for (std::size_t i = 0; i < N; ++i) {
                const T s = scalar(S{a[i]}, S{b[i]}, S{c[i]}).v;
                CAPTURE(i);
                CHECK(((out[i] == s) || (std::isnan(out[i]) && std::isnan(s))));
            }
        };
        lanes_equal(va + vb, [](S x, S y, S) { return x + y; });
        lanes_equal(va - vb, [](S x, S y, S) { return x - y; });
        lanes_equal(va * vb, [](S x, S y, S) { return x * y; });
        lanes_equal(va / vc, [](S x, S, S z) { return x / z; });
        lanes_equal(-va, [](S x, S, S) { return -x; });
        lanes_equal(fma(va, vb, vc), [](S x, S y, S z) { return fma(x, y, z); });
        lanes_equal(fnma(va, vb, vc), [](S x, S y, S z) { return fma(-x, y, z); });
        lanes_equal(min(va, vb), [](S x, S y, S) { return min(x, y); });  // NaN in b: same choice
        lanes_equal(max(vb, va), [](S x, S y, S) { return max(y, x); });
        lanes_equal(abs(va), [](S x, S, S) { return abs(x); });
        lanes_equal(sqrt(abs(va)), [](S x, S, S) { return sqrt(abs(x)); });
        lanes_equal(divide(va, vb), [](S x, S y, S) { return divide(x, y); });
        lanes_equal(divide(va, vc), [](S x, S, S z) { return divide(x, z); });  // by +-1 and 0
        lanes_equal(divide_by_sqrt_plus(va, abs(vb), abs(vc)),  // v = 0 and e = 0 among them
                    [](S x, S y, S z) { return divide_by_sqrt_plus(x, abs(y), abs(z)); });
        lanes_equal(minus_quotient_by_sqrt_plus(vc, abs(va), vb, abs(va), abs(vc)),
                    [](S x, S y, S z) { return minus_quotient_by_sqrt_plus(z, abs(x), y, abs(x), abs(z)); });
        lanes_equal(select(va < vc, va, vc), [](S x, S, S z) { return select(x < z, x, z); });
        lanes_equal(select((va > V(T(0))) | (vc == V(T(0))), va, V(T(7))),
                    [](S x, S, S z) { return select((x > S(T(0))) | (z == S(T(0))), x, S(T(7))); });
        lanes_equal(select(~(va >= V(T(0))) & (vc != V(T(1))), va, vb),
                    [](S x, S y, S z) { return select(~(x >= S(T(0))) & (z != S(T(1))), x, y); });

        T sum = 0;
        for (std::size_t i = 0; i < N; ++i) sum += a[i];
        CHECK(reduce_add(va) == doctest::Approx(sum));
        // The pairwise tree exactly, whichever way the register is halved: on terms whose sum
        // depends on the order of the additions.
        alignas(64) std::array<T, N> ws{};
        for (std::size_t i = 0; i < N; ++i)
            ws[i] = T(1) / static_cast<T>(i + 3) * (i % 2 ? T(1e4) : T(-1e-3)) + (i % 3 ? T(0) : T(-1e4) / T(7));
        const V vw = V::load_aligned(ws.data());
        const T tree = reduce_add_scalar<T, N>(ws);
        CHECK(reduce_add(vw) == tree);
        CHECK(reduce_add_short_latency(vw) == tree);
        T mx = a[0];
        for (std::size_t i = 1; i < N; ++i) mx = std::max(mx, a[i]);
        CHECK(reduce_max(va) == mx);
        CHECK(any(va > V(T(0))) == (mx > T(0)));
        CHECK(!all(va > V(T(0))));

        // Exponent manipulation, the base of the math functions.
        alignas(64) T k[N], x[N];
        for (std::size_t i = 0; i < N; ++i) k[i] = static_cast<T>(static_cast<int>(i) * 7 - 20);
        pow2i(V::load_aligned(k)).store_aligned(out);
        for (std::size_t i = 0; i < N; ++i) CHECK(out[i] == std::ldexp(T(1), static_cast<int>(k[i])));
        for (std::size_t i = 0; i < N; ++i) x[i] = std::ldexp(T(1) + static_cast<T>(i) / T(N), static_cast<int>(i) * 5 - 30);
        V m, e;
        split_exponent(V::load_aligned(x), m, e);
        for (std::size_t i = 0; i < N; ++i) {
            S ms, es;
            split_exponent(S{x[i]}, ms, es);
            CHECK(m[i] == ms.v);
            CHECK(e[i] == es.v);
            CHECK(std::ldexp(m[i], static_cast<int>(e[i])) == x[i]);
            CHECK(m[i] >= T(1));
            CHECK(m[i] < T(2));
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("SIMD wrapper lanes equal the scalar path", T, float, double) {
    check_width<T, 1>();
    check_width<T, 2>();
    check_width<T, 4>();
    check_width<T, 8>();
    check_width<T, 16>();
    CHECK(native_width<T> * sizeof(T) >= 16);  // x86-64 always has SSE2
}

// simd::divide: with AVX-512's reciprocal estimate and one correction (float), the quotient or a
// neighbour, on operands over the whole exponent range that the result stays normal in; the
// division itself elsewhere.
TEST_CASE("divide is within an ulp of the quotient") {
    constexpr std::size_t W = native_width<float>;
    using V = vec<float, W>;
    alignas(64) float a[W], b[W], q[W];
    std::uint32_t state = 12345;
    const auto next = [&] { return state = state * 1664525u + 1013904223u; };
    int exact = 0, total = 0;
    for (int round = 0; round < 20000; ++round) {
        for (std::size_t i = 0; i < W; ++i) {
            a[i] = std::ldexp(1.0f + static_cast<float>(next() >> 9) * 0x1p-23f, static_cast<int>(next() % 120) - 60);
            b[i] = std::ldexp(1.0f + static_cast<float>(next() >> 9) * 0x1p-23f, static_cast<int>(next() % 120) - 60);
            if (next() % 2) a[i] = -a[i];
        }
        divide(V::load_aligned(a), V::load_aligned(b)).store_aligned(q);
        for (std::size_t i = 0; i < W; ++i) {
            const float correct = a[i] / b[i];
            const float lo = std::nextafter(correct, -INFINITY), hi = std::nextafter(correct, INFINITY);
            CAPTURE(a[i]);
            CAPTURE(b[i]);
            CHECK((q[i] == correct || q[i] == lo || q[i] == hi));
            exact += q[i] == correct;
            ++total;
        }
    }
    if (!has_fast_reciprocal) CHECK(exact == total);
    MESSAGE("divide: ", exact, " of ", total, " quotients correctly rounded");
    CHECK(divide(V(0.0f), V(3.0f))[0] == 0.0f);
    CHECK(divide(V(6.0f), V(3.0f))[0] == 2.0f);
    CHECK(divide(vec<float, 1>{1.0f}, vec<float, 1>{3.0f}).v == divide(V(1.0f), V(3.0f))[0]);
}

// simd::divide_by_sqrt_plus(a, v, e) = a / (sqrt(v) + e), Adam's quotient for tiny blocks: the
// quotient or a neighbour (against double), with v and e over the range Adam meets (e from 0 to
// far above sqrt(v)), v = 0, and subnormal v, for normal a (with a subnormal a the correction
// underflows, as divide's does); every width gives the widest one's bits.
TEST_CASE("divide_by_sqrt_plus is within an ulp of a / (sqrt(v) + e)") {
    constexpr std::size_t W = native_width<float>;
    using V = vec<float, W>;
    alignas(64) float a[W], v[W], e[W], q[W];
    std::uint32_t state = 777;
    const auto next = [&] { return state = state * 1664525u + 1013904223u; };
    const auto mantissa = [&] { return 1.0f + static_cast<float>(next() >> 9) * 0x1p-23f; };
    int exact = 0, total = 0;
    for (int round = 0; round < 20000; ++round) {
        for (std::size_t i = 0; i < W; ++i) {
            a[i] = std::ldexp(mantissa(), static_cast<int>(next() % 60) - 30) * (next() % 2 ? -1.0f : 1.0f);
            v[i] = std::ldexp(mantissa(), static_cast<int>(next() % 200) - 140);  // subnormal below -126
            e[i] = next() % 4 == 0 ? 0.0f : std::ldexp(mantissa(), static_cast<int>(next() % 60) - 50);
            if (next() % 16 == 0) v[i] = 0.0f;
            if (v[i] == 0.0f && e[i] == 0.0f) e[i] = 1e-8f;
        }
        divide_by_sqrt_plus(V::load_aligned(a), V::load_aligned(v), V::load_aligned(e)).store_aligned(q);
        for (std::size_t i = 0; i < W; ++i) {
            // The exact quotient of the rounded denominator fl(sqrt(v) + e), as the division has it.
            const float d = std::sqrt(v[i]) + e[i];
            const float correct = static_cast<float>(static_cast<double>(a[i]) / static_cast<double>(d));
            const float lo = std::nextafter(correct, -INFINITY), hi = std::nextafter(correct, INFINITY);
            CAPTURE(a[i]);
            CAPTURE(v[i]);
            CAPTURE(e[i]);
            CHECK((q[i] == correct || q[i] == lo || q[i] == hi));
            exact += q[i] == correct;
            ++total;
            const float one = divide_by_sqrt_plus(vec<float, 1>{a[i]}, vec<float, 1>{v[i]}, vec<float, 1>{e[i]}).v;
            CHECK(std::memcmp(&one, &q[i], sizeof one) == 0);
        }
        // The narrower registers on the same operands, lane by lane.
        const auto same_bits = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
            if constexpr (N < W && has_width<float, N>) {
                alignas(64) float qn[W];
                for (std::size_t k = 0; k < W; k += N)
                    divide_by_sqrt_plus(vec<float, N>::load(a + k), vec<float, N>::load(v + k), vec<float, N>::load(e + k))
                        .store(qn + k);
                CHECK(std::memcmp(qn, q, sizeof q) == 0);
            }
        };
        same_bits(std::integral_constant<std::size_t, 4>{});
        same_bits(std::integral_constant<std::size_t, 8>{});
    }
    if (!has_fast_reciprocal) CHECK(exact == total);
    MESSAGE("divide_by_sqrt_plus: ", exact, " of ", total, " quotients correctly rounded");
    CHECK(divide_by_sqrt_plus(V(0.0f), V(0.0f), V(1e-8f))[0] == 0.0f);  // a first step's zero gradient
    CHECK(divide_by_sqrt_plus(V(6.0f), V(4.0f), V(1.0f))[0] == 2.0f);
}

// simd::minus_quotient_by_sqrt_plus(p, s, a, v, e) = p - s a / (sqrt(v) + e), Adam's update of a
// tiny block: the correctly rounded result (against double) or a neighbour, for parameters p of
// either sign and size around updates from far below ulp(p) to far above |p| (and p = 0); every
// width gives the widest one's bits. Without FMA the fallback's multiply and add (as Adam's larger
// blocks have there) leave up to 2 ulps where the update outweighs p.
TEST_CASE("minus_quotient_by_sqrt_plus is within an ulp of p - s a / (sqrt(v) + e)") {
    constexpr std::size_t W = native_width<float>;
    using V = vec<float, W>;
    alignas(64) float p[W], s[W], a[W], v[W], e[W], u[W];
    std::uint32_t state = 4242;
    const auto next = [&] { return state = state * 1664525u + 1013904223u; };
    const auto mantissa = [&] { return 1.0f + static_cast<float>(next() >> 9) * 0x1p-23f; };
    const auto sign = [&] { return next() % 2 ? -1.0f : 1.0f; };
    int exact = 0, total = 0;
    for (int round = 0; round < 20000; ++round) {
        for (std::size_t i = 0; i < W; ++i) {
            p[i] = next() % 16 == 0 ? 0.0f : std::ldexp(mantissa(), static_cast<int>(next() % 24) - 12) * sign();
            s[i] = std::ldexp(mantissa(), static_cast<int>(next() % 30) - 28);
            a[i] = std::ldexp(mantissa(), static_cast<int>(next() % 40) - 20) * sign();
            v[i] = std::ldexp(mantissa(), static_cast<int>(next() % 120) - 80);
            e[i] = next() % 4 == 0 ? 0.0f : std::ldexp(mantissa(), static_cast<int>(next() % 40) - 40);
            if (next() % 16 == 0) v[i] = 0.0f, e[i] = 1e-8f;
        }
        minus_quotient_by_sqrt_plus(V::load_aligned(p), V::load_aligned(s), V::load_aligned(a), V::load_aligned(v),
                                    V::load_aligned(e))
            .store_aligned(u);
        for (std::size_t i = 0; i < W; ++i) {
            const float d = std::sqrt(v[i]) + e[i];  // the rounded denominator, as in the quotient
            const double q = static_cast<double>(a[i]) / static_cast<double>(d);
            const float correct = static_cast<float>(static_cast<double>(p[i]) - static_cast<double>(s[i]) * q);
            CAPTURE(p[i]);
            CAPTURE(s[i]);
            CAPTURE(a[i]);
            CAPTURE(v[i]);
            CAPTURE(e[i]);
            CHECK(ulps_apart(u[i], correct) <= (has_fma ? 1 : 2));
            exact += u[i] == correct;
            ++total;
            const float one = minus_quotient_by_sqrt_plus(vec<float, 1>{p[i]}, vec<float, 1>{s[i]}, vec<float, 1>{a[i]},
                                                          vec<float, 1>{v[i]}, vec<float, 1>{e[i]})
                                  .v;
            CHECK(std::memcmp(&one, &u[i], sizeof one) == 0);
        }
        const auto same_bits = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
            if constexpr (N < W && has_width<float, N>) {
                alignas(64) float un[W];
                for (std::size_t k = 0; k < W; k += N)
                    minus_quotient_by_sqrt_plus(vec<float, N>::load(p + k), vec<float, N>::load(s + k),
                                                vec<float, N>::load(a + k), vec<float, N>::load(v + k),
                                                vec<float, N>::load(e + k))
                        .store(un + k);
                CHECK(std::memcmp(un, u, sizeof u) == 0);
            }
        };
        same_bits(std::integral_constant<std::size_t, 4>{});
        same_bits(std::integral_constant<std::size_t, 8>{});
    }
    MESSAGE("minus_quotient_by_sqrt_plus: ", exact, " of ", total, " updates correctly rounded");
    CHECK(minus_quotient_by_sqrt_plus(V(1.5f), V(0.5f), V(0.0f), V(0.0f), V(1e-8f))[0] == 1.5f);  // zero gradient
    CHECK(minus_quotient_by_sqrt_plus(V(1.0f), V(0.25f), V(6.0f), V(4.0f), V(1.0f))[0] == 0.5f);
}

// nonzero_entries<N, Stride, Max> against a plain loop: every length around the register widths,
// NaN, inf and -0 among the inputs, x ending where a value past it would be listed if read, and
// the lists written whenever there are at most Max entries.
template <class T, std::size_t N, std::size_t Max = N>
void check_nonzero_entries() {
    constexpr std::size_t stride = 3;
    alignas(64) T x[N + 16];
    std::uint32_t offsets[nonzero_entries_room<T>(N)];
    T values[nonzero_entries_room<T>(N)];
    for (unsigned pattern = 0; pattern < 6; ++pattern) {
        for (std::size_t i = 0; i < N + 16; ++i) x[i] = T(1) + T(i);  // past N: nonzero
        for (std::size_t i = 0; i < N; ++i) {
            const unsigned h = static_cast<unsigned>(i * 2654435761u >> 7) + pattern;
            x[i] = pattern == 0 ? T(0) : h % (pattern + 1) == 0 ? (h % 5 == 0 ? -T(0) : T(0)) : x[i];
        }
        if (N > 3 && pattern == 5) {
            x[1] = std::numeric_limits<T>::quiet_NaN();
            x[2] = -std::numeric_limits<T>::infinity();
        }
        const std::size_t n = nonzero_entries<N, stride, Max>(x, offsets, values);
        std::size_t expected = 0;
        for (std::size_t i = 0; i < N; ++i) {
            if (x[i] == T(0)) continue;
            if (n <= Max && expected < n) {
                CAPTURE(N);
                CAPTURE(i);
                CHECK(offsets[expected] == i * stride);
                CHECK(std::memcmp(&values[expected], &x[i], sizeof(T)) == 0);
            }
            ++expected;
        }
        CHECK(n == expected);
    }
}

template <class T>
void check_nonzero_entries_lengths() {
    check_nonzero_entries<T, 1>();
    check_nonzero_entries<T, 3>();
    check_nonzero_entries<T, 7>();
    check_nonzero_entries<T, 8>();
    check_nonzero_entries<T, 9>();
    check_nonzero_entries<T, 16>();
    check_nonzero_entries<T, 17>();
    check_nonzero_entries<T, 33>();
    check_nonzero_entries<T, 100>();
    check_nonzero_entries<T, 128>();
    check_nonzero_entries<T, 128, 112>();
    check_nonzero_entries<T, 100, 10>();
}

TEST_CASE_TEMPLATE("nonzero_entries lists the nonzero inputs in order", T, float, double) {
    check_nonzero_entries_lengths<T>();
}

TEST_CASE("register width chosen per layer width") {
    constexpr std::size_t n = native_width<float>;
    static_assert(width_for<float>(1) == 1);
    static_assert(width_for<float>(3) == 4);
    static_assert(width_for<float>(1000) == n);
    static_assert(width_for<float>(1000, 1) == 1);  // the scalar path
    static_assert(width_for<double>(2) == 2);
    CHECK(width_for<float>(8) == (n >= 8 ? 8 : n));
}

TEST_CASE("scalar path works in constant evaluation") {
    constexpr auto r = fma(vec<double, 1>{2.0}, vec<double, 1>{3.0}, vec<double, 1>{1.0});
    static_assert(r.v == 7.0);
    static_assert(pow2i(vec<float, 1>{-3.f}).v == 0.125f);
    static_assert(sqrt(vec<double, 1>{2.0}).v * sqrt(vec<double, 1>{2.0}).v - 2.0 < 1e-15);
    CHECK(r.v == 7.0);
}
