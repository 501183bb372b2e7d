// What the compiler knows about a ctnn network, and what it says when a shape is wrong.
//
// Every fact below is a static_assert: if this file compiles, they hold. The program prints them.
//
// A shape mistake is a compile error whose first error line is a ctnn: message at the call the
// user wrote, with the two sizes on the next line. Compile this file with -DCTNN_SHOW_SHAPE_ERROR
// to see one. Pasted from g++ 12.2 (-std=c++20 -march=native), the mistake being
//     ctnn::tensor<float, 65> x{};   auto y = net.forward(x);     // 65 features, the network takes 64
// the compiler says (the include chain's "In file included from" lines left out; the line
// numbers are those of the headers at the time of writing):
//
//   include/ctnn/network.hpp: In instantiation of ‘auto ctnn::network<T, Specs>::forward(const ctnn::tensor<U, E ...>&) const [with U = float; long unsigned int ...D = {65}; T = float; auto ...Specs = {ctnn::input_t<64>(), ctnn::dense_t<32>(), ctnn::relu_t(), ctnn::dense_t<10>()}]’:
//   examples/compile_time_checks.cpp:104:25:   required from here
//   include/ctnn/network.hpp:123:64: error: static assertion failed: ctnn: the input's feature count differs from the network's input<N>
//     123 |         static_assert(tensor<U, D...>::shape[sizeof...(D) - 1] == input_size,
//         |                       ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~^~~~~~~~~~~~~
//   include/ctnn/network.hpp:123:64: note: the comparison reduces to ‘(65 == 64)’
//
// and nothing more: that error is the first and the only one.
//
// Training with a target of the wrong width,
//     ctnn::tensor<float, 32, 9> y{};   tr.step(xb, y);             // 9 target columns, 10 outputs
// gives
//   include/ctnn/backprop.hpp:62:41: error: static assertion failed: ctnn: the target's (or upstream gradient's) width differs from the network's output width
//   include/ctnn/backprop.hpp:62:41: note: the comparison reduces to ‘(9 == 10)’
// and fitting a dataset made for another network,
//     ctnn::dataset<float, 65, 10> d{x, labels};   ctnn::fit<32>(tr, d);
// gives
//   include/ctnn/train/fit.hpp:378:37: error: static assertion failed: ctnn: the dataset's input width differs from the network's input<N>
//   include/ctnn/train/fit.hpp:378:37: note: the comparison reduces to ‘(65 == 64)’
#include <ctnn/ctnn.hpp>

#include <cstdio>
#include <type_traits>
#include <vector>

namespace {

// The digits demo's network: 64 pixels, 32 hidden ReLU units, 10 logits.
using net_type = ctnn::network<float, ctnn::input<64>, ctnn::dense<32>, ctnn::relu, ctnn::dense<10>>;
using trainer_type = ctnn::trainer<net_type, ctnn::loss::cross_entropy, ctnn::optim::adam>;

// The same type written with the DSL: the same type, not merely an equivalent one.
static_assert(std::is_same_v<net_type, ctnn::network_of<float, ctnn::input<64> | ctnn::dense<32> | ctnn::relu |
                                                                   ctnn::dense<10>>>);

// Shapes: the widths, and the layers numbered like an nn.Sequential (input<64> is not a layer).
static_assert(net_type::input_size == 64 && net_type::output_size == 10);
static_assert(net_type::layer_count == 3);
static_assert(net_type::layer_type<0>::in == 64 && net_type::layer_type<0>::out == 32);
static_assert(net_type::layer_type<2>::in == 32 && net_type::layer_type<2>::out == 10);

// Parameters as PyTorch counts them, and the work of one prediction.
static_assert(net_type::parameter_count == 64 * 32 + 32 + 32 * 10 + 10);
static_assert(net_type::forward_flops == (2 * 64 * 32 + 32) + 32 + (2 * 32 * 10 + 10));

// An inference network is its parameters (padded to SIMD registers) and nothing else; the
// gradients have the same layout; the trainer holds gradients and optimizer state.
static_assert(sizeof(net_type) == net_type::parameter_block_size * sizeof(float));
static_assert(sizeof(net_type::gradients) == sizeof(net_type));
static_assert(net_type::parameter_block_size >= net_type::parameter_count);

// What forward returns is decided by the type of what it is given.
static_assert(std::is_same_v<decltype(std::declval<const net_type&>().forward(ctnn::tensor<float, 64>{})),
                             ctnn::tensor<float, 10>>);
static_assert(std::is_same_v<decltype(std::declval<const net_type&>().forward(ctnn::tensor<float, 32, 64>{})),
                             ctnn::tensor<float, 32, 10>>);

// Hot paths cannot throw.
static_assert(noexcept(std::declval<const net_type&>().forward(ctnn::tensor<float, 64>{})));
static_assert(noexcept(std::declval<trainer_type&>().step(ctnn::tensor<float, 32, 64>{}, ctnn::tensor<float, 32, 10>{})));

// The dataset type that fits the network, and the metric fit reports for its loss.
static_assert(std::is_same_v<ctnn::dataset_for<net_type>, ctnn::dataset<float, 64, 10>>);
static_assert(ctnn::default_metric<ctnn::loss::cross_entropy> == ctnn::metric::accuracy);
static_assert(ctnn::default_metric<ctnn::loss::mse> == ctnn::metric::mae);

// Constants the program may use like any other.
constexpr std::size_t flops = net_type::forward_flops;
constexpr std::size_t bytes = sizeof(net_type);

}  // namespace

int main() {
    std::printf("network<float, input<64>, dense<32>, relu, dense<10>>, known at compile time:\n");
    std::printf("  input_size            %zu\n", net_type::input_size);
    std::printf("  output_size           %zu\n", net_type::output_size);
    std::printf("  layer_count           %zu   (0 dense 64->32, 1 relu, 2 dense 32->10)\n", net_type::layer_count);
    std::printf("  parameter_count       %zu   (64*32 + 32 + 32*10 + 10)\n", net_type::parameter_count);
    std::printf("  parameter_block_size  %zu   (storage, with the padding of each layer to its register width)\n",
                net_type::parameter_block_size);
    std::printf("  forward_flops         %zu   per prediction\n", flops);
    std::printf("  sizeof(network)       %zu bytes: the parameters and nothing else\n", bytes);
    std::printf("  sizeof(trainer)       %zu bytes: + gradients, Adam's two moment buffers, the step count\n",
                sizeof(trainer_type));
    std::printf("  forward(tensor<float, 64>)     -> tensor<float, 10>\n");
    std::printf("  forward(tensor<float, 32, 64>) -> tensor<float, 32, 10>\n");
    std::printf("\nEvery line above is a static_assert in this file. Compile it with -DCTNN_SHOW_SHAPE_ERROR to\n"
                "see the error a shape mistake gives (pasted in the comment at the top).\n");

#ifdef CTNN_SHOW_SHAPE_ERROR
    net_type net{};
    ctnn::tensor<float, 65> x{};  // 65 features, but the network takes 64
    auto y = net.forward(x);
    (void)y;
#endif
}
