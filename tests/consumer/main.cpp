#include <ctnn/ctnn.hpp>

#include <cstdio>

int main() {
    using Net = ctnn::network<float, ctnn::input<2>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<1>>;
    Net net{};
    ctnn::init::xavier_uniform(net, 42);
    const ctnn::tensor<float, 1> y = net.forward(ctnn::tensor<float, 2>{0.5f, 0.3f});
    std::printf("consumer: y = %g\n", static_cast<double>(y[0]));
    return y[0] == y[0] ? 0 : 1;  // finite output
}
