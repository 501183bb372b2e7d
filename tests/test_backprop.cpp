// Backpropagation: the finite-difference gradient law (central differences in double) for every
// layer, activation and loss, single sample and batch, at widths that are not multiples of the
// SIMD width; the input gradient; accumulation; batch means; chaining two networks; and the worked
// examples of the literature against PyTorch.
#include <support/gradcheck.hpp>
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using ctnn::dense;
using ctnn::input;
using ctnn::layer_path;
using ctnn::network;
using ctnn::no_bias;
using ctnn::tensor;
using ctnn::elu, ctnn::gelu, ctnn::gelu_tanh, ctnn::identity, ctnn::leaky_relu, ctnn::relu, ctnn::sigmoid, ctnn::silu,
    ctnn::softmax, ctnn::softplus, ctnn::tanh;
namespace loss = ctnn::loss;

// Targets a loss accepts: probabilities in (0, 1) for bce, rows summing to 1 for the
// cross-entropies, anything for the rest.
enum class target_kind { any, probability, distribution, one_hot };

template <std::size_t B, std::size_t N>
tensor<double, B, N> make_target(ctnn::rng& r, target_kind kind) {
    tensor<double, B, N> t;
    for (std::size_t s = 0; s < B; ++s) {
        double sum = 0;
        for (std::size_t c = 0; c < N; ++c) {
            const double u = r.uniform<double>();
            t(s, c) = kind == target_kind::any ? 2 * r.normal<double>() : kind == target_kind::one_hot ? 0.0 : 0.05 + 0.9 * u;
            sum += t(s, c);
        }
        if (kind == target_kind::distribution)
            for (std::size_t c = 0; c < N; ++c) t(s, c) /= sum;
        if (kind == target_kind::one_hot) t(s, r.next() % N) = 1.0;
    }
    return t;
}

// The law: for every parameter and every input element, backprop's derivative equals the central
// difference (f(w + h) - f(w - h)) / 2h.
template <class Net, class Loss, std::size_t B>
void check_gradient_law(std::uint64_t seed, target_kind kind, double input_scale = 1.0) {
    static_assert(std::is_same_v<typename Net::value_type, double>);
    Net net{};
    ctnn::init::torch_default(net, seed);
    ctnn::rng r{seed + 1};
    // A batch of B, and the same code path with B = 1 as a single sample below.
    tensor<double, B, Net::input_size> x;
    for (auto& v : x) v = input_scale * r.normal<double>();
    const auto y = make_target<B, Net::output_size>(r, kind);

    typename Net::gradients g{};
    tensor<double, B, Net::input_size> dx;
    const double loss = ctnn::backprop(net, Loss{}, x, y, g, dx);
    CHECK(std::isfinite(loss));

    auto loss_at = [&] {
        typename Net::gradients scratch{};
        return ctnn::backprop(net, Loss{}, x, y, scratch);
    };
    ctnn_test::check_finite_differences(net, g, x, dx, loss_at);

    // One sample through the single-sample path equals the batch path with B = 1.
    Net copy = net;
    tensor<double, Net::input_size> x1;
    tensor<double, Net::output_size> y1;
    tensor<double, 1, Net::input_size> xb1;
    tensor<double, 1, Net::output_size> yb1;
    for (std::size_t i = 0; i < Net::input_size; ++i) x1[i] = xb1[i] = x[i];
    for (std::size_t o = 0; o < Net::output_size; ++o) y1[o] = yb1[o] = y[o];
    typename Net::gradients g1{}, gb1{};
    CHECK(ctnn::backprop(copy, Loss{}, x1, y1, g1) == ctnn::backprop(copy, Loss{}, xb1, yb1, gb1));
    CHECK(g1 == gb1);
}

template <auto Act>
void activation_law() {
    check_gradient_law<network<double, input<7>, dense<13>, Act, dense<3>>, loss::mse, 5>(11, target_kind::any, 1.5);
    check_gradient_law<network<double, input<3>, dense<17>, Act, dense<1>>, loss::mse, 1>(12, target_kind::any, 1.5);
}


TEST_CASE("gradient law: every activation, single sample and batch") {
    activation_law<identity>();
    activation_law<sigmoid>();
    activation_law<tanh>();
    activation_law<relu>();
    activation_law<leaky_relu<>>();
    activation_law<leaky_relu<0.2>>();
    activation_law<elu<>>();
    activation_law<elu<0.5>>();
    activation_law<gelu>();
    activation_law<gelu_tanh>();
    activation_law<silu>();
    activation_law<softplus<>>();
    activation_law<softplus<2.0, 1.0>>();  // a low threshold, so both branches are taken
    activation_law<softmax>();
}

TEST_CASE("gradient law: dense layers of odd widths, without bias, and lists starting with an activation") {
    check_gradient_law<network<double, input<1>, dense<1>>, loss::mse, 3>(21, target_kind::any);
    check_gradient_law<network<double, input<33>, dense<7, no_bias>, tanh, dense<16>, dense<17, no_bias>>, loss::mse, 2>(
        22, target_kind::any);
    check_gradient_law<network<double, input<13>, tanh, dense<3>, softmax>, loss::mse, 4>(23, target_kind::any);
    check_gradient_law<network<double, input<5>, relu, dense<9>, gelu, dense<4>, silu>, loss::l1, 3>(24, target_kind::any);
}

TEST_CASE("gradient law: every loss") {
    using body = network<double, input<3>, dense<17>, tanh, dense<7>>;
    using prob = network<double, input<3>, dense<17>, tanh, dense<7>, sigmoid>;
    check_gradient_law<body, loss::mse, 5>(31, target_kind::any);
    check_gradient_law<body, loss::half_mse, 5>(31, target_kind::any);
    check_gradient_law<body, loss::l1, 5>(32, target_kind::any);
    check_gradient_law<body, loss::huber<>, 5>(33, target_kind::any);
    check_gradient_law<body, loss::huber<0.5>, 5>(33, target_kind::any);
    check_gradient_law<body, loss::smooth_l1<>, 5>(34, target_kind::any);
    check_gradient_law<body, loss::smooth_l1<0.25>, 5>(34, target_kind::any);
    check_gradient_law<prob, loss::bce, 5>(35, target_kind::probability);
    check_gradient_law<body, loss::bce_with_logits, 5>(36, target_kind::probability);
    check_gradient_law<body, loss::cross_entropy, 5>(37, target_kind::one_hot);
    check_gradient_law<body, loss::cross_entropy, 5>(37, target_kind::distribution);
    check_gradient_law<body, loss::nll, 5>(38, target_kind::one_hot);
    check_gradient_law<body, loss::mse, 1>(39, target_kind::any);
    check_gradient_law<body, loss::cross_entropy, 1>(40, target_kind::one_hot);
}

TEST_CASE_TEMPLATE("gradients accumulate, and a batch's gradient is the mean of its samples'", T, float, double) {
    using Net = network<T, input<4>, dense<9>, gelu, dense<3>>;
    Net net{};
    ctnn::init::xavier_normal(net, 3);
    ctnn::rng r{4};
    tensor<T, 6, 4> x;
    tensor<T, 6, 3> y;
    for (auto& v : x) v = r.normal<T>();
    for (auto& v : y) v = r.normal<T>();
    typename Net::gradients once{}, twice{}, mean{};
    const T l = ctnn::backprop(net, loss::mse{}, x, y, once);
    CHECK(ctnn::backprop(net, loss::mse{}, x, y, twice) == l);
    CHECK(ctnn::backprop(net, loss::mse{}, x, y, twice) == l);
    const auto a = once.parameter_block(), b = twice.parameter_block();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(2 * a[i]));

    T mean_loss = 0;
    for (std::size_t s = 0; s < 6; ++s) {
        tensor<T, 4> xs;
        tensor<T, 3> ys;
        for (std::size_t i = 0; i < 4; ++i) xs[i] = x(s, i);
        for (std::size_t o = 0; o < 3; ++o) ys[o] = y(s, o);
        mean_loss += ctnn::backprop(net, loss::mse{}, xs, ys, mean) / 6;
    }
    CHECK(mean_loss == doctest::Approx(l));
    const auto m = mean.parameter_block();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(m[i] / 6 == doctest::Approx(a[i]).epsilon(1e-5).scale(1e-6));
    once.zero();
    for (T v : once.parameter_block()) CHECK(v == T(0));
}

TEST_CASE("a batch larger than backprop's chunk of 32 samples gives the batch mean") {
    using Net = network<double, input<3>, dense<13>, tanh, dense<2>>;
    Net net{};
    ctnn::init::torch_default(net, 2);
    tensor<double, 70, 3> x;
    tensor<double, 70, 2> y;
    ctnn::rng r{1};
    for (auto& v : x) v = r.normal<double>();
    for (auto& v : y) v = r.normal<double>();
    typename Net::gradients batch{}, singles{};
    tensor<double, 70, 3> dx;
    const double loss = ctnn::backprop(net, loss::mse{}, x, y, batch, dx);
    double mean = 0;
    for (std::size_t s = 0; s < 70; ++s) {
        tensor<double, 3> xs{x(s, 0), x(s, 1), x(s, 2)}, dxs;
        const tensor<double, 2> ys{y(s, 0), y(s, 1)};
        mean += ctnn::backprop(net, loss::mse{}, xs, ys, singles, dxs) / 70;
        for (std::size_t i = 0; i < 3; ++i) CHECK(dx(s, i) == doctest::Approx(dxs[i] / 70));
    }
    CHECK(loss == doctest::Approx(mean));
    const auto a = batch.parameter_block(), b = singles.parameter_block();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i] / 70));
}

TEST_CASE("padding stays zero: Adam with eps = 0 (0 / 0 on padding) still trains") {
    // dense<3> rows are padded to 4 lanes; PyTorch trains this net normally with eps = 0.
    using Net = network<float, input<2>, dense<3>, tanh, dense<3>, tanh, dense<1>>;
    static_assert(Net::padding_range_count > 0);
    Net net{};
    ctnn::init::xavier_uniform(net, 3);
    ctnn::trainer<Net, loss::mse, ctnn::optim::adam> tr{net, {.lr = 1e-2, .eps = 0}};
    const tensor<float, 4, 2> x{0, 0, 0, 1, 1, 0, 1, 1};
    const tensor<float, 4, 1> y{0, 1, 1, 0};
    float loss = 0;
    for (int s = 0; s < 20; ++s) loss = tr.step(x, y);
    CHECK(std::isfinite(loss));
    for (const auto& range : Net::padding_ranges)
        for (std::size_t i = range[0]; i < range[1]; ++i) CHECK(net.parameter_block()[i] == 0.0f);
}

TEST_CASE("chaining: the input gradient of one network drives backward through the one before it") {
    using first = network<double, input<3>, dense<8>, tanh>;
    using second = network<double, input<8>, dense<5>, sigmoid, dense<2>>;
    first f{};
    second s{};
    ctnn::init::he_normal(f, 1);
    ctnn::init::he_normal(s, 2);
    const tensor<double, 4, 3> x{0.1, -0.3, 0.7, 1.2, 0.4, -0.9, 0.0, 0.5, 0.5, -1.0, 2.0, 0.3};
    const tensor<double, 4, 2> y{1, 0, 0, 1, 0.5, 0.5, -1, 2};
    auto chain_loss = [&](typename first::gradients& gf, typename second::gradients& gs) {
        auto h = f.forward(x);
        tensor<double, 4, 8> dh;
        const double l = ctnn::backprop(s, loss::mse{}, h, y, gs, dh);
        ctnn::backward(f, x, dh, gf);
        return l;
    };
    typename first::gradients gf{};
    typename second::gradients gs{};
    chain_loss(gf, gs);
    const double h = 1e-6;
    f.for_each_parameter([&](const layer_path& path, const auto& t) {
        for (std::size_t k = 0; k < t.size(); ++k) {
            double& w = t.flat(k);
            const double w0 = w;
            typename first::gradients a{};
            typename second::gradients b{};
            w = w0 + h;
            const double up = chain_loss(a, b);
            w = w0 - h;
            const double down = chain_loss(a, b);
            w = w0;
            double analytic = 0;
            gf.for_each_parameter([&](const layer_path& p2, const auto& t2) {
                if (p2.index == path.index && t2.name == t.name) analytic = t2.flat(k);
            });
            CHECK(analytic == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5).scale(1e-3));
        }
    });
}

// ---- the worked examples (scripts/gen_worked_examples.py) ----------------------------------------

const ctnn_test::reference& worked() {
    static const ctnn_test::reference ref{ctnn_test::reference_path("worked_examples.txt")};
    return ref;
}

template <class T>
void check_values(const std::vector<double>& ref, const T* got, std::size_t n, const std::string& what) {
    REQUIRE(ref.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(ctnn_test::close(got[i], static_cast<T>(ref[i]), sizeof(T) == 4 ? 1e-6 : 1e-14, sizeof(T) == 4 ? 1e-7 : 1e-15));
    }
}

template <class Store>
std::vector<typename Store::value_type> flat_tensor(const Store& s, std::size_t layer, std::string_view name) {
    std::vector<typename Store::value_type> v;
    s.for_each_parameter([&](const layer_path& p, const auto& t) {
        if (p.index[0] == layer && t.name == name)
            for (std::size_t k = 0; k < t.size(); ++k) v.push_back(t.flat(k));
    });
    return v;
}


TEST_CASE_TEMPLATE("worked example 1: the 2-2-1 tanh network, every intermediate against PyTorch", T, float, double) {
    const std::string p = std::string("ex1.") + ctnn_test::dtype<T>() + ".";
    using Net = network<T, input<2>, dense<2>, tanh, dense<1>, tanh>;
    Net net{};
    auto l0 = net.template layer<0>();
    l0.weight(0, 0) = T(0.1), l0.weight(0, 1) = T(0.2), l0.weight(1, 0) = T(0.3), l0.weight(1, 1) = T(0.5);
    l0.bias(0) = T(0.4), l0.bias(1) = T(0.7);
    net.template layer<2>().weight(0, 0) = T(0.6), net.template layer<2>().weight(0, 1) = T(-0.4);
    net.template layer<2>().bias(0) = T(0.1);
    const tensor<T, 2> x{0.5, 0.3};
    const tensor<T, 1> t{1.0};

    // The forward intermediates, through sub-networks that share the parameters.
    network<T, input<2>, dense<2>> first{};
    network<T, input<2>, dense<2>, tanh> hidden{};
    for (std::size_t o = 0; o < 2; ++o) {
        for (std::size_t i = 0; i < 2; ++i) first.template layer<0>().weight(o, i) = hidden.template layer<0>().weight(o, i) = l0.weight(o, i);
        first.template layer<0>().bias(o) = hidden.template layer<0>().bias(o) = l0.bias(o);
    }
    const auto& ref = worked();
    check_values(ref.get(p + "z1").values, first.forward(x).data(), 2, "z1");
    check_values(ref.get(p + "a1").values, hidden.forward(x).data(), 2, "a1");
    const auto y = net.forward(x);
    check_values(ref.get(p + "y").values, y.data(), 1, "y");

    // delta1 = dL/dz1 and delta2 = dL/dz2 are the gradients of the biases; dL/dy through backward.
    typename Net::gradients g{};
    const T loss = ctnn::backprop(net, loss::half_mse{}, x, t, g);
    check_values(ref.get(p + "loss").values, &loss, 1, "loss");
    const T dy = y[0] - t[0];
    check_values(ref.get(p + "dy").values, &dy, 1, "dL/dy");
    check_values(ref.get(p + "delta2").values, flat_tensor(g, 2, "bias").data(), 1, "delta2");
    check_values(ref.get(p + "delta1").values, flat_tensor(g, 0, "bias").data(), 2, "delta1");
    check_values(ref.get(p + "grad.0.weight").values, flat_tensor(g, 0, "weight").data(), 4, "dL/dW1");
    check_values(ref.get(p + "grad.2.weight").values, flat_tensor(g, 2, "weight").data(), 2, "dL/dW2");

    ctnn::trainer<Net, loss::half_mse, ctnn::optim::sgd> tr{net, {.lr = 0.1}};
    CHECK(tr.step(x, t) == loss);
    check_values(ref.get(p + "new.0.weight").values, flat_tensor(net, 0, "weight").data(), 4, "W1 after the step");
    check_values(ref.get(p + "new.0.bias").values, flat_tensor(net, 0, "bias").data(), 2, "b1 after the step");
    check_values(ref.get(p + "new.2.weight").values, flat_tensor(net, 2, "weight").data(), 2, "W2 after the step");
    check_values(ref.get(p + "new.2.bias").values, flat_tensor(net, 2, "bias").data(), 1, "b2 after the step");
}

TEST_CASE("worked example 2: linear regression converges to the least-squares solution") {
    using Net = network<double, input<1>, dense<1>>;
    Net net{};
    const tensor<double, 5, 1> x{1, 2, 3, 4, 5};
    const tensor<double, 5, 1> y{1.2, 2.4, 3.6, 4.8, 5.0};
    // Closed form: slope = cov(x, y) / var(x) = 10 / 10, intercept = mean(y) - slope mean(x) = 0.4.
    ctnn::trainer<Net, loss::mse, ctnn::optim::sgd> tr{net, {.lr = 0.05}};
    int steps = 0;
    while (steps < 5000 && (std::abs(net.layer<0>().weight(0, 0) - 1.0) > 1e-9 || std::abs(net.layer<0>().bias(0) - 0.4) > 1e-9)) {
        tr.step(x, y);
        ++steps;
    }
    CHECK(net.layer<0>().weight(0, 0) == doctest::Approx(1.0).epsilon(1e-9));
    CHECK(net.layer<0>().bias(0) == doctest::Approx(0.4).epsilon(1e-9));
    CHECK(steps < 1500);  // lr 0.05 (the curvature allows up to 2 / 22): 1,089 steps to 1e-9
    MESSAGE("linear regression: converged in ", steps, " steps");
}

TEST_CASE_TEMPLATE("worked example 3: the 1-4-4-1 ReLU network, one SGD step, matches PyTorch", T, float, double) {
    const std::string p = std::string("ex3.") + ctnn_test::dtype<T>() + ".";
    using Net = network<T, input<1>, dense<4>, relu, dense<4>, relu, dense<1>>;
    Net net{};
    const auto& ref = worked();
    ctnn_test::load_parameters(net, ref, p + "param.");
    const auto x = ctnn_test::tensor_from<T, 4, 1>(ref.get(p + "x"));
    const auto y = ctnn_test::tensor_from<T, 4, 1>(ref.get(p + "y"));
    check_values(ref.get(p + "out").values, net.forward(x).data(), 4, "output");
    ctnn::trainer<Net, loss::mse, ctnn::optim::sgd> tr{net, {.lr = 0.01}};
    const T loss = tr.step(x, y);
    check_values(ref.get(p + "loss").values, &loss, 1, "loss");
    tr.gradients().for_each_parameter([&](const layer_path& path, const auto& t) {
        std::vector<T> v;
        for (std::size_t k = 0; k < t.size(); ++k) v.push_back(t.flat(k));
        check_values(ref.get(p + "grad." + ctnn_test::key(path, t.name)).values, v.data(), v.size(), "gradient");
    });
    net.for_each_parameter([&](const layer_path& path, const auto& t) {
        std::vector<T> v;
        for (std::size_t k = 0; k < t.size(); ++k) v.push_back(t.flat(k));
        check_values(ref.get(p + "new." + ctnn_test::key(path, t.name)).values, v.data(), v.size(), "after the step");
    });
}

TEST_CASE("worked example 4: XOR, 2-8-1 tanh with a sigmoid output and BCE, to 100 % accuracy") {
    using Net = network<float, input<2>, dense<8>, tanh, dense<1>, sigmoid>;
    Net net{};
    ctnn::init::xavier_uniform(net, 1);
    const tensor<float, 4, 2> x{0, 0, 0, 1, 1, 0, 1, 1};
    const tensor<float, 4, 1> y{0, 1, 1, 0};
    ctnn::trainer<Net, loss::bce, ctnn::optim::sgd> tr{net, {.lr = 0.5, .momentum = 0.9}};
    constexpr int steps = 300;  // full-batch steps; the loss is below 0.05 well before
    float loss = 0;
    for (int s = 0; s < steps; ++s) loss = tr.step(x, y);
    const auto out = net.forward(x);
    for (std::size_t s = 0; s < 4; ++s) CHECK((out[s] > 0.5f) == (y[s] > 0.5f));
    CHECK(loss < 0.05f);
    MESSAGE("XOR: loss ", loss, " after ", steps, " steps");
}

// The training forward of a narrow network runs a batch with the samples in the SIMD lanes and an
// activation whose derivative reads its output fused into the dense layer before it: every
// layer output it stores equals, bit for bit, the one-sample training forward's, and the batch's
// gradients are the mean of the samples'.
template <class Net, std::size_t B>
void check_training_forward_per_sample() {
    using T = typename Net::value_type;
    using seq = typename Net::sequence_type;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size;
    Net net{};
    ctnn::init::torch_default(net, 5);
    ctnn::rng r{13};
    tensor<T, B, In> x;
    tensor<T, B, Out> y;
    for (auto& v : x) v = r.normal<T>();
    for (auto& v : y) v = r.normal<T>();
    const ctnn::train_context ctx{};
    alignas(64) T acts[seq::template activation_size<B> + 1];
    seq::template forward_train<B, In>(net.parameter_block().data(), net.buffer_data(), x.data(), acts, ctx);
    for (std::size_t s = 0; s < B; ++s) {
        alignas(64) T one[seq::template activation_size<1> + 1];
        seq::template forward_train<1, In>(net.parameter_block().data(), net.buffer_data(), x.data() + s * In, one, ctx);
        seq::for_each_index([&](auto i) {
            if constexpr (!seq::template fuses_in_training<i>()) {  // a fused layer's own output is not stored
                constexpr std::size_t stride = seq::template stride<i + 1>;
                for (std::size_t k = 0; k < seq::widths[i + 1]; ++k) {  // padding: whatever the activation makes of 0
                    CAPTURE(s);
                    CAPTURE(i);
                    CAPTURE(k);
                    CHECK(acts[seq::template activation_offsets<B>[i] + s * stride + k] ==
                          one[seq::template activation_offsets<1>[i] + k]);
                }
            }
        });
    }
    typename Net::gradients batch{}, samples{};
    const T l = ctnn::backprop(net, loss::mse{}, x, y, batch);
    T mean_loss = 0;
    for (std::size_t s = 0; s < B; ++s) {
        tensor<T, In> xs;
        tensor<T, Out> ys;
        for (std::size_t i = 0; i < In; ++i) xs[i] = x(s, i);
        for (std::size_t o = 0; o < Out; ++o) ys[o] = y(s, o);
        mean_loss += ctnn::backprop(net, loss::mse{}, xs, ys, samples) / T(B);
    }
    const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-12;
    CHECK(mean_loss == doctest::Approx(l).epsilon(tol));
    const auto a = batch.parameter_block(), m = samples.parameter_block();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(m[i] / T(B) == doctest::Approx(a[i]).epsilon(tol).scale(tol));
}

TEST_CASE_TEMPLATE("training forward of narrow networks (samples in the SIMD lanes, fused activations)", T, float,
                   double) {
    check_training_forward_per_sample<network<T, input<2>, dense<8>, tanh, dense<1>>, 32>();
    check_training_forward_per_sample<network<T, input<2>, dense<8>, tanh, dense<1>>, 21>();
    check_training_forward_per_sample<network<T, input<2>, dense<4>, tanh, dense<1>>, 32>();
    check_training_forward_per_sample<network<T, input<2>, dense<4>, tanh, dense<1>>, 40>();
    check_training_forward_per_sample<network<T, input<3>, dense<5>, sigmoid, dense<2>>, 9>();
    check_training_forward_per_sample<network<T, input<1>, dense<4>, relu, dense<3>, gelu, dense<1>>, 16>();
    check_training_forward_per_sample<network<T, input<3>, tanh, dense<4>, dense<2>, identity>, 32>();
    // Wider: fused activations on the sample-major path.
    check_training_forward_per_sample<network<T, input<8>, dense<16>, tanh, dense<16>, relu, dense<1>>, 32>();
}

}  // namespace
