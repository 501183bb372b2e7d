#pragma once
// Saving and loading networks, gradients and trainers in the safetensors format, with PyTorch's
// names, shapes and dtypes (see state_dict.hpp for the names):
//
//   ctnn::save_safetensors(net, "model.safetensors");        // F32 for float, F64 for double
//   ctnn::load_safetensors(net, "model.safetensors");        // strict, like load_state_dict(strict=True)
//   ctnn::load_safetensors(net, "big.safetensors", {.strict = false});   // ignores unused tensors
//   ctnn::save_safetensors(g, "grads.safetensors");          // Net::gradients, same names
//   ctnn::save_safetensors(tr, "checkpoint.safetensors");    // a trainer: network, optimizer state,
//   ctnn::load_safetensors(tr, "checkpoint.safetensors");    // step count, random generator
//
// A saved file is byte for byte what safetensors.torch.save_file(model.state_dict()) writes for
// the equivalent nn.Sequential: tensors sorted by descending dtype then name, the header padded with
// spaces to a multiple of 8 bytes, no "__metadata__". Saves are atomic (atomic_file.hpp).
//
// Loading: every tensor of the target must be in the file with its shape; floating-point tensors
// load from F32, F64, F16 or BF16 (converted, see dtype.hpp), int64 scalars from I64. A file tensor
// the target does not have is an error unless load_options{.strict = false}. Any problem, with the
// file or with a tensor, throws ctnn::io_error naming the file and the tensor (and both shapes or
// dtypes), and leaves the target unchanged: every value is decoded and checked first, and the
// target is written only when nothing can fail any more (the commit neither throws nor allocates).
//
// Loading a checkpoint into a trainer restores exactly the state its step depends on, so training
// resumed from it gives bit-identical results to training that was never interrupted (with the
// same data order, hyper-parameters and learning-rate schedule, which are the caller's).
#include <ctnn/io/atomic_file.hpp>
#include <ctnn/io/dtype.hpp>
#include <ctnn/io/error.hpp>
#include <ctnn/io/format.hpp>
#include <ctnn/io/state_dict.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ctnn {

struct load_options {
    bool strict = true;  // false: tensors in the file that the target does not have are ignored
};

namespace io::detail {

template <class X>
concept io_target = trainer_like<std::remove_const_t<X>> || parameter_holder<std::remove_const_t<X>>;

template <class X>
constexpr const char* target_name() noexcept {
    using Y = std::remove_const_t<X>;
    if constexpr (trainer_like<Y>) return "the trainer";
    else if constexpr (requires { Y::input_size; }) return "the network";
    else return "the gradients";
}

template <class X>
struct value_type_of {
    using type = typename std::remove_const_t<X>::value_type;
};

template <class P>
std::vector<std::size_t> shape_of(const param_tensor<P>& t) {
    if (t.rank == 0) return {};
    if (t.rank == 1) return {t.shape[0]};
    return {t.shape[0], t.shape[1]};
}

template <class X>
std::vector<std::byte> serialize(const X& x) {
    struct out_tensor {
        std::string name;
        dtype type;
        std::vector<std::size_t> shape;
        std::vector<unsigned char> data;
    };
    std::vector<out_tensor> out;
    for_each_entry(x, [&](const entry_name& n, const auto& e) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(e)>, integer_entry>) {
            out_tensor t{n.str(), dtype::i64, {}, std::vector<unsigned char>(8)};
            store_le(t.data.data(), static_cast<std::uint64_t>(e.value));
            out.push_back(std::move(t));
        } else if constexpr (is_scaled_tensor<std::remove_cvref_t<decltype(e)>>) {
            out_tensor t{n.str(), dtype::f64, shape_of(e), std::vector<unsigned char>(e.size() * sizeof(double))};
            for (std::size_t i = 0; i < e.size(); ++i) store_element<double>(t.data.data(), i, e.file_value(i));
            out.push_back(std::move(t));
        } else {
            using T = std::remove_const_t<std::remove_reference_t<decltype(*e.base)>>;
            out_tensor t{n.str(), dtype_of<T>(), shape_of(e), std::vector<unsigned char>(e.size() * sizeof(T))};
            for (std::size_t i = 0; i < e.size(); ++i) store_element<T>(t.data.data(), i, e.flat(i));
            out.push_back(std::move(t));
        }
    });
    // The reference writer's order: descending dtype, then name (bytewise).
    std::sort(out.begin(), out.end(), [](const out_tensor& a, const out_tensor& b) {
        return a.type != b.type ? a.type > b.type : a.name < b.name;
    });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    std::size_t offset = 0;
    for (const auto& t : out) {
        nlohmann::ordered_json info = nlohmann::ordered_json::object();
        info["dtype"] = name(t.type);
        info["shape"] = t.shape;
        info["data_offsets"] = {offset, offset + t.data.size()};
        header[t.name] = std::move(info);
        offset += t.data.size();
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned

    std::vector<std::byte> bytes(8 + text.size() + offset);
    auto* p = reinterpret_cast<unsigned char*>(bytes.data());
    store_le(p, static_cast<std::uint64_t>(text.size()));
    std::copy(text.begin(), text.end(), p + 8);
    p += 8 + text.size();
    for (const auto& t : out) p = std::copy(t.data.begin(), t.data.end(), p);
    return bytes;
}

// Checks the file against x and decodes every value; then, if all is well, writes them into x.
template <class X>
void load_parsed(X& x, const parsed_header& h, const unsigned char* data, const std::string& file,
                 load_options options) {
    using T = typename value_type_of<X>::type;
    const char* target = target_name<X>();
    std::map<std::string_view, std::size_t> index;
    for (std::size_t i = 0; i < h.tensors.size(); ++i) index.emplace(h.tensors[i].name, i);
    std::vector<bool> used(h.tensors.size(), false);
    std::vector<std::vector<T>> values;
    std::vector<std::int64_t> integers;

    // 1. Check and decode; x is only read.
    constexpr bool loading = true;
    for_each_entry(std::as_const(x), [&](const entry_name& n, const auto& e) {
        const std::string key = n.str();
        const auto it = index.find(key);
        if (it == index.end()) {
            std::string what = "missing from the file (" + std::string(target) + " has it";
            if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(e)>, integer_entry>)
                what += " with shape " + shape_string(shape_of(e));
            throw io_error(file, key, what + ")");
        }
        const tensor_info& t = h.tensors[it->second];
        used[it->second] = true;
        const unsigned char* p = data + t.begin;
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(e)>, integer_entry>) {
            if (t.dtype != dtype::i64)
                throw io_error(file, key, "dtype " + std::string(name(t.dtype)) + " in the file, I64 in " + target);
            if (!t.shape.empty())
                throw io_error(file, key, "shape " + shape_string(t.shape) + " in the file, [] (a scalar) in " + target);
            integers.push_back(static_cast<std::int64_t>(load_le<std::uint64_t>(p)));
        } else {
            if (!is_floating(t.dtype))
                throw io_error(file, key, "dtype " + std::string(name(t.dtype)) + " in the file, " +
                                              std::string(name(dtype_of<T>())) + " in " + target +
                                              " (which also loads F32, F64, F16 and BF16)");
            const auto shape = shape_of(e);
            if (t.shape != shape)
                throw io_error(file, key, "shape " + shape_string(t.shape) + " in the file, " + shape_string(shape) +
                                              " in " + target);
            std::vector<T> v(e.size());
            if constexpr (is_scaled_tensor<std::remove_cvref_t<decltype(e)>>) {
                for (std::size_t i = 0; i < v.size(); ++i)
                    v[i] = e.template from_file<T>(load_element<double>(t.dtype, p, i));
            } else {
                for (std::size_t i = 0; i < v.size(); ++i) v[i] = load_element<T>(t.dtype, p, i);
            }
            values.push_back(std::move(v));
        }
    }, loading);
    if (options.strict) {
        std::vector<std::string_view> extra;
        for (std::size_t i = 0; i < used.size(); ++i)
            if (!used[i]) extra.push_back(h.tensors[i].name);
        if (!extra.empty()) {
            std::string what = std::string("not a tensor of ") + target;
            if (extra.size() > 1) {
                what += " (nor are";
                for (std::size_t i = 1; i < extra.size() && i <= 8; ++i) what += (i > 1 ? ", \"" : " \"") + std::string(extra[i]) + "\"";
                if (extra.size() > 9) what += ", ...";
                what += ")";
            }
            what += "; load with ctnn::load_options{.strict = false} to ignore such tensors";
            if (!trainer_like<X> && extra[0].starts_with("trainer."))
                what += " (the file looks like a trainer checkpoint: a ctnn::trainer loads all of it)";
            throw io_error(file, std::string(extra[0]), what);
        }
    }

    // 2. Commit: nothing here throws or allocates.
    std::size_t next_value = 0, next_integer = 0;
    for_each_entry(x, [&](const entry_name&, const auto& e) noexcept {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(e)>, integer_entry>) {
            if (e.set) e.set(e.object, integers[next_integer]);
            ++next_integer;
        } else {
            const auto& v = values[next_value++];
            for (std::size_t i = 0; i < v.size(); ++i) e.flat(i) = v[i];
        }
    }, loading);
    after_load(x);
}

template <class X>
constexpr void check_target() {
    static_assert(io_target<X>,
                  "ctnn: safetensors files hold a network, its gradients (Net::gradients) or a ctnn::trainer");
}

}  // namespace io::detail

// The bytes of a safetensors file holding x.
template <class X>
std::vector<std::byte> save_safetensors_to_bytes(const X& x) {
    io::detail::check_target<X>();
    if constexpr (io::detail::io_target<X>) return io::detail::serialize(x);
    else return {};
}

// Writes x to path atomically; throws io_error.
template <class X>
void save_safetensors(const X& x, const std::filesystem::path& path) {
    io::detail::check_target<X>();
    if constexpr (io::detail::io_target<X>) io::detail::write_file_atomically(path, io::detail::serialize(x));
}

// Loads x from the bytes of a safetensors file; name stands for the file in errors.
template <class X>
void load_safetensors_from_bytes(X& x, std::span<const std::byte> bytes, load_options options = {},
                                 const std::string& name = "(memory)") {
    static_assert(!std::is_const_v<X>, "ctnn: load_safetensors needs a target it can change, not a const one");
    io::detail::check_target<X>();
    if constexpr (io::detail::io_target<X> && !std::is_const_v<X>) {
        const auto h = io::detail::parse(bytes, name);
        io::detail::load_parsed(x, h, reinterpret_cast<const unsigned char*>(bytes.data()) + h.data_begin, name,
                                options);
    }
}

// Loads x from the file at path; throws io_error and leaves x unchanged on any problem.
template <class X>
void load_safetensors(X& x, const std::filesystem::path& path, load_options options = {}) {
    static_assert(!std::is_const_v<X>, "ctnn: load_safetensors needs a target it can change, not a const one");
    io::detail::check_target<X>();
    if constexpr (io::detail::io_target<X> && !std::is_const_v<X>) {
        const auto bytes = io::detail::read_file(path);
        load_safetensors_from_bytes(x, bytes, options, path.string());
    }
}

}  // namespace ctnn
