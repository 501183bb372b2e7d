// A batch output of 1 feature per sample stored into a batch tensor of 4 features per sample.
// expect: ctnn: the tensors' second dimensions differ (a feature count)
// expect-also: (1 == 4)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    ctnn::tensor<float, 8, 4> yb = net.forward(ctnn::tensor<float, 8, 2>{});
    (void)yb;
}
