// ctnn's demo (scripts/demo.sh): handwritten digits, trained in C++ in about a second.
//
// The 8x8 Digits set (1,797 images of 64 pixels, 10 classes; data/digits.rst) is split, per class,
// into 70 % training, 10 % validation and 20 % held-out test images. A 64-32-10 ReLU network is
// trained with Adam and cross-entropy by ctnn::fit: batches of 32, a cosine learning-rate schedule,
// and early stopping on the validation loss that restores the best weights. The example prints the
// training time, the held-out accuracy and its confusion matrix, and the latency of one prediction,
// and writes the training curves to digits_curves.svg.
#include <ctnn/ctnn.hpp>

#include "common/csv.hpp"
#include "common/data.hpp"
#include "common/progress.hpp"
#include "common/svg.hpp"
#include "common/timing.hpp"

// Checkpoints are written with ctnn's safetensors io where this version of ctnn has it.
#if __has_include(<ctnn/io/safetensors.hpp>)
#include <ctnn/io/safetensors.hpp>
#define DIGITS_WRITES_CHECKPOINTS 1
#else
#define DIGITS_WRITES_CHECKPOINTS 0
#endif

#include <chrono>
#include <cstdio>
#include <string>
#include <exception>
#include <vector>

namespace {

// The topology is the type: 64 pixels in, 32 hidden ReLU units, 10 logits out.
using net_type = ctnn::network<float, ctnn::input<64>, ctnn::dense<32>, ctnn::relu, ctnn::dense<10>>;
using trainer_type = ctnn::trainer<net_type, ctnn::loss::cross_entropy, ctnn::optim::adam>;
constexpr std::size_t batch = 32;

int run() {
    // Pixels 0..16 scaled to [0, 1].
    examples::labelled_data all = examples::read_labelled(examples::data_file("digits.csv"), 64, 10);
    for (float& v : all.x) v /= 16.f;
    const examples::split parts = examples::stratified_split(all.labels, 10, 0.1, 0.2, /*seed=*/2024);
    const std::vector<float> x_train = examples::rows_of(all.x, 64, parts.train),
                             x_val = examples::rows_of(all.x, 64, parts.validation),
                             x_test = examples::rows_of(all.x, 64, parts.test);
    const std::vector<int> y_train = examples::rows_of(all.labels, 1, parts.train),
                           y_val = examples::rows_of(all.labels, 1, parts.validation),
                           y_test = examples::rows_of(all.labels, 1, parts.test);
    const ctnn::dataset_for<net_type> train{x_train, y_train}, validation{x_val, y_val}, test{x_test, y_test};

    std::printf("ctnn demo: handwritten digits (8x8 pixels, 10 classes), %zu training, %zu validation, %zu test images\n",
                train.size(), validation.size(), test.size());
    std::printf("network 64-32-10 (dense, relu, dense): %zu parameters, %zu FLOPs per prediction, sizeof %zu bytes\n\n",
                net_type::parameter_count, net_type::forward_flops, sizeof(net_type));

    net_type net{};
    ctnn::init::torch_default(net, /*seed=*/7);
    trainer_type tr{net, {.lr = 3e-3}};

    constexpr std::size_t epochs = 60;
    std::vector<double> ep, train_loss, val_loss, train_acc, val_acc;
    std::string last_checkpoint;
    examples::progress_bar bar{"training"};
    const auto start = std::chrono::steady_clock::now();
    const ctnn::fit_result result = ctnn::fit<batch>(
        tr, train,
        {.epochs = epochs,
         .seed = 1,
         .validation = validation,
         .schedule = ctnn::optim::cosine_annealing_lr{.t_max = epochs},
         .early_stop = {.patience = 10},
         .checkpoint_every = 20,
         .on_checkpoint = [&](trainer_type& t, std::size_t epoch) {
             // Every 20 epochs: the network as PyTorch's nn.Sequential state_dict would name it.
             const std::string path = examples::output_file("digits_epoch" + std::to_string(epoch + 1) + ".safetensors");
#if DIGITS_WRITES_CHECKPOINTS
             ctnn::save_safetensors(t.network(), path);
             last_checkpoint = path;
#else
             (void)t;
#endif
         },
         .on_epoch = [&](ctnn::epoch_stats& s) {
             bar.update(s);
             ep.push_back(static_cast<double>(s.epoch + 1));
             train_loss.push_back(s.train_loss);
             val_loss.push_back(s.val_loss);
             train_acc.push_back(100 * s.train_metric);
             val_acc.push_back(100 * s.val_metric);
         }});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish();
    std::printf("%s\n", result.describe().c_str());
    if (!last_checkpoint.empty()) std::printf("last checkpoint: %s\n", last_checkpoint.c_str());
    std::printf("training time: %.3f s for %zu epochs (%llu Adam steps of %zu images, with per-epoch evaluation)\n\n",
                seconds, result.epochs_run, static_cast<unsigned long long>(tr.steps()), batch);

    const ctnn::evaluation e = ctnn::evaluate(net, ctnn::loss::cross_entropy{}, test);
    std::printf("held-out test accuracy: %.2f %% (%zu images, cross-entropy %.4f)\n\n", 100 * e.value, e.samples, e.loss);

    // Confusion matrix on the test images: rows are the true digits, columns the predictions.
    int confusion[10][10] = {};
    for (std::size_t i = 0; i < test.size(); ++i) {
        ctnn::tensor<float, 64> x;
        for (std::size_t f = 0; f < 64; ++f) x[f] = test.input(i)[f];
        ++confusion[test.label(i)][ctnn::argmax(net.forward(x))];
    }
    std::printf("confusion matrix (rows: true digit, columns: predicted)\n     ");
    for (int c = 0; c < 10; ++c) std::printf("%4d", c);
    std::printf("\n");
    for (int r = 0; r < 10; ++r) {
        std::printf("  %d  ", r);
        for (int c = 0; c < 10; ++c) std::printf(confusion[r][c] ? "%4d" : "   .", confusion[r][c]);
        std::printf("\n");
    }

    // Latency of one prediction (forward and argmax on one image), timed in groups of 64 calls
    // (a clock read costs about as much as the call); the median over the groups.
    ctnn::tensor<float, 64> x;
    std::vector<double> per_call;
    constexpr int groups = 4000, calls = 64;
    std::size_t sink = 0;
    for (int g = 0; g < groups; ++g) {
        const std::size_t i = static_cast<std::size_t>(g) % test.size();
        for (std::size_t f = 0; f < 64; ++f) x[f] = test.input(i)[f];
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < calls; ++k) {
            x[0] = static_cast<float>(k) * 1e-3f;  // a new input each call
            sink += ctnn::argmax(net.forward(x));
        }
        per_call.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / calls);
    }
    examples::keep(sink);
    std::printf("\nlatency of one prediction (forward + argmax): median %.0f ns, p99 %.0f ns (%d groups of %d calls)\n",
                examples::percentile(per_call, 50), examples::percentile(per_call, 99), groups, calls);

    examples::svg::chart loss_chart{.title = "Digits: loss", .xlabel = "epoch", .ylabel = "cross-entropy", .log_y = true};
    loss_chart.line(ep, train_loss, examples::svg::color(0), "training");
    loss_chart.line(ep, val_loss, examples::svg::color(1), "validation");
    loss_chart.points({static_cast<double>(result.best_epoch + 1)}, {val_loss[result.best_epoch]}, "#000",
                      "best (restored)", 4);
    examples::svg::chart acc_chart{.title = "Digits: accuracy", .xlabel = "epoch", .ylabel = "accuracy (%)",
                                   .legend_bottom = true};
    acc_chart.line(ep, train_acc, examples::svg::color(0), "training");
    acc_chart.line(ep, val_acc, examples::svg::color(1), "validation");
    const std::string svg = examples::output_file("digits_curves.svg");
    examples::svg::write(svg, {loss_chart, acc_chart});
    std::printf("training curves: %s\n", svg.c_str());
    return e.value >= 0.96 ? 0 : 1;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "digits: %s\n", e.what());
        return 2;
    }
}
