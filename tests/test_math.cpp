// Tests of ctnn/core/math.hpp: accuracy against the standard library (float against the double
// functions, double against the long double ones), the C library's edge cases, constant
// evaluation, and the SIMD lanes against the scalar path, bit for bit where both use FMA.
#include <ctnn/core/math.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace {

namespace math = ctnn::math;
namespace simd = ctnn::simd;

// ---------------------------------------------------------------------------------------------
// Constant evaluation (N == 1). In constant evaluation fma rounds twice, so only exact results
// are asserted exactly.
static_assert(math::exp(0.0f) == 1.0f && math::exp(0.0) == 1.0);
static_assert(math::expm1(0.0f) == 0.0f && math::expm1(0.0) == 0.0);
static_assert(math::log(1.0f) == 0.0f && math::log(1.0) == 0.0);
static_assert(math::log1p(0.0) == 0.0);
static_assert(math::tanh(0.0f) == 0.0f && math::tanh(0.0) == 0.0);
static_assert(math::sigmoid(0.0f) == 0.5f && math::sigmoid(0.0) == 0.5);
static_assert(math::erf(0.0f) == 0.0f && math::erf(0.0) == 0.0);
static_assert(math::exp(1000.0) == std::numeric_limits<double>::infinity());
static_assert(math::exp(-1e30f) == 0.0f);
static_assert(math::log(0.0) == -std::numeric_limits<double>::infinity());
static_assert(math::tanh(1e30f) == 1.0f && math::tanh(-1e30) == -1.0);
static_assert(math::erf(1e30) == 1.0 && math::erf(-1e30f) == -1.0f);
static_assert(math::softplus_core(100.0) == 100.0);
constexpr double ce_e = math::exp(1.0);
static_assert(ce_e > 2.718281828459044 && ce_e < 2.718281828459047);
static_assert(math::exp(simd::vec<float, 1>{1.0f}).v > 2.7182815f && math::exp(simd::vec<float, 1>{1.0f}).v < 2.7182822f);
static_assert(math::log(2.0) > 0.69314718055994 && math::log(2.0) < 0.69314718055995);
static_assert(math::tanh(0.5) > 0.46211715726000 && math::tanh(0.5) < 0.46211715726001);
static_assert(math::erf(1.0f) > 0.8427007f && math::erf(1.0f) < 0.8427009f);
static_assert(math::log1p(-0.5) > -0.69314718055995 && math::log1p(-0.5) < -0.69314718055994);

// Every function at every kind of input in constant evaluation: g++ rejects an overflow or a NaN
// made from finite operands there, clang any NaN result, so this compiles only if none happens.
template <class T>
constexpr bool constant_evaluable_everywhere() {
    using L = std::numeric_limits<T>;
    const T xs[] = {T(0), -T(0), L::infinity(), -L::infinity(), L::quiet_NaN(), L::max(), -L::max(), L::min(),
                    -L::min(), L::denorm_min(), -L::denorm_min(), T(1e30), T(-1e30), T(1000), T(-1000), T(88.8),
                    T(-103.9), T(-1), T(-2), T(0.3), T(0.9), T(5), T(7)};
    bool ok = true;
    for (const T x : xs) {
        const T y[] = {math::exp(x), math::expm1(x), math::log(x),     math::log1p(x),
                       math::tanh(x), math::sigmoid(x), math::softplus_core(x), math::erf(x)};
        for (int i = 0; i < 8; ++i) {  // NaN exactly where due: a NaN input, log(x < 0), log1p(x < -1)
            const bool nan_due = x != x || (i == 2 && x < T(0)) || (i == 3 && x < T(-1));
            ok = ok && ((y[i] != y[i]) == nan_due);
        }
    }
    return ok;
}
static_assert(constant_evaluable_everywhere<float>());
static_assert(constant_evaluable_everywhere<double>());

// ---------------------------------------------------------------------------------------------
// helpers

template <class T>
using wide_t = std::conditional_t<std::is_same_v<T, float>, double, long double>;

// The reference: the standard library one precision up.
template <class T>
struct reference {
    using W = wide_t<T>;
    static W exp(W x) { return std::exp(x); }
    static W expm1(W x) { return std::expm1(x); }
    static W log(W x) { return std::log(x); }
    static W log1p(W x) { return std::log1p(x); }
    static W tanh(W x) { return std::tanh(x); }
    static W sigmoid(W x) { return W(1) / (W(1) + std::exp(-x)); }
    static W softplus_core(W x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
    static W erf(W x) { return std::erf(x); }
};

// |y - ref| in ulps of T at ref (subnormal results: in units of the smallest subnormal).
// Returns a huge value when one is NaN and the other is not, or when they differ in infinity.
template <class T>
double ulp_error(T y, wide_t<T> ref) {
    using W = wide_t<T>;
    if (std::isnan(ref) || std::isnan(y)) return std::isnan(ref) && std::isnan(y) ? 0.0 : 1e300;
    const T rounded = static_cast<T>(ref);
    if (std::isinf(rounded) || std::isinf(y)) return rounded == y ? 0.0 : 1e300;
    if (ref == 0) return y == 0 ? 0.0 : 1e300;
    int e = std::ilogb(ref);
    e = std::max(e, std::numeric_limits<T>::min_exponent - 1);
    const W ulp = std::ldexp(W(1), e - (std::numeric_limits<T>::digits - 1));
    return static_cast<double>(std::fabs(static_cast<W>(y) - ref) / ulp);
}

template <class T>
bool same_bits(T a, T b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return std::bit_cast<simd::int_of<T>>(a) == std::bit_cast<simd::int_of<T>>(b);
}

template <class T>
std::vector<T> linspace(double lo, double hi, int n) {
    std::vector<T> v;
    for (int i = 0; i < n; ++i) v.push_back(static_cast<T>(lo + (hi - lo) * (i + 0.5) / n));
    return v;
}

// Magnitudes spread evenly in the exponent, from 2^lo to 2^hi, both signs.
template <class T>
std::vector<T> logspace(double lo, double hi, int n, bool negative_too = true) {
    std::vector<T> v;
    for (int i = 0; i < n; ++i) {
        const T x = static_cast<T>(std::exp2(lo + (hi - lo) * (i + 0.37) / n));
        v.push_back(x);
        if (negative_too) v.push_back(-x);
    }
    return v;
}

template <class T>
std::vector<T> concat(std::initializer_list<std::vector<T>> parts) {
    std::vector<T> v;
    for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
    return v;
}

// Every function once, as a callable over vec<T, N> and by name, so the loops below cover all.
enum class fn { exp, expm1, log, log1p, tanh, sigmoid, softplus_core, erf };
constexpr std::array all_fns = {fn::exp, fn::expm1, fn::log, fn::log1p, fn::tanh, fn::sigmoid, fn::softplus_core, fn::erf};

const char* name(fn f) {
    switch (f) {
        case fn::exp: return "exp";
        case fn::expm1: return "expm1";
        case fn::log: return "log";
        case fn::log1p: return "log1p";
        case fn::tanh: return "tanh";
        case fn::sigmoid: return "sigmoid";
        case fn::softplus_core: return "softplus_core";
        case fn::erf: return "erf";
    }
    return "?";
}

template <class T, std::size_t N>
simd::vec<T, N> apply(fn f, simd::vec<T, N> x) {
    switch (f) {
        case fn::exp: return math::exp(x);
        case fn::expm1: return math::expm1(x);
        case fn::log: return math::log(x);
        case fn::log1p: return math::log1p(x);
        case fn::tanh: return math::tanh(x);
        case fn::sigmoid: return math::sigmoid(x);
        case fn::softplus_core: return math::softplus_core(x);
        case fn::erf: return math::erf(x);
    }
    return x;
}

template <class T>
wide_t<T> apply_reference(fn f, wide_t<T> x) {
    using R = reference<T>;
    switch (f) {
        case fn::exp: return R::exp(x);
        case fn::expm1: return R::expm1(x);
        case fn::log: return R::log(x);
        case fn::log1p: return R::log1p(x);
        case fn::tanh: return R::tanh(x);
        case fn::sigmoid: return R::sigmoid(x);
        case fn::softplus_core: return R::softplus_core(x);
        case fn::erf: return R::erf(x);
    }
    return x;
}

template <class T>
T scalar(fn f, T x) {
    return apply(f, simd::vec<T, 1>{x}).v;
}

// The sweep of each function: its whole interesting range, dense near 0 and near its thresholds.
template <class T>
std::vector<T> sweep(fn f) {
    const bool is_float = std::is_same_v<T, float>;
    const double ov = is_float ? 88.7228 : 709.7827;      // ln(max)
    const double un = is_float ? -103.9721 : -745.1332;   // ln(min subnormal / 2)
    const double emin = is_float ? -149 : -1074;
    const double emax = is_float ? 127.9 : 1023.9;
    switch (f) {
        case fn::exp:
            return concat<T>({linspace<T>(un - 1, ov + 1, 20000), linspace<T>(-1, 1, 4000),
                              linspace<T>(ov - 0.01, ov + 0.01, 1000), linspace<T>(un - 0.5, un + 20, 2000),
                              logspace<T>(-60, 10, 2000)});
        case fn::expm1:
            return concat<T>({linspace<T>(-50, ov + 1, 20000), linspace<T>(-1, 1, 4000),
                              linspace<T>(ov - 0.01, ov + 0.01, 1000), logspace<T>(emin, 10, 4000)});
        case fn::log:
            return concat<T>({logspace<T>(emin, emax, 20000, false), linspace<T>(0.5, 2, 4000),
                              linspace<T>(0.999, 1.001, 2000)});
        case fn::log1p:
            return concat<T>({linspace<T>(-1, 3, 20000), logspace<T>(emin, 3, 4000),
                              logspace<T>(3, emax, 2000, false), linspace<T>(-1, -0.999, 1000)});
        case fn::tanh:
            return concat<T>({linspace<T>(-25, 25, 20000), linspace<T>(-1, 1, 4000), logspace<T>(emin, 7, 4000)});
        case fn::sigmoid:
        case fn::softplus_core:
            return concat<T>({linspace<T>(-760, 760, 20000), linspace<T>(-40, 40, 4000),
                              linspace<T>(un - 1, un + 20, 2000), logspace<T>(emin, 7, 4000)});
        case fn::erf:
            return concat<T>({linspace<T>(-7, 7, 20000), linspace<T>(-1, 1, 4000), linspace<T>(0.8, 0.95, 2000),
                              logspace<T>(emin, 3, 4000)});
    }
    return {};
}

// Special inputs every function sees in the lane test.
template <class T>
std::vector<T> specials() {
    using L = std::numeric_limits<T>;
    return {T(0), -T(0), L::infinity(), -L::infinity(), L::quiet_NaN(), L::max(), -L::max(), L::min(), -L::min(),
            L::denorm_min(), -L::denorm_min(), T(1), T(-1), T(0.5), T(-0.5), T(1e30), T(-1e30), T(88.8), T(-88.8),
            T(-104.5), T(710), T(-746), T(2), T(-2), T(0.3125), T(0.875), T(-0.875), T(3.5), T(6.5)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("math: error against the standard library, in ulps", T, float, double) {
    // The maxima measured over every float and over 10^7 doubles are 1.81 ulp or less, with and
    // without FMA (see math.hpp); ctnn's targets are 2 ulp for float and 4 for double, and both are
    // held to 2 here to catch regressions.
    const double bound = 2.0;
    constexpr std::size_t W = simd::native_width<T>;
    for (const fn f : all_fns) {
        const std::string fname = name(f);
        CAPTURE(fname);
        std::vector<T> xs = sweep<T>(f);
        while (xs.size() % W) xs.push_back(T(0.25));
        double worst = 0;
        T worst_x = 0;
        alignas(64) T y[W];
        for (std::size_t i = 0; i < xs.size(); i += W) {
            apply(f, simd::vec<T, W>::load(xs.data() + i)).store(y);
            for (std::size_t j = 0; j < W; ++j) {
                const double e = ulp_error<T>(y[j], apply_reference<T>(f, xs[i + j]));
                if (e > worst) worst = e, worst_x = xs[i + j];
            }
        }
        CAPTURE(worst_x);
        CHECK(worst <= bound);
        MESSAGE(fname, ": max ", worst, " ulp");
    }
}

// fast_tanh, the float tanh activation: measured over every float at 7.2 ulp with FMA and 7.9
// without (math.hpp). Every 31st float of [0, 12] (35 million, both signs by oddness) in the widest
// register and in the scalar path; and the cases a rational function and its clamp could get wrong.
TEST_CASE("math: fast_tanh is within 8 ulps (9 without FMA), odd, bounded by 1, and NaN stays NaN") {
    const double bound = simd::has_fma ? 8.0 : 9.0;
    constexpr std::size_t W = simd::native_width<float>;
    const auto lo = std::bit_cast<std::uint32_t>(0.0f), hi = std::bit_cast<std::uint32_t>(12.0f);
    double worst = 0;
    float worst_x = 0;
    bool odd = true, bounded = true, lanes_equal_scalar = true;
    alignas(64) float x[W], xn[W], y[W], yn[W];
    for (std::uint32_t b = lo; b < hi; b += 31 * W) {
        for (std::size_t j = 0; j < W; ++j) x[j] = std::bit_cast<float>(b + 31 * std::uint32_t(j)), xn[j] = -x[j];
        math::fast_tanh(simd::vec<float, W>::load_aligned(x)).store_aligned(y);
        math::fast_tanh(simd::vec<float, W>::load_aligned(xn)).store_aligned(yn);
        for (std::size_t j = 0; j < W; ++j) {
            const double e = ulp_error<float>(y[j], std::tanh(static_cast<double>(x[j])));
            if (e > worst) worst = e, worst_x = x[j];
            odd = odd && same_bits(yn[j], -y[j]);
            bounded = bounded && y[j] <= 1.0f;
            lanes_equal_scalar = lanes_equal_scalar && same_bits(y[j], math::fast_tanh(x[j]));
        }
    }
    CAPTURE(worst_x);
    CHECK(worst <= bound);
    MESSAGE("fast_tanh: max ", worst, " ulp");
    CHECK(odd);
    CHECK(bounded);
    CHECK(lanes_equal_scalar);

    // Beyond the clamp, one value: fast_tanh(8) (1 - 7 2^-24; tanh(8) is 1 - 3.8 2^-24).
    using L = std::numeric_limits<float>;
    const float top = math::fast_tanh(8.0f);
    CHECK(top <= 1.0f);
    CHECK(top >= 1.0f - 8 * 0x1p-24f);
    for (const float s : {1.0f, -1.0f}) {
        CAPTURE(s);
        CHECK(math::fast_tanh(s * L::infinity()) == s * top);
        CHECK(math::fast_tanh(s * L::max()) == s * top);
        CHECK(math::fast_tanh(s * 8.5f) == s * top);
        CHECK(math::fast_tanh(s * L::denorm_min()) == s * L::denorm_min());
        CHECK(std::isnan(math::fast_tanh(s * L::quiet_NaN())));
        // the same in a register, where AVX-512 clamps with its range instruction
        alignas(64) float in[W], out[W];
        for (std::size_t j = 0; j < W; ++j) in[j] = s * (j % 3 == 0 ? L::quiet_NaN() : j % 3 == 1 ? L::infinity() : 0.0f);
        math::fast_tanh(simd::vec<float, W>::load_aligned(in)).store_aligned(out);
        for (std::size_t j = 0; j < W; ++j) CHECK(same_bits(out[j], j % 3 == 0 ? in[j] : j % 3 == 1 ? s * top : s * 0.0f));
    }
}

TEST_CASE_TEMPLATE("math: edge cases match the C library", T, float, double) {
    using L = std::numeric_limits<T>;
    const T inf = L::infinity(), nan = L::quiet_NaN();
    auto is_neg_zero = [](T v) { return v == 0 && std::signbit(v); };
    auto is_pos_zero = [](T v) { return v == 0 && !std::signbit(v); };

    SUBCASE("NaN propagates") {
        for (const fn f : all_fns) {
            const std::string fname = name(f);
        CAPTURE(fname);
            CHECK(std::isnan(scalar(f, nan)));
            CHECK(std::isnan(scalar(f, -nan)));
        }
    }
    SUBCASE("exp") {
        CHECK(math::exp(T(0)) == 1);
        CHECK(math::exp(-T(0)) == 1);
        CHECK(math::exp(inf) == inf);
        CHECK(is_pos_zero(math::exp(-inf)));
        CHECK(math::exp(T(1e30)) == inf);
        CHECK(is_pos_zero(math::exp(T(-1e30))));
        CHECK(math::exp(L::max()) == inf);
        const T ov = std::is_same_v<T, float> ? T(89) : T(710);
        CHECK(math::exp(ov) == inf);
        CHECK(math::exp(std::log(L::max())) == std::exp(std::log(L::max())));  // largest finite
        // gradual underflow: subnormal results, then 0
        const T sub = std::log(L::min()) - T(5);
        CHECK(std::fpclassify(math::exp(sub)) == FP_SUBNORMAL);
        CHECK(ulp_error<T>(math::exp(sub), std::exp(static_cast<wide_t<T>>(sub))) <= 1);
        CHECK(math::exp(std::log(L::denorm_min())) == L::denorm_min());
        CHECK(is_pos_zero(math::exp(std::log(L::denorm_min()) - T(1))));
    }
    SUBCASE("expm1") {
        CHECK(is_pos_zero(math::expm1(T(0))));
        CHECK(is_neg_zero(math::expm1(-T(0))));
        CHECK(math::expm1(inf) == inf);
        CHECK(math::expm1(-inf) == -1);
        CHECK(math::expm1(T(1e30)) == inf);
        CHECK(math::expm1(T(-1e30)) == -1);
        CHECK(math::expm1(L::denorm_min()) == L::denorm_min());
        CHECK(math::expm1(-L::min()) == -L::min());
        CHECK(math::expm1(T(1e-10)) == std::expm1(T(1e-10)));
    }
    SUBCASE("log") {
        CHECK(math::log(T(0)) == -inf);
        CHECK(math::log(-T(0)) == -inf);
        CHECK(std::isnan(math::log(T(-1))));
        CHECK(std::isnan(math::log(-L::denorm_min())));
        CHECK(std::isnan(math::log(-inf)));
        CHECK(math::log(inf) == inf);
        CHECK(is_pos_zero(math::log(T(1))));
        CHECK(ulp_error<T>(math::log(L::denorm_min()), std::log(static_cast<wide_t<T>>(L::denorm_min()))) <= 1);
        CHECK(ulp_error<T>(math::log(L::min() / T(3)), std::log(static_cast<wide_t<T>>(L::min() / T(3)))) <= 1);
        CHECK(ulp_error<T>(math::log(L::max()), std::log(static_cast<wide_t<T>>(L::max()))) <= 1);
    }
    SUBCASE("log1p") {
        CHECK(is_pos_zero(math::log1p(T(0))));
        CHECK(is_neg_zero(math::log1p(-T(0))));
        CHECK(math::log1p(T(-1)) == -inf);
        CHECK(std::isnan(math::log1p(T(-2))));
        CHECK(std::isnan(math::log1p(-inf)));
        CHECK(math::log1p(inf) == inf);
        CHECK(math::log1p(L::denorm_min()) == L::denorm_min());
        CHECK(math::log1p(-L::denorm_min()) == -L::denorm_min());
        CHECK(ulp_error<T>(math::log1p(L::max()), std::log(static_cast<wide_t<T>>(L::max()))) <= 1);
    }
    SUBCASE("tanh") {
        CHECK(is_pos_zero(math::tanh(T(0))));
        CHECK(is_neg_zero(math::tanh(-T(0))));
        CHECK(math::tanh(inf) == 1);
        CHECK(math::tanh(-inf) == -1);
        CHECK(math::tanh(T(1e30)) == 1);
        CHECK(math::tanh(T(-1e30)) == -1);
        CHECK(math::tanh(L::max()) == 1);
        CHECK(math::tanh(L::denorm_min()) == L::denorm_min());
        CHECK(math::tanh(-L::min()) == -L::min());
    }
    SUBCASE("sigmoid") {
        CHECK(math::sigmoid(T(0)) == T(0.5));
        CHECK(math::sigmoid(-T(0)) == T(0.5));
        CHECK(math::sigmoid(inf) == 1);
        CHECK(is_pos_zero(math::sigmoid(-inf)));
        CHECK(math::sigmoid(T(1e30)) == 1);
        CHECK(is_pos_zero(math::sigmoid(T(-1e30))));
        CHECK(math::sigmoid(L::max()) == 1);
        CHECK(is_pos_zero(math::sigmoid(-L::max())));
        // far left, sigmoid(x) = e^x, through the subnormals
        const T sub = std::log(L::min()) - T(5);
        CHECK(std::fpclassify(math::sigmoid(sub)) == FP_SUBNORMAL);
        CHECK(ulp_error<T>(math::sigmoid(sub), reference<T>::sigmoid(sub)) <= 1);
    }
    SUBCASE("softplus_core") {
        CHECK(math::softplus_core(inf) == inf);
        CHECK(is_pos_zero(math::softplus_core(-inf)));
        CHECK(math::softplus_core(T(1e30)) == T(1e30));
        CHECK(is_pos_zero(math::softplus_core(T(-1e30))));
        CHECK(math::softplus_core(L::max()) == L::max());
        CHECK(math::softplus_core(T(100)) == T(100));                     // large x: x
        CHECK(ulp_error<T>(math::softplus_core(T(-50)), std::exp(static_cast<wide_t<T>>(-50))) <= 2);  // e^x
        CHECK(ulp_error<T>(math::softplus_core(T(0)), std::log(static_cast<wide_t<T>>(2))) <= 1);
    }
    SUBCASE("erf") {
        CHECK(is_pos_zero(math::erf(T(0))));
        CHECK(is_neg_zero(math::erf(-T(0))));
        CHECK(math::erf(inf) == 1);
        CHECK(math::erf(-inf) == -1);
        CHECK(math::erf(T(1e30)) == 1);
        CHECK(math::erf(T(-1e30)) == -1);
        CHECK(math::erf(L::max()) == 1);
        CHECK(math::erf(-L::max()) == -1);
        CHECK(math::erf(T(10)) == 1);
        CHECK(ulp_error<T>(math::erf(L::min()), std::erf(static_cast<wide_t<T>>(L::min()))) <= 1);
        CHECK(ulp_error<T>(math::erf(L::denorm_min() * T(1000)), std::erf(static_cast<wide_t<T>>(L::denorm_min() * T(1000)))) <= 1);
    }
}

TEST_CASE_TEMPLATE("math: constant evaluation agrees with run time", T, float, double) {
    // Constant evaluation rounds fma twice, so a couple of ulps of difference are allowed.
    constexpr std::array<T, 8> ce = {math::exp(T(1.5)),  math::expm1(T(-0.3)),    math::log(T(10)),
                                     math::log1p(T(0.7)), math::tanh(T(0.8)),     math::sigmoid(T(-3)),
                                     math::softplus_core(T(2)), math::erf(T(1.2))};
    volatile T in[8] = {T(1.5), T(-0.3), T(10), T(0.7), T(0.8), T(-3), T(2), T(1.2)};
    for (std::size_t i = 0; i < 8; ++i) {
        const fn f = all_fns[i];
        const std::string fname = name(f);
        CAPTURE(fname);
        const T rt = scalar(f, T(in[i]));
        CHECK(ulp_error<T>(ce[i], static_cast<wide_t<T>>(rt)) <= 2);
        CHECK(ulp_error<T>(ce[i], apply_reference<T>(f, T(in[i]))) <= 3);
    }
}

namespace {

// Where the SIMD registers use FMA (any x86 target with FMA3, or AVX-512) the lanes must equal the
// scalar path bit for bit; otherwise xsimd's fma rounds twice and they may differ by a few ulps.
#if defined(__FMA__) || defined(__AVX512F__)
constexpr bool simd_fused = true;
#else
constexpr bool simd_fused = false;
#endif

template <class T, std::size_t N>
void check_lanes_equal_scalar() {
    if constexpr (N > 1 && simd::has_width<T, N>) {
        CAPTURE(N);
        for (const fn f : all_fns) {
            const std::string fname = name(f);
        CAPTURE(fname);
            // all specials, and every 7th point of the sweep to keep the test quick
            std::vector<T> in = specials<T>();
            const std::vector<T> xs = sweep<T>(f);
            for (std::size_t i = 0; i < xs.size(); i += 7) in.push_back(xs[i]);
            while (in.size() % N) in.push_back(T(1));
            std::size_t mismatches = 0;
            double worst = 0;
            T first_x = 0, first_lane = 0, first_scalar = 0;
            alignas(64) T y[N];
            for (std::size_t i = 0; i < in.size(); i += N) {
                apply(f, simd::vec<T, N>::load(in.data() + i)).store(y);
                for (std::size_t j = 0; j < N; ++j) {
                    const T s = scalar(f, in[i + j]);
                    if (!same_bits(y[j], s)) {
                        if (mismatches++ == 0) first_x = in[i + j], first_lane = y[j], first_scalar = s;
                        worst = std::max(worst, ulp_error<T>(y[j], s));
                    }
                }
            }
            CAPTURE(first_x);
            CAPTURE(first_lane);
            CAPTURE(first_scalar);
            if (simd_fused) {
                CHECK(mismatches == 0);
            } else {
                CHECK(worst <= 4);
            }
        }
    }
}

}  // namespace

TEST_CASE_TEMPLATE("math: SIMD lanes equal the scalar path", T, float, double) {
    check_lanes_equal_scalar<T, 2>();
    check_lanes_equal_scalar<T, 4>();
    check_lanes_equal_scalar<T, 8>();
    check_lanes_equal_scalar<T, 16>();
    CHECK(simd::native_width<T> >= 1);
}
