#pragma once
// Timing helpers for ctnn's examples: percentiles of a sample of durations, and a barrier that
// keeps the optimizer from dropping a computation whose result is unused.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace examples {

// The p-th percentile (0 <= p <= 100) of the values, by the nearest-rank method; sorts a copy.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t rank = static_cast<std::size_t>(p / 100 * static_cast<double>(v.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, v.size());
    return v[rank - 1];
}

template <class T>
inline void keep(const T& value) {
    asm volatile("" : : "g"(&value) : "memory");
}

}  // namespace examples
