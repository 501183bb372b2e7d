// Gradients of another network.
// expect: ctnn: the gradients must be the network's own type, Net::gradients
#include <ctnn/ctnn.hpp>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<1>>;
    using Other = ctnn::network<float, ctnn::input<2>, ctnn::dense<4>, ctnn::dense<1>>;
    Net net{};
    Other::gradients g{};
    return static_cast<int>(ctnn::backprop(net, ctnn::loss::mse{}, ctnn::tensor<float, 2>{}, ctnn::tensor<float, 1>{}, g));
}
