// Dropout, batch normalization, layer normalization and residual blocks: against PyTorch
// (tests/reference/norm.txt, scripts/gen_norm_reference.py) in both modes, the finite-difference
// gradient law for each layer, running statistics, dropout's statistics, names and views.
#include <support/gradcheck.hpp>
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using ctnn::batch_norm;
using ctnn::dense;
using ctnn::dropout;
using ctnn::input;
using ctnn::layer_norm;
using ctnn::layer_path;
using ctnn::network;
using ctnn::relu;
using ctnn::residual;
using ctnn::tensor;
using ctnn::sigmoid, ctnn::tanh;
using ctnn_test::key;
namespace loss = ctnn::loss;

// The nets of norm.txt, spelled in ctnn.
template <class T>
using bn_net = network<T, input<3>, dense<6>, batch_norm, tanh, dense<2>>;
template <class T>
using bn17_net = network<T, input<5>, dense<17>, relu, batch_norm, dense<3>>;
template <class T>
using ln_net = network<T, input<3>, dense<7>, layer_norm, relu, dense<2>>;
template <class T>
using ln1_net = network<T, input<4>, layer_norm, dense<19>, layer_norm, sigmoid, dense<2>>;
template <class T>
using res_net = network<T, input<3>, dense<8>, residual<dense<8>, tanh, dense<8>>,
                        residual<residual<dense<8>, relu>, layer_norm>, dense<2>>;
template <class T>
using drop0_net = network<T, input<3>, dense<5>, dropout<0.0>, relu, dense<2>>;
template <class T>
using all_net = network<T, input<4>, dense<16, ctnn::no_bias>, batch_norm, relu, dropout<0.0>,
                        residual<dense<16>, layer_norm, relu, dense<16>>, dense<3>>;

const ctnn_test::reference& ref() {
    static const ctnn_test::reference r{ctnn_test::reference_path("norm.txt")};
    return r;
}

// Parameters and buffers from records "<prefix><key>".
template <class Net>
void load_state(Net& net, const std::string& prefix) {
    ctnn_test::load_parameters(net, ref(), prefix);
    net.for_each_buffer([&](const layer_path& path, const auto& t) {
        const auto& r = ref().get(prefix + key(path, t.name));
        if (t.kind == ctnn::tensor_kind::counter) {
            t.set_counter(static_cast<std::int64_t>(r.values.at(0)));
        } else {
            REQUIRE(r.values.size() == t.size());
            for (std::size_t i = 0; i < t.size(); ++i) t.flat(i) = static_cast<typename Net::value_type>(r.values[i]);
        }
    });
}

// The largest relative error seen against the goldens, per dtype (|b| > 1e-3), reported at the end.
double max_rel_error[2] = {0, 0};
template <class T>
void track(double a, double b) {
    if (std::abs(b) > 1e-3) {
        double& m = max_rel_error[sizeof(T) == 4 ? 0 : 1];
        m = std::max(m, std::abs(a - b) / std::abs(b));
    }
}

template <class T>
struct tol {
    static constexpr double rtol = sizeof(T) == 4 ? 2e-4 : 1e-9;
    static constexpr double atol = sizeof(T) == 4 ? 2e-5 : 1e-11;
};

template <class T, class Tensor>
void check_values(const Tensor& got, const std::string& name, double scale = 1) {
    const auto& r = ref().get(name);
    REQUIRE(r.values.size() == got.size);
    for (std::size_t i = 0; i < got.size; ++i) {
        CAPTURE(name);
        CAPTURE(i);
        CHECK(ctnn_test::close<double>(got[i], r.values[i], tol<T>::rtol * scale, tol<T>::atol * scale));
        track<T>(got[i], r.values[i]);
    }
}

// Every parameter (and, with buffers = true, every buffer) against "<prefix><key>".
template <class Store>
void check_state(const Store& s, const std::string& prefix, bool buffers, double scale = 1) {
    using T = typename Store::value_type;
    auto check = [&](const layer_path& path, const auto& t) {
        const auto& r = ref().get(prefix + key(path, t.name));
        CAPTURE(prefix + key(path, t.name));
        if (t.kind == ctnn::tensor_kind::counter) {
            CHECK(t.counter() == static_cast<std::int64_t>(r.values.at(0)));
            return;
        }
        REQUIRE(r.values.size() == t.size());
        for (std::size_t i = 0; i < t.size(); ++i) {
            CAPTURE(i);
            CHECK(ctnn_test::close<double>(t.flat(i), r.values[i], tol<T>::rtol * scale, tol<T>::atol * scale));
            track<T>(t.flat(i), r.values[i]);
        }
    };
    s.for_each_parameter(check);
    if (buffers) s.for_each_buffer(check);
}

// Eval and train records of one net: forward with running statistics, then one training
// backprop (batch statistics, loss, dx, gradients, the buffers it updated).
template <class Net, std::size_t B>
void check_against_pytorch(const std::string& name) {
    constexpr bool single_sample_training = Net::min_training_batch == 1;
    using T = typename Net::value_type;
    constexpr std::size_t In = Net::input_size, Out = Net::output_size;
    const std::string prefix = name + "." + ctnn_test::dtype<T>() + ".";
    Net net{};
    load_state(net, prefix + "p.");
    const auto x = ctnn_test::tensor_from<T, B, In>(ref().get(prefix + "x"));
    const auto t = ctnn_test::tensor_from<T, B, Out>(ref().get(prefix + "t"));

    check_values<T>(net.forward(x), prefix + "eval.y");
    tensor<T, In> x1;
    for (std::size_t i = 0; i < In; ++i) x1[i] = x[i];
    check_values<T>(net.forward(x1), prefix + "eval.y1");

    typename Net::gradients g{};
    tensor<T, B, In> dx;
    ctnn::rng r{1};
    const T l = ctnn::backprop(net, loss::mse{}, x, t, g, dx, r);
    CHECK(ctnn_test::close<double>(l, ref().get(prefix + "train.loss").values[0], tol<T>::rtol, tol<T>::atol));
    check_values<T>(dx, prefix + "train.dx");
    check_state(g, prefix + "train.grad.", false, 2);
    check_state(net, prefix + "p.", false);  // parameters unchanged by backprop
    net.for_each_buffer([&](const layer_path& path, const auto& b) {
        const auto& rec = ref().get(prefix + "train.buf." + key(path, b.name));
        CAPTURE(key(path, b.name));
        if (b.kind == ctnn::tensor_kind::counter)
            CHECK(b.counter() == static_cast<std::int64_t>(rec.values[0]));
        else
            for (std::size_t i = 0; i < b.size(); ++i)
                CHECK(ctnn_test::close<double>(b.flat(i), rec.values[i], tol<T>::rtol, tol<T>::atol));
    });

    if constexpr (single_sample_training) {
        Net net1{};
        load_state(net1, prefix + "p.");
        typename Net::gradients g1{};
        tensor<T, Out> t1;
        for (std::size_t o = 0; o < Out; ++o) t1[o] = t[o];
        tensor<T, In> dx1;
        const T l1 = ctnn::backprop(net1, loss::mse{}, x1, t1, g1, dx1, r);
        CHECK(ctnn_test::close<double>(l1, ref().get(prefix + "train1.loss").values[0], tol<T>::rtol, tol<T>::atol));
        check_values<T>(dx1, prefix + "train1.dx");
        check_state(g1, prefix + "train1.grad.", false, 2);
    }
}

TEST_CASE_TEMPLATE("PyTorch goldens: forward in both modes, gradients, running statistics", T, float, double) {
    SUBCASE("bn") { check_against_pytorch<bn_net<T>, 6>("bn"); }
    SUBCASE("bn17") { check_against_pytorch<bn17_net<T>, 9>("bn17"); }
    SUBCASE("ln") { check_against_pytorch<ln_net<T>, 5>("ln"); }
    SUBCASE("ln1") { check_against_pytorch<ln1_net<T>, 3>("ln1"); }
    SUBCASE("res") { check_against_pytorch<res_net<T>, 4>("res"); }
    SUBCASE("drop0") { check_against_pytorch<drop0_net<T>, 4>("drop0"); }
    SUBCASE("all") { check_against_pytorch<all_net<T>, 8>("all"); }
}

TEST_CASE_TEMPLATE("PyTorch goldens: 25 Adam steps of a network with all four layers", T, float, double) {
    using Net = all_net<T>;
    const std::string prefix = std::string("all.") + ctnn_test::dtype<T>() + ".";
    Net net{};
    load_state(net, prefix + "p.");
    const auto x = ctnn_test::tensor_from<T, 8, 4>(ref().get(prefix + "x"));
    const auto t = ctnn_test::tensor_from<T, 8, 3>(ref().get(prefix + "t"));
    ctnn::trainer<Net, loss::mse, ctnn::optim::adam> tr{net, {.lr = 1e-2}};
    const auto& losses = ref().get(prefix + "traj.loss");
    for (std::size_t k = 0; k < 25; ++k) {
        CAPTURE(k);
        const T l = tr.step(x, t);
        CHECK(ctnn_test::close<double>(l, losses.values[k], sizeof(T) == 4 ? 1e-3 : 1e-7, 1e-6));
    }
    check_state(net, prefix + "traj.p.", true, sizeof(T) == 4 ? 5 : 100);
    check_values<T>(net.forward(x), prefix + "traj.eval.y", sizeof(T) == 4 ? 5 : 100);
}

// ---- the finite-difference gradient law -------------------------------------------------------

// For every parameter and input element, backprop's derivative equals the central difference.
// Random layers see the same mask in every evaluation: each call gets a copy of one generator.
template <class Net, std::size_t B>
void check_gradient_law(std::uint64_t seed) {
    Net net{};
    ctnn::init::torch_default(net, seed);
    // Non-trivial normalization parameters.
    ctnn::rng r{seed + 1};
    net.for_each_parameter([&](const layer_path&, const auto& t) {
        if (t.rank == 1 && t.name == "weight")
            for (std::size_t k = 0; k < t.size(); ++k) t.flat(k) = 1 + 0.3 * r.normal<double>();
        if (t.rank == 1 && t.name == "bias")
            for (std::size_t k = 0; k < t.size(); ++k) t.flat(k) = 0.2 * r.normal<double>();
    });
    tensor<double, B, Net::input_size> x;
    for (auto& v : x) v = 1.5 * r.normal<double>();
    tensor<double, B, Net::output_size> y;
    for (auto& v : y) v = r.normal<double>();
    const ctnn::rng masks{seed + 2};

    typename Net::gradients g{};
    tensor<double, B, Net::input_size> dx;
    ctnn::rng m = masks;
    const double loss = ctnn::backprop(net, loss::mse{}, x, y, g, dx, m);
    CHECK(std::isfinite(loss));
    auto loss_at = [&] {
        typename Net::gradients scratch{};
        ctnn::rng mm = masks;
        return ctnn::backprop(net, loss::mse{}, x, y, scratch, mm);
    };
    ctnn_test::check_finite_differences(net, g, x, dx, loss_at);
}

TEST_CASE("gradient law: batch_norm, layer_norm, dropout with a fixed mask, residual blocks") {
    check_gradient_law<network<double, input<5>, dense<11>, batch_norm, tanh, dense<3>>, 7>(21);
    check_gradient_law<network<double, input<4>, batch_norm, dense<2>>, 2>(22);  // first layer, smallest batch
    check_gradient_law<network<double, input<5>, dense<11>, layer_norm, tanh, dense<3>>, 4>(23);
    check_gradient_law<network<double, input<5>, layer_norm, dense<3>>, 1>(24);
    check_gradient_law<network<double, input<5>, dense<13>, dropout<0.3>, tanh, dense<3>>, 6>(25);
    check_gradient_law<network<double, input<5>, dropout<0.5>, dense<3>>, 1>(26);
    check_gradient_law<network<double, input<5>, dense<9>, residual<dense<9>, tanh, dense<9>>, dense<2>>, 3>(27);
    check_gradient_law<network<double, input<6>, residual<residual<dense<6>, relu, dense<6>>, layer_norm, dropout<0.2>>,
                                batch_norm, dense<2>>,
                        5>(28);
    // A batch of 40: batch norm sees the whole batch at once (backprop's chunks are 32 samples).
    check_gradient_law<network<double, input<3>, dense<5>, batch_norm, relu, dense<1>>, 40>(29);
}

// ---- dropout ---------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("dropout: identity in inference, inverted scaling and the kept fraction in training", T, float,
                   double) {
    constexpr double p = 0.3;
    using Net = network<T, input<100>, dropout<p>>;
    Net net{};
    tensor<T, 64, 100> x;
    ctnn::rng r{5};
    for (auto& v : x) v = static_cast<T>(0.5 + r.uniform<double>());  // never zero
    const auto y = net.forward(x);
    CHECK(std::equal(y.begin(), y.end(), x.begin()));

    // Training: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p). An upstream gradient of ones
    // gives dx = the mask times the scale.
    typename Net::gradients g{};
    tensor<T, 64, 100> ones, dx;
    for (auto& v : ones) v = T(1);
    ctnn::rng masks{7};
    ctnn::backward(net, x, ones, g, dx, masks);
    const T scale = T(1) / static_cast<T>(1 - p);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < dx.size; ++i) {
        CHECK((dx[i] == T(0) || dx[i] == scale));
        kept += dx[i] != T(0);
    }
    const double n = static_cast<double>(dx.size), frac = static_cast<double>(kept) / n;
    // Binomial: 6400 draws, sigma = sqrt(p (1 - p) / n) = 0.0057; allow 4 sigma.
    CHECK(std::abs(frac - (1 - p)) < 4 * std::sqrt(p * (1 - p) / n));

    // The forward values: the same mask (same generator state) gives y = x * scale on kept elements.
    ctnn::rng again{7};
    tensor<T, 64, 100> target{};
    const T l = ctnn::backprop(net, loss::half_mse{}, x, target, g, again);
    double expected = 0;
    for (std::size_t i = 0; i < x.size; ++i) {
        const double v = dx[i] == T(0) ? 0.0 : static_cast<double>(x[i] * scale);
        expected += 0.5 * v * v;
    }
    CHECK(static_cast<double>(l) == doctest::Approx(expected / n).epsilon(1e-5));

    // Reproducible by seed, different across seeds and across steps.
    tensor<T, 64, 100> dx2, dx3;
    ctnn::rng same{7}, other{8};
    ctnn::backward(net, x, ones, g, dx2, same);
    CHECK(dx2 == dx);
    ctnn::backward(net, x, ones, g, dx3, same);  // the generator moved on
    CHECK(!(dx3 == dx));
    ctnn::backward(net, x, ones, g, dx3, other);
    CHECK(!(dx3 == dx));
}

TEST_CASE("dropout: p = 0 is the identity in training, p = 1 zeroes everything") {
    tensor<float, 3, 4> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, ones, dx;
    for (auto& v : ones) v = 1;
    network<float, input<4>, dropout<1.0>> all;
    network<float, input<4>, dropout<1.0>>::gradients g{};
    ctnn::rng r{1};
    ctnn::backward(all, x, ones, g, dx, r);
    for (float v : dx) CHECK(v == 0);
    static_assert(!network<float, input<4>, dropout<0.0>>::stochastic);
    static_assert(network<float, input<4>, dropout<>>::stochastic);
    network<float, input<4>, dropout<0.0>> none;
    network<float, input<4>, dropout<0.0>>::gradients g0{};
    ctnn::backward(none, x, ones, g0, dx);  // no generator needed
    for (float v : dx) CHECK(v == 1);
}

TEST_CASE("the trainer's generator drives dropout: the same seed gives the same run") {
    using Net = network<float, input<4>, dense<32>, relu, dropout<0.5>, dense<1>>;
    tensor<float, 8, 4> x;
    tensor<float, 8, 1> y;
    ctnn::rng r{3};
    for (auto& v : x) v = r.normal<float>();
    for (auto& v : y) v = r.normal<float>();
    auto run = [&](std::uint64_t seed) {
        Net net{};
        ctnn::init::he_uniform(net, 1);
        ctnn::trainer<Net, loss::mse, ctnn::optim::sgd> tr{net, {.lr = 0.05}, {.seed = seed}};
        for (int k = 0; k < 10; ++k) tr.step(x, y);
        return net;
    };
    CHECK(run(1) == run(1));
    CHECK(!(run(1) == run(2)));
}

// ---- batch norm --------------------------------------------------------------------------------

TEST_CASE("batch_norm: buffers, their names and initial values, and the running statistics") {
    using Net = network<double, input<3>, batch_norm, dense<2>>;
    static_assert(Net::min_training_batch == 2);
    static_assert(Net::parameter_count == 3 + 3 + 3 * 2 + 2);
    Net net{};
    std::vector<std::string> names;
    net.for_each_buffer([&](const layer_path& p, const auto& t) { names.push_back(key(p, t.name)); });
    CHECK(names == std::vector<std::string>{"0.running_mean", "0.running_var", "0.num_batches_tracked"});
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(net.layer<0>().running_mean(j) == 0);
        CHECK(net.layer<0>().running_var(j) == 1);
        CHECK(net.layer<0>().weight(j) == 0);  // Net{}: every parameter zero
    }
    ctnn::init::xavier_uniform(net, 1);
    for (std::size_t j = 0; j < 3; ++j) CHECK(net.layer<0>().weight(j) == 1);

    // Two steps of training: running = 0.9 running + 0.1 batch (unbiased variance).
    tensor<double, 4, 3> x{1, 2, 3, 2, 4, 6, 3, 6, 9, 6, 0, 1};
    tensor<double, 4, 2> t{};
    Net::gradients g{};
    ctnn::backprop(net, loss::mse{}, x, t, g);
    ctnn::backprop(net, loss::mse{}, x, t, g);
    for (std::size_t j = 0; j < 3; ++j) {
        double mean = 0, var = 0;
        for (std::size_t s = 0; s < 4; ++s) mean += x(s, j) / 4;
        for (std::size_t s = 0; s < 4; ++s) var += (x(s, j) - mean) * (x(s, j) - mean) / 3;
        CHECK(net.layer<0>().running_mean(j) == doctest::Approx(0.19 * mean));
        CHECK(net.layer<0>().running_var(j) == doctest::Approx(0.81 + 0.19 * var));
    }
    CHECK(net.layer<0>().num_batches_tracked() == 2);
    // Inference uses the running statistics: forward does not change them, and differs from training.
    const Net before = net;
    (void)net.forward(x);
    CHECK(net == before);
    net.reset_buffers();
    CHECK(net.layer<0>().num_batches_tracked() == 0);
    CHECK(net.layer<0>().running_var(0) == 1);
}

// ---- residual blocks -------------------------------------------------------------------------

TEST_CASE("residual: names nest like a PyTorch module, views reach inside, the DSL spells the same type") {
    using Net = network<float, input<4>, dense<8>, relu, tanh,
                        residual<dense<8>, relu, residual<dense<8>, layer_norm>, batch_norm>, dense<1>>;
    static_assert(std::is_same_v<Net, ctnn::network_of<float, input<4> | dense<8> | relu | tanh |
                                                                   ctnn::residual_of<dense<8> | relu |
                                                                                     residual<dense<8>, layer_norm> |
                                                                                     batch_norm> |
                                                                   dense<1>>>);
    static_assert(Net::parameter_count == (4 * 8 + 8) + (8 * 8 + 8) + (8 * 8 + 8) + 16 + 16 + (8 + 1));
    static_assert(Net::output_size == 1 && Net::layer_count == 5);
    Net net{};
    std::vector<std::string> names;
    net.for_each_parameter([&](const layer_path& p, const auto& t) { names.push_back(key(p, t.name)); });
    net.for_each_buffer([&](const layer_path& p, const auto& t) { names.push_back(key(p, t.name)); });
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "3.0.weight", "3.0.bias", "3.2.0.weight",
                                            "3.2.0.bias", "3.2.1.weight", "3.2.1.bias", "3.3.weight", "3.3.bias",
                                            "4.weight", "4.bias", "3.3.running_mean", "3.3.running_var",
                                            "3.3.num_batches_tracked"});
    net.layer<3>().layer<0>().weight(2, 1) = 5;
    net.layer<3>().layer<2>().layer<1>().bias(7) = 6;
    net.layer<3>().layer<3>().running_mean(1) = 7;
    std::size_t seen = 0;
    net.for_each_parameter([&](const layer_path& p, const auto& t) {
        if (key(p, t.name) == "3.0.weight") { CHECK(t(2, 1) == 5); ++seen; }
        if (key(p, t.name) == "3.2.1.bias") { CHECK(t(7) == 6); ++seen; }
    });
    net.for_each_buffer([&](const layer_path& p, const auto& t) {
        if (key(p, t.name) == "3.3.running_mean") { CHECK(t(1) == 7); ++seen; }
    });
    CHECK(seen == 3);
    Net::gradients g{};
    g.layer<3>().layer<2>().layer<0>().weight(0, 0) = 1;  // the gradients' views reach inside too
}

TEST_CASE("residual: y = x + f(x), single sample and batch, on the scalar and SIMD paths") {
    using Branch = network<float, input<5>, dense<5>, tanh, dense<5>>;
    using Net = network<float, input<5>, residual<dense<5>, tanh, dense<5>>>;
    Branch f{};
    ctnn::init::torch_default(f, 9);
    Net net{};
    net.for_each_parameter([&](const layer_path& p, const auto& t) {
        f.for_each_parameter([&](const layer_path& q, const auto& u) {
            if (p.index[1] == q.index[0] && t.name == u.name)
                for (std::size_t k = 0; k < t.size(); ++k) t.flat(k) = u.flat(k);
        });
    });
    tensor<float, 3, 5> x;
    ctnn::rng r{2};
    for (auto& v : x) v = r.normal<float>();
    const auto y = net.forward(x), fx = f.forward(x);
    for (std::size_t i = 0; i < x.size; ++i) CHECK(y[i] == fx[i] + x[i]);
    tensor<float, 5> x1;
    for (std::size_t i = 0; i < 5; ++i) x1[i] = x[i];
    const auto y1 = net.forward(x1);
    for (std::size_t i = 0; i < 5; ++i) CHECK(y1[i] == y[i]);
}

TEST_CASE("the largest relative error against PyTorch (shown with -s)") {
    MESSAGE("norm goldens, max relative error where |value| > 1e-3: float " << max_rel_error[0] << ", double "
                                                                           << max_rel_error[1]);
}

}  // namespace
