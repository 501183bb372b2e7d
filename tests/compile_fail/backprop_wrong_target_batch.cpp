// A batch of 32 inputs with a batch of 16 targets.
// expect: ctnn: the target's (or upstream gradient's) batch size differs from the input's
// expect-also: (16 == 32)
#include <ctnn/ctnn.hpp>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<1>>;
    Net net{};
    Net::gradients g{};
    ctnn::tensor<float, 32, 2> x{};
    ctnn::tensor<float, 16, 1> y{};
    return static_cast<int>(ctnn::backprop(net, ctnn::loss::mse{}, x, y, g));
}
