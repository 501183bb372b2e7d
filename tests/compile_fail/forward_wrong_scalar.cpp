// A double sample given to a float network.
// expect: ctnn: the input's scalar type differs from the network's (float vs double)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<1>> net{};
    ctnn::tensor<double, 2> x{};
    auto y = net.forward(x);
    (void)y;
}
