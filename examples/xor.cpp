// XOR, the problem a single layer cannot solve: a 2-4-1 tanh network learns it with ctnn::fit.
//
// The four points are one batch; the output is a logit and the loss bce_with_logits, so the
// metric fit reports is the accuracy of logit > 0. The example prints the truth table the network
// computes and writes xor.svg: its decision regions over the plane and the loss curve.
#include <ctnn/ctnn.hpp>

#include "common/data.hpp"
#include "common/svg.hpp"

#include <cmath>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using net_type = ctnn::network<float, ctnn::input<2>, ctnn::dense<4>, ctnn::tanh, ctnn::dense<1>>;

int run() {
    const std::vector<float> x{0, 0, 0, 1, 1, 0, 1, 1};
    const std::vector<int> label{0, 1, 1, 0};  // one output: the label is the target value
    const ctnn::dataset_for<net_type> data{x, label};

    net_type net{};
    ctnn::init::xavier_uniform(net, /*seed=*/1);
    ctnn::trainer<net_type, ctnn::loss::bce_with_logits, ctnn::optim::adam> tr{net, {.lr = 0.05}};
    std::vector<double> epoch, loss;
    const ctnn::fit_result r = ctnn::fit<4>(tr, data,
                                            {.epochs = 400, .shuffle = false, .on_epoch = [&](ctnn::epoch_stats& s) {
                                                 epoch.push_back(static_cast<double>(s.epoch + 1));
                                                 loss.push_back(s.train_loss);
                                             }});
    std::printf("XOR with a 2-4-1 tanh network, Adam, bce_with_logits: %s\n", r.describe().c_str());
    std::printf("final loss %.5f, accuracy %.0f %%\n\n", r.last.train_loss, 100 * r.last.train_metric);
    std::printf("  a  b  |  p(a xor b)\n");
    for (std::size_t i = 0; i < 4; ++i) {
        const ctnn::tensor<float, 1> logit = net.forward(ctnn::tensor<float, 2>{x[2 * i], x[2 * i + 1]});
        const double p = 1 / (1 + std::exp(-static_cast<double>(logit[0])));
        std::printf("  %.0f  %.0f  |  %.4f\n", static_cast<double>(x[2 * i]), static_cast<double>(x[2 * i + 1]), p);
    }

    // Decision regions: the class of logit > 0 on a grid over [-0.5, 1.5]^2.
    examples::svg::chart regions{.title = "XOR: decision regions", .xlabel = "a", .ylabel = "b"};
    regions.regions = {.nx = 120, .ny = 120, .x0 = -0.5, .x1 = 1.5, .y0 = -0.5, .y1 = 1.5, .classes = {}};
    for (std::size_t j = 0; j < 120; ++j)
        for (std::size_t i = 0; i < 120; ++i) {
            const float a = -0.5f + (static_cast<float>(i) + 0.5f) / 60.f, b = -0.5f + (static_cast<float>(j) + 0.5f) / 60.f;
            regions.regions.classes.push_back(net.forward(ctnn::tensor<float, 2>{a, b})[0] > 0 ? 1 : 0);
        }
    regions.points({0, 1}, {0, 1}, examples::svg::color(0), "a xor b = 0", 7);
    regions.points({0, 1}, {1, 0}, examples::svg::color(1), "a xor b = 1", 7);
    examples::svg::chart curve{.title = "XOR: loss", .xlabel = "epoch", .ylabel = "binary cross-entropy", .log_y = true};
    curve.line(epoch, loss, examples::svg::color(0), "training");
    const std::string svg = examples::output_file("xor.svg");
    examples::svg::write(svg, {regions, curve});
    std::printf("\ndecision regions and loss curve: %s\n", svg.c_str());
    return r.last.train_metric == 1.0 ? 0 : 1;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "xor: %s\n", e.what());
        return 2;
    }
}
