// layer<3> of a network with layers 0, 1, 2 (input<2> is not a layer).
// expect: ctnn: layer<I> is out of range: layers are numbered from 0 like an nn.Sequential
// expect-also: (3 < 3)
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>> net{};
    return static_cast<int>(net.layer<3>().weight(0, 0));
}
