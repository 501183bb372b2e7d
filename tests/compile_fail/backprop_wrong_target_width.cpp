// A target of 3 outputs for a network with 1 output.
// expect: ctnn: the target's (or upstream gradient's) width differs from the network's output width
// expect-also: (3 == 1)
#include <ctnn/ctnn.hpp>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>>;
    Net net{};
    Net::gradients g{};
    return static_cast<int>(ctnn::backprop(net, ctnn::loss::mse{}, ctnn::tensor<float, 2>{}, ctnn::tensor<float, 3>{}, g));
}
