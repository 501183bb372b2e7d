// training against PyTorch (scripts/gen_reference.py: tests/reference/backprop.txt, optim.txt):
// - backprop: the loss, every parameter gradient and the input gradient, for nets that use every
//   activation and every loss, on one sample and on a batch, float and double; the loss alone
//   (its value and dL/dy) through a dense layer set to the identity; backward() from PyTorch's dL/dy;
// - trainer: the parameters after 25 full-batch steps and the loss of every step, for every
//   optimizer and its options, a learning-rate schedule, gradient clipping and the L1 penalty;
// - schedules: each closed form against PyTorch's scheduler over 40 epochs.
//
// Set CTNN_TEST_REPORT_ERRORS=1 to print the largest errors against PyTorch per category at exit.
#include <support/nets.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <type_traits>

namespace {

// ctnn's activation names (tanh, erf, ...) collide with <cmath>'s in the global namespace, so
// they are brought in by name rather than with a using-directive.
using ctnn::network;
using ctnn::input;
using ctnn::dense;
using ctnn::no_bias;
using ctnn::tensor;
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
namespace loss = ctnn::loss;
namespace optim = ctnn::optim;

const ctnn_test::reference& backprop_reference() {
    static const ctnn_test::reference ref{ctnn_test::reference_path("backprop.txt")};
    return ref;
}
const ctnn_test::reference& optim_reference() {
    static const ctnn_test::reference ref{ctnn_test::reference_path("optim.txt")};
    return ref;
}

// Tolerances against PyTorch. Gradients: a few roundings per layer, relative to the value, with
// a small floor for gradients near zero. Trajectories: 25 steps let the roundings grow.
template <class T>
constexpr double grad_rtol = sizeof(T) == 4 ? 1e-4 : 1e-9;
template <class T>
constexpr double grad_atol = sizeof(T) == 4 ? 1e-6 : 1e-13;
template <class T>
constexpr double traj_rtol = sizeof(T) == 4 ? 1e-3 : 1e-7;
template <class T>
constexpr double traj_atol = sizeof(T) == 4 ? 1e-5 : 1e-11;

// ---- error statistics, printed at exit with CTNN_TEST_REPORT_ERRORS=1 --------------------------
struct error_stats {
    std::size_t count = 0;
    double max_abs = 0;        // max |ctnn - torch|
    double max_rel = 0;        // max |ctnn - torch| / |torch| over |torch| >= 1e-3
    double max_ratio = 0;      // max |ctnn - torch| / (atol + rtol |torch|): <= 1 passes
    std::string worst;         // where max_ratio was reached
};

struct error_report {
    std::map<std::string, error_stats> by_category;
    ~error_report() {
        const char* env = std::getenv("CTNN_TEST_REPORT_ERRORS");
        if (env == nullptr || *env == '\0' || *env == '0') return;
        std::printf("\nerrors against PyTorch (test_training):\n");
        for (const auto& [name, s] : by_category)
            std::printf("  %-28s n=%-6zu max abs %.3e  max rel %.3e  max err/tol %.3f  (%s)\n", name.c_str(), s.count,
                        s.max_abs, s.max_rel, s.max_ratio, s.worst.c_str());
    }
};
error_report& report() {
    static error_report r;
    return r;
}

std::string full(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

// Compares got with PyTorch's want, records the error, and fails with both values.
template <class T>
void compare(const std::string& category, const std::string& what, T got, double want, double rtol, double atol) {
    auto& s = report().by_category[category + " " + ctnn_test::dtype<T>()];
    const double err = std::abs(static_cast<double>(got) - want);
    ++s.count;
    if (std::isfinite(err)) {
        s.max_abs = std::max(s.max_abs, err);
        if (std::abs(want) >= 1e-3) s.max_rel = std::max(s.max_rel, err / std::abs(want));
        const double ratio = err / (atol + rtol * std::abs(want));
        if (ratio > s.max_ratio) {
            s.max_ratio = ratio;
            s.worst = what;
        }
    } else if (!(std::isnan(want) && std::isnan(static_cast<double>(got)))) {
        s.max_ratio = INFINITY;
        s.worst = what;
    }
    CHECK_MESSAGE(close(got, static_cast<T>(want), rtol, atol),
                  what << ": ctnn " << full(static_cast<double>(got)) << ", PyTorch " << full(want) << " (" << category
                       << ")");
}

template <class X>
X tensor_of(const ctnn_test::record& r) {
    X t{};
    REQUIRE_MESSAGE(r.values.size() == X::size, "record " << r.name << " has the wrong size");
    for (std::size_t i = 0; i < X::size; ++i) t[i] = static_cast<typename X::value_type>(r.values[i]);
    return t;
}

// ---- backprop: nets and losses of backprop.txt ---------------------------------------------------
template <class T>
struct bnets {
    using ga = network<T, input<3>, dense<7>, tanh, dense<5>, sigmoid, dense<4>, identity>;
    using gb = network<T, input<6>, dense<9>, relu, dense<8, no_bias>, leaky_relu<0.01>, dense<7>, elu<1.0>, dense<4>>;
    using gc = network<T, input<5>, dense<8>, gelu, dense<8>, gelu_tanh, dense<6>, silu, dense<5>, softplus<1.0, 20.0>,
                       dense<3, no_bias>>;
    using gd = network<T, input<4>, dense<10>, leaky_relu<0.2>, dense<6>, elu<0.5>, dense<6>, softplus<2.0, 10.0>,
                       dense<3>, sigmoid>;
    using ge = network<T, input<5>, dense<6>, softmax, dense<4>, tanh, dense<3>, softmax>;
    using gz = network<T, input<4>, dense<6>, relu, dense<6>, leaky_relu<0.1>, dense<6>, elu<0.5>, dense<4>>;
    using gs = network<T, input<3>, dense<5>, tanh, dense<4>, sigmoid>;
    using gy = network<T, input<4>, dense<6>, tanh, dense<5>>;
};

constexpr std::size_t batch = 5;  // the batch size of backprop.txt

template <class T, bool Batch, std::size_t N>
using sample_or_batch = std::conditional_t<Batch, tensor<T, batch, N>, tensor<T, N>>;

// The loss alone: its value and dL/dy on PyTorch's output y, through a dense layer that is the
// identity (weights I, bias 0: y and dL/dx = dL/dy pass exactly).
template <class T, class Loss, bool Batch, std::size_t Out>
void check_loss_alone(const std::string& p) {
    using Id = network<T, input<Out>, dense<Out>>;
    using Y = sample_or_batch<T, Batch, Out>;
    const auto& ref = backprop_reference();
    Id id{};
    for (std::size_t o = 0; o < Out; ++o) id.template layer<0>().weight(o, o) = T(1);
    typename Id::gradients none{};
    const Y y = tensor_of<Y>(ref.get(p + "y")), t = tensor_of<Y>(ref.get(p + "t"));
    Y dy{};
    const T l = ctnn::backprop(id, Loss{}, y, t, none, dy);
    compare("loss (on torch's y)", p + "loss", l, ref.get(p + "loss").values[0], grad_rtol<T>, grad_atol<T>);
    const auto& dyref = ref.get(p + "dy").values;
    for (std::size_t i = 0; i < Y::size; ++i)
        compare("dL/dy (on torch's y)", p + "dy[" + std::to_string(i) + "]", dy[i], dyref[i], grad_rtol<T>,
                grad_atol<T>);
}

template <class Net, class Loss, bool Batch>
void check_backprop(const std::string& net_name, const std::string& loss_name) {
    using T = typename Net::value_type;
    using X = sample_or_batch<T, Batch, Net::input_size>;
    using Y = sample_or_batch<T, Batch, Net::output_size>;
    const auto& ref = backprop_reference();
    const std::string dt = ctnn_test::dtype<T>(), mode = Batch ? "b" : "s";
    const std::string p = net_name + "." + loss_name + "." + dt + "." + mode + ".";
    CAPTURE(p);

    Net net{};
    ctnn_test::load_parameters(net, ref, net_name + "." + dt + ".");
    const X x = tensor_of<X>(ref.get(net_name + "." + dt + "." + mode + ".x"));
    const Y t = tensor_of<Y>(ref.get(p + "t"));

    check_loss_alone<T, Loss, Batch, Net::output_size>(p);

    // forward (training behaviour) equals PyTorch's output
    const auto y = net.forward(x);
    const auto& yref = ref.get(p + "y").values;
    for (std::size_t i = 0; i < Y::size; ++i)
        compare("output", p + "y[" + std::to_string(i) + "]", y[i], yref[i], grad_rtol<T>, grad_atol<T>);

    typename Net::gradients g{};
    X dx{};
    const T l = ctnn::backprop(net, Loss{}, x, t, g, dx);
    compare("loss", p + "loss", l, ref.get(p + "loss").values[0], grad_rtol<T>, grad_atol<T>);
    auto check_grads = [&](const typename Net::gradients& gg, const char* category) {
        gg.for_each_parameter([&](const ctnn::layer_path& path, const auto& gt) {
            const std::string k = ctnn_test::key(path, gt.name);
            const auto& r = ref.get(p + "grad." + k);
            REQUIRE(r.values.size() == gt.size());
            for (std::size_t i = 0; i < gt.size(); ++i)
                compare(category, p + "grad." + k + "[" + std::to_string(i) + "]", gt.flat(i), r.values[i],
                        grad_rtol<T>, grad_atol<T>);
        });
    };
    check_grads(g, "dL/dparam");
    const auto& dxref = ref.get(p + "dx").values;
    for (std::size_t i = 0; i < X::size; ++i)
        compare("dL/dx", p + "dx[" + std::to_string(i) + "]", dx[i], dxref[i], grad_rtol<T>, grad_atol<T>);

    // Without dx: the same loss and gradients. A second call accumulates the same gradients again.
    typename Net::gradients g2{};
    CHECK(ctnn::backprop(net, Loss{}, x, t, g2) == l);
    CHECK(g2 == g);
    ctnn::backprop(net, Loss{}, x, t, g2);
    {
        const auto a = g.parameter_block(), b = g2.parameter_block();
        for (std::size_t i = 0; i < a.size(); ++i)
            compare("accumulated 2x (vs ctnn)", p + "block[" + std::to_string(i) + "]", b[i],
                    2 * static_cast<double>(a[i]), 16 * eps<T>, grad_atol<T> / 100);
    }

    // backward() from PyTorch's dL/dy gives PyTorch's gradients.
    typename Net::gradients g3{};
    X dx3{};
    ctnn::backward(net, x, tensor_of<Y>(ref.get(p + "dy")), g3, dx3);
    check_grads(g3, "dL/dparam (backward)");
    for (std::size_t i = 0; i < X::size; ++i)
        compare("dL/dx (backward)", p + "dx[" + std::to_string(i) + "]", dx3[i], dxref[i], grad_rtol<T>, grad_atol<T>);
}

template <class Net, class Loss>
void check_case(const char* net_name, const char* loss_name) {
    check_backprop<Net, Loss, false>(net_name, loss_name);
    check_backprop<Net, Loss, true>(net_name, loss_name);
}

// ---- trainer: runs of optim.txt ----------------------------------------------------------------
template <class T>
struct onets {
    using R = network<T, input<3>, dense<7>, tanh, dense<5>, relu, dense<2>>;
    using C = network<T, input<4>, dense<6>, tanh, dense<3>>;
};
constexpr std::size_t optim_batch = 8, optim_steps = 25;

struct no_schedule {};

template <class Net, class Loss, class Optimizer, class Schedule = no_schedule>
void check_run(const std::string& net_name, const std::string& run, Optimizer opt, ctnn::trainer_options options = {},
               Schedule schedule = {}) {
    using T = typename Net::value_type;
    using X = tensor<T, optim_batch, Net::input_size>;
    using Y = tensor<T, optim_batch, Net::output_size>;
    const auto& ref = optim_reference();
    const std::string dt = ctnn_test::dtype<T>();
    const std::string p = net_name + "." + run + "." + dt + ".";
    CAPTURE(p);

    Net net{};
    ctnn_test::load_parameters(net, ref, net_name + "." + dt + ".");
    const X x = tensor_of<X>(ref.get(net_name + "." + dt + ".x"));
    const Y y = tensor_of<Y>(ref.get(net_name + "." + dt + ".y"));
    ctnn::trainer<Net, Loss, Optimizer> tr{net, opt, options};
    const double base_lr = opt.lr;
    const auto& losses = ref.get(p + "losses").values;
    REQUIRE(losses.size() == optim_steps);
    for (std::size_t k = 0; k < optim_steps; ++k) {
        if constexpr (!std::is_same_v<Schedule, no_schedule>) tr.optimizer().lr = schedule.lr(base_lr, k);
        const T l = tr.step(x, y);
        compare(k == 0 ? "trainer loss (step 1)" : "trainer loss (steps 2-25)", p + "losses[" + std::to_string(k) + "]",
                l, losses[k], k == 0 ? grad_rtol<T> : traj_rtol<T>, k == 0 ? grad_atol<T> : traj_atol<T>);
    }
    net.for_each_parameter([&](const ctnn::layer_path& path, const auto& w) {
        const std::string k = ctnn_test::key(path, w.name);
        const auto& r = ref.get(p + k);
        REQUIRE(r.values.size() == w.size());
        for (std::size_t i = 0; i < w.size(); ++i)
            compare("parameters after 25 steps", p + k + "[" + std::to_string(i) + "]", w.flat(i), r.values[i],
                    traj_rtol<T>, traj_atol<T>);
    });
}

template <class Net, class Loss>
void check_all_runs(const char* n) {
    check_run<Net, Loss>(n, "sgd", optim::sgd{.lr = 0.1});
    check_run<Net, Loss>(n, "sgd_momentum", optim::sgd{.lr = 0.1, .momentum = 0.9});
    check_run<Net, Loss>(n, "sgd_dampening", optim::sgd{.lr = 0.1, .momentum = 0.9, .dampening = 0.1});
    check_run<Net, Loss>(n, "sgd_nesterov", optim::sgd{.lr = 0.1, .momentum = 0.9, .nesterov = true});
    check_run<Net, Loss>(n, "sgd_wd", optim::sgd{.lr = 0.1, .weight_decay = 0.05});
    check_run<Net, Loss>(n, "adam", optim::adam{.lr = 0.01});
    check_run<Net, Loss>(n, "adam_betas", optim::adam{.lr = 0.01, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6});
    check_run<Net, Loss>(n, "adam_wd", optim::adam{.lr = 0.01, .weight_decay = 0.05});
    check_run<Net, Loss>(n, "adam_amsgrad", optim::adam{.lr = 0.01, .amsgrad = true});
    check_run<Net, Loss>(n, "adamw", optim::adamw{.lr = 0.01});  // PyTorch's default weight_decay 1e-2
    check_run<Net, Loss>(n, "adamw_wd", optim::adamw{.lr = 0.01, .weight_decay = 0.1, .amsgrad = true});
    check_run<Net, Loss>(n, "rmsprop", optim::rmsprop{.lr = 0.01});
    check_run<Net, Loss>(n, "rmsprop_centered", optim::rmsprop{.lr = 0.01, .momentum = 0.9, .centered = true});
    check_run<Net, Loss>(n, "rmsprop_wd", optim::rmsprop{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.05});
    check_run<Net, Loss>(n, "adagrad", optim::adagrad{.lr = 0.1});
    check_run<Net, Loss>(n, "adagrad_full", optim::adagrad{.lr = 0.1, .lr_decay = 0.01, .weight_decay = 0.05,
                                                           .initial_accumulator_value = 0.1});
    check_run<Net, Loss>(n, "sched_step", optim::sgd{.lr = 0.1, .momentum = 0.9}, {},
                         optim::step_lr{.step_size = 5, .gamma = 0.5});
    check_run<Net, Loss>(n, "sched_cosine", optim::adam{.lr = 0.01}, {},
                         optim::cosine_annealing_lr{.t_max = 10, .eta_min = 1e-4});
    check_run<Net, Loss>(n, "clip_norm", optim::sgd{.lr = 0.1, .momentum = 0.9},
                         ctnn::trainer_options{.clip_grad_norm = 0.25});
    check_run<Net, Loss>(n, "clip_value", optim::sgd{.lr = 0.1}, ctnn::trainer_options{.clip_grad_value = 0.05});
    check_run<Net, Loss>(n, "l1", optim::sgd{.lr = 0.1}, ctnn::trainer_options{.l1 = 1e-3});
}

template <class Schedule>
void check_schedule(const std::string& name, const Schedule& s) {
    const auto& r = optim_reference().get("schedule." + name);
    const double base = 0.1;  // SCHEDULE_BASE_LR
    for (std::size_t k = 0; k < r.values.size(); ++k)
        compare("schedule lr", name + "[" + std::to_string(k) + "]", s.lr(base, k), r.values[k], 1e-12, 1e-15);
}

}  // namespace

TEST_CASE_TEMPLATE("backprop matches PyTorch: every activation, every loss, sample and batch", T, float, double) {
    using N = bnets<T>;
    // ga: tanh, sigmoid, identity; the element-wise regression losses
    check_case<typename N::ga, loss::mse>("ga", "mse");
    check_case<typename N::ga, loss::l1>("ga", "l1");
    check_case<typename N::ga, loss::huber<1.0>>("ga", "huber1");
    check_case<typename N::ga, loss::huber<0.5>>("ga", "huber05");
    check_case<typename N::ga, loss::smooth_l1<1.0>>("ga", "smoothl1_1");
    check_case<typename N::ga, loss::smooth_l1<0.5>>("ga", "smoothl1_05");
    // gb: relu, dense without bias, leaky_relu, elu; cross-entropy with one-hot and probability targets
    check_case<typename N::gb, loss::cross_entropy>("gb", "ce");
    check_case<typename N::gb, loss::cross_entropy>("gb", "ce_prob");
    check_case<typename N::gb, loss::mse>("gb", "mse");
    // gc: gelu, gelu_tanh, silu, softplus, dense without bias last
    check_case<typename N::gc, loss::nll>("gc", "nll");
    check_case<typename N::gc, loss::bce_with_logits>("gc", "bce_logits");
    check_case<typename N::gc, loss::smooth_l1<1.0>>("gc", "smoothl1_1");
    // gd: leaky_relu 0.2, elu 0.5, softplus(2, 10), sigmoid output for bce
    check_case<typename N::gd, loss::bce>("gd", "bce");
    check_case<typename N::gd, loss::mse>("gd", "mse");
    // ge: softmax inside and at the output
    check_case<typename N::ge, loss::mse>("ge", "mse");
    check_case<typename N::ge, loss::bce>("ge", "bce");
    check_case<typename N::ge, loss::l1>("ge", "l1");
}

TEST_CASE_TEMPLATE("backprop matches PyTorch at the edges", T, float, double) {
    using N = bnets<T>;
    // gz: relu, leaky_relu and elu see exact zeros (PyTorch: relu'(0) = 0, leaky_relu'(0) = slope,
    // elu'(0) = alpha); output 0 is exactly 0 and the targets put y - t exactly on 0 (l1: sign(0) = 0)
    // or on +-delta / +-beta (the branch points of huber and smooth_l1)
    check_case<typename N::gz, loss::l1>("gz", "l1");
    check_case<typename N::gz, loss::mse>("gz", "mse");
    check_case<typename N::gz, loss::huber<0.5>>("gz", "huber05");
    check_case<typename N::gz, loss::huber<1.0>>("gz", "huber1");
    check_case<typename N::gz, loss::smooth_l1<0.5>>("gz", "smoothl1_05");
    check_case<typename N::gz, loss::smooth_l1<1.0>>("gz", "smoothl1_1");
    // gs: bce on sigmoid outputs that are exactly 1, below e^-100 (or 0 in float), and ~9.4e-14
    // (PyTorch clamps each log at -100 and the gradient's denominator y (1 - y) at EPSILON)
    check_case<typename N::gs, loss::bce>("gs", "bce");
    // gy: cross-entropy on logits +-300 (e^300 overflows float and is the stable path's job)
    check_case<typename N::gy, loss::cross_entropy>("gy", "ce");
    check_case<typename N::gy, loss::cross_entropy>("gy", "ce_prob");
}

TEST_CASE_TEMPLATE("trainer matches PyTorch over 25 steps: every optimizer, schedule, clipping, l1", T, float,
                   double) {
    check_all_runs<typename onets<T>::R, loss::mse>("R");
    check_all_runs<typename onets<T>::C, loss::cross_entropy>("C");
}

TEST_CASE("learning-rate schedules match PyTorch's schedulers over 40 epochs") {
    check_schedule("step_lr", optim::step_lr{.step_size = 3, .gamma = 0.5});
    check_schedule("multi_step_lr", optim::multi_step_lr<3>{.milestones = {2, 5, 9}, .gamma = 0.3});
    check_schedule("exponential_lr", optim::exponential_lr{.gamma = 0.9});
    check_schedule("cosine_annealing_lr", optim::cosine_annealing_lr{.t_max = 10, .eta_min = 0.001});
    check_schedule("linear_warmup", optim::linear_warmup{.start_factor = 0.25, .end_factor = 1.0, .total_iters = 8});
}

// ---- the fused one-sample step --------------------------------------------------------------
// On one sample, a trainer applies the optimizer inside the backward pass (sequence::backward_step)
// when the parameter block is large or tiny (trainer::fuses_one_sample_steps). It must give the bits of the separate pass that the
// PyTorch trajectories above check: the loss, the parameters, the gradients and the optimizer
// state after every step. The reference trainer takes the separate pass because it clips the
// gradient norm at 1e30, which never scales them.
namespace {

template <class Net, class Optimizer>
void check_fused_step(Optimizer optimizer) {
    using T = typename Net::value_type;
    using Trainer = ctnn::trainer<Net, loss::mse, Optimizer>;
    static Net fused_net{}, separate_net{};
    ctnn::init::he_uniform(fused_net, 11);
    separate_net = fused_net;
    static Trainer fused{fused_net, optimizer};
    static Trainer separate{separate_net, optimizer, ctnn::trainer_options{.clip_grad_norm = 1e30}};
    const auto bits_equal = [](const auto& a, const auto& b) {
        return std::memcmp(a.parameter_block().data(), b.parameter_block().data(), sizeof(T) * a.parameter_block().size()) == 0;
    };
    ctnn::rng r{5};
    tensor<T, Net::input_size> x;
    tensor<T, Net::output_size> y;
    for (int step = 0; step < 12; ++step) {
        for (auto& v : x) v = r.uniform<T>(T(-1), T(1));
        for (auto& v : y) v = r.uniform<T>(T(-1), T(1));
        const T a = fused.step(x, y), b = separate.step(x, y);
        CHECK(std::memcmp(&a, &b, sizeof(T)) == 0);
    }
    CHECK(bits_equal(fused_net, separate_net));
    CHECK(bits_equal(fused.gradients(), separate.gradients()));
    CHECK(std::memcmp(&fused.state(), &separate.state(), sizeof(fused.state())) == 0);
    CHECK(!bits_equal(fused_net, Net{}));  // it trained
}

}  // namespace

TEST_CASE_TEMPLATE("the fused one-sample step gives the separate optimizer pass's bits", T, float, double) {
    using ctnn::layer_norm, ctnn::residual;
    using M = network<T, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>;  // rows and dots kernels
    // layers that step from their gradient slice (layer_norm, a residual block), an activation that
    // does not fuse (gelu), a dense layer without bias, and an input width off the register width
    using N = network<T, input<23>, dense<48>, layer_norm, gelu, residual<dense<48>, ctnn::tanh>, dense<40, no_bias>, sigmoid,
                      dense<3>>;
    using ctnn::trainer;
    static_assert(trainer<M, loss::mse, optim::adam>::fuses_one_sample_steps &&
                  trainer<N, loss::mse, optim::adam>::fuses_one_sample_steps);
    using Tiny = network<T, input<2>, dense<8>, ctnn::tanh, dense<1>>;  // fused where it takes <= 256 bytes
    if constexpr (trainer<Tiny, loss::mse, optim::adam>::fuses_one_sample_steps) check_fused_step<Tiny>(optim::adam{});
    // lone outputs whose weights and bias step as one register (dense's whole_layer_width), with
    // and without dx, a narrower one, and one with no room for it (the next layer's parameters)
    using Linear = network<T, input<8>, dense<1>>;
    using Narrow = network<T, input<3>, dense<4>, ctnn::tanh, dense<1>>;
    using Mid = network<T, input<8>, dense<1>, dense<3>>;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        static_assert(Tiny::sequence_type::template has_room_after<2>() && Linear::sequence_type::template has_room_after<0>() &&
                      Narrow::sequence_type::template has_room_after<2>());
        static_assert(!Mid::sequence_type::template has_room_after<0>());
        // mse's 2 (y - t) folded into the lone output's weights: Tiny's and Narrow's fused steps
        // take it here (float, AVX-512), so the checks below compare the fold with the separate
        // pass (in double, Narrow's; Tiny's block is too large to be fused)
        static_assert(ctnn::detail::folds_loss_factor<Tiny, loss::mse> && ctnn::detail::folds_loss_factor<Narrow, loss::mse>);
        static_assert(!ctnn::detail::folds_loss_factor<Mid, loss::mse> && !ctnn::detail::folds_loss_factor<Tiny, loss::l1>);
    }
#endif
    if constexpr (trainer<Linear, loss::mse, optim::adam>::fuses_one_sample_steps) check_fused_step<Linear>(optim::adam{});
    if constexpr (trainer<Narrow, loss::mse, optim::adam>::fuses_one_sample_steps) check_fused_step<Narrow>(optim::adam{});
    if constexpr (trainer<Mid, loss::mse, optim::adam>::fuses_one_sample_steps) check_fused_step<Mid>(optim::adam{});
    // the whole-layer step with the other optimizers' steppers
    check_fused_step<Linear>(optim::sgd{.lr = 0.01, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3});
    check_fused_step<Narrow>(optim::adamw{});
    check_fused_step<Tiny>(optim::rmsprop{});
    check_fused_step<Tiny>(optim::adagrad{});
    check_fused_step<M>(optim::adam{});
    check_fused_step<M>(optim::adamw{});
    check_fused_step<M>(optim::sgd{.lr = 0.01, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-3});
    check_fused_step<N>(optim::adam{.lr = 3e-3});
    check_fused_step<N>(optim::adamw{.weight_decay = 0});
    check_fused_step<N>(optim::sgd{.lr = 0.02});
}

// ---- adam's scaled moments -----------------------------------------------------------------------
// Float Adam keeps m / (1 - beta1) and v / (1 - beta2) (optim/adam.hpp). A trainer starts its state
// in its optimizer's scale; betas changed mid-run rescale the arrays once; the PyTorch moments
// (array times scale) and the parameters follow double's run, which keeps PyTorch's form.
TEST_CASE("adam's float moments are kept divided by 1 - beta, and follow double's run when the betas change") {
    using Nf = network<float, input<5>, dense<7>, ctnn::tanh, dense<3>>;
    using Nd = network<double, input<5>, dense<7>, ctnn::tanh, dense<3>>;
    static Nf nf{};
    static Nd nd{};
    const auto fill = [](auto& net) {
        int k = 0;
        net.for_each_parameter([&](const ctnn::layer_path&, const auto& w) {
            for (std::size_t i = 0; i < w.size(); ++i, ++k) w.flat(i) = static_cast<float>(std::sin(0.37 * k)) / 2;
        });
    };
    fill(nf);
    fill(nd);
    for (const bool amsgrad : {false, true}) {
        CAPTURE(amsgrad);
        Nf f = nf;
        Nd d = nd;
        ctnn::trainer<Nf, loss::mse, optim::adam> tf{f, {.lr = 0.01, .amsgrad = amsgrad}};
        ctnn::trainer<Nd, loss::mse, optim::adam> td{d, {.lr = 0.01, .amsgrad = amsgrad}};
        CHECK(tf.state().scale1 == 1 - 0.9);
        CHECK(tf.state().scale2 == 1 - 0.999);
        CHECK(td.state().scale1 == 1.0);
        ctnn::rng r{3};
        for (int step = 0; step < 30; ++step) {
            if (step == 15) {
                tf.optimizer().beta1 = td.optimizer().beta1 = 0.8;
                tf.optimizer().beta2 = td.optimizer().beta2 = 0.99;
            }
            tensor<double, 5> x;
            tensor<double, 3> y;
            for (auto& v : x) v = static_cast<float>(r.uniform<double>(-1, 1));
            for (auto& v : y) v = static_cast<float>(r.uniform<double>(-1, 1));
            tensor<float, 5> xf;
            tensor<float, 3> yf;
            for (std::size_t i = 0; i < 5; ++i) xf[i] = static_cast<float>(x[i]);
            for (std::size_t i = 0; i < 3; ++i) yf[i] = static_cast<float>(y[i]);
            tf.step(xf, yf);
            td.step(x, y);
        }
        CHECK(tf.state().scale1 == 1 - 0.8);
        CHECK(tf.state().scale2 == 1 - 0.99);
        // Parameters and PyTorch's moments, element by element through the same logical order.
        std::vector<double> pf, pd, mf, md, vf, vd, xf, xd;
        const auto* bf = f.parameter_block().data();
        const auto* bd = d.parameter_block().data();
        f.for_each_parameter([&](const ctnn::layer_path&, const auto& w) {
            for (std::size_t i = 0; i < w.size(); ++i) {
                const auto at = &w.flat(i) - bf;
                pf.push_back(w.flat(i));
                mf.push_back(tf.state().exp_avg[at] * tf.state().scale1);
                vf.push_back(tf.state().exp_avg_sq[at] * tf.state().scale2);
                xf.push_back(tf.state().max_exp_avg_sq[at] * tf.state().scale2);
            }
        });
        d.for_each_parameter([&](const ctnn::layer_path&, const auto& w) {
            for (std::size_t i = 0; i < w.size(); ++i) {
                const auto at = &w.flat(i) - bd;
                pd.push_back(w.flat(i));
                md.push_back(td.state().exp_avg[at]);
                vd.push_back(td.state().exp_avg_sq[at]);
                xd.push_back(td.state().max_exp_avg_sq[at]);
            }
        });
        REQUIRE(pf.size() == pd.size());
        const auto close = [](const std::vector<double>& a, const std::vector<double>& b, double tol) {
            double scale = 0, worst = 0;
            for (std::size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::abs(b[i]));
            for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
            return worst <= tol * scale;
        };
        CHECK(close(pf, pd, 1e-5));
        CHECK(close(mf, md, 1e-5));
        CHECK(close(vf, vd, 1e-5));
        if (amsgrad) CHECK(close(xf, xd, 1e-5));
        CHECK(!close(pf, std::vector<double>(pd.size(), 0.0), 0.5));  // it is not all zero
    }
}

// Once beta^t is below double's resolution next to 1, Adam's step scalars stop changing and are
// reused (optim/adam.hpp, bias_corrections::step_scalars): the updates keep the bits of scalars made
// afresh, and each thing they are made of (learning rate, its sign, eps, beta1 and so the moments'
// scale, beta2) makes new ones when it changes.
TEST_CASE("adam reuses its step's scalars once 1 - beta^t stops changing, with the bits of fresh ones") {
    constexpr std::size_t N = 16;
    optim::adam opt{.lr = 1e-3};
    optim::adam::state<float, N> s{};
    opt.prepare(s);
    alignas(64) float p[N]{}, q[N], g[N];
    const auto gradient = [&](std::uint64_t t) {
        for (std::size_t i = 0; i < N; ++i) g[i] = static_cast<float>(std::sin(0.1 * static_cast<double>(t) + static_cast<double>(i)));
    };
    std::uint64_t t = 0;
    while (t < 40000) gradient(++t), opt.update(p, g, s, t);  // 0.999^40000 < 2^-54
    const std::function<void()> changes[] = {
        [] {},  // nothing: reused
        [&] { opt.lr = 2e-3; },
        [&] { opt.lr = 0.0; },
        [&] { opt.lr = -0.0; },
        [&] { opt.lr = 1e-3; },
        [&] { opt.eps = 1e-7; },
        [&] { opt.beta1 = 0.8; },
        [&] { opt.beta2 = 0.99; },
    };
    for (std::size_t k = 0; k < std::size(changes); ++k) {
        CAPTURE(k);
        const auto made_before = s.bias.made_of;
        changes[k]();
        gradient(++t);
        auto fresh = s;
        fresh.bias = {};  // makes its scalars (and beta^t) anew
        std::copy(p, p + N, q);
        opt.update(p, g, s, t);
        opt.update(q, g, fresh, t);
        CHECK(std::memcmp(p, q, sizeof p) == 0);
        CHECK(s.bias.made_of == fresh.bias.made_of);
        CHECK((s.bias.made_of == made_before) == (k == 0));  // reused, then made anew each time
    }
}
