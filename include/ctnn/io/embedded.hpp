#pragma once
// What a header written by ctnn::write_header (write_header.hpp) uses: a table of the saved
// tensors, embedded_tensor<T>, and, for a network type Net,
//   embedded::same_tensors<Net>(table)   whether Net has exactly these tensors (names, shapes, order)
//   embedded::build<Net>(table)          a Net holding the saved values
// Both are constexpr, so `constexpr Net net = my_model<Net>();` builds the network at compile time
// and places it in read-only memory.
// This header needs neither the file system nor the JSON parser.
#include <ctnn/io/state_dict.hpp>
#include <ctnn/layers/layer.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace ctnn {

template <class T>
struct embedded_tensor {
    const char* name;  // the state_dict key, "0.weight"
    std::size_t rank;
    std::array<std::size_t, 2> shape;
    const T* values;       // row-major; nullptr for an int64 counter
    std::int64_t counter;  // the counter's value
};

namespace embedded {

namespace detail {

// Whether key is path.str() + "." + name, without building a string (usable in constant evaluation).
constexpr bool key_is(std::string_view key, const layer_path& path, std::string_view name) noexcept {
    std::size_t at = 0;
    for (std::size_t d = 0; d < path.depth; ++d) {
        if (d) {
            if (at >= key.size() || key[at] != '.') return false;
            ++at;
        }
        char digits[24];
        std::size_t n = 0, v = path.index[d];
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (n)
            if (at >= key.size() || key[at++] != digits[--n]) return false;
    }
    if (at >= key.size() || key[at++] != '.') return false;
    return key.substr(at) == name;
}

template <class Net, class F>
constexpr void for_each_tensor(Net& net, F&& f) {
    net.for_each_parameter(f);
    if constexpr (requires { net.for_each_buffer(f); }) net.for_each_buffer(f);
}

}  // namespace detail

template <class Net, class T, std::size_t N>
constexpr bool same_tensors(const std::array<embedded_tensor<T>, N>& table) {
    Net net{};
    std::size_t k = 0;
    bool same = true;
    detail::for_each_tensor(net, [&](const layer_path& path, const auto& t) {
        if (k >= N) {
            same = false;
            return;
        }
        const embedded_tensor<T>& e = table[k++];
        const bool counter = io::detail::is_counter(t);
        same = same && detail::key_is(e.name, path, t.name) && (e.values == nullptr) == counter &&
               (counter || (e.rank == t.rank && e.shape[0] == t.shape[0] && (t.rank < 2 || e.shape[1] == t.shape[1])));
    });
    return same && k == N;
}

template <class Net, class T, std::size_t N>
constexpr Net build(const std::array<embedded_tensor<T>, N>& table) {
    Net net{};
    std::size_t k = 0;
    detail::for_each_tensor(net, [&](const layer_path&, const auto& t) {
        const embedded_tensor<T>& e = table[k++];
        if (io::detail::is_counter(t)) {
            // A counter is an int64 in the bytes of the T elements at base (layer.hpp); bit_cast
            // writes it there in constant evaluation too.
            using V = std::remove_cvref_t<decltype(*t.base)>;
            constexpr std::size_t n = sizeof(std::int64_t) / sizeof(V);
            const auto parts = std::bit_cast<std::array<V, n>>(e.counter);
            for (std::size_t i = 0; i < n; ++i) t.base[i] = parts[i];
        } else {
            for (std::size_t i = 0; i < t.size(); ++i) t.flat(i) = e.values[i];
        }
    });
    return net;
}

}  // namespace embedded

}  // namespace ctnn
