// tensor<T, Dims...>: construction, row-major element access, alignment, rows of a batch.
#include <ctnn/core/tensor.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <type_traits>

using ctnn::tensor;

static_assert(tensor<float, 2>::rank == 1 && tensor<float, 2>::size == 2);
static_assert(tensor<double, 32, 3>::rank == 2 && tensor<double, 32, 3>::size == 96);
static_assert(tensor<float, 32, 3>::shape == std::array<std::size_t, 2>{32, 3});
static_assert(std::is_trivially_copyable_v<tensor<float, 5, 7>>);
// Small tensors stay small; large ones are aligned to a cache line.
static_assert(sizeof(tensor<float, 2>) == 8 && alignof(tensor<float, 2>) == 8);
static_assert(sizeof(tensor<float, 3>) == 16);
static_assert(alignof(tensor<float, 32, 2>) == 64 && alignof(tensor<double, 8>) == 64);
// Usable in constant expressions.
static_assert(tensor<float, 3>{1.f, 2.f, 3.f}[2] == 3.f);
static_assert(tensor<int, 2, 3>{0, 1, 2, 3, 4, 5}(1, 2) == 5);

TEST_CASE_TEMPLATE("tensor construction and access", T, float, double) {
    tensor<T, 3> zero{};
    for (T v : zero) CHECK(v == T(0));

    tensor<T, 4> partial{T(1), T(2)};  // the rest is zero
    CHECK(partial[0] == T(1));
    CHECK(partial[1] == T(2));
    CHECK(partial[2] == T(0));
    CHECK(partial[3] == T(0));

    tensor<T, 2> mixed{1, 2.5};  // any arithmetic values convert
    CHECK(mixed[1] == T(2.5));

    tensor<T, 3, 5> m{};
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t c = 0; c < 5; ++c) m(r, c) = static_cast<T>(10 * r + c);
    CHECK(m[7] == T(12));  // row-major: (1, 2) is element 1 * 5 + 2
    CHECK(m.data()[14] == T(24));
    CHECK(reinterpret_cast<std::uintptr_t>(m.data()) % alignof(tensor<T, 3, 5>) == 0);

    auto row = m.row(2);
    static_assert(decltype(row)::extent == 5);
    CHECK(row[3] == T(23));
    row[3] = T(-1);
    CHECK(m(2, 3) == T(-1));

    tensor<T, 3, 5> copy = m;
    CHECK(copy == m);
    copy(0, 0) = T(99);
    CHECK(!(copy == m));

    m.fill(T(4));
    for (T v : m) CHECK(v == T(4));
}

TEST_CASE("tensor of three dimensions is row-major") {
    tensor<float, 2, 3, 4> t{};
    t(1, 2, 3) = 5.f;
    CHECK(t[1 * 12 + 2 * 4 + 3] == 5.f);
}
