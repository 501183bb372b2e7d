// Passing fit a plain vector instead of a ctnn::dataset.
// expect: ctnn: fit's training data must be a ctnn::dataset_for<Net>
#include <ctnn/ctnn.hpp>

#include <vector>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<4>, ctnn::tanh, ctnn::dense<1>>;
    Net net{};
    ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::sgd> tr{net, {.lr = 1e-2f}};
    std::vector<float> x(8);
    ctnn::fit<4>(tr, x);
}
