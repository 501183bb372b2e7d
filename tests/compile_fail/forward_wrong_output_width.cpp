// The output of a network ending in dense<1> stored into a tensor of 2 features.
// expect: ctnn: the tensors' first dimensions differ (a batch size or a feature count)
// expect-also: (1 == 2)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    ctnn::tensor<float, 2> y = net.forward(ctnn::tensor<float, 2>{});
    (void)y;
}
