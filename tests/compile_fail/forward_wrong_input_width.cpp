// A sample with 3 features given to a network declared with input<2>.
// expect: ctnn: the input's feature count differs from the network's input<N>
// expect-also: (3 == 2)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    ctnn::tensor<float, 3> x{};
    auto y = net.forward(x);
    (void)y;
}
