// The hot paths never allocate, throw or lock: this binary replaces operator new and the malloc
// family with counting versions, counts pthread_mutex_lock calls, and runs forward, backprop and
// trainer steps on single samples and on batches (built without sanitizers, which own the
// allocator themselves). That they cannot throw is checked with noexcept.
#include <ctnn/ctnn.hpp>

#include <doctest/doctest.h>

#include "../examples/common/count_allocations.hpp"

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace {
std::atomic<long> locks{0};
}

extern "C" int pthread_mutex_lock(pthread_mutex_t* m) {
    using lock_fn = int (*)(pthread_mutex_t*);
    static const lock_fn real = reinterpret_cast<lock_fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
    ++locks;
    return real(m);
}

namespace {

template <class Net, std::size_t B>
long allocations_in_forward() {
    using T = typename Net::value_type;
    static Net net{};  // static: a big network would not fit the test's stack frame twice
    ctnn::init::he_uniform(net, 1);
    static ctnn::tensor<T, Net::input_size> x{};
    static ctnn::tensor<T, B, Net::input_size> xb{};
    x.fill(T(0.5));
    xb.fill(T(-0.25));
    const long before = count_allocations::allocations();
    for (int i = 0; i < 3; ++i) {
        const auto y = net.forward(x);
        const auto yb = net.forward(xb);
        const auto y2 = net(x);
        static_assert(noexcept(net.forward(x)) && noexcept(net.forward(xb)));
        CHECK(y[0] == y2[0]);
        CHECK(yb[0] == yb[0]);
    }
    return count_allocations::allocations() - before;
}

}  // namespace

TEST_CASE("the allocation and lock counters count") {
    const long before = count_allocations::allocations();
    std::vector<int> v(100);
    void* p = std::malloc(10);
    std::free(p);
    CHECK(count_allocations::allocations() - before == 2);
    CHECK(v.size() == 100);
    std::mutex m;
    const long locks_before = locks.load();
    m.lock();
    m.unlock();
    CHECK(locks.load() - locks_before == 1);
}

namespace {

// Backprop and trainer steps (single and batch) under the counters; Plain: without clipping or L1,
// so that a large network's one-sample step takes the fused path (the optimizer inside backward).
template <class Net, class Loss, class Optimizer, std::size_t B, bool Plain = false>
void check_training_hot_paths() {
    using T = typename Net::value_type;
    static Net net{};
    ctnn::init::he_uniform(net, 1);
    static typename Net::gradients g{};
    static ctnn::trainer<Net, Loss, Optimizer> tr{
        net, Optimizer{}, Plain ? ctnn::trainer_options{} : ctnn::trainer_options{.clip_grad_norm = 1.0, .l1 = 1e-4}};
    static ctnn::tensor<T, Net::input_size> x{};
    static ctnn::tensor<T, Net::output_size> y{};
    static ctnn::tensor<T, B, Net::input_size> xb{};
    static ctnn::tensor<T, B, Net::output_size> yb{};
    x.fill(T(0.5));
    xb.fill(T(-0.25));
    y[0] = T(1);
    for (std::size_t s = 0; s < B; ++s) yb(s, s % Net::output_size) = T(1);
    static_assert(noexcept(ctnn::backprop(net, Loss{}, x, y, g)) && noexcept(ctnn::backprop(net, Loss{}, xb, yb, g)));
    static_assert(noexcept(tr.step(x, y)) && noexcept(tr.step(xb, yb)));
    const long allocs = count_allocations::allocations(), lock_count = locks.load();
    T sum = 0;
    for (int i = 0; i < 3; ++i) {
        sum += ctnn::backprop(net, Loss{}, x, y, g);
        sum += ctnn::backprop(net, Loss{}, xb, yb, g);
        sum += tr.step(x, y);
        sum += tr.step(xb, yb);
    }
    CHECK(count_allocations::allocations() - allocs == 0);
    CHECK(locks.load() - lock_count == 0);
    CHECK(sum == sum);
}

}  // namespace

TEST_CASE_TEMPLATE("backprop and trainer steps never allocate or lock", T, float, double) {
    using ctnn::network, ctnn::input, ctnn::dense, ctnn::tanh, ctnn::relu, ctnn::gelu, ctnn::softmax, ctnn::sigmoid;
    namespace loss = ctnn::loss;
    namespace optim = ctnn::optim;
    check_training_hot_paths<network<T, input<2>, dense<8>, tanh, dense<1>>, loss::mse, optim::adam, 32>();
    check_training_hot_paths<network<T, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>, loss::cross_entropy,
                             optim::sgd, 32>();
    check_training_hot_paths<network<T, input<7>, dense<13>, gelu, dense<3>, softmax>, loss::mse, optim::rmsprop, 5>();
    check_training_hot_paths<network<T, input<3>, dense<5>, sigmoid>, loss::bce, optim::adagrad, 3>();
    check_training_hot_paths<network<T, input<3>, dense<5>>, loss::huber<>, optim::adamw, 3>();
    using M = network<T, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>;
    static_assert(ctnn::trainer<M, loss::mse, optim::adam>::fuses_one_sample_steps);
    check_training_hot_paths<M, loss::mse, optim::adam, 32, true>();
}

TEST_CASE_TEMPLATE("forward never allocates", T, float, double) {
    using ctnn::network, ctnn::input, ctnn::dense, ctnn::tanh, ctnn::relu, ctnn::gelu, ctnn::gelu_tanh, ctnn::silu,
        ctnn::softplus, ctnn::softmax, ctnn::elu, ctnn::sigmoid, ctnn::no_bias;
    CHECK(allocations_in_forward<network<T, input<2>, dense<8>, tanh, dense<1>>, 32>() == 0);
    CHECK(allocations_in_forward<network<T, input<16>, dense<64>, relu, dense<64>, relu, dense<4>>, 100>() == 0);
    // One sample skips the rows of the ReLU's zeros here (dense's skips_zero_inputs).
    using W = network<T, input<64>, dense<128>, relu, dense<128>, relu, dense<16>>;
    static_assert(W::sequence_type::template sparse_input<2>() == (ctnn::simd::native_width<T> > 1));
    CHECK(allocations_in_forward<W, 3>() == 0);
    CHECK(allocations_in_forward<network<T, input<7>, dense<16>, gelu, dense<8>, gelu_tanh, dense<17>, silu, dense<3>,
                                         softplus<>, dense<32, no_bias>>, 5>() == 0);
    CHECK(allocations_in_forward<network<T, input<13>, softmax, dense<3>, elu<>, dense<2>, sigmoid>, 33>() == 0);
}

namespace {

// The same for networks with dropout, batch and layer normalization and residual blocks: batches
// only when batch norm forbids a single sample, the generator passed explicitly to backprop.
template <class Net, std::size_t B>
void check_norm_hot_paths() {
    using T = typename Net::value_type;
    static Net net{};
    ctnn::init::he_uniform(net, 1);
    static typename Net::gradients g{};
    static ctnn::trainer<Net, ctnn::loss::mse, ctnn::optim::adam> tr{net};
    static ctnn::rng r{1};
    static ctnn::tensor<T, B, Net::input_size> xb{};
    static ctnn::tensor<T, B, Net::output_size> yb{};
    static ctnn::tensor<T, B, Net::input_size> dx{};
    for (std::size_t i = 0; i < xb.size; ++i) xb[i] = static_cast<T>(i % 7) - T(3);
    static_assert(noexcept(ctnn::backprop(net, ctnn::loss::mse{}, xb, yb, g, dx, r)) && noexcept(tr.step(xb, yb)));
    const long allocs = count_allocations::allocations(), lock_count = locks.load();
    T sum = 0;
    for (int i = 0; i < 3; ++i) {
        sum += ctnn::backprop(net, ctnn::loss::mse{}, xb, yb, g, dx, r);
        sum += tr.step(xb, yb);
        sum += net.forward(xb)[0];
        if constexpr (Net::min_training_batch == 1) {
            ctnn::tensor<T, Net::input_size> x{};
            ctnn::tensor<T, Net::output_size> y{};
            sum += tr.step(x, y);
            sum += net.forward(x)[0];
        }
    }
    CHECK(count_allocations::allocations() - allocs == 0);
    CHECK(locks.load() - lock_count == 0);
    CHECK(sum == sum);
}

}  // namespace

TEST_CASE_TEMPLATE("dropout, batch_norm, layer_norm and residual blocks never allocate or lock", T, float, double) {
    using ctnn::network, ctnn::input, ctnn::dense, ctnn::relu, ctnn::dropout, ctnn::batch_norm, ctnn::layer_norm,
        ctnn::residual;
    check_norm_hot_paths<network<T, input<4>, dense<16>, batch_norm, relu, dropout<0.5>,
                                 residual<dense<16>, layer_norm, relu, dense<16>>, dense<3>>,
                         32>();
    check_norm_hot_paths<network<T, input<4>, dense<9>, dropout<0.2>, residual<residual<dense<9>, relu>, layer_norm>,
                                 dense<2>>,
                         40>();
}
