// A batch whose samples have 5 features, for a network of input<2>.
// expect: ctnn: the input's feature count differs from the network's input<N>
// expect-also: (5 == 2)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    ctnn::tensor<float, 32, 5> xb{};
    auto yb = net.forward(xb);
    (void)yb;
}
