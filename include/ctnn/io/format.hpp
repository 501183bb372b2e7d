#pragma once
// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header, then the data. The header maps each tensor name to
//   {"dtype": "F32", "shape": [8, 2], "data_offsets": [begin, end]}
// (byte offsets into the data) and may hold "__metadata__", a map of strings. ctnn reads a file only
// if it is valid in every respect the format's reference implementation checks: the header length
// fits the file, the header is a JSON object of well-formed entries with known dtypes, each
// tensor's bytes are exactly its shape times its dtype's size, and the tensors, in offset order,
// tile the data with no gap, overlap or trailing bytes. Anything else is an io_error naming the file
// and, where one is concerned, the tensor. Parsing never reads outside the given bytes.
//
// safetensors_file is a validated file in memory, for reading tensors by name (the examples read
// their inputs and PyTorch's outputs this way); load_safetensors (safetensors.hpp) builds on it.
#include <ctnn/io/dtype.hpp>
#include <ctnn/io/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ctnn::io {

// One tensor of a file: its name, dtype, shape and where its bytes are in the data section.
struct tensor_info {
    std::string name;
    io::dtype dtype = io::dtype::f32;
    std::vector<std::size_t> shape;  // empty for a scalar (rank 0)
    std::size_t begin = 0;           // byte offsets into the data section: [begin, end)
    std::size_t end = 0;

    std::size_t element_count() const noexcept {
        std::size_t n = 1;
        for (std::size_t d : shape) n *= d;  // cannot overflow: checked when the header was read
        return n;
    }
};

// "[8, 2]", "[]" for a scalar.
inline std::string shape_string(std::span<const std::size_t> shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

// The largest header the reference implementation accepts (100 MB).
inline constexpr std::size_t max_header_size = 100'000'000;

namespace detail {

struct parsed_header {
    std::size_t data_begin = 0;                      // offset of the data section in the file
    std::vector<tensor_info> tensors;                // in offset order
    std::map<std::string, std::string, std::less<>> metadata;
};

// Validates a whole file held in bytes; file names it in errors.
inline parsed_header parse(std::span<const std::byte> bytes, const std::string& file) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t size = bytes.size();
    auto fail = [&](const std::string& tensor, const std::string& what) { throw io_error(file, tensor, what); };

    if (size == 0) fail("", "the file is empty (a safetensors file starts with an 8-byte header length)");
    if (size < 8) fail("", "truncated: " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
    const std::uint64_t n = detail::load_le<std::uint64_t>(p);
    if (n > size - 8)
        fail("", "the header length " + std::to_string(n) + " is larger than the rest of the file (" +
                     std::to_string(size - 8) + " bytes): the file is truncated or not a safetensors file");
    if (n > max_header_size)
        fail("", "the header length " + std::to_string(n) + " exceeds the format's limit of 100 MB");

    parsed_header out;
    out.data_begin = 8 + static_cast<std::size_t>(n);
    const std::size_t data_size = size - out.data_begin;

    // nlohmann-json stops at a NUL byte as at the end of the input; JSON has no place for one.
    if (const void* nul = std::memchr(p + 8, 0, static_cast<std::size_t>(n)))
        fail("", "the header is not valid JSON: a NUL byte at header offset " +
                     std::to_string(static_cast<const unsigned char*>(nul) - (p + 8)));
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(p + 8, p + 8 + n);
    } catch (const nlohmann::json::exception& e) {
        fail("", std::string("the header is not valid JSON: ") + e.what());
    }
    if (!header.is_object()) fail("", "the header is not a JSON object");

    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object()) fail("", "\"__metadata__\" is not a JSON object of strings");
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string()) fail("", "\"__metadata__\" entry \"" + mk + "\" is not a string");
                out.metadata.emplace(mk, mv.template get<std::string>());
            }
            continue;
        }
        if (!value.is_object()) fail(key, "its header entry is not a JSON object");
        tensor_info t;
        t.name = key;

        const auto d = value.find("dtype");
        if (d == value.end() || !d->is_string()) fail(key, "its header entry has no \"dtype\" string");
        const auto parsed = parse_dtype(d->template get_ref<const std::string&>());
        if (!parsed) fail(key, "unknown dtype \"" + d->template get<std::string>() + "\"");
        t.dtype = *parsed;

        const auto s = value.find("shape");
        if (s == value.end() || !s->is_array()) fail(key, "its header entry has no \"shape\" array");
        std::size_t count = 1;
        bool overflow = false;
        for (const auto& dim : *s) {
            if (!dim.is_number_unsigned()) fail(key, "\"shape\" holds something other than non-negative integers");
            const auto v = dim.template get<std::uint64_t>();
            t.shape.push_back(static_cast<std::size_t>(v));
            if (v != 0 && count > std::numeric_limits<std::size_t>::max() / v) overflow = true;
            else count *= static_cast<std::size_t>(v);
        }
        if (!overflow && count > std::numeric_limits<std::size_t>::max() / size_of(t.dtype)) overflow = true;
        if (overflow) fail(key, "the shape " + shape_string(t.shape) + " has more elements than memory can hold");
        const std::size_t nbytes = count * size_of(t.dtype);

        const auto o = value.find("data_offsets");
        if (o == value.end() || !o->is_array() || o->size() != 2 || !(*o)[0].is_number_unsigned() ||
            !(*o)[1].is_number_unsigned())
            fail(key, "its header entry has no \"data_offsets\" pair of non-negative integers");
        const auto b = (*o)[0].template get<std::uint64_t>(), e = (*o)[1].template get<std::uint64_t>();
        const std::string offsets = "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "]";
        if (b > e) fail(key, offsets + " end before they begin");
        if (e > data_size)
            fail(key, offsets + " lie outside the data section (" + std::to_string(data_size) +
                          " bytes): the file is truncated or the offsets are wrong");
        if (e - b != nbytes)
            fail(key, offsets + " hold " + std::to_string(e - b) + " bytes, but dtype " + std::string(name(t.dtype)) +
                          " and shape " + shape_string(t.shape) + " need " + std::to_string(nbytes));
        t.begin = static_cast<std::size_t>(b);
        t.end = static_cast<std::size_t>(e);
        out.tensors.push_back(std::move(t));
    }

    // In offset order the tensors must tile the data exactly.
    std::stable_sort(out.tensors.begin(), out.tensors.end(), [](const tensor_info& a, const tensor_info& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::size_t covered = 0;
    const tensor_info* previous = nullptr;
    for (const auto& t : out.tensors) {
        if (t.begin < covered)
            fail(t.name, "its data [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                             ") overlaps that of tensor \"" + previous->name + "\"");
        if (t.begin > covered)
            fail(t.name, "the data bytes [" + std::to_string(covered) + ", " + std::to_string(t.begin) +
                             ") before it belong to no tensor");
        covered = t.end;
        previous = &t;
    }
    if (covered != data_size)
        fail("", "the tensors cover " + std::to_string(covered) + " of the " + std::to_string(data_size) +
                     " data bytes: the file has trailing bytes or lost a tensor");
    return out;
}

// The whole file, or an io_error saying why not.
inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st))
        throw io_error(file, "", "cannot be read: " + (ec ? ec.message() : std::string("no such file")));
    if (std::filesystem::is_directory(st)) throw io_error(file, "", "is a directory, not a safetensors file");
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) throw io_error(file, "", std::string("cannot be opened for reading: ") + std::strerror(errno));
    std::vector<std::byte> bytes;
    std::byte chunk[1 << 16];
    for (;;) {
        const std::size_t got = std::fread(chunk, 1, sizeof chunk, f);
        bytes.insert(bytes.end(), chunk, chunk + got);
        if (got < sizeof chunk) break;
    }
    const bool failed = std::ferror(f) != 0;
    const int err = errno;
    std::fclose(f);
    if (failed) throw io_error(file, "", std::string("read error: ") + std::strerror(err));
    return bytes;
}

}  // namespace detail

// A validated safetensors file in memory. Tensors are listed in offset order.
class safetensors_file {
public:
    // Reads and validates path; throws io_error.
    explicit safetensors_file(const std::filesystem::path& path)
        : safetensors_file(detail::read_file(path), path.string()) {}
    // Validates bytes; name stands for the file in errors.
    safetensors_file(std::vector<std::byte> bytes, std::string name)
        : file_{std::move(name)}, bytes_{std::move(bytes)}, header_{detail::parse(bytes_, file_)} {}

    const std::string& file() const noexcept { return file_; }
    const std::vector<tensor_info>& tensors() const noexcept { return header_.tensors; }
    const std::map<std::string, std::string, std::less<>>& metadata() const noexcept { return header_.metadata; }

    const tensor_info* find(std::string_view name) const noexcept {
        for (const auto& t : header_.tensors)
            if (t.name == name) return &t;
        return nullptr;
    }
    const tensor_info& at(std::string_view name) const {
        if (const auto* t = find(name)) return *t;
        throw io_error(file_, std::string(name), "not in the file");
    }
    // The raw little-endian bytes of a tensor.
    std::span<const std::byte> bytes(const tensor_info& t) const noexcept {
        return std::span<const std::byte>(bytes_).subspan(header_.data_begin + t.begin, t.end - t.begin);
    }
    // The values of a floating-point tensor (F32, F64, F16 or BF16), converted to T, row-major.
    template <class T>
    std::vector<T> values(std::string_view name) const {
        const tensor_info& t = at(name);
        if (!is_floating(t.dtype))
            throw io_error(file_, t.name, "dtype " + std::string(io::name(t.dtype)) + " is not a floating-point type");
        std::vector<T> v(t.element_count());
        const auto* p = reinterpret_cast<const unsigned char*>(bytes(t).data());
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = detail::load_element<T>(t.dtype, p, i);
        return v;
    }

private:
    std::string file_;
    std::vector<std::byte> bytes_;
    detail::parsed_header header_;
};

}  // namespace ctnn::io
