// io: safetensors save/load and write_header.
// - round trips (float, double, gradients, trainers), the file layout (names, shapes, dtypes,
//   order, padding) and byte equality with the file PyTorch's side wrote;
// - conversions F16 / BF16 / F64 against PyTorch's own conversions (tests/reference/safetensors/,
//   written by scripts/export_pytorch.py);
// - strict and non-strict loading;
// - every kind of bad file: an io_error naming the file and the tensor, and the target unchanged,
//   bit for bit;
// - atomic saves: a failed save leaves the existing file and no temporary file;
// - a trainer checkpoint resumes training bit-identically;
// - the PyTorch-trained model gives PyTorch's outputs;
// - write_header's literals are exact, and its table builds the network.
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace {

using ctnn::batch_norm;
using ctnn::dense;
using ctnn::dropout;
using ctnn::gelu;
using ctnn::layer_norm;
using ctnn::relu;
using ctnn::residual;
using ctnn::input;
using ctnn::network;
using ctnn::no_bias;
using ctnn::tanh;
using ctnn::tensor;
namespace fs = std::filesystem;
namespace loss = ctnn::loss;
namespace optim = ctnn::optim;

template <class T>
using small_net = network<T, input<3>, dense<5>, tanh, dense<2>>;  // 0.weight [5, 3], 0.bias, 2.weight [2, 5], 2.bias
template <class T>
using conversion_net = network<T, input<3>, dense<4>, dense<2>>;   // the tensors of the conversion references
template <class T>  // scripts/export_pytorch.py's nn.Sequential
using interop_net = network<T, input<3>, dense<16>, batch_norm, tanh, dense<16>, gelu, dropout<0.1>, dense<2>>;
template <class T>  // every kind of tensor: parameters, buffers, a counter, nested names
using buffered_net = network<T, input<3>, dense<6>, batch_norm, relu,
                             residual<dense<6>, layer_norm, relu, dense<6>>, dropout<0.25>, dense<2>>;

// ---- helpers ------------------------------------------------------------------------------------

// A scratch directory for this process, emptied at exit.
const fs::path& scratch_dir() {
    static const struct dir {
        fs::path path = fs::temp_directory_path() / ("ctnn_test_io_" + std::to_string(::getpid()));
        dir() { fs::create_directories(path); }
        ~dir() {
            std::error_code ec;
            fs::remove_all(path, ec);
        }
    } d;
    return d.path;
}
fs::path scratch(const std::string& name) { return scratch_dir() / name; }

std::vector<std::byte> read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    return b;
}
void write_bytes(const fs::path& p, const std::vector<std::byte>& b) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A safetensors file from its header text and data; length overrides the header length field.
std::vector<std::byte> make_file(std::string_view header, const std::vector<unsigned char>& data,
                                 std::uint64_t length = ~std::uint64_t{0}) {
    if (length == ~std::uint64_t{0}) length = header.size();
    std::vector<std::byte> b(8 + header.size() + data.size());
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::byte>(length >> (8 * i));
    std::memcpy(b.data() + 8, header.data(), header.size());
    if (!data.empty()) std::memcpy(b.data() + 8 + header.size(), data.data(), data.size());
    return b;
}
std::string header_of(const std::vector<std::byte>& file) {
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(file[i]) << (8 * i);
    return std::string(reinterpret_cast<const char*>(file.data()) + 8, n);
}
std::vector<unsigned char> data_of(const std::vector<std::byte>& file) {
    const std::size_t begin = 8 + header_of(file).size();
    std::vector<unsigned char> d(file.size() - begin);
    std::memcpy(d.data(), file.data() + begin, d.size());
    return d;
}
// The file with its header edited (the first occurrence of from replaced by to).
std::vector<std::byte> edit_header(const std::vector<std::byte>& file, std::string_view from, std::string_view to) {
    std::string h = header_of(file);
    const auto at = h.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "no \"" << from << "\" in " << h);
    h.replace(at, from.size(), to);
    return make_file(h, data_of(file));
}

// Every byte of a network (parameters and buffers), of gradients, of a trainer.
template <class X>
std::vector<unsigned char> snapshot(const X& x) {
    std::vector<unsigned char> s;
    auto add = [&](const void* p, std::size_t n) {
        const auto* c = static_cast<const unsigned char*>(p);
        s.insert(s.end(), c, c + n);
    };
    if constexpr (requires { x.state(); }) {
        // The network, and what a checkpoint holds (the state arrays and the step count; the state
        // struct's padding bytes are indeterminate), and any flag the optimizer state has.
        auto& tr = const_cast<X&>(x);
        s = snapshot(tr.network());
        const auto checkpoint = ctnn::save_safetensors_to_bytes(tr);
        add(checkpoint.data(), checkpoint.size());
        if constexpr (requires { tr.state().started; }) s.push_back(tr.state().started);
    } else {
        add(x.parameter_block().data(), x.parameter_block().size_bytes());
        if constexpr (requires { x.buffer_data(); })
            add(x.buffer_data(), sizeof(typename X::value_type) * X::buffer_block_size);
    }
    return s;
}

// Runs f, which must throw an io_error, and returns it.
template <class F>
ctnn::io_error expect_io_error(F&& f) {
    try {
        f();
    } catch (const ctnn::io_error& e) {
        return e;
    }
    FAIL("no ctnn::io_error was thrown");
    throw std::logic_error("unreachable");
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Loading bytes as a file into x must throw an io_error that names the file, the tensor (when
// given) and every part, and must leave x unchanged. The same through load_safetensors_from_bytes.
template <class X>
void check_bad_file(X& x, const std::vector<std::byte>& bytes, const std::string& tensor,
                    std::initializer_list<std::string_view> parts, ctnn::load_options options = {}) {
    const fs::path path = scratch("bad.safetensors");
    write_bytes(path, bytes);
    const auto before = snapshot(x);
    const auto e = expect_io_error([&] { ctnn::load_safetensors(x, path, options); });
    const std::string what = e.what();
    INFO(what);
    CHECK(e.file() == path.string());
    CHECK(contains(what, path.string()));
    CHECK(e.tensor() == tensor);
    if (!tensor.empty()) CHECK(contains(what, "\"" + tensor + "\""));
    for (auto part : parts) CHECK_MESSAGE(contains(what, part), "missing \"" << part << "\"");
    CHECK(snapshot(x) == before);

    const auto m = expect_io_error([&] { ctnn::load_safetensors_from_bytes(x, bytes, options, "in memory"); });
    CHECK(m.file() == "in memory");
    CHECK(m.tensor() == tensor);
    CHECK(snapshot(x) == before);
}

template <class T>
T random_value(ctnn::rng& r) { return r.uniform<T>(T(-2), T(2)); }

template <class Net>
Net random_net(std::uint64_t seed) {
    Net net{};
    ctnn::init::torch_default(net, seed);
    return net;
}

template <class T>
struct batches {
    static constexpr std::size_t count = 5;
    tensor<T, 6, 3> x[count];
    tensor<T, 6, 2> y[count];
    batches() {
        ctnn::rng r{77};
        for (std::size_t k = 0; k < count; ++k) {
            for (std::size_t i = 0; i < x[k].size; ++i) x[k][i] = random_value<T>(r);
            for (std::size_t i = 0; i < y[k].size; ++i) y[k][i] = random_value<T>(r);
        }
    }
};

// ---- round trips and the file layout ------------------------------------------------------------

TEST_CASE_TEMPLATE("a network saves with PyTorch's names, shapes and dtype, and loads back bit for bit", T, float,
                   double) {
    const auto net = random_net<small_net<T>>(1);
    const fs::path path = scratch("small.safetensors");
    ctnn::save_safetensors(net, path);

    const auto bytes = read_bytes(path);
    const char* dt = sizeof(T) == 4 ? "F32" : "F64";
    const std::size_t s = sizeof(T);
    // The reference writer's layout: sorted by name (one dtype), compact JSON, padded to 8 bytes.
    std::string expected = std::string("{") +
        "\"0.bias\":{\"dtype\":\"" + dt + "\",\"shape\":[5],\"data_offsets\":[0," + std::to_string(5 * s) + "]}," +
        "\"0.weight\":{\"dtype\":\"" + dt + "\",\"shape\":[5,3],\"data_offsets\":[" + std::to_string(5 * s) + "," +
        std::to_string(20 * s) + "]}," +
        "\"2.bias\":{\"dtype\":\"" + dt + "\",\"shape\":[2],\"data_offsets\":[" + std::to_string(20 * s) + "," +
        std::to_string(22 * s) + "]}," +
        "\"2.weight\":{\"dtype\":\"" + dt + "\",\"shape\":[2,5],\"data_offsets\":[" + std::to_string(22 * s) + "," +
        std::to_string(32 * s) + "]}}";
    expected.append((8 - expected.size() % 8) % 8, ' ');
    CHECK(header_of(bytes) == expected);
    CHECK(bytes.size() == 8 + expected.size() + 32 * s);

    // Values in PyTorch's [out][in] order.
    const ctnn::io::safetensors_file file(path);
    const auto w = file.values<T>("0.weight");
    for (std::size_t o = 0; o < 5; ++o)
        for (std::size_t i = 0; i < 3; ++i) CHECK(w[o * 3 + i] == net.template layer<0>().weight(o, i));
    const auto b = file.values<T>("2.bias");
    CHECK(b[1] == net.template layer<2>().bias(1));

    small_net<T> back{};
    ctnn::load_safetensors(back, path);
    CHECK(snapshot(back) == snapshot(net));
    CHECK(ctnn::save_safetensors_to_bytes(back) == bytes);

    small_net<T> from_memory{};
    ctnn::load_safetensors_from_bytes(from_memory, bytes);
    CHECK(from_memory == net);
}

TEST_CASE_TEMPLATE("a network without biases and with widths off the SIMD width round-trips", T, float, double) {
    using Net = network<T, input<7>, dense<9, no_bias>, tanh, dense<3>, dense<17>>;
    const auto net = random_net<Net>(2);
    const auto bytes = ctnn::save_safetensors_to_bytes(net);
    const std::string h = header_of(bytes);
    CHECK(!contains(h, "0.bias"));
    CHECK(contains(h, "\"0.weight\":{\"dtype\":\"" + std::string(sizeof(T) == 4 ? "F32" : "F64") + "\",\"shape\":[9,7]"));
    CHECK(contains(h, "\"3.weight\""));
    Net back{};
    ctnn::load_safetensors_from_bytes(back, bytes);
    CHECK(back == net);
}

TEST_CASE_TEMPLATE("gradients save under their parameters' names and round-trip", T, float, double) {
    using Net = small_net<T>;
    auto net = random_net<Net>(3);
    typename Net::gradients g{};
    ctnn::backprop(net, loss::mse{}, tensor<T, 4, 3>{0.1, -0.2, 0.3, 1, 2, 3, -1, 0.5, 0.25, 0, 0, 1},
                   tensor<T, 4, 2>{1, 0, 0, 1, 0.5, 0.5, -1, 2}, g);
    const fs::path path = scratch("grads.safetensors");
    ctnn::save_safetensors(g, path);
    const ctnn::io::safetensors_file file(path);
    REQUIRE(file.tensors().size() == 4);
    CHECK(file.values<T>("2.weight")[1] == g.template layer<2>().weight(0, 1));
    typename Net::gradients back{};
    ctnn::load_safetensors(back, path);
    CHECK(snapshot(back) == snapshot(g));
    // The same file loads into the network (the names are the same).
    Net n{};
    ctnn::load_safetensors(n, path);
    CHECK(n.template layer<0>().weight(4, 2) == g.template layer<0>().weight(4, 2));
}

TEST_CASE_TEMPLATE("buffers, int64 counters and nested names save like PyTorch's state_dict and round-trip", T, float,
                   double) {
    using Net = buffered_net<T>;
    auto net = random_net<Net>(40);
    // A few training steps move the running statistics and the counter off their initial values.
    ctnn::trainer<Net, loss::mse, optim::sgd> tr{net, {.lr = 0.01}, {.seed = 5}};
    const batches<T> data;
    for (std::size_t k = 0; k < 3; ++k) tr.step(data.x[k], data.y[k]);
    REQUIRE(net.template layer<1>().num_batches_tracked() == 3);

    const auto bytes = ctnn::save_safetensors_to_bytes(net);
    const ctnn::io::safetensors_file file(bytes, "buffered");
    std::vector<std::string> names;
    for (const auto& t : file.tensors()) names.push_back(t.name);
    const std::vector<std::string> expected{"1.num_batches_tracked", "0.bias", "0.weight", "1.bias", "1.running_mean",
                                            "1.running_var", "1.weight", "3.0.bias", "3.0.weight", "3.1.bias",
                                            "3.1.weight", "3.3.bias", "3.3.weight", "5.bias", "5.weight"};
    CHECK(names == expected);
    const auto& counter = file.at("1.num_batches_tracked");
    CHECK(counter.dtype == ctnn::io::dtype::i64);
    CHECK(counter.shape.empty());
    CHECK(ctnn::io::detail::load_le<std::uint64_t>(reinterpret_cast<const unsigned char*>(file.bytes(counter).data())) == 3);
    CHECK(file.at("1.running_var").dtype == (sizeof(T) == 4 ? ctnn::io::dtype::f32 : ctnn::io::dtype::f64));
    CHECK(file.values<T>("1.running_var")[2] == net.template layer<1>().running_var(2));
    CHECK(file.values<T>("3.3.weight")[7] == net.template layer<3>().template layer<3>().weight(1, 1));

    Net back{};
    ctnn::load_safetensors_from_bytes(back, bytes);
    CHECK(snapshot(back) == snapshot(net));
    CHECK(back.template layer<1>().num_batches_tracked() == 3);

    // The counter is an int64 scalar and nothing else.
    auto other = random_net<Net>(41);
    check_bad_file(other, edit_header(bytes, "{\"dtype\":\"I64\"", "{\"dtype\":\"F64\""), "1.num_batches_tracked",
                   {"dtype F64 in the file, I64 in the network"});
    check_bad_file(other, edit_header(bytes, "\"shape\":[]", "\"shape\":[1]"), "1.num_batches_tracked",
                   {"shape [1] in the file, [] (a scalar) in the network"});
    // A buffer with the wrong shape, found after the parameters were decoded.
    check_bad_file(other, edit_header(bytes, "\"shape\":[6],\"data_offsets\":[" + std::to_string(8 + 30 * sizeof(T)),
                                      "\"shape\":[2,3],\"data_offsets\":[" + std::to_string(8 + 30 * sizeof(T))),
                   "1.running_mean", {"shape [2, 3] in the file, [6] in the network"});
}

TEST_CASE("the format's own serialization examples parse") {
    // The byte layouts the reference implementation pins in its tests: a [1, 2, 3] F32 tensor
    // whose header needs no padding, and an empty file padded with six spaces.
    std::vector<unsigned char> data;
    for (float v : {0.f, 1.f, 2.f, 3.f, 4.f, 5.f}) {
        const auto u = std::bit_cast<std::uint32_t>(v);
        for (int i = 0; i < 4; ++i) data.push_back(static_cast<unsigned char>(u >> (8 * i)));
    }
    const auto bytes = make_file(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})", data);
    CHECK(header_of(bytes).size() == 64);
    const ctnn::io::safetensors_file f(bytes, "attn");
    REQUIRE(f.tensors().size() == 1);
    CHECK(f.tensors()[0].shape == std::vector<std::size_t>{1, 2, 3});
    CHECK(f.values<double>("attn.0") == std::vector<double>{0, 1, 2, 3, 4, 5});

    const auto empty = make_file("{}      ", {});
    CHECK(ctnn::io::safetensors_file(empty, "empty").tensors().empty());
    // A network with no parameters saves exactly that.
    const network<float, input<3>, tanh> nothing{};
    CHECK(ctnn::save_safetensors_to_bytes(nothing) == empty);

    // __metadata__ (Hugging Face files carry {"format": "pt"}) is read and does not count as a tensor.
    const auto net = random_net<small_net<float>>(4);
    const auto with_meta = edit_header(ctnn::save_safetensors_to_bytes(net), "{", R"({"__metadata__":{"format":"pt"},)");
    small_net<float> back{};
    ctnn::load_safetensors_from_bytes(back, with_meta);
    CHECK(back == net);
    CHECK(ctnn::io::safetensors_file(with_meta, "m").metadata().at("format") == "pt");
}

// ---- conversions, against PyTorch's ------------------------------------------------------------

std::string conversion_file(const char* name) {
    return std::string(CTNN_REFERENCE_DIR) + "/safetensors/" + name + ".safetensors";
}

TEST_CASE_TEMPLATE("F16, BF16 and F64 files load converted exactly as PyTorch converts them", T, float, double) {
    // Each reference holds specials (infinities, NaN, -0), subnormals of each format, values that
    // round, overflow and underflow. <dtype>_as_f32 / _as_f64 hold PyTorch's conversion.
    struct pair {
        const char* stored;
        const char* converted;
    };
    std::vector<pair> cases;
    if constexpr (sizeof(T) == 4)
        cases = {{"f16", "f16_as_f32"}, {"bf16", "bf16_as_f32"}, {"f64", "f64_as_f32"}};
    else
        cases = {{"f16", "f16_as_f64"}, {"bf16", "bf16_as_f64"}, {"f16_as_f32", "f16_as_f64"}};
    for (const auto& c : cases) {
        INFO(c.stored << " -> " << c.converted);
        conversion_net<T> a{}, b{};
        ctnn::load_safetensors(a, conversion_file(c.stored));
        ctnn::load_safetensors(b, conversion_file(c.converted));
        CHECK(snapshot(a) == snapshot(b));  // bit for bit, NaN payloads included
        std::size_t nan = 0, inf = 0, subnormal = 0;
        a.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
            for (std::size_t i = 0; i < t.size(); ++i) {
                nan += std::isnan(t.flat(i));
                inf += std::isinf(t.flat(i));
                subnormal += std::fpclassify(t.flat(i)) == FP_SUBNORMAL;
            }
        });
        CHECK(nan > 0);
        CHECK(inf > 0);
        if (sizeof(T) == 4 && std::string_view(c.stored) != "f16") CHECK(subnormal > 0);
    }
}

// ---- strict and non-strict ---------------------------------------------------------------------

TEST_CASE("strict loading rejects tensors the network does not have; non-strict ignores them") {
    using bigger = network<float, input<3>, dense<5>, tanh, dense<2>, dense<4>>;
    const auto big = random_net<bigger>(5);
    const auto bytes = ctnn::save_safetensors_to_bytes(big);
    auto net = random_net<small_net<float>>(6);
    check_bad_file(net, bytes, "3.bias", {"not a tensor of the network", "\"3.weight\"", ".strict = false"});

    ctnn::load_safetensors_from_bytes(net, bytes, {.strict = false});
    CHECK(net.layer<0>().weight(4, 2) == big.layer<0>().weight(4, 2));
    CHECK(net.layer<2>().bias(1) == big.layer<2>().bias(1));

    // Missing tensors are an error either way.
    const auto fewer = ctnn::save_safetensors_to_bytes(random_net<network<float, input<3>, dense<5>, tanh, dense<2, no_bias>>>(7));
    check_bad_file(net, fewer, "2.bias", {"missing from the file", "the network has it with shape [2]"});
    check_bad_file(net, fewer, "2.bias", {"missing from the file"}, {.strict = false});
}

// ---- bad files ---------------------------------------------------------------------------------

TEST_CASE("bad files throw an io_error naming the file and the tensor, and leave the network unchanged") {
    auto net = random_net<small_net<float>>(8);
    const auto good = ctnn::save_safetensors_to_bytes(net);  // tensors in offset order: 0.bias 0.weight 2.bias 2.weight
    net = random_net<small_net<float>>(9);                    // differs from the file: a load would show

    SUBCASE("empty file") { check_bad_file(net, {}, "", {"empty"}); }
    SUBCASE("shorter than the header length") {
        check_bad_file(net, std::vector<std::byte>(good.begin(), good.begin() + 5), "", {"truncated", "5 bytes"});
    }
    SUBCASE("header length larger than the file") {
        auto b = good;
        b[0] = std::byte{0xff};
        b[1] = std::byte{0xff};
        check_bad_file(net, b, "", {"header length 65535", "larger than the rest of the file"});
        b[7] = std::byte{0x80};
        check_bad_file(net, b, "", {"larger than the rest of the file"});
    }
    SUBCASE("truncated data") {
        check_bad_file(net, std::vector<std::byte>(good.begin(), good.end() - 4), "2.weight",
                       {"lie outside the data section", "truncated"});
    }
    SUBCASE("trailing bytes") {
        auto b = good;
        b.resize(b.size() + 4);
        check_bad_file(net, b, "", {"cover 128 of the 132 data bytes"});
    }
    SUBCASE("malformed JSON") {
        check_bad_file(net, edit_header(good, "}}", "]}"), "", {"not valid JSON"});
        check_bad_file(net, edit_header(good, "\"0.bias\"", "\"0.b\xff\""), "", {"not valid JSON"});
        check_bad_file(net, make_file("", {}), "", {"not valid JSON"});
        using namespace std::string_view_literals;
        check_bad_file(net, make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\0\0"sv, {0, 0, 0, 0}),
                       "", {"not valid JSON"});
    }
    SUBCASE("the header is not an object") { check_bad_file(net, make_file("[1, 2]  ", {}), "", {"not a JSON object"}); }
    SUBCASE("malformed entries") {
        check_bad_file(net, edit_header(good, "\"F32\"", "\"F33\""), "0.bias", {"unknown dtype \"F33\""});
        check_bad_file(net, edit_header(good, "\"F32\"", "32"), "0.bias", {"no \"dtype\" string"});
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":[-5]"), "0.bias", {"non-negative integers"});
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":[5.0]"), "0.bias", {"non-negative integers"});
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":5"), "0.bias", {"no \"shape\" array"});
        check_bad_file(net, edit_header(good, "\"data_offsets\":[0,20]", "\"data_offsets\":[0]"), "0.bias",
                       {"\"data_offsets\" pair"});
        check_bad_file(net, edit_header(good, "{\"dtype\":\"F32\",\"shape\":[5],", "[{\"dtype\":\"F32\",\"shape\":[5],"),
                       "", {"not valid JSON"});
        check_bad_file(net, edit_header(good, "\"0.bias\":{", "\"0.bias\":7,\"x\":{"), "0.bias", {"not a JSON object"});
        check_bad_file(net, edit_header(good, "{", R"({"__metadata__":{"format":1},)"), "", {"__metadata__"});
    }
    SUBCASE("offsets outside the data") {
        check_bad_file(net, edit_header(good, "[88,128]", "[88,1000]"), "2.weight", {"[88, 1000]", "outside the data section"});
        check_bad_file(net, edit_header(good, "[0,20]", "[20,0]"), "0.bias", {"end before they begin"});
    }
    SUBCASE("offsets that do not fit the shape") {
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":[6]"), "0.bias",
                       {"hold 20 bytes", "shape [6] need 24"});
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":[4294967296,4294967296,16]"), "0.bias",
                       {"more elements than memory can hold"});
    }
    SUBCASE("overlapping, gaps") {
        std::vector<unsigned char> data(36);
        check_bad_file(net,
                       make_file(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},"b":{"dtype":"F32","shape":[5],"data_offsets":[16,36]}})", data),
                       "b", {"overlaps that of tensor \"a\""});
        data.resize(44);
        check_bad_file(net,
                       make_file(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},"b":{"dtype":"F32","shape":[5],"data_offsets":[24,44]}})", data),
                       "b", {"[20, 24)", "belong to no tensor"});
        // The same tensor twice: JSON keeps the last, and the first one's bytes become a gap.
        std::string h = header_of(good);
        h.insert(h.rfind('}'), R"(,"0.bias":{"dtype":"F32","shape":[5],"data_offsets":[108,128]})");
        check_bad_file(net, make_file(h, data_of(good)), "0.weight", {"belong to no tensor"});
    }
    SUBCASE("wrong dtype") {
        check_bad_file(net, edit_header(good, "\"F32\"", "\"I32\""), "0.bias", {"dtype I32 in the file, F32 in the network"});
        check_bad_file(net, edit_header(good, "\"dtype\":\"F32\",\"shape\":[5,3],\"data_offsets\":[20,80]",
                                        "\"dtype\":\"U8\",\"shape\":[5,3,4],\"data_offsets\":[20,80]"),
                       "0.weight", {"dtype U8 in the file"});
    }
    SUBCASE("wrong shape") {
        check_bad_file(net, edit_header(good, "\"shape\":[5,3]", "\"shape\":[3,5]"), "0.weight",
                       {"shape [3, 5] in the file, [5, 3] in the network"});
        check_bad_file(net, edit_header(good, "\"shape\":[5,3]", "\"shape\":[15]"), "0.weight",
                       {"shape [15] in the file, [5, 3] in the network"});
        check_bad_file(net, edit_header(good, "\"shape\":[5]", "\"shape\":[5,1]"), "0.bias",
                       {"shape [5, 1] in the file, [5] in the network"});
    }
    SUBCASE("a directory, a missing file, an unreadable file") {
        const auto before = snapshot(net);
        auto e = expect_io_error([&] { ctnn::load_safetensors(net, scratch_dir()); });
        CHECK(contains(e.what(), "is a directory"));
        CHECK(e.file() == scratch_dir().string());
        e = expect_io_error([&] { ctnn::load_safetensors(net, scratch("no such file.safetensors")); });
        CHECK(contains(e.what(), "no such file.safetensors"));
        CHECK(contains(e.what(), "cannot be read"));
        write_bytes(scratch("plain"), good);
        e = expect_io_error([&] { ctnn::load_safetensors(net, scratch("plain") / "below a file"); });
        CHECK(contains(e.what(), "cannot be read"));
        // A file that opens but fails to read, whoever runs the test (root reads files mode 000).
        e = expect_io_error([&] { ctnn::load_safetensors(net, "/proc/self/mem"); });
        CHECK(contains(e.what(), "/proc/self/mem"));
        CHECK(contains(e.what(), "read error"));
        if (::geteuid() != 0) {
            const auto p = scratch("mode000.safetensors");
            write_bytes(p, good);
            fs::permissions(p, fs::perms::none);
            e = expect_io_error([&] { ctnn::load_safetensors(net, p); });
            CHECK(contains(e.what(), "cannot be opened"));
        }
        CHECK(snapshot(net) == before);
    }
}

TEST_CASE_TEMPLATE("a bad file leaves every part of a trainer unchanged", T, float, double) {
    using Net = small_net<T>;
    auto net = random_net<Net>(10);
    ctnn::trainer<Net, loss::mse, optim::adam> tr{net};
    tr.step(tensor<T, 3>{1, 2, 3}, tensor<T, 2>{0.5, -0.5});
    auto other_net = random_net<Net>(11);
    ctnn::trainer<Net, loss::mse, optim::adam> other{other_net};
    for (int i = 0; i < 3; ++i) other.step(tensor<T, 3>{-1, 0, 1}, tensor<T, 2>{1, 1});
    const auto good = ctnn::save_safetensors_to_bytes(other);

    // A wrong shape found after other tensors were decoded; a truncated file. The file lists F64
    // before F32, then by name: a float trainer's Adam moments are F64 (optim/adam.hpp), so they
    // come first there, and its last tensor is a parameter.
    constexpr bool f32 = std::is_same_v<T, float>;
    check_bad_file(tr, edit_header(good, "\"shape\":[2,5],\"data_offsets\":[", "\"shape\":[5,2],\"data_offsets\":["),
                   f32 ? "optimizer.exp_avg.2.weight" : "2.weight", {"shape [5, 2] in the file, [2, 5] in the trainer"});
    check_bad_file(tr, std::vector<std::byte>(good.begin(), good.end() - 1),
                   f32 ? "2.weight" : "optimizer.max_exp_avg_sq.2.weight", {"outside the data section"});
    // A checkpoint of another optimizer.
    ctnn::trainer<Net, loss::mse, optim::sgd> sgd{other_net, {.momentum = 0.9}};
    check_bad_file(tr, ctnn::save_safetensors_to_bytes(sgd), "optimizer.exp_avg.0.weight", {"missing from the file"});
    CHECK(tr.steps() == 1);
}

// ---- atomic saves ------------------------------------------------------------------------------

std::vector<std::string> directory_listing(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

TEST_CASE("saves are atomic: a failed save keeps the old file and leaves no temporary file") {
    const fs::path dir = scratch("atomic");
    fs::create_directories(dir);
    const fs::path path = dir / "model.safetensors";
    const auto old_net = random_net<small_net<float>>(12);
    ctnn::save_safetensors(old_net, path);
    const auto old_bytes = read_bytes(path);

    // Overwriting succeeds and leaves only the file.
    const auto new_net = random_net<small_net<double>>(13);
    ctnn::save_safetensors(new_net, path);
    CHECK(read_bytes(path) == ctnn::save_safetensors_to_bytes(new_net));
    CHECK(directory_listing(dir) == std::vector<std::string>{"model.safetensors"});
    ctnn::save_safetensors(old_net, path);

    SUBCASE("the write fails (file size limit)") {
        // RLIMIT_FSIZE makes the write fail with EFBIG, for root too.
        struct rlimit saved {};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
        const auto previous = std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit small = saved;
        small.rlim_cur = 64;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        bool threw = false;
        std::string what;
        try {
            ctnn::save_safetensors(new_net, path);
        } catch (const ctnn::io_error& e) {
            threw = true;
            what = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, previous);
        CHECK(threw);
        CHECK(contains(what, path.string()));
        CHECK(contains(what, "cannot write"));
    }
    SUBCASE("the directory is read-only") {
        if (::geteuid() == 0) {
            MESSAGE("running as root: a read-only directory does not stop root; the size-limit case covers this");
        } else {
            fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
            const auto e = expect_io_error([&] { ctnn::save_safetensors(new_net, path); });
            fs::permissions(dir, fs::perms::owner_all);
            CHECK(contains(e.what(), "cannot create a temporary file"));
        }
    }
    SUBCASE("the target is a directory or in a missing directory") {
        fs::create_directories(dir / "sub");
        auto e = expect_io_error([&] { ctnn::save_safetensors(new_net, dir / "sub"); });
        CHECK(contains(e.what(), "is a directory"));
        fs::remove(dir / "sub");
        e = expect_io_error([&] { ctnn::save_safetensors(new_net, dir / "missing" / "model.safetensors"); });
        CHECK(contains(e.what(), "cannot create a temporary file"));
    }
    CHECK(read_bytes(path) == old_bytes);
    CHECK(directory_listing(dir) == std::vector<std::string>{"model.safetensors"});
}

// ---- trainer checkpoints -----------------------------------------------------------------------

// Trains n + m steps straight, and n steps, a checkpoint, a fresh trainer and m more: the two
// must agree bit for bit (parameters, optimizer state, step count).
template <class T, class Opt, class Net = small_net<T>>
void check_resume(Opt opt, ctnn::trainer_options options = {}) {
    const batches<T> data;
    constexpr std::size_t n = 7, m = 6;
    const fs::path path = scratch("checkpoint.safetensors");

    auto straight_net = random_net<Net>(20);
    ctnn::trainer<Net, loss::mse, Opt> straight{straight_net, opt, options};
    for (std::size_t k = 0; k < n + m; ++k) straight.step(data.x[k % data.count], data.y[k % data.count]);

    {
        auto first_net = random_net<Net>(20);
        ctnn::trainer<Net, loss::mse, Opt> first{first_net, opt, options};
        for (std::size_t k = 0; k < n; ++k) first.step(data.x[k % data.count], data.y[k % data.count]);
        ctnn::save_safetensors(first, path);
    }  // the process that trained is gone

    auto resumed_net = random_net<Net>(21);  // whatever it held is overwritten
    ctnn::trainer<Net, loss::mse, Opt> resumed{resumed_net, opt, options};
    ctnn::load_safetensors(resumed, path);
    CHECK(resumed.steps() == n);
    for (std::size_t k = n; k < n + m; ++k) resumed.step(data.x[k % data.count], data.y[k % data.count]);
    CHECK(snapshot(resumed) == snapshot(straight));

    // The optimizer state matters: the network alone (strict = false skips the trainer's
    // entries, as PyTorch's load_state_dict(strict=False) would) does not reproduce the run.
    auto net_only = random_net<Net>(21);
    ctnn::load_safetensors(net_only, path, {.strict = false});
    ctnn::trainer<Net, loss::mse, Opt> fresh{net_only, opt, options};
    for (std::size_t k = n; k < n + m; ++k) fresh.step(data.x[k % data.count], data.y[k % data.count]);
    CHECK(snapshot(net_only) != snapshot(straight_net));
}

// Float Adam keeps its moments divided by 1 - beta (optim/adam.hpp), in the scale of the betas it
// last stepped with. Betas changed before the save, and a trainer whose betas were changed after
// it was built, still resume bit for bit: the load decodes into the loading optimizer's scale, and
// a rescale rounds as a save and a load do.
template <class T>
void check_resume_changed_betas() {
    const batches<T> data;
    constexpr std::size_t n = 7, m = 6;
    const fs::path path = scratch("checkpoint.safetensors");
    const optim::adam before{.lr = 1e-2, .amsgrad = true}, after{.lr = 1e-2, .beta1 = 0.8, .beta2 = 0.99, .amsgrad = true};

    auto straight_net = random_net<small_net<T>>(20);
    ctnn::trainer<small_net<T>, loss::mse, optim::adam> straight{straight_net, before};
    for (std::size_t k = 0; k < n; ++k) straight.step(data.x[k % data.count], data.y[k % data.count]);
    straight.optimizer() = after;
    for (std::size_t k = n; k < n + m; ++k) straight.step(data.x[k % data.count], data.y[k % data.count]);
    {
        auto first_net = random_net<small_net<T>>(20);
        ctnn::trainer<small_net<T>, loss::mse, optim::adam> first{first_net, before};
        for (std::size_t k = 0; k < n; ++k) first.step(data.x[k % data.count], data.y[k % data.count]);
        first.optimizer() = after;  // changed, not yet stepped with
        ctnn::save_safetensors(first, path);
    }
    for (const bool built_with_after : {true, false}) {
        CAPTURE(built_with_after);
        auto resumed_net = random_net<small_net<T>>(21);
        ctnn::trainer<small_net<T>, loss::mse, optim::adam> resumed{resumed_net, built_with_after ? after : before};
        resumed.optimizer() = after;
        ctnn::load_safetensors(resumed, path);
        for (std::size_t k = n; k < n + m; ++k) resumed.step(data.x[k % data.count], data.y[k % data.count]);
        CHECK(snapshot(resumed) == snapshot(straight));
    }
}

TEST_CASE_TEMPLATE("a trainer checkpoint resumes training bit-identically", T, float, double) {
    SUBCASE("adam, betas changed before the save and after the trainer was built") { check_resume_changed_betas<T>(); }
    SUBCASE("adam, amsgrad, weight decay") { check_resume<T>(optim::adam{.lr = 1e-2, .weight_decay = 1e-3, .amsgrad = true}); }
    SUBCASE("adamw, gradient clipping") { check_resume<T>(optim::adamw{.lr = 1e-2}, {.clip_grad_norm = 0.5}); }
    SUBCASE("sgd, nesterov momentum") { check_resume<T>(optim::sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true}); }
    SUBCASE("rmsprop, centered, momentum") { check_resume<T>(optim::rmsprop{.lr = 1e-3, .momentum = 0.5, .centered = true}); }
    SUBCASE("adagrad, lr decay, initial accumulator") {
        check_resume<T>(optim::adagrad{.lr = 0.05, .lr_decay = 0.01, .initial_accumulator_value = 0.1});
    }
    SUBCASE("dropout, batch norm, layer norm, residual: generator, running statistics, counter") {
        check_resume<T, optim::adam, buffered_net<T>>(optim::adam{.lr = 1e-2}, {.seed = 99});
    }
}

// PyTorch keeps a float model's Adam moments in F32. A float trainer takes them as they are (the
// F64 it writes itself brings its own values back exactly): each one divided by 1 - beta in
// double and rounded once.
TEST_CASE("a float trainer loads Adam moments given in F32, rounded once") {
    using Net = small_net<float>;
    auto net = random_net<Net>(10);
    ctnn::trainer<Net, loss::mse, optim::adam> tr{net, {.lr = 1e-2, .amsgrad = true}};
    for (int i = 0; i < 3; ++i) tr.step(tensor<float, 3>{1, 2, float(i)}, tensor<float, 2>{0.5f, -0.5f});
    const ctnn::io::safetensors_file file(ctnn::save_safetensors_to_bytes(tr), "checkpoint");
    // The same file with every F64 tensor (the moments) written as F32.
    std::string header = "{";
    std::vector<unsigned char> data;
    for (const auto& t : file.tensors()) {
        const auto* p = reinterpret_cast<const unsigned char*>(file.bytes(t).data());
        const bool narrow = t.dtype == ctnn::io::dtype::f64;
        const std::size_t begin = data.size();
        if (narrow) {
            for (std::size_t i = 0; i < t.element_count(); ++i) {
                const auto f = static_cast<float>(std::bit_cast<double>(ctnn::io::detail::load_le<std::uint64_t>(p + 8 * i)));
                unsigned char b[4];
                ctnn::io::detail::store_le(b, std::bit_cast<std::uint32_t>(f));
                data.insert(data.end(), b, b + 4);
            }
        } else {
            data.insert(data.end(), p, p + (t.end - t.begin));
        }
        std::string shape;
        for (const auto d : t.shape) {
            if (!shape.empty()) shape += ',';
            shape += std::to_string(d);
        }
        if (header.size() > 1) header += ',';
        header += '"';
        header += t.name;
        header += "\":{\"dtype\":\"";
        header += narrow ? std::string_view("F32") : ctnn::io::name(t.dtype);
        header += "\",\"shape\":[";
        header += shape;
        header += "],\"data_offsets\":[";
        header += std::to_string(begin);
        header += ',';
        header += std::to_string(data.size());
        header += "]}";
    }
    header += "}";
    auto other_net = random_net<Net>(11);
    ctnn::trainer<Net, loss::mse, optim::adam> other{other_net, {.lr = 1e-2, .amsgrad = true}};
    ctnn::load_safetensors_from_bytes(other, make_file(header, data));
    CHECK(other_net == net);
    CHECK(other.steps() == 3);
    const auto once = [](float state, double scale) {  // the F32 value, divided back in double
        return static_cast<float>(static_cast<double>(static_cast<float>(static_cast<double>(state) * scale)) / scale);
    };
    int differ = 0;
    for (std::size_t i = 0; i < Net::parameter_block_size; ++i) {
        CAPTURE(i);
        CHECK(other.state().exp_avg[i] == once(tr.state().exp_avg[i], 1 - 0.9));
        CHECK(other.state().exp_avg_sq[i] == once(tr.state().exp_avg_sq[i], 1 - 0.999));
        CHECK(other.state().max_exp_avg_sq[i] == once(tr.state().max_exp_avg_sq[i], 1 - 0.999));
        differ += other.state().exp_avg[i] != tr.state().exp_avg[i];
    }
    MESSAGE("moments that the F32 file moved by its rounding: ", differ, " of ", Net::parameter_block_size);
}

TEST_CASE("a trainer checkpoint names its entries so that PyTorch can take the network's") {
    using Net = small_net<float>;
    auto net = random_net<Net>(22);
    ctnn::trainer<Net, loss::mse, optim::adam> tr{net};
    tr.step(tensor<float, 3>{1, 2, 3}, tensor<float, 2>{0, 1});
    const ctnn::io::safetensors_file file(ctnn::save_safetensors_to_bytes(tr), "checkpoint");
    std::vector<std::string> names;
    for (const auto& t : file.tensors()) names.push_back(t.name);
    // The I64 scalars first (descending dtype), then the rest by name.
    REQUIRE(names.size() >= 2);
    CHECK(names[0] == "trainer.rng");
    CHECK(names[1] == "trainer.step");
    CHECK(file.tensors()[1].dtype == ctnn::io::dtype::i64);
    CHECK(file.tensors()[1].shape.empty());
    const auto* step = reinterpret_cast<const unsigned char*>(file.bytes(file.tensors()[1]).data());
    CHECK(ctnn::io::detail::load_le<std::uint64_t>(step) == 1);
    for (const char* k : {"0.weight", "2.bias", "optimizer.exp_avg.0.weight", "optimizer.exp_avg_sq.2.bias",
                          "optimizer.max_exp_avg_sq.2.weight"})
        CHECK_MESSAGE(std::find(names.begin(), names.end(), k) != names.end(), k);
    // exp_avg of weight (0, 1) sits where the weight sits in the block. The file holds PyTorch's
    // moment in F64; the float state keeps it divided by 1 - beta1 (optim/adam.hpp).
    const auto* w = &net.layer<0>().weight(0, 1);
    const auto at = w - net.parameter_block().data();
    CHECK(tr.state().scale1 == 1 - 0.9);
    CHECK(file.values<double>("optimizer.exp_avg.0.weight")[1] == double(tr.state().exp_avg[at]) * (1 - 0.9));
    CHECK(file.values<double>("optimizer.exp_avg.0.weight")[1] != 0);
    for (const auto& t : file.tensors())
        if (std::string_view(t.name).starts_with("optimizer.")) CHECK_MESSAGE(t.dtype == ctnn::io::dtype::f64, t.name);
    // A network loads the checkpoint only with strict = false.
    Net plain{};
    const auto e = expect_io_error([&] { ctnn::load_safetensors_from_bytes(plain, ctnn::save_safetensors_to_bytes(tr)); });
    CHECK(e.tensor() == "trainer.rng");
    CHECK(contains(e.what(), "a ctnn::trainer loads all of it"));
    ctnn::load_safetensors_from_bytes(plain, ctnn::save_safetensors_to_bytes(tr), {.strict = false});
    CHECK(plain == net);
}

// ---- PyTorch's model ---------------------------------------------------------------------------

TEST_CASE_TEMPLATE("the model PyTorch trained and exported gives PyTorch's outputs", T, float, double) {
    const std::string dir = CTNN_EXAMPLES_DATA_DIR;
    interop_net<T> net{};
    ctnn::load_safetensors(net, dir + "/pytorch_interop.safetensors");  // F32; converted for double
    CHECK(net.template layer<1>().num_batches_tracked() == 300 * 8);     // PyTorch's I64, 8 batches x 300 epochs
    CHECK(net.template layer<1>().running_var(0) != 1);
    const ctnn::io::safetensors_file io(dir + "/pytorch_interop_io.safetensors");
    const auto x = io.values<T>("inputs");
    const auto expected = io.values<T>(sizeof(T) == 4 ? "outputs" : "outputs_f64");
    REQUIRE(io.at("inputs").shape == std::vector<std::size_t>{64, 3});
    REQUIRE(expected.size() == 64 * 2);
    double max_err = 0, max_out = 0;
    for (std::size_t s = 0; s < 64; ++s) {
        const auto y = net.forward(tensor<T, 3>{x[3 * s], x[3 * s + 1], x[3 * s + 2]});
        for (std::size_t j = 0; j < 2; ++j) {
            max_err = std::max(max_err, std::abs(static_cast<double>(y[j]) - static_cast<double>(expected[2 * s + j])));
            max_out = std::max(max_out, std::abs(static_cast<double>(expected[2 * s + j])));
        }
    }
    const std::string scalar = sizeof(T) == 4 ? "float" : "double";
    MESSAGE(scalar << " network vs PyTorch on 64 inputs: max |error| = " << max_err << " (outputs up to " << max_out
                   << ")");
    CHECK(max_err <= (sizeof(T) == 4 ? 2e-6 : 1e-14));
    if constexpr (sizeof(T) == 4) {
        // Saving what was loaded writes the file PyTorch's side wrote, byte for byte.
        CHECK(ctnn::save_safetensors_to_bytes(net) == read_bytes(dir + "/pytorch_interop.safetensors"));
    }
}

// ---- write_header --------------------------------------------------------------------------------

// The values of array t<k> in a generated header, parsed back from their literals.
template <class T>
std::vector<T> literals(const std::string& text, std::size_t k) {
    using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    const std::string open = " t" + std::to_string(k) + "[] = {\n";
    std::size_t at = text.find(open);
    REQUIRE(at != std::string::npos);
    at += open.size();
    const std::size_t end = text.find("};", at);
    std::vector<T> values;
    std::string body = text.substr(at, end - at);
    std::size_t p = 0;
    while (true) {
        while (p < body.size() && (body[p] == ' ' || body[p] == '\n' || body[p] == ',')) ++p;
        if (p >= body.size()) break;
        std::size_t q = body.find_first_of(",\n", p);
        std::string tok = body.substr(p, q - p);
        p = q;
        if (tok.rfind("std::bit_cast<", 0) == 0) {
            const auto hex = tok.substr(tok.find("(0x") + 3);
            U u{};
            std::from_chars(hex.data(), hex.data() + hex.size(), u, 16);
            values.push_back(std::bit_cast<T>(u));
        } else {
            const bool negative = tok[0] == '-';
            std::string mag = tok.substr(negative ? 3 : 2);  // after "0x" / "-0x"
            if (sizeof(T) == 4) {
                REQUIRE(mag.back() == 'f');
                mag.pop_back();
            }
            T v{};
            const auto r = std::from_chars(mag.data(), mag.data() + mag.size(), v, std::chars_format::hex);
            REQUIRE(r.ec == std::errc{});
            REQUIRE(r.ptr == mag.data() + mag.size());
            values.push_back(negative ? -v : v);
        }
    }
    return values;
}

TEST_CASE_TEMPLATE("write_header writes every value exactly, and a table that builds the network", T, float, double) {
    using Net = small_net<T>;
    auto net = random_net<Net>(30);
    // Values a decimal printout would get wrong or cannot write.
    net.template layer<0>().weight(0, 0) = std::numeric_limits<T>::quiet_NaN();
    net.template layer<0>().weight(0, 1) = -std::numeric_limits<T>::infinity();
    net.template layer<0>().weight(0, 2) = T(-0.0);
    net.template layer<0>().weight(1, 0) = std::numeric_limits<T>::denorm_min();
    net.template layer<0>().weight(1, 1) = std::numeric_limits<T>::max();
    if constexpr (sizeof(T) == 4) net.template layer<0>().weight(1, 2) = std::bit_cast<T>(0xffc01234u);  // NaN payload
    else net.template layer<0>().weight(1, 2) = std::bit_cast<T>(0xfff8000000abcdefull);
    net.template layer<2>().bias(0) = T(0.1);
    const fs::path path = scratch("weights.hpp");
    ctnn::write_header(net, path, "my_model");
    std::ifstream f(path);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());

    CHECK(contains(text, "constexpr Net my_model()"));
    CHECK(contains(text, "//   0.weight [5, 3]\n//   0.bias [5]\n//   2.weight [2, 5]\n//   2.bias [2]\n"));
    CHECK(contains(text, "Net::parameter_count == 32"));
    using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    std::size_t k = 0;
    net.for_each_parameter([&](const ctnn::layer_path&, const auto& t) {
        const auto values = literals<T>(text, k++);
        REQUIRE(values.size() == t.size());
        for (std::size_t i = 0; i < t.size(); ++i)
            CHECK_MESSAGE(std::bit_cast<bits>(values[i]) == std::bit_cast<bits>(t.flat(i)),
                          "tensor " << k - 1 << " element " << i);
    });
    // Writing again gives the same text.
    ctnn::write_header(net, scratch("again.hpp"), "my_model");
    std::ifstream g(scratch("again.hpp"));
    CHECK(std::string((std::istreambuf_iterator<char>(g)), std::istreambuf_iterator<char>()) == text);

    const auto e = expect_io_error([&] { ctnn::write_header(net, scratch("bad.hpp"), "my-model"); });
    CHECK(contains(e.what(), "\"my-model\" is not a C++ identifier"));
    CHECK(!fs::exists(scratch("bad.hpp")));
}

TEST_CASE("write_header exports buffers and counters after the parameters") {
    using Net = buffered_net<double>;
    auto net = random_net<Net>(31);
    ctnn::trainer<Net, loss::mse, optim::sgd> tr{net, {.lr = 0.01}, {.seed = 5}};
    const batches<double> data;
    for (std::size_t k = 0; k < 4; ++k) tr.step(data.x[k], data.y[k]);
    const fs::path path = scratch("buffered.hpp");
    ctnn::write_header(net, path, "buffered");
    std::ifstream f(path);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    CHECK(contains(text, "//   1.running_var [6]\n//   1.num_batches_tracked [] int64\n"));
    CHECK(contains(text, "{\"1.num_batches_tracked\", 0, {0, 0}, nullptr, 4},"));
    CHECK(contains(text, "{\"3.3.weight\", 2, {6, 6}, t"));
    std::size_t k = 0;
    auto check = [&](const ctnn::layer_path&, const auto& t) {
        if (t.rank == 0) {  // the counter has no array
            ++k;
            return;
        }
        const auto values = literals<double>(text, k++);
        REQUIRE(values.size() == t.size());
        for (std::size_t i = 0; i < t.size(); ++i) CHECK(std::bit_cast<std::uint64_t>(values[i]) == std::bit_cast<std::uint64_t>(t.flat(i)));
    };
    net.for_each_parameter(check);
    net.for_each_buffer(check);
    CHECK(k == 15);
}

// The table a generated header holds, built by hand: same_tensors checks names, shapes and order
// at compile time; build fills the network.
constexpr float w0[6] = {1, 2, 3, 4, 5, 6};
constexpr float b0[2] = {-1, -2};
constexpr std::array<ctnn::embedded_tensor<float>, 2> table{{
    {"0.weight", 2, {2, 3}, w0, 0},
    {"0.bias", 1, {2, 0}, b0, 0},
}};
constexpr std::array<ctnn::embedded_tensor<float>, 2> swapped{{
    {"0.bias", 1, {2, 0}, b0, 0},
    {"0.weight", 2, {2, 3}, w0, 0},
}};
using tiny = network<float, input<3>, dense<2>>;
static_assert(ctnn::embedded::same_tensors<tiny>(table));
static_assert(!ctnn::embedded::same_tensors<tiny>(swapped));
static_assert(!ctnn::embedded::same_tensors<network<float, input<2>, dense<3>>>(table));
static_assert(!ctnn::embedded::same_tensors<network<float, input<3>, dense<2>, dense<1>>>(table));
constexpr tiny built = ctnn::embedded::build<tiny>(table);
static_assert(built.layer<0>().weight(1, 2) == 6 && built.layer<0>().bias(1) == -2);

TEST_CASE("a network built from an embedded table at compile time runs") {
    const auto y = built.forward(tensor<float, 3>{1, 0, 1});
    CHECK(y[0] == 1 + 3 - 1);
    CHECK(y[1] == 4 + 6 - 2);
}

}  // namespace
