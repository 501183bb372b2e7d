// Iris (data/iris.rst): 150 flowers, 4 measurements, 3 species. A 4-16-3 ReLU network trained by
// ctnn::fit with cross-entropy and Adam on 70 % of the flowers (split per species), tested on the
// other 30 %, which training never sees (the held-out curves are recorded for the plot only;
// nothing is selected on them). Features are standardized with the training rows' statistics.
// Writes iris.svg: the loss and accuracy curves, and the decision regions over petal length and
// petal width (the two sepal measurements held at their training means).
#include <ctnn/ctnn.hpp>

#include "common/csv.hpp"
#include "common/data.hpp"
#include "common/progress.hpp"
#include "common/svg.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using net_type = ctnn::network<float, ctnn::input<4>, ctnn::dense<16>, ctnn::relu, ctnn::dense<3>>;

int run() {
    examples::labelled_data all = examples::read_labelled(examples::data_file("iris.csv"), 4, 3, {.header_lines = 1});
    const examples::split parts = examples::stratified_split(all.labels, 3, 0.0, 0.3, /*seed=*/3);
    std::vector<float> x_train = examples::rows_of(all.x, 4, parts.train), x_test = examples::rows_of(all.x, 4, parts.test);
    const std::vector<int> y_train = examples::rows_of(all.labels, 1, parts.train),
                           y_test = examples::rows_of(all.labels, 1, parts.test);
    const std::vector<float> raw_train = x_train;
    const examples::standardizer scale{x_train, 4};
    scale.apply(x_train);
    scale.apply(x_test);
    const ctnn::dataset_for<net_type> train{x_train, y_train}, test{x_test, y_test};
    std::printf("Iris: %zu training and %zu held-out flowers, 4 features, 3 species\n", train.size(), test.size());

    net_type net{};
    ctnn::init::torch_default(net, /*seed=*/1);
    ctnn::trainer<net_type, ctnn::loss::cross_entropy, ctnn::optim::adam> tr{net, {.lr = 1e-2}};
    std::vector<double> ep, train_loss, test_loss, train_acc, test_acc;
    examples::progress_bar bar{"iris"};
    const auto start = std::chrono::steady_clock::now();
    const ctnn::fit_result r = ctnn::fit<15>(tr, train,
                                             {.epochs = 150,
                                              .seed = 2,
                                              .validation = test,  // recorded for the curves only
                                              .on_epoch = [&](ctnn::epoch_stats& s) {
                                                  bar.update(s);
                                                  ep.push_back(static_cast<double>(s.epoch + 1));
                                                  train_loss.push_back(s.train_loss);
                                                  test_loss.push_back(s.val_loss);
                                                  train_acc.push_back(100 * s.train_metric);
                                                  test_acc.push_back(100 * s.val_metric);
                                              }});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bar.finish();
    const ctnn::evaluation e = ctnn::evaluate(net, ctnn::loss::cross_entropy{}, test);
    std::printf("%s in %.3f s\nheld-out accuracy: %.1f %% (%zu flowers), cross-entropy %.4f\n", r.describe().c_str(),
                seconds, 100 * e.value, e.samples, e.loss);

    // Decision regions over petal length (feature 2) and petal width (feature 3), in cm.
    examples::svg::chart regions{.title = "Iris: decision regions (sepals at their means)", .xlabel = "petal length (cm)",
                                 .ylabel = "petal width (cm)"};
    const double x0 = 0.5, x1 = 7.5, y0 = 0, y1 = 2.8;
    constexpr std::size_t n = 140;
    regions.regions = {.nx = n, .ny = n, .x0 = x0, .x1 = x1, .y0 = y0, .y1 = y1, .classes = {}};
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = 0; i < n; ++i) {
            const double pl = x0 + (x1 - x0) * (static_cast<double>(i) + 0.5) / n;
            const double pw = y0 + (y1 - y0) * (static_cast<double>(j) + 0.5) / n;
            const ctnn::tensor<float, 4> x{scale.apply(scale.mean[0], 0), scale.apply(scale.mean[1], 1),
                                           scale.apply(static_cast<float>(pl), 2), scale.apply(static_cast<float>(pw), 3)};
            regions.regions.classes.push_back(static_cast<int>(ctnn::argmax(net.forward(x))));
        }
    const char* species[] = {"setosa", "versicolor", "virginica"};
    for (int c = 0; c < 3; ++c) {
        std::vector<double> px, py;
        for (std::size_t i = 0; i < y_train.size(); ++i)
            if (y_train[i] == c) {
                px.push_back(raw_train[4 * i + 2]);
                py.push_back(raw_train[4 * i + 3]);
            }
        regions.points(px, py, examples::svg::color(static_cast<std::size_t>(c)), species[c], 3.5);
    }
    examples::svg::chart loss_chart{.title = "Iris: loss", .xlabel = "epoch", .ylabel = "cross-entropy", .log_y = true};
    loss_chart.line(ep, train_loss, examples::svg::color(0), "training");
    loss_chart.line(ep, test_loss, examples::svg::color(1), "held-out");
    examples::svg::chart acc_chart{.title = "Iris: accuracy", .xlabel = "epoch", .ylabel = "accuracy (%)",
                                   .legend_bottom = true};
    acc_chart.line(ep, train_acc, examples::svg::color(0), "training");
    acc_chart.line(ep, test_acc, examples::svg::color(1), "held-out");
    const std::string svg = examples::output_file("iris.svg");
    examples::svg::write(svg, {loss_chart, acc_chart, regions});
    std::printf("curves and decision regions: %s\n", svg.c_str());
    return e.value >= 0.95 ? 0 : 1;
}

}  // namespace

int main() {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "iris: %s\n", e.what());
        return 2;
    }
}
