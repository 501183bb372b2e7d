// Regression: a 1-32-32-1 tanh network fits y = sin(x) from noisy samples.
//
// 512 training points x ~ U(-pi, pi), y = sin(x) + N(0, 0.1^2), and 128 validation points drawn
// the same way. Adam with mse, batches of 32, a step learning-rate schedule, early stopping on the
// validation loss; fit reports the mean absolute error as the metric. The example writes
// sine_regression.svg: the fitted function over the data and the true sine, and the loss curves.
#include <ctnn/ctnn.hpp>

#include "common/data.hpp"
#include "common/progress.hpp"
#include "common/svg.hpp"

#include <cmath>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using net_type = ctnn::network<float, ctnn::input<1>, ctnn::dense<32>, ctnn::tanh, ctnn::dense<32>, ctnn::tanh,
                               ctnn::dense<1>>;
constexpr double pi = 3.14159265358979323846;

void draw(std::size_t n, ctnn::rng& g, std::vector<float>& x, std::vector<float>& y) {
    for (std::size_t i = 0; i < n; ++i) {
        const double v = g.uniform(-pi, pi);
        x.push_back(static_cast<float>(v));
        y.push_back(static_cast<float>(std::sin(v) + 0.1 * g.normal<double>()));
    }
}

int run() {
    ctnn::rng g{12};
    std::vector<float> x_train, y_train, x_val, y_val;
    draw(512, g, x_train, y_train);
    draw(128, g, x_val, y_val);
    const ctnn::dataset_for<net_type> train{x_train, y_train}, validation{x_val, y_val};

    net_type net{};
    ctnn::init::torch_default(net, /*seed=*/3);
    ctnn::trainer<net_type, ctnn::loss::mse, ctnn::optim::adam> tr{net, {.lr = 3e-3}};
    std::vector<double> ep, train_loss, val_loss;
    examples::progress_bar bar{"sine"};
    const ctnn::fit_result r = ctnn::fit<32>(tr, train,
                                             {.epochs = 300,
                                              .seed = 5,
                                              .validation = validation,
                                              .schedule = ctnn::optim::step_lr{.step_size = 80, .gamma = 0.3},
                                              .early_stop = {.patience = 40},
                                              .on_epoch = [&](ctnn::epoch_stats& s) {
                                                  bar.update(s);
                                                  ep.push_back(static_cast<double>(s.epoch + 1));
                                                  train_loss.push_back(s.train_loss);
                                                  val_loss.push_back(s.val_loss);
                                              }});
    bar.finish();
    std::printf("%s\n", r.describe().c_str());

    // Against the noise-free function: the best a fit can do is an error of 0.
    std::vector<double> grid, fitted, truth;
    double max_err = 0;
    for (int i = 0; i <= 400; ++i) {
        const double v = -pi + 2 * pi * i / 400;
        const double f = static_cast<double>(net.forward(ctnn::tensor<float, 1>{static_cast<float>(v)})[0]);
        grid.push_back(v);
        fitted.push_back(f);
        truth.push_back(std::sin(v));
        max_err = std::max(max_err, std::abs(f - std::sin(v)));
    }
    const ctnn::evaluation e = ctnn::evaluate(net, ctnn::loss::mse{}, validation);
    std::printf("validation: mse %.5f (the noise alone gives 0.01), mae %.4f; largest error against sin(x) on "
                "[-pi, pi]: %.4f\n",
                e.loss, e.value, max_err);

    examples::svg::chart fit_chart{.title = "y = sin(x) + noise: the fitted network", .xlabel = "x", .ylabel = "y",
                                   .legend_bottom = true};
    fit_chart.points(std::vector<double>(x_train.begin(), x_train.end()), std::vector<double>(y_train.begin(), y_train.end()),
                     "#bbbbbb", "training data", 2);
    fit_chart.line(grid, truth, examples::svg::color(2), "sin(x)", 2);
    fit_chart.line(grid, fitted, examples::svg::color(3), "network", 2);
    examples::svg::chart loss_chart{.title = "loss", .xlabel = "epoch", .ylabel = "mse", .log_y = true};
    loss_chart.line(ep, train_loss, examples::svg::color(0), "training");
    loss_chart.line(ep, val_loss, examples::svg::color(1), "validation");
    const std::string svg = examples::output_file("sine_regression.svg");
    examples::svg::write(svg, {fit_chart, loss_chart});
    std::printf("fitted function and loss curves: %s\n", svg.c_str());
    return max_err < 0.1 ? 0 : 1;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sine_regression: %s\n", e.what());
        return 2;
    }
}
