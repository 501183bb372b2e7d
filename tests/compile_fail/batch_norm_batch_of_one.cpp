// Training a network with batch_norm on one sample: batch statistics of one sample are meaningless
// (PyTorch raises at run time; ctnn refuses to compile).
// expect: ctnn: this network normalizes over the batch (batch_norm) in training
// expect-also: (1 >= 2)
#include <ctnn/ctnn.hpp>

using Net = ctnn::network<float, ctnn::input<3>, ctnn::dense<4>, ctnn::batch_norm, ctnn::dense<1>>;

float train(Net& net, Net::gradients& g) {
    return ctnn::backprop(net, ctnn::loss::mse{}, ctnn::tensor<float, 3>{}, ctnn::tensor<float, 1>{}, g);
}
