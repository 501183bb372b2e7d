// network: compile-time facts, the DSL, parameter access in PyTorch's layout, forward against
// PyTorch (single sample and batch, float and double), against the scalar path, and batch against
// single-sample forward.
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <type_traits>

namespace {

// ctnn's activation names (tanh, erf, ...) collide with <cmath>'s in the global namespace, so
// they are brought in by name rather than with a using-directive.
using ctnn::network;
using ctnn::network_of;
using ctnn::input;
using ctnn::dense;
using ctnn::no_bias;
using ctnn::tensor;
using ctnn::layer_path;
using ctnn::identity;
using ctnn::sigmoid;
using ctnn::tanh;
using ctnn::relu;
using ctnn::leaky_relu;
using ctnn::elu;
using ctnn::gelu;
using ctnn::gelu_tanh;
using ctnn::silu;
using ctnn::softplus;
using ctnn::softmax;
using ctnn_test::close;
using ctnn_test::eps;

// ---- compile-time facts and the DSL --------------------------------------------------------------
using contract_net = network<float, input<2>, dense<8>, tanh, dense<1>>;
static_assert(std::is_same_v<contract_net, network_of<float, input<2> | dense<8> | tanh | dense<1>>>);
static_assert(contract_net::input_size == 2 && contract_net::output_size == 1);
static_assert(contract_net::parameter_count == 2 * 8 + 8 + 8 * 1 + 1);
static_assert(contract_net::layer_count == 3);
static_assert(contract_net::forward_flops == (2 * 2 * 8 + 8) + 8 + (2 * 8 * 1 + 1));

using mixed_net = network<double, input<17>, dense<33>, relu, dense<13>, leaky_relu<>, dense<7, no_bias>, elu<0.5>,
                          dense<3>, softmax>;
static_assert(std::is_same_v<mixed_net, network_of<double, input<17> | dense<33> | relu | dense<13> | leaky_relu<> |
                                                               dense<7, no_bias> | elu<0.5> | dense<3> | softmax>>);
static_assert(mixed_net::layer_count == 8 && mixed_net::input_size == 17 && mixed_net::output_size == 3);
static_assert(mixed_net::parameter_count == 17 * 33 + 33 + 33 * 13 + 13 + 13 * 7 + 7 * 3 + 3);
static_assert(!std::is_same_v<network<float, input<2>, leaky_relu<0.1>, dense<1>>,
                              network<float, input<2>, leaky_relu<0.2>, dense<1>>>);
// An inference network holds its parameters and nothing else.
static_assert(sizeof(contract_net) == ctnn::detail::round_up(contract_net::parameter_block_size * sizeof(float), alignof(contract_net)));
static_assert(std::is_trivially_copyable_v<contract_net>);

// ---- the PyTorch reference nets (scripts/gen_reference.py) ---------------------------------------
template <class T>
struct nets {
    using a = network<T, input<3>, dense<7>, tanh, dense<13>, sigmoid, dense<1>>;
    using b = network<T, input<17>, dense<33>, relu, dense<13>, leaky_relu<0.01>, dense<7>, elu<1.0>, dense<3>, softmax>;
    using c = network<T, input<7>, dense<16>, gelu, dense<8>, gelu_tanh, dense<17>, silu, dense<3>, softplus<1.0, 20.0>,
                      dense<32, no_bias>>;
    using d = network<T, input<13>, dense<33, no_bias>, leaky_relu<0.2>, dense<1>, elu<0.5>>;
    using e = network<T, input<1>, dense<1>, softplus<2.0, 10.0>, dense<1>>;
    using f = network<T, input<33>, dense<17>, tanh, softmax>;
    using T_ = network<T, input<2>, dense<8>, tanh, dense<1>>;
    using S = network<T, input<8>, dense<16>, tanh, dense<16>, tanh, dense<1>>;
    using M = network<T, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>;
    using W = network<T, input<64>, dense<128>, relu, dense<128>, relu, dense<16>>;
};

const ctnn_test::reference& forward_reference() {
    static const ctnn_test::reference ref{ctnn_test::reference_path("forward.txt")};
    return ref;
}

// Tolerances against PyTorch: the sums run in another order (BLAS vs FMA chains), so allow a few
// roundings per layer; scaled by the magnitude of the outputs.
template <class T>
constexpr double rtol = sizeof(T) == 4 ? 2e-5 : 1e-12;
template <class T>
constexpr double atol = sizeof(T) == 4 ? 2e-6 : 1e-13;

template <class Net, std::size_t B>
void check_against_pytorch(const char* name) {
    using T = typename Net::value_type;
    const auto& ref = forward_reference();
    const std::string prefix = std::string(name) + "." + ctnn_test::dtype<T>() + ".";
    CAPTURE(prefix);
    Net net{};
    ctnn_test::load_parameters(net, ref, prefix);

    const auto x = ctnn_test::tensor_from<T, Net::input_size>(ref.get(prefix + "x"));
    const auto y = net.forward(x);
    const auto& yref = ref.get(prefix + "y").values;
    for (std::size_t o = 0; o < Net::output_size; ++o) {
        CAPTURE(o);
        CHECK(close(y[o], static_cast<T>(yref[o]), rtol<T>, atol<T>));
    }
    CHECK(net(x) == y);

    const auto xb = ctnn_test::tensor_from<T, B, Net::input_size>(ref.get(prefix + "xb"));
    const auto yb = net.forward(xb);
    const auto& ybref = ref.get(prefix + "yb").values;
    for (std::size_t i = 0; i < B * Net::output_size; ++i) {
        CAPTURE(i);
        CHECK(close(yb[i], static_cast<T>(ybref[i]), rtol<T>, atol<T>));
    }
}

template <class Net>
constexpr bool has_softmax = [] {
    bool any = false;
    Net::sequence_type::for_each_index([&](auto i) {
        any = any || std::is_same_v<typename Net::template layer_type<i>, ctnn::detail::softmax_layer<typename Net::value_type, Net::template layer_type<i>::in, Net::sequence_type::lanes>>;
    });
    return any;
}();

// The SIMD network equals its scalar path: bit for bit where the lanes compute exactly what the
// scalar path computes (dense + elementwise); softmax sums its lanes in another order.
template <class Net>
void check_against_scalar_path(const char* name) {
    using T = typename Net::value_type;
    const auto& ref = forward_reference();
    const std::string prefix = std::string(name) + "." + ctnn_test::dtype<T>() + ".";
    CAPTURE(prefix);
    Net net{};
    ctnn_test::load_parameters(net, ref, prefix);
    const ctnn_test::scalar_path<Net> scalar{net};
    ctnn::rng r{7};
    for (int trial = 0; trial < 20; ++trial) {
        tensor<T, Net::input_size> x;
        for (auto& v : x) v = r.normal<T>() * T(3);
        const auto y = net.forward(x), ys = scalar.forward(x);
        for (std::size_t o = 0; o < Net::output_size; ++o) {
            if constexpr (has_softmax<Net>)
                CHECK(close(y[o], ys[o], 8 * eps<T>, 1e-2 * eps<T>));
            else
                CHECK(y[o] == ys[o]);
        }
    }
}

// Batch forward equals single-sample forward for every sample, for batch sizes around the SIMD
// width and the internal chunk of 32 samples.
template <class Net, std::size_t B>
void check_batch_equals_single() {
    using T = typename Net::value_type;
    Net net{};
    ctnn::init::torch_default(net, 3);
    ctnn::rng r{11};
    tensor<T, B, Net::input_size> xb;
    for (auto& v : xb) v = r.normal<T>();
    const auto yb = net.forward(xb);
    for (std::size_t s = 0; s < B; ++s) {
        tensor<T, Net::input_size> x;
        for (std::size_t i = 0; i < Net::input_size; ++i) x[i] = xb(s, i);
        const auto y = net.forward(x);
        for (std::size_t o = 0; o < Net::output_size; ++o) {
            CAPTURE(s);
            CHECK(yb(s, o) == y[o]);
        }
    }
}


TEST_CASE_TEMPLATE("forward matches PyTorch on single samples and batches", T, float, double) {
    check_against_pytorch<typename nets<T>::a, 5>("a");
    check_against_pytorch<typename nets<T>::b, 5>("b");
    check_against_pytorch<typename nets<T>::c, 5>("c");
    check_against_pytorch<typename nets<T>::d, 5>("d");
    check_against_pytorch<typename nets<T>::e, 5>("e");
    check_against_pytorch<typename nets<T>::f, 5>("f");
    check_against_pytorch<typename nets<T>::T_, 32>("T");
    check_against_pytorch<typename nets<T>::S, 32>("S");
    check_against_pytorch<typename nets<T>::M, 32>("M");
    check_against_pytorch<typename nets<T>::W, 32>("W");
}

TEST_CASE_TEMPLATE("forward equals the scalar path", T, float, double) {
    check_against_scalar_path<typename nets<T>::a>("a");
    check_against_scalar_path<typename nets<T>::b>("b");
    check_against_scalar_path<typename nets<T>::c>("c");
    check_against_scalar_path<typename nets<T>::d>("d");
    check_against_scalar_path<typename nets<T>::e>("e");
    check_against_scalar_path<typename nets<T>::f>("f");
    check_against_scalar_path<typename nets<T>::W>("W");
}

TEST_CASE_TEMPLATE("batch forward equals single-sample forward", T, float, double) {
    check_batch_equals_single<typename nets<T>::a, 1>();
    check_batch_equals_single<typename nets<T>::a, 3>();
    check_batch_equals_single<typename nets<T>::b, 7>();
    check_batch_equals_single<typename nets<T>::c, 13>();
    check_batch_equals_single<typename nets<T>::d, 17>();
    check_batch_equals_single<typename nets<T>::f, 33>();
    check_batch_equals_single<typename nets<T>::T_, 32>();
    check_batch_equals_single<typename nets<T>::M, 64>();
    check_batch_equals_single<typename nets<T>::W, 70>();
    // A network that starts with an activation reads its (unpadded) input through a copy.
    check_batch_equals_single<network<T, input<13>, tanh, dense<3>, softmax>, 9>();
}

TEST_CASE_TEMPLATE("parameters read and write in PyTorch's [out][in] layout", T, float, double) {
    using Net = network<T, input<13>, dense<33>, tanh, dense<7, no_bias>, relu, dense<1>, dense<17>>;
    Net net{};
    for (T v : net.parameter_block()) CHECK(v == T(0));
    // Every logical element gets a distinct value through the accessors ...
    auto value = [](std::size_t layer, std::size_t o, std::size_t i) { return static_cast<T>(layer * 10000 + o * 100 + i); };
    for (std::size_t o = 0; o < 33; ++o) {
        for (std::size_t i = 0; i < 13; ++i) net.template layer<0>().weight(o, i) = value(0, o, i);
        net.template layer<0>().bias(o) = value(0, o, 99);
    }
    for (std::size_t o = 0; o < 7; ++o)
        for (std::size_t i = 0; i < 33; ++i) net.template layer<2>().weight(o, i) = value(2, o, i);
    for (std::size_t i = 0; i < 7; ++i) net.template layer<4>().weight(0, i) = value(4, 0, i);
    net.template layer<4>().bias(0) = value(4, 0, 99);
    for (std::size_t o = 0; o < 17; ++o) {
        net.template layer<5>().weight(o, 0) = value(5, o, 0);
        net.template layer<5>().bias(o) = value(5, o, 99);
    }
    (void)net.template layer<1>();  // an activation: a view with no parameters
    // ... and comes back, through the const accessors and through the state_dict view.
    const Net& cnet = net;
    CHECK(cnet.template layer<0>().weight(32, 12) == value(0, 32, 12));
    CHECK(cnet.template layer<2>().weight(6, 32) == value(2, 6, 32));
    CHECK(cnet.template layer<5>().bias(16) == value(5, 16, 99));
    std::vector<std::string> keys;
    std::size_t count = 0, nonzero = 0;
    cnet.for_each_parameter([&](const layer_path& path, const auto& t) {
        keys.push_back(ctnn_test::key(path, t.name));
        const std::size_t layer = path.index[0];
        for (std::size_t r = 0; r < t.shape[0]; ++r)
            for (std::size_t c = 0; c < (t.rank == 2 ? t.shape[1] : 1); ++c) {
                CHECK(t(r, c) == (t.rank == 2 ? value(layer, r, c) : value(layer, r, 99)));
                ++count;
            }
    });
    CHECK(keys == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "4.weight", "4.bias", "5.weight", "5.bias"});
    CHECK(count == Net::parameter_count);
    // Padding stays zero: exactly parameter_count elements of the block are set.
    for (T v : net.parameter_block()) nonzero += v != T(0);
    CHECK(nonzero == Net::parameter_count - 1);  // value(0, 0, 0) is 0
}

TEST_CASE_TEMPLATE("a zero network outputs zero; copies are equal", T, float, double) {
    using Net = network<T, input<3>, dense<7>, sigmoid, dense<2>>;
    Net net{};
    const auto y = net.forward(tensor<T, 3>{T(1), T(-2), T(3)});
    CHECK(y[0] == T(0));
    CHECK(y[1] == T(0));
    ctnn::init::he_normal(net, 5);
    Net copy = net;
    CHECK(copy == net);
    copy.template layer<2>().bias(1) += T(1);
    CHECK(!(copy == net));
    CHECK(copy.forward(tensor<T, 3>{})[1] == doctest::Approx(net.forward(tensor<T, 3>{})[1] + T(1)));
}

TEST_CASE_TEMPLATE("layers of width 1, 3, 7, 13, 17, 33 and multiples of the SIMD width", T, float, double) {
    check_batch_equals_single<network<T, input<1>, dense<1>, sigmoid, dense<3>, tanh, dense<7>>, 5>();
    check_batch_equals_single<network<T, input<7>, dense<13>, gelu, dense<17>, silu, dense<33>>, 5>();
    check_batch_equals_single<network<T, input<16>, dense<32>, relu, dense<64>, elu<>, dense<8>>, 5>();
    using N = network<T, input<33>, dense<17>, softplus<>, dense<13>, gelu_tanh, dense<1>>;
    N net{};
    ctnn::init::xavier_normal(net, 9);
    const ctnn_test::scalar_path<N> scalar{net};
    tensor<T, 33> x;
    for (std::size_t i = 0; i < 33; ++i) x[i] = static_cast<T>(i) / T(10) - T(1.5);
    CHECK(net.forward(x)[0] == scalar.forward(x)[0]);
}

// Narrow networks run a batch with the samples in the SIMD lanes (sequence::samples_in_lanes):
// the same additions as one sample at a time, so bit for bit the same outputs, at batch sizes that
// are and are not multiples of the register width, inputs of 1 to 4 features, fused and unfused
// activations, and a list starting with an activation.
template <class T>
struct lanes_nets {
    using two_eight_one = network<T, input<2>, dense<8>, tanh, dense<1>>;
    using two_four_one = network<T, input<2>, dense<4>, tanh, dense<1>>;
    using three_five_two = network<T, input<3>, dense<5>, sigmoid, dense<2>>;
    using one_four_three_one = network<T, input<1>, dense<4>, relu, dense<3>, gelu, dense<1>>;
    using activation_first = network<T, input<3>, tanh, dense<4>, dense<2>>;
};

TEST_CASE_TEMPLATE("batches of narrow networks (samples in the SIMD lanes) equal single-sample forward", T, float,
                   double) {
    using N = lanes_nets<T>;
#if defined(__AVX512F__)
    // The cases below do take the samples-in-lanes path on this machine.
    CHECK(N::two_four_one::sequence_type::samples_in_lanes);
    CHECK(N::one_four_three_one::sequence_type::samples_in_lanes);
    if constexpr (std::is_same_v<T, float>) {
        CHECK(N::two_eight_one::sequence_type::samples_in_lanes);
        CHECK(N::three_five_two::sequence_type::samples_in_lanes);
    }
#endif
    check_batch_equals_single<typename N::two_eight_one, 5>();
    check_batch_equals_single<typename N::two_eight_one, 16>();
    check_batch_equals_single<typename N::two_eight_one, 32>();
    check_batch_equals_single<typename N::two_eight_one, 37>();
    check_batch_equals_single<typename N::two_four_one, 8>();
    check_batch_equals_single<typename N::two_four_one, 19>();
    check_batch_equals_single<typename N::two_four_one, 32>();
    check_batch_equals_single<typename N::three_five_two, 3>();
    check_batch_equals_single<typename N::three_five_two, 32>();
    check_batch_equals_single<typename N::one_four_three_one, 16>();
    check_batch_equals_single<typename N::one_four_three_one, 21>();
    check_batch_equals_single<typename N::activation_first, 32>();
    check_batch_equals_single<typename N::activation_first, 11>();
}

}  // namespace
