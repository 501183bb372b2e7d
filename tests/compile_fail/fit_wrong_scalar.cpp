// Fitting a dataset of doubles to a float network.
// expect: ctnn: the dataset's scalar type differs from the network's (float vs double)
#include <ctnn/ctnn.hpp>

#include <vector>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<4>, ctnn::tanh, ctnn::dense<1>>;
    Net net{};
    ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::sgd> tr{net, {.lr = 1e-2f}};
    std::vector<double> x(8), y(4);
    ctnn::dataset<double, 2, 1> d{x, y};
    ctnn::fit<4>(tr, d);
}
