#pragma once
// The element types of the safetensors format, their names and sizes, and the conversions ctnn
// applies when it loads a tensor: F32, F64, F16 and BF16 into float or double (F16 and BF16 widen
// exactly, by their bit layouts, NaN payloads included; F64 into float rounds to nearest, as
// PyTorch's .float() does), and I64 into the int64 scalars (batch norm's num_batches_tracked, a
// trainer's step count).
//
// The enumerators are in the order of the format's reference implementation, whose writer sorts
// tensors by descending dtype, then by name: save_safetensors writes the same order, so a ctnn file
// is byte for byte what safetensors.torch.save_file writes for the same tensors.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>

namespace ctnn::io {

enum class dtype : unsigned char { boolean, u8, i8, f8_e5m2, f8_e4m3, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64 };

inline constexpr std::array<std::string_view, 15> dtype_names{
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};

constexpr std::string_view name(dtype d) noexcept { return dtype_names[static_cast<std::size_t>(d)]; }

constexpr std::size_t size_of(dtype d) noexcept {
    switch (d) {
        case dtype::boolean: case dtype::u8: case dtype::i8: case dtype::f8_e5m2: case dtype::f8_e4m3: return 1;
        case dtype::i16: case dtype::u16: case dtype::f16: case dtype::bf16: return 2;
        case dtype::i32: case dtype::u32: case dtype::f32: return 4;
        case dtype::f64: case dtype::i64: case dtype::u64: return 8;
    }
    return 0;
}

constexpr std::optional<dtype> parse_dtype(std::string_view s) noexcept {
    for (std::size_t i = 0; i < dtype_names.size(); ++i)
        if (dtype_names[i] == s) return static_cast<dtype>(i);
    return std::nullopt;
}

// The safetensors dtype of a scalar type ctnn stores.
template <class T>
constexpr dtype dtype_of() noexcept {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8);
    if constexpr (std::is_same_v<T, float>) return dtype::f32;
    else if constexpr (std::is_same_v<T, double>) return dtype::f64;
    else return dtype::i64;
}

// A floating-point dtype that loads into float and double.
constexpr bool is_floating(dtype d) noexcept {
    return d == dtype::f32 || d == dtype::f64 || d == dtype::f16 || d == dtype::bf16;
}

namespace detail {

// Little-endian unsigned integers of N bytes, whatever the host's byte order.
template <class U>
constexpr U load_le(const unsigned char* p) noexcept {
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
    return v;
}
template <class U>
constexpr void store_le(unsigned char* p, U v) noexcept {
    for (std::size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// IEEE binary16 to binary32, exactly: normal and subnormal values, infinities, NaNs (payload kept,
// shifted into the top of the float's mantissa, as the hardware conversion does).
constexpr float f16_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (mant << 13);  // rebias 15 -> 127
    } else if (mant == 0) {
        bits = sign;
    } else {  // subnormal half: mant * 2^-24; normalize it
        std::uint32_t e = 113;  // exponent of 2^-14 in float, minus the shifts below
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
    }
    return std::bit_cast<float>(bits);
}

constexpr float bf16_to_float(std::uint16_t b) noexcept {
    return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

// Element i of a tensor of dtype d stored at p, converted to T (d must be floating).
template <class T>
T load_element(dtype d, const unsigned char* p, std::size_t i) noexcept {
    switch (d) {
        case dtype::f32: return static_cast<T>(std::bit_cast<float>(load_le<std::uint32_t>(p + 4 * i)));
        case dtype::f64: return static_cast<T>(std::bit_cast<double>(load_le<std::uint64_t>(p + 8 * i)));
        case dtype::f16: return static_cast<T>(f16_to_float(load_le<std::uint16_t>(p + 2 * i)));
        case dtype::bf16: return static_cast<T>(bf16_to_float(load_le<std::uint16_t>(p + 2 * i)));
        default: return T(0);
    }
}

template <class T>
void store_element(unsigned char* p, std::size_t i, T v) noexcept {
    if constexpr (sizeof(T) == 4) store_le(p + 4 * i, std::bit_cast<std::uint32_t>(v));
    else store_le(p + 8 * i, std::bit_cast<std::uint64_t>(v));
}

}  // namespace detail

}  // namespace ctnn::io
