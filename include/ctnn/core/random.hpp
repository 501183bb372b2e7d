#pragma once
// ctnn's random numbers: the same sequence from the same seed on every run, compiler and platform.
//
// The generator is SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014): 64 bits of state, statistically strong, trivially seedable. Uniform reals
// take the top mantissa-many bits; normals use Marsaglia's polar method with ctnn's own log, so no
// standard-library distribution (whose algorithms differ between implementations) is involved.
#include <ctnn/core/math.hpp>

#include <cstdint>

namespace ctnn {

class rng {
public:
    constexpr explicit rng(std::uint64_t seed = 0) noexcept : state_{seed} {}

    constexpr std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    // Uniform in [0, 1), with every representable step of 2^-24 (float) or 2^-53 (double).
    template <class T>
    constexpr T uniform() noexcept {
        if constexpr (sizeof(T) == 4)
            return static_cast<T>(next() >> 40) * T(0x1.0p-24);
        else
            return static_cast<T>(next() >> 11) * T(0x1.0p-53);
    }
    // Uniform in [lo, hi).
    template <class T>
    constexpr T uniform(T lo, T hi) noexcept { return lo + (hi - lo) * uniform<T>(); }

    // Standard normal (mean 0, variance 1), computed in double and rounded to T.
    template <class T>
    constexpr T normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return static_cast<T>(spare_);
        }
        double u, v, s;
        do {
            u = 2.0 * uniform<double>() - 1.0;
            v = 2.0 * uniform<double>() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = simd::sqrt(simd::vec<double, 1>{-2.0 * math::log(s) / s}).v;
        spare_ = v * f;
        has_spare_ = true;
        return static_cast<T>(u * f);
    }

    // The state, to save and restore a generator exactly (a pending normal() spare is dropped).
    constexpr std::uint64_t state() const noexcept { return state_; }
    constexpr void set_state(std::uint64_t s) noexcept {
        state_ = s;
        has_spare_ = false;
    }

private:
    std::uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace ctnn
