// The worked examples of the backpropagation literature, computed by ctnn, every quantity printed.
// tests/test_backprop.cpp asserts the same numbers against PyTorch (scripts/gen_worked_examples.py).
#include <ctnn/ctnn.hpp>

#include <cmath>
#include <cstdio>

namespace {

using ctnn::dense, ctnn::input, ctnn::network, ctnn::tensor;

template <class Store>
void print_tensor(const char* label, const Store& s, std::size_t layer, std::string_view name) {
    std::printf("  %-26s", label);
    s.for_each_parameter([&](const ctnn::layer_path& p, const auto& t) {
        if (p.index[0] != layer || t.name != name) return;
        for (std::size_t r = 0; r < t.shape[0]; ++r) {
            std::printf(t.rank == 2 ? "[" : "");
            for (std::size_t c = 0; c < (t.rank == 2 ? t.shape[1] : 1); ++c) std::printf(" %+.6f", t(r, c));
            std::printf(t.rank == 2 ? " ]" : "");
        }
    });
    std::printf("\n");
}

void example1() {
    std::printf("1. The 2-2-1 tanh network: x = [0.5, 0.3], W1 = [[0.1, 0.2], [0.3, 0.5]], b1 = [0.4, 0.7],\n"
                "   W2 = [[0.6, -0.4]], b2 = [0.1] (our choice), tanh hidden and output, target t = 1,\n"
                "   loss 1/2 (y - t)^2, one SGD step with lr 0.1.\n");
    using net_type = network<double, input<2>, dense<2>, ctnn::tanh, dense<1>, ctnn::tanh>;
    net_type net{};
    auto l0 = net.layer<0>();
    l0.weight(0, 0) = 0.1, l0.weight(0, 1) = 0.2, l0.weight(1, 0) = 0.3, l0.weight(1, 1) = 0.5;
    l0.bias(0) = 0.4, l0.bias(1) = 0.7;
    net.layer<2>().weight(0, 0) = 0.6, net.layer<2>().weight(0, 1) = -0.4, net.layer<2>().bias(0) = 0.1;
    const tensor<double, 2> x{0.5, 0.3};
    const tensor<double, 1> t{1.0};

    // Forward, by hand from the parameters, to show z and a; the network computes the same y.
    double z1[2], a1[2];
    for (std::size_t o = 0; o < 2; ++o) {
        z1[o] = l0.bias(o) + l0.weight(o, 0) * x[0] + l0.weight(o, 1) * x[1];
        a1[o] = std::tanh(z1[o]);
    }
    const double z2 = net.layer<2>().bias(0) + net.layer<2>().weight(0, 0) * a1[0] + net.layer<2>().weight(0, 1) * a1[1];
    const double y = net.forward(x)[0];
    std::printf("  z1 = W1 x + b1             [ %+.6f %+.6f ]\n", z1[0], z1[1]);
    std::printf("  a1 = tanh(z1)              [ %+.6f %+.6f ]\n", a1[0], a1[1]);
    std::printf("  z2 = W2 a1 + b2            %+.6f\n", z2);
    std::printf("  y = tanh(z2)               %+.6f   (net.forward: %+.6f)\n", std::tanh(z2), y);

    net_type::gradients g{};
    const double loss = ctnn::backprop(net, ctnn::loss::half_mse{}, x, t, g);
    std::printf("  loss = 1/2 (y - t)^2       %+.6f\n", loss);
    std::printf("  dL/dy = y - t              %+.6f\n", y - t[0]);
    print_tensor("delta2 = dL/dz2 (= db2)", g, 2, "bias");
    print_tensor("delta1 = dL/dz1 (= db1)", g, 0, "bias");
    print_tensor("dL/dW2 = delta2 a1^T", g, 2, "weight");
    print_tensor("dL/dW1 = delta1 x^T", g, 0, "weight");
    ctnn::trainer<net_type, ctnn::loss::half_mse, ctnn::optim::sgd> tr{net, {.lr = 0.1}};
    tr.step(x, t);
    print_tensor("W1 after W1 -= 0.1 dL/dW1", net, 0, "weight");
    print_tensor("b1 after the step", net, 0, "bias");
    print_tensor("W2 after the step", net, 2, "weight");
    print_tensor("b2 after the step", net, 2, "bias");
    std::printf("  loss after the step        %+.6f\n\n", 0.5 * std::pow(net.forward(x)[0] - 1.0, 2));
}

void example2() {
    std::printf("2. Linear regression by gradient descent: X = [1, 2, 3, 4, 5], y = [1.2, 2.4, 3.6, 4.8, 5.0],\n"
                "   MSE, SGD lr 0.05 on the full batch. Least squares (closed form): slope 1.0, intercept 0.4.\n");
    network<double, input<1>, dense<1>> net{};
    const tensor<double, 5, 1> x{1, 2, 3, 4, 5};
    const tensor<double, 5, 1> y{1.2, 2.4, 3.6, 4.8, 5.0};
    ctnn::trainer<decltype(net), ctnn::loss::mse, ctnn::optim::sgd> tr{net, {.lr = 0.05}};
    for (int step = 1; step <= 1200; ++step) {
        const double loss = tr.step(x, y);
        if (step == 1 || step == 10 || step == 100 || step == 500 || step == 1200)
            std::printf("  step %4d  loss %.10f  slope %.9f  intercept %.9f\n", step, loss, net.layer<0>().weight(0, 0),
                        net.layer<0>().bias(0));
    }
    std::printf("\n");
}

void example3() {
    std::printf("3. A 1-4-4-1 ReLU network, MSE, one SGD(lr = 0.01) step on a batch of 4 (the test loads\n"
                "   PyTorch's initial weights and compares every gradient and updated weight).\n");
    using net_type = network<double, input<1>, dense<4>, ctnn::relu, dense<4>, ctnn::relu, dense<1>>;
    net_type net{};
    ctnn::init::torch_default(net, 7);
    const tensor<double, 4, 1> x{-1.0, 0.5, 1.5, 2.0};
    const tensor<double, 4, 1> y{0.3, -0.2, 1.1, 0.7};
    ctnn::trainer<net_type, ctnn::loss::mse, ctnn::optim::sgd> tr{net, {.lr = 0.01}};
    const double before = tr.step(x, y);
    print_tensor("dL/dW for layer 4", tr.gradients(), 4, "weight");
    print_tensor("dL/db for layer 4", tr.gradients(), 4, "bias");
    typename net_type::gradients scratch{};
    std::printf("  loss before %.6f, after one step %.6f\n\n", before, ctnn::backprop(net, ctnn::loss::mse{}, x, y, scratch));
}

void example4() {
    std::printf("4. XOR with a 2-8-1 network (tanh hidden, sigmoid output, BCE), SGD lr 0.5 momentum 0.9.\n");
    using net_type = network<float, input<2>, dense<8>, ctnn::tanh, dense<1>, ctnn::sigmoid>;
    net_type net{};
    ctnn::init::xavier_uniform(net, 1);
    const tensor<float, 4, 2> x{0, 0, 0, 1, 1, 0, 1, 1};
    const tensor<float, 4, 1> y{0, 1, 1, 0};
    ctnn::trainer<net_type, ctnn::loss::bce, ctnn::optim::sgd> tr{net, {.lr = 0.5, .momentum = 0.9}};
    for (int step = 1; step <= 300; ++step) {
        const float loss = tr.step(x, y);
        if (step == 1 || step == 50 || step == 100 || step == 300) std::printf("  step %3d  loss %.6f\n", step, loss);
    }
    const auto out = net.forward(x);
    int correct = 0;
    for (std::size_t s = 0; s < 4; ++s) {
        std::printf("  %g xor %g -> %.4f\n", x(s, 0), x(s, 1), out[s]);
        correct += (out[s] > 0.5f) == (y[s] > 0.5f);
    }
    std::printf("  accuracy %d / 4\n", correct);
}

}  // namespace

int main() {
    example1();
    example2();
    example3();
    example4();
}
