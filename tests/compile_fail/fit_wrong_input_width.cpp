// Fitting a dataset of 65 features to a network of input<64>.
// expect: ctnn: the dataset's input width differs from the network's input<N>
// expect-also: (65 == 64)
#include <ctnn/ctnn.hpp>

#include <vector>

int main() {
    using Net = ctnn::network<float, ctnn::input<64>, ctnn::dense<32>, ctnn::relu, ctnn::dense<10>>;
    Net net{};
    ctnn::trainer<Net, ctnn::loss::cross_entropy, ctnn::optim::adam> tr{net, {.lr = 1e-3f}};
    std::vector<float> x(4 * 65);
    std::vector<int> labels(4);
    ctnn::dataset<float, 65, 10> d{x, labels};
    ctnn::fit<32>(tr, d);
}
