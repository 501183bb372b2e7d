// Fitting a dataset with 9 target columns to a network with 10 outputs.
// expect: ctnn: the dataset's target width differs from the network's output width
// expect-also: (9 == 10)
#include <ctnn/ctnn.hpp>

#include <vector>

int main() {
    using Net = ctnn::network<float, ctnn::input<64>, ctnn::dense<32>, ctnn::relu, ctnn::dense<10>>;
    Net net{};
    ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::sgd> tr{net, {.lr = 1e-2f}};
    std::vector<float> x(4 * 64), y(4 * 9);
    ctnn::dataset<float, 64, 9> d{x, y};
    ctnn::fit<16>(tr, d);
}
