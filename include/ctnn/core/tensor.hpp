#pragma once
// tensor<T, Dims...>: a static, aligned, row-major tensor: the type of every input and output.
//
// tensor<float, 2> is one sample of 2 features; tensor<float, 32, 2> is a batch of 32 such samples
// (sample-major, the layout of a PyTorch [32, 2] tensor). Storage is a plain array: no heap, and a
// tensor value-initialized with {} is all zeros.
#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <span>
#include <type_traits>

namespace ctnn {

namespace detail {
// Storage alignment: the tensor's byte size rounded up to a power of two, at most 64 (a cache
// line, and the widest SIMD register), at least alignof(T): small tensors stay small.
template <class T, std::size_t Size>
inline constexpr std::size_t tensor_alignment =
    std::max(alignof(T), std::min<std::size_t>(64, std::bit_ceil(Size * sizeof(T))));

template <std::size_t K, std::size_t... D>
constexpr std::size_t dim_at() noexcept {
    constexpr std::size_t d[] = {D..., 0};
    return K < sizeof...(D) ? d[K] : 0;
}
}  // namespace detail

template <class T, std::size_t... Dims>
class tensor {
    static_assert(((Dims > 0) && ...), "ctnn: every tensor dimension must be at least 1");

public:
    using value_type = T;
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (Dims * ... * std::size_t{1});
    static constexpr std::array<std::size_t, rank> shape{Dims...};

    constexpr tensor() noexcept : values_{} {}

    // tensor<float, 3> x{1.f, 2.f, 3.f}; fewer values than elements leave the rest zero.
    template <class... U>
        requires(sizeof...(U) >= 1 && sizeof...(U) <= size && (std::is_arithmetic_v<U> && ...))
    constexpr tensor(U... values) noexcept : values_{static_cast<T>(values)...} {}
    template <class... U>
        requires(sizeof...(U) > size && (std::is_arithmetic_v<U> && ...))
    constexpr tensor(U...) noexcept : values_{} {
        static_assert(sizeof...(U) <= size, "ctnn: more values than the tensor has elements");
    }

    // A tensor of another shape or scalar type never converts silently: it is a compile error
    // naming what differs (the shapes appear in the instantiation line above the message).
    template <class U, std::size_t... E>
        requires(!std::is_same_v<tensor<U, E...>, tensor>)
    constexpr tensor(const tensor<U, E...>&) noexcept : values_{} {
        static_assert(std::is_same_v<U, T>, "ctnn: the tensors' scalar types differ (float vs double)");
        static_assert(sizeof...(E) == rank, "ctnn: the tensors' ranks differ");
        static_assert(detail::dim_at<0, E...>() == detail::dim_at<0, Dims...>(),
                      "ctnn: the tensors' first dimensions differ (a batch size or a feature count)");
        static_assert(detail::dim_at<1, E...>() == detail::dim_at<1, Dims...>(),
                      "ctnn: the tensors' second dimensions differ (a feature count)");
        static_assert(((E == Dims) && ...), "ctnn: the tensors' shapes differ");
    }

    constexpr T* data() noexcept { return values_; }
    constexpr const T* data() const noexcept { return values_; }
    constexpr T* begin() noexcept { return values_; }
    constexpr T* end() noexcept { return values_ + size; }
    constexpr const T* begin() const noexcept { return values_; }
    constexpr const T* end() const noexcept { return values_ + size; }

    // Flat, row-major element access.
    constexpr T& operator[](std::size_t i) noexcept { return values_[i]; }
    constexpr const T& operator[](std::size_t i) const noexcept { return values_[i]; }

    // Element access by one index per dimension: x(b, i).
    template <std::convertible_to<std::size_t>... I>
    constexpr T& operator()(I... idx) noexcept {
        static_assert(sizeof...(I) == rank, "ctnn: give one index per tensor dimension");
        return values_[offset(static_cast<std::size_t>(idx)...)];
    }
    template <std::convertible_to<std::size_t>... I>
    constexpr const T& operator()(I... idx) const noexcept {
        static_assert(sizeof...(I) == rank, "ctnn: give one index per tensor dimension");
        return values_[offset(static_cast<std::size_t>(idx)...)];
    }

    // The b-th sample of a batch tensor<T, B, F>, as a span of F values.
    constexpr auto row(std::size_t b) noexcept
        requires(rank == 2)
    {
        return std::span<T, detail::dim_at<1, Dims...>()>{values_ + b * detail::dim_at<1, Dims...>(),
                                                          detail::dim_at<1, Dims...>()};
    }
    constexpr auto row(std::size_t b) const noexcept
        requires(rank == 2)
    {
        return std::span<const T, detail::dim_at<1, Dims...>()>{values_ + b * detail::dim_at<1, Dims...>(),
                                                                detail::dim_at<1, Dims...>()};
    }

    constexpr void fill(T v) noexcept { std::fill(values_, values_ + size, v); }

    friend constexpr bool operator==(const tensor& a, const tensor& b) noexcept {
        return std::equal(a.values_, a.values_ + size, b.values_);
    }

private:
    template <class... I>
    static constexpr std::size_t offset(I... idx) noexcept {
        std::size_t off = 0;
        ((off = off * Dims + idx), ...);
        return off;
    }

    alignas(detail::tensor_alignment<T, size>) T values_[size];
};

template <class X>
inline constexpr bool is_tensor_v = false;
template <class T, std::size_t... D>
inline constexpr bool is_tensor_v<tensor<T, D...>> = true;

}  // namespace ctnn
