// The output of a batch of 16 stored into a tensor for a batch of 32.
// expect: ctnn: the tensors' first dimensions differ (a batch size or a feature count)
// expect-also: (16 == 32)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    ctnn::tensor<float, 16, 2> xb{};
    ctnn::tensor<float, 32, 1> yb = net.forward(xb);
    (void)yb;
}
