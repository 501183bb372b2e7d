// forward takes one sample or one batch; a 3-dimensional tensor is neither.
// expect: ctnn: forward takes one sample tensor<T, In> or a batch tensor<T, Batch, In>
#include <ctnn/ctnn.hpp>

int main() {
    ctnn::network<float, ctnn::input<2>, ctnn::dense<1>> net{};
    ctnn::tensor<float, 4, 3, 2> x{};
    auto y = net.forward(x);
    (void)y;
}
