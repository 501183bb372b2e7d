// A trainer step on one sample of a network with batch_norm (the batch of one is in the trainer's call).
// expect: ctnn: this network normalizes over the batch (batch_norm) in training
// expect-also: (1 >= 2)
#include <ctnn/ctnn.hpp>

using Net = ctnn::network<float, ctnn::input<3>, ctnn::dense<4>, ctnn::residual<ctnn::batch_norm>, ctnn::dense<1>>;

float train(Net& net) {
    ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::adam> tr{net};
    return tr.step(ctnn::tensor<float, 3>{}, ctnn::tensor<float, 1>{});
}
