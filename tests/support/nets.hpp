#pragma once
// Helpers shared by ctnn's tests: tolerances, PyTorch reference loading, and the scalar path of a
// network (the same layer list bound with Lanes = 1), against which every SIMD kernel is compared.
#include <ctnn/ctnn.hpp>

#include <support/reference.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace ctnn_test {

template <class T>
inline constexpr T eps = std::numeric_limits<T>::epsilon();

// |a - b| <= atol + rtol |b|, NaN only equal to NaN, infinities only to themselves.
template <class T>
bool close(T a, T b, double rtol, double atol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return std::abs(static_cast<double>(a) - static_cast<double>(b)) <= atol + rtol * std::abs(static_cast<double>(b));
}

template <class T>
constexpr const char* dtype() noexcept { return sizeof(T) == 4 ? "f32" : "f64"; }

// The state_dict key of a parameter tensor.
inline std::string key(const ctnn::layer_path& path, std::string_view name) {
    return path.str<std::string>() + "." + std::string(name);
}

// Sets every parameter of net from records "<prefix><key>" (PyTorch's [out][in] layout).
template <class Net>
void load_parameters(Net& net, const reference& ref, const std::string& prefix) {
    net.for_each_parameter([&](const ctnn::layer_path& path, const auto& t) {
        const auto& r = ref.get(prefix + key(path, t.name));
        if (r.values.size() != t.size()) throw std::runtime_error("size mismatch for " + prefix + key(path, t.name));
        for (std::size_t i = 0; i < t.size(); ++i) t.flat(i) = static_cast<typename Net::value_type>(r.values[i]);
    });
}

// The scalar path of a network: its layer list bound with one lane per register.
template <class Net>
struct scalar_path;
template <class T, auto In, auto... Rest>
struct scalar_path<ctnn::network<T, In, Rest...>> {
    using seq = ctnn::detail::sequence<T, std::remove_cvref_t<decltype(In)>::size, 1, Rest...>;
    std::vector<T> params = std::vector<T>(seq::param_size + 1, T(0));

    explicit scalar_path(const ctnn::network<T, In, Rest...>& net) {
        std::vector<std::vector<T>> values;
        net.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
            std::vector<T> v(t.size());
            for (std::size_t i = 0; i < t.size(); ++i) v[i] = t.flat(i);
            values.push_back(std::move(v));
        });
        std::size_t k = 0;
        seq::for_each_tensor(params.data(), [&](const ctnn::layer_path&, const auto& t) {
            for (std::size_t i = 0; i < t.size(); ++i) t.flat(i) = values[k][i];
            ++k;
        });
    }
    ctnn::tensor<T, seq::out> forward(const ctnn::tensor<T, seq::in>& x) const {
        ctnn::tensor<T, seq::out> y;
        seq::forward(params.data(), nullptr, x.data(), y.data());  // Lanes = 1: nothing is padded
        return y;
    }
};

template <class T, std::size_t... D>
ctnn::tensor<T, D...> tensor_from(const record& r) {
    ctnn::tensor<T, D...> t;
    if (r.values.size() != t.size) throw std::runtime_error("record " + r.name + " has the wrong size");
    for (std::size_t i = 0; i < t.size; ++i) t[i] = static_cast<T>(r.values[i]);
    return t;
}

}  // namespace ctnn_test
