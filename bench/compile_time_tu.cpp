// The translation unit of the compile-time bar (scripts/compile_time.sh): forward on one sample
// and on a batch of 32, and a trainer step (MSE, Adam) on one sample and on a batch of 32, for the
// benchmark's four networks in float. Each is an exported function, so nothing is optimized away.
#include <ctnn/ctnn.hpp>

namespace ct {
using namespace ctnn;
using T = network<float, input<2>, dense<8>, ctnn::tanh, dense<1>>;
using S = network<float, input<8>, dense<16>, ctnn::tanh, dense<16>, ctnn::tanh, dense<1>>;
using M = network<float, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>;
using W = network<float, input<64>, dense<128>, relu, dense<128>, relu, dense<16>>;

template <class Net>
using trainer_of = trainer<Net, loss::mse, optim::adam>;

template <class Net>
struct cells {
    static constexpr std::size_t in = Net::input_size, out = Net::output_size;
    static tensor<float, out> fwd1(const Net& n, const tensor<float, in>& x) { return n.forward(x); }
    static tensor<float, 32, out> fwd32(const Net& n, const tensor<float, 32, in>& x) { return n.forward(x); }
    static float train1(trainer_of<Net>& t, const tensor<float, in>& x, const tensor<float, out>& y) {
        return t.step(x, y);
    }
    static float train32(trainer_of<Net>& t, const tensor<float, 32, in>& x, const tensor<float, 32, out>& y) {
        return t.step(x, y);
    }
};
}  // namespace ct

#define CT_CELLS(N)                                                                                          \
    auto ct_##N##_fwd1 = &ct::cells<ct::N>::fwd1;                                                            \
    auto ct_##N##_fwd32 = &ct::cells<ct::N>::fwd32;                                                          \
    auto ct_##N##_train1 = &ct::cells<ct::N>::train1;                                                        \
    auto ct_##N##_train32 = &ct::cells<ct::N>::train32;

CT_CELLS(T)
CT_CELLS(S)
CT_CELLS(M)
CT_CELLS(W)
