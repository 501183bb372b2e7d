// trainer<Net, Loss, Optimizer> with the loss and the optimizer swapped.
// expect: ctnn: trainer<Net, Loss, Optimizer>: Loss must be a ctnn loss
#include <ctnn/ctnn.hpp>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<1>>;
    Net net{};
    ctnn::trainer<Net, ctnn::optim::adam, ctnn::loss::mse> tr{net};
}
