// ctnn::fit and its parts (train/fit.hpp, dataset.hpp, metrics.hpp), and the examples' CSV loader:
// - shuffling: a permutation, reproducible from (seed, epoch), uniform over small permutations;
// - fit is reproducible by seed, equals a hand-written loop over epoch_permutation's batches
//   (which also shows the partial-batch policy: the remainder is dropped), and resumes exactly;
// - early stopping restores the best epoch's network bit for bit;
// - divergence restores the state before the failing step bit for bit and reports the step;
// - metrics and evaluate on hand-computed cases; the schedule, checkpoint and stop hooks;
// - fit allocates before training only (the count does not grow with the epochs);
// - CSV errors name the file and the line.
#include <ctnn/ctnn.hpp>

#include "../examples/common/csv.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#if !defined(__SANITIZE_ADDRESS__)
// Counts the allocations of this test binary (AddressSanitizer owns the allocator, so not there),
// to show that fit's allocations do not grow with the number of epochs.
#include "../examples/common/count_allocations.hpp"
#define CTNN_TEST_COUNTS_NEW 1
#endif

namespace {

using ctnn::dense;
using ctnn::input;
using ctnn::network;
using ctnn::tanh;
using ctnn::tensor;
namespace loss = ctnn::loss;
namespace optim = ctnn::optim;

using cls_net = network<float, input<2>, dense<8>, tanh, dense<3>>;
using cls_trainer = ctnn::trainer<cls_net, loss::cross_entropy, optim::adam>;

// Three classes of points in the plane, by angle; n samples.
struct blobs {
    std::vector<float> x;
    std::vector<int> labels;
    explicit blobs(std::size_t n, std::uint64_t seed) {
        ctnn::rng g{seed};
        for (std::size_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i % 3);
            const float a = 2.0944f * static_cast<float>(c);
            x.push_back(std::cos(a) + 0.6f * g.normal<float>());
            x.push_back(std::sin(a) + 0.6f * g.normal<float>());
            labels.push_back(c);
        }
    }
    ctnn::dataset_for<cls_net> view() const { return {x, labels}; }
};

cls_net initial_net(std::uint64_t seed = 3) {
    cls_net net{};
    ctnn::init::xavier_uniform(net, seed);
    return net;
}

TEST_CASE("epoch_permutation is a permutation, reproducible from seed and epoch") {
    std::vector<std::size_t> a(37), b(37), c(37), d(37);
    ctnn::epoch_permutation(std::span(a), 5, 2);
    ctnn::epoch_permutation(std::span(b), 5, 2);
    ctnn::epoch_permutation(std::span(c), 5, 3);
    ctnn::epoch_permutation(std::span(d), 6, 2);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a != d);
    std::vector<std::size_t> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::size_t> iota(37);
    std::iota(iota.begin(), iota.end(), std::size_t{0});
    CHECK(sorted == iota);
    CHECK(a != iota);
}

TEST_CASE("shuffle draws the 6 orders of 3 elements equally often") {
    ctnn::rng g{11};
    std::map<std::array<int, 3>, int> count;
    constexpr int trials = 60000;
    for (int t = 0; t < trials; ++t) {
        std::array<int, 3> v{0, 1, 2};
        ctnn::shuffle(std::span(v), g);
        ++count[v];
    }
    REQUIRE(count.size() == 6);
    // Each order: 10000 expected, standard deviation ~91; 500 is > 5 sigma.
    for (const auto& [order, n] : count) CHECK(std::abs(n - trials / 6) < 500);
}

TEST_CASE("dataset checks sizes and labels, and expands labels to one-hot targets") {
    std::vector<float> x(6, 1.f);
    std::vector<int> labels{0, 2, 1};
    ctnn::dataset_for<cls_net> d{x, labels};
    CHECK(d.size() == 3);
    float t[3];
    d.target(1, t);
    CHECK((t[0] == 0.f && t[1] == 0.f && t[2] == 1.f));
    std::vector<int> bad{0, 3, 1};
    CHECK_THROWS_WITH_AS((ctnn::dataset_for<cls_net>{x, bad}),
                         "ctnn::dataset: label 3 of sample 1 is not a class index in [0, 3)", std::invalid_argument);
    std::vector<float> odd(5);
    CHECK_THROWS_AS((ctnn::dataset_for<cls_net>{odd, labels}), std::invalid_argument);
    std::vector<float> y(8);
    CHECK_THROWS_WITH_AS((ctnn::dataset_for<cls_net>{x, y}),
                         "ctnn::dataset: 3 samples need 9 target values (3 per sample), got 8", std::invalid_argument);
    // Spans of tensors: a padded tensor<float, 3> (16 bytes) is read with its stride.
    std::vector<tensor<float, 2>> xs{{1.f, 2.f}, {3.f, 4.f}};
    std::vector<tensor<float, 3>> ys{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
    ctnn::dataset_for<cls_net> dt{xs, ys};
    dt.target(1, t);
    CHECK((dt.input(1)[1] == 4.f && t[0] == 4.f && t[2] == 6.f));
}

TEST_CASE("fit is reproducible by seed, and runs epoch_permutation's whole batches, dropping the rest") {
    const blobs data{50, 1};  // 50 = 6 batches of 8, and 2 samples dropped each epoch
    constexpr std::size_t B = 8;
    auto run = [&](std::uint64_t seed) {
        cls_net net = initial_net();
        cls_trainer tr{net, {.lr = 0.01}};
        const ctnn::fit_result r = ctnn::fit<B>(tr, data.view(), {.epochs = 3, .seed = seed, .train_metric = false});
        CHECK(r.reason == ctnn::stop_reason::completed);
        CHECK(r.epochs_run == 3);
        CHECK(r.last.samples == 48);
        CHECK(tr.steps() == 18);
        return net;
    };
    const cls_net a = run(9), a2 = run(9), c = run(10);
    CHECK(a == a2);
    CHECK(!(a == c));

    // The same training written out: epoch_permutation's order, whole batches only.
    cls_net net = initial_net();
    cls_trainer tr{net, {.lr = 0.01}};
    std::vector<std::size_t> index(50);
    tensor<float, B, 2> xb;
    tensor<float, B, 3> yb;
    double loss_sum = 0;
    for (std::size_t epoch = 0; epoch < 3; ++epoch) {
        ctnn::epoch_permutation(std::span(index), 9, epoch);
        loss_sum = 0;
        for (std::size_t b = 0; b < 6; ++b) {
            yb.fill(0.f);
            for (std::size_t s = 0; s < B; ++s) {
                const std::size_t i = index[b * B + s];
                xb(s, 0) = data.x[2 * i];
                xb(s, 1) = data.x[2 * i + 1];
                yb(s, static_cast<std::size_t>(data.labels[i])) = 1.f;
            }
            loss_sum += static_cast<double>(tr.step(xb, yb));
        }
    }
    CHECK(net == a);

    // The reported training loss is the mean of the epoch's step losses.
    cls_net net2 = initial_net();
    cls_trainer tr2{net2, {.lr = 0.01}};
    const auto r = ctnn::fit<B>(tr2, data.view(), {.epochs = 3, .seed = 9, .train_metric = false});
    CHECK(r.last.train_loss == doctest::Approx(loss_sum / 6).epsilon(1e-12));

    // Fewer samples than a batch: nothing to train on.
    const blobs tiny{5, 1};
    CHECK_THROWS_AS(ctnn::fit<B>(tr2, tiny.view()), std::invalid_argument);
}

TEST_CASE("fit resumed at start_epoch gives the uninterrupted run, schedule included") {
    const blobs data{40, 2};
    const ctnn::lr_schedule schedule = optim::step_lr{.step_size = 2, .gamma = 0.5};
    cls_net whole = initial_net();
    cls_trainer tw{whole, {.lr = 0.02}};
    ctnn::fit<8>(tw, data.view(), {.epochs = 5, .seed = 4, .train_metric = false, .schedule = schedule});
    cls_net part = initial_net();
    cls_trainer tp{part, {.lr = 0.02}};
    ctnn::fit<8>(tp, data.view(), {.epochs = 3, .seed = 4, .train_metric = false, .schedule = schedule});
    CHECK(tp.optimizer().lr == 0.02);  // put back after the schedule
    ctnn::fit<8>(tp, data.view(), {.epochs = 5, .start_epoch = 3, .seed = 4, .train_metric = false, .schedule = schedule});
    CHECK(part == whole);
    CHECK(tp.steps() == tw.steps());
}

TEST_CASE("the schedule sets each epoch's lr; checkpoints every N epochs; on_epoch can stop") {
    const blobs data{24, 3};
    cls_net net = initial_net();
    cls_trainer tr{net, {.lr = 0.1}};
    std::vector<double> lrs;
    std::vector<std::size_t> checkpoints;
    const auto r = ctnn::fit<8>(tr, data.view(),
                                {.epochs = 10,
                                 .schedule = optim::exponential_lr{.gamma = 0.5},
                                 .checkpoint_every = 3,
                                 .on_checkpoint = [&](cls_trainer& t, std::size_t epoch) {
                                     CHECK(&t == &tr);
                                     checkpoints.push_back(epoch);
                                 },
                                 .on_epoch = [&](ctnn::epoch_stats& s) {
                                     lrs.push_back(s.lr);
                                     CHECK(s.steps == 3 * (s.epoch + 1));
                                     CHECK(s.kind == ctnn::metric::accuracy);
                                     CHECK(std::isnan(s.val_loss));  // no validation set
                                     s.stop = s.epoch == 7;
                                 }});
    CHECK(r.reason == ctnn::stop_reason::requested);
    CHECK(r.epochs_run == 8);
    REQUIRE(lrs.size() == 8);
    for (std::size_t e = 0; e < 8; ++e) CHECK(lrs[e] == 0.1 * std::pow(0.5, static_cast<double>(e)));
    CHECK(checkpoints == std::vector<std::size_t>{2, 5});
    CHECK(tr.optimizer().lr == 0.1);
}

TEST_CASE("early stopping stops after patience epochs and restores the best network bit for bit") {
    // The validation targets are the training ones rotated by one class, so training on the one
    // makes the other's loss worse after a while.
    const blobs data{48, 5};
    std::vector<int> rotated = data.labels;
    for (int& l : rotated) l = (l + 1) % 3;
    const blobs valx{48, 5};
    const ctnn::dataset_for<cls_net> val{valx.x, rotated};
    cls_net net = initial_net();
    cls_trainer tr{net, {.lr = 0.05}};
    std::vector<cls_net> after;  // the network after each epoch
    std::vector<double> val_loss;
    const auto r = ctnn::fit<8>(tr, data.view(),
                                {.epochs = 40,
                                 .seed = 1,
                                 .validation = val,
                                 .early_stop = {.patience = 3},
                                 .on_epoch = [&](ctnn::epoch_stats& s) {
                                     after.push_back(net);
                                     val_loss.push_back(s.val_loss);
                                 }});
    REQUIRE(r.reason == ctnn::stop_reason::early_stopped);
    CHECK(r.restored_best);
    CHECK(r.epochs_run == r.best_epoch + 4);
    CHECK(after.size() == r.epochs_run);
    CHECK(r.best_value == *std::min_element(val_loss.begin(), val_loss.end()));
    CHECK(net == after[r.best_epoch]);
    CHECK(!(net == after.back()));
}

TEST_CASE("early stopping can watch the metric (higher accuracy is better)") {
    const blobs data{48, 6};
    cls_net net = initial_net();
    cls_trainer tr{net, {.lr = 0.05}};
    std::vector<double> acc;
    const auto r = ctnn::fit<8>(tr, data.view(),
                                {.epochs = 6,
                                 .early_stop = {.patience = 100, .watch = ctnn::monitor::metric},
                                 .on_epoch = [&](ctnn::epoch_stats& s) { acc.push_back(s.train_metric); }});
    CHECK(r.reason == ctnn::stop_reason::completed);
    CHECK(r.best_value == *std::max_element(acc.begin(), acc.end()));
    CHECK(acc[r.best_epoch] == r.best_value);
    CHECK(std::find(acc.begin(), acc.end(), r.best_value) - acc.begin() == static_cast<long>(r.best_epoch));
}

// SGD with far too large a learning rate on y = 2x: the loss grows geometrically until it is
// infinite, some epochs in.
using line_net = network<float, input<1>, dense<1>>;
using line_trainer = ctnn::trainer<line_net, loss::mse, optim::sgd>;

TEST_CASE("divergence: fit stops, restores the state before the failing step, and says which") {
    std::vector<float> x, y;
    for (int i = 0; i < 40; ++i) {
        x.push_back(static_cast<float>(i % 7) - 3.f);
        y.push_back(2.f * x.back());
    }
    const ctnn::dataset_for<line_net> data{x, y};
    auto fresh = [] {
        line_net n{};
        n.layer<0>().weight(0, 0) = 0.5f;
        return n;
    };
    line_net net = fresh();
    line_trainer tr{net, {.lr = 0.6, .momentum = 0.5}};
    std::size_t epochs_reported = 0;
    const auto r = ctnn::fit<4>(tr, data, {.epochs = 100, .seed = 2, .on_epoch = [&](ctnn::epoch_stats&) { ++epochs_reported; }});
    REQUIRE(r.reason == ctnn::stop_reason::diverged);
    CHECK(r.cause == ctnn::divergence::loss_not_finite);
    CHECK(r.diverged_epoch >= 1);  // the replay crosses an epoch's start
    CHECK(r.diverged_step == r.diverged_epoch * 10 + r.diverged_batch + 1);
    CHECK(epochs_reported == r.diverged_epoch);
    CHECK(tr.steps() == r.diverged_step - 1);
    CHECK(r.describe().find("diverged at step " + std::to_string(r.diverged_step)) == 0);

    // The same steps by hand: the network and the optimizer state equal fit's, bit for bit, and
    // the next step is the one that fails.
    line_net ref = fresh();
    line_trainer tref{ref, {.lr = 0.6, .momentum = 0.5}};
    std::vector<std::size_t> index(40);
    tensor<float, 4, 1> xb, yb;
    float last = 0;
    for (std::uint64_t step = 0; step < r.diverged_step; ++step) {
        const std::size_t epoch = step / 10, b = step % 10;
        if (b == 0) ctnn::epoch_permutation(std::span(index), 2, epoch);
        if (step + 1 == r.diverged_step) {
            CHECK(ref == net);
            CHECK(std::equal(tref.state().momentum_buffer, tref.state().momentum_buffer + line_net::parameter_block_size,
                             tr.state().momentum_buffer));
        }
        for (std::size_t s = 0; s < 4; ++s) {
            xb[s] = x[index[b * 4 + s]];
            yb[s] = y[index[b * 4 + s]];
        }
        last = tref.step(xb, yb);
    }
    CHECK(!std::isfinite(last));
    CHECK(static_cast<double>(last) == r.diverged_loss);
}

// A loss whose value stays finite but whose gradient is NaN for a target of 99.
struct nan_gradient_loss {
    template <class T, std::size_t B, std::size_t N>
    static T evaluate(const T* y, std::size_t ys, const T* t, T* dy, std::size_t gs) noexcept {
        T total = 0;
        for (std::size_t s = 0; s < B; ++s)
            for (std::size_t o = 0; o < gs; ++o) {
                const bool real = o < N;
                const T d = real ? y[s * ys + o] - t[s * N + o] : T(0);
                if (real && t[s * N + o] != T(99)) total += d * d;
                dy[s * gs + o] = !real ? T(0) : t[s * N + o] == T(99) ? std::numeric_limits<T>::quiet_NaN() : 2 * d / (B * N);
            }
        return total / (B * N);
    }
};

TEST_CASE("divergence: a non-finite gradient is reported as such") {
    std::vector<float> x(12, 1.f), y(12, 1.f);
    y[9] = 99.f;  // in the third batch of 4, without shuffling
    const ctnn::dataset_for<line_net> data{x, y};
    line_net net{};
    ctnn::trainer<line_net, nan_gradient_loss, optim::adam> tr{net, {.lr = 0.1}};
    const auto r = ctnn::fit<4>(tr, data, {.epochs = 3, .shuffle = false});
    CHECK(r.reason == ctnn::stop_reason::diverged);
    CHECK(r.cause == ctnn::divergence::gradient_not_finite);
    CHECK(r.diverged_step == 3);
    CHECK((r.diverged_epoch == 0 && r.diverged_batch == 2));
    CHECK(tr.steps() == 2);
    CHECK(std::isfinite(net.layer<0>().weight(0, 0)));
    CHECK(net.layer<0>().weight(0, 0) != 0.f);  // two good steps were kept
}

// With dropout (masks from the trainer's generator) and batch_norm (running statistics in the
// network's buffers): the replay after a divergence redraws the same masks and recomputes the
// same statistics, so the state is that of two steps by hand, buffers and generator included.
using noisy_net = network<float, input<2>, dense<8>, ctnn::batch_norm, ctnn::relu, ctnn::dropout<0.25>, dense<3>>;

TEST_CASE("divergence with dropout and batch_norm: the network, its buffers and the generator are restored") {
    const blobs data{32, 9};
    std::vector<float> y(32 * 3, 0.f);
    for (std::size_t i = 0; i < 32; ++i) y[3 * i + static_cast<std::size_t>(data.labels[i])] = 1.f;
    y[3 * 20] = 99.f;  // row 20: the third batch of 8, without shuffling
    const ctnn::dataset_for<noisy_net> train{data.x, y};
    auto fresh = [] {
        noisy_net n{};
        ctnn::init::xavier_uniform(n, 4);
        return n;
    };
    using noisy_trainer = ctnn::trainer<noisy_net, nan_gradient_loss, optim::adam>;
    noisy_net net = fresh();
    noisy_trainer tr{net, {.lr = 0.01}, {.seed = 5}};
    const auto r = ctnn::fit<8>(tr, train, {.epochs = 2, .shuffle = false});
    REQUIRE(r.reason == ctnn::stop_reason::diverged);
    CHECK(r.diverged_step == 3);

    noisy_net ref = fresh();
    noisy_trainer tref{ref, {.lr = 0.01}, {.seed = 5}};
    tensor<float, 8, 2> xb;
    tensor<float, 8, 3> yb;
    for (std::size_t b = 0; b < 2; ++b) {
        for (std::size_t k = 0; k < 16; ++k) xb[k] = data.x[b * 16 + k];
        for (std::size_t k = 0; k < 24; ++k) yb[k] = y[b * 24 + k];
        tref.step(xb, yb);
    }
    CHECK(net == ref);  // parameters and batch_norm's running statistics
    CHECK(tr.generator().state() == tref.generator().state());
    CHECK(tr.steps() == 2);
}

TEST_CASE("metrics on hand-computed cases") {
    // accuracy by argmax (cross_entropy): rows 0 and 2 right, row 1 wrong; a tie goes to index 0.
    ctnn::metric_accumulator<loss::cross_entropy, float, 3> acc{ctnn::metric::automatic};
    const float y[] = {0.1f, 2.f, -1.f, /**/ 3.f, 1.f, 0.f, /**/ 1.f, 1.f, 0.f};
    const float t[] = {0, 1, 0, /**/ 0, 0, 1, /**/ 1, 0, 0};
    for (int s = 0; s < 3; ++s) acc.add(y + 3 * s, t + 3 * s);
    CHECK(acc.kind() == ctnn::metric::accuracy);
    CHECK(acc.value() == doctest::Approx(2.0 / 3));

    // bce_with_logits: per output, logit > 0 against target > 0.5: 3 of 4 right.
    ctnn::metric_accumulator<loss::bce_with_logits, float, 2> bin{ctnn::metric::automatic};
    const float logits[] = {0.3f, -2.f, -0.1f, 0.f};
    const float bt[] = {1, 0, 0, 1};
    bin.add(logits, bt);
    bin.add(logits + 2, bt + 2);
    CHECK(bin.value() == doctest::Approx(0.75));
    // bce on probabilities cuts at 0.5.
    ctnn::metric_accumulator<loss::bce, float, 1> prob{ctnn::metric::automatic};
    const float p[] = {0.4f, 0.6f}, pt[] = {0, 0};
    prob.add(p, pt);
    prob.add(p + 1, pt + 1);
    CHECK(prob.value() == doctest::Approx(0.5));

    // mse: the mean absolute error over all outputs.
    ctnn::metric_accumulator<loss::mse, float, 2> mae{ctnn::metric::automatic};
    const float r[] = {1.f, -2.f, 0.5f, 4.f}, rt[] = {1.5f, -1.f, 0.5f, 2.f};
    mae.add(r, rt);
    mae.add(r + 2, rt + 2);
    CHECK(mae.kind() == ctnn::metric::mae);
    CHECK(mae.value() == doctest::Approx((0.5 + 1 + 0 + 2) / 4));
    CHECK(std::isnan(ctnn::metric_accumulator<loss::mse, float, 2>{ctnn::metric::none}.value()));
}

TEST_CASE("evaluate: the loss and accuracy over 35 samples (a batch of 32 and 3 single samples)") {
    // dense<2> set to the identity: the logits are the inputs.
    using id_net = network<double, input<2>, dense<2>>;
    id_net net{};
    net.layer<0>().weight(0, 0) = 1;
    net.layer<0>().weight(1, 1) = 1;
    std::vector<double> x;
    std::vector<int> labels;
    double expected_loss = 0;
    int right = 0;
    for (int i = 0; i < 35; ++i) {
        const double a = 0.1 * i - 1.5, b = std::sin(i);
        const int c = i % 2;
        x.push_back(a);
        x.push_back(b);
        labels.push_back(c);
        expected_loss += std::log(std::exp(a) + std::exp(b)) - (c == 0 ? a : b);  // -log softmax_c
        right += ((b > a ? 1 : 0) == c) ? 1 : 0;
    }
    const ctnn::evaluation e = ctnn::evaluate(net, loss::cross_entropy{}, ctnn::dataset_for<id_net>{x, labels});
    CHECK(e.samples == 35);
    CHECK(e.kind == ctnn::metric::accuracy);
    CHECK(e.loss == doctest::Approx(expected_loss / 35).epsilon(1e-12));
    CHECK(e.value == doctest::Approx(right / 35.0).epsilon(1e-15));
    // The same set, as a regression with mse: the mean of (y - t)^2 over all 70 outputs, and the MAE.
    std::vector<double> targets(70, 0.5);
    double se = 0, ae = 0;
    for (double v : x) {
        se += (v - 0.5) * (v - 0.5);
        ae += std::abs(v - 0.5);
    }
    const ctnn::evaluation m = ctnn::evaluate(net, loss::mse{}, ctnn::dataset_for<id_net>{x, targets});
    CHECK(m.kind == ctnn::metric::mae);
    CHECK(m.loss == doctest::Approx(se / 70).epsilon(1e-12));
    CHECK(m.value == doctest::Approx(ae / 70).epsilon(1e-12));
}

#if defined(CTNN_TEST_COUNTS_NEW)
TEST_CASE("fit with dropout and batch_norm, checkpointed to safetensors and resumed, gives the uninterrupted run") {
    // The checkpoint holds the parameters, batch_norm's buffers, Adam's moments, the step count and
    // the dropout generator; a new trainer loaded from it and started at the next epoch must give
    // the same network bit for bit as one run of all the epochs.
    const blobs data{48, 12};
    const ctnn::dataset_for<noisy_net> train{data.x, data.labels};
    using noisy_trainer = ctnn::trainer<noisy_net, loss::cross_entropy, optim::adam>;
    const ctnn::lr_schedule schedule = optim::step_lr{.step_size = 2, .gamma = 0.5};
    auto fresh = [] {
        noisy_net n{};
        ctnn::init::he_uniform(n, 6);
        return n;
    };
    noisy_net whole = fresh();
    noisy_trainer tw{whole, {.lr = 0.02}, {.seed = 8}};
    ctnn::fit<8>(tw, train, {.epochs = 6, .seed = 3, .train_metric = false, .schedule = schedule});

    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("ctnn_test_fit_checkpoint_" + std::to_string(::getpid()) + ".safetensors");
    {
        noisy_net first = fresh();
        noisy_trainer t1{first, {.lr = 0.02}, {.seed = 8}};
        ctnn::fit<8>(t1, train,
                     {.epochs = 6, .seed = 3, .train_metric = false, .schedule = schedule, .checkpoint_every = 4,
                      .on_checkpoint = [&](noisy_trainer& t, std::size_t) { ctnn::save_safetensors(t, path.string()); },
                      .on_epoch = [](ctnn::epoch_stats& s) { s.stop = s.epoch == 4; }});  // "interrupted" after epoch 5
        CHECK(!(first == whole));  // it ran an epoch past the checkpoint
    }
    noisy_net resumed{};  // all zero: everything must come from the file
    noisy_trainer tr{resumed, {.lr = 0.02}, {.seed = 99}};
    ctnn::load_safetensors(tr, path.string());
    CHECK(tr.steps() == 4 * 6);
    ctnn::fit<8>(tr, train, {.epochs = 6, .start_epoch = 4, .seed = 3, .train_metric = false, .schedule = schedule});
    std::filesystem::remove(path);
    CHECK(resumed == whole);  // parameters and running statistics
    CHECK(tr.steps() == tw.steps());
    CHECK(tr.generator().state() == tw.generator().state());
}

TEST_CASE("fit allocates before training only: as often for 1 epoch as for 6") {
    const blobs data{40, 7};
    const blobs valx{20, 8};
    auto count = [&](std::size_t epochs) {
        cls_net net = initial_net();
        cls_trainer tr{net, {.lr = 0.01}};
        const ctnn::dataset_for<cls_net> train = data.view(), val = valx.view();
        const ctnn::fit_options<cls_trainer> options{
            .epochs = epochs, .validation = val, .early_stop = {.patience = 100}};
        const long before = count_allocations::allocations();
        ctnn::fit<8>(tr, train, options);
        return count_allocations::allocations() - before;
    };
    const long one = count(1), six = count(6);
    CHECK(one == six);
    CHECK(one <= 3);  // the index, the workspace, the best network
}
#endif

TEST_CASE("the examples' CSV loader names the file and the line of a malformed row") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path();
    auto write = [&](const std::string& name, const std::string& text) {
        const std::string path = (dir / name).string();
        std::ofstream(path) << text;
        return path;
    };
    const std::string good = write("ctnn_test_good.csv", "3,2,a,b\n1.5,2,0\r\n\n-3,4e-1,1\n");
    const examples::labelled_data d = examples::read_labelled(good, 2, 2, {.header_lines = 1});
    CHECK(d.rows() == 2);
    CHECK(d.x == std::vector<float>{1.5f, 2.f, -3.f, 0.4f});
    CHECK(d.labels == std::vector<int>{0, 1});

    const std::string short_row = write("ctnn_test_short.csv", "1,2,0\n3,4,1\n5,1\n");
    CHECK_THROWS_WITH_AS(examples::read_csv(short_row), (short_row + ":3: expected 3 columns, found 2").c_str(),
                         examples::csv_error);
    const std::string long_row = write("ctnn_test_long.csv", "1,2,0\n3,4,1,7\n");
    CHECK_THROWS_WITH_AS(examples::read_csv(long_row), (long_row + ":2: expected 3 columns, found more").c_str(),
                         examples::csv_error);
    const std::string text = write("ctnn_test_text.csv", "h\n1,2,0\n3,x4,1\n");
    CHECK_THROWS_WITH_AS(examples::read_csv(text, {.header_lines = 1}),
                         (text + ":3: column 2: 'x4' is not a number").c_str(), examples::csv_error);
    const std::string empty_field = write("ctnn_test_empty_field.csv", "1,,0\n");
    CHECK_THROWS_WITH_AS(examples::read_csv(empty_field), (empty_field + ":1: column 2 is empty").c_str(),
                         examples::csv_error);
    const std::string bad_class = write("ctnn_test_class.csv", "1,2,0\n3,4,1.5\n");
    CHECK_THROWS_WITH_AS(examples::read_labelled(bad_class, 2, 2),
                         (bad_class + ":2: column 3: class 1.500000 is not a whole number in [0, 2)").c_str(),
                         examples::csv_error);
    const std::string missing = (dir / "ctnn_test_does_not_exist.csv").string();
    CHECK_THROWS_WITH_AS(examples::read_csv(missing), (missing + ": cannot open the file").c_str(), examples::csv_error);
    for (const char* f : {"ctnn_test_good.csv", "ctnn_test_short.csv", "ctnn_test_long.csv", "ctnn_test_text.csv",
                          "ctnn_test_empty_field.csv", "ctnn_test_class.csv"})
        std::filesystem::remove(dir / f);
}

}  // namespace
