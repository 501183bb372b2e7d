// backprop through dropout without a generator for its masks.
// expect: ctnn: this network has dropout, which draws random masks in training: pass a ctnn::rng
#include <ctnn/ctnn.hpp>

using Net = ctnn::network<float, ctnn::input<3>, ctnn::dense<4>, ctnn::dropout<>, ctnn::dense<1>>;

float train(Net& net, Net::gradients& g) {
    return ctnn::backprop(net, ctnn::loss::mse{}, ctnn::tensor<float, 3>{}, ctnn::tensor<float, 1>{}, g);
}
