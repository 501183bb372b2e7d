// libFuzzer target for ctnn's safetensors loader (scripts/fuzz.sh builds and runs it).
//
// Each input is taken as the bytes of a file and loaded, strictly and not, into a float network,
// a double network with a residual block and a layer without bias, and a trainer (optimizer state,
// int64 entries), and read with safetensors_file. Allowed outcomes: success, or a ctnn::io_error
// that leaves the target bit for bit as it was. After a success, saving the target and loading the
// result into a fresh one must reproduce it bit for bit. Anything else (a crash, a sanitizer
// report, another exception, a changed target) is a finding.
//
// Built with clang, which rejects floating-point template parameters (clang 14), so only headers
// without them are included: no activations, dropout or normalization layers.
#include <ctnn/io/safetensors.hpp>
#include <ctnn/layers/dense.hpp>
#include <ctnn/layers/residual.hpp>
#include <ctnn/loss/mse.hpp>
#include <ctnn/network.hpp>
#include <ctnn/optim/adam.hpp>
#include <ctnn/train/trainer.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace {

// The tensors of the seed corpus (fuzz/make_corpus.py): "0.weight" [4, 3], "0.bias" [4],
// "1.weight" [2, 4], "1.bias" [2].
using float_net = ctnn::network<float, ctnn::input<3>, ctnn::dense<4>, ctnn::dense<2>>;
// Nested names ("0.0.weight"), a layer without bias, double.
using double_net = ctnn::network<double, ctnn::input<3>, ctnn::residual<ctnn::dense<3>, ctnn::dense<3>>,
                                 ctnn::dense<2, ctnn::no_bias>>;
using float_trainer = ctnn::trainer<float_net, ctnn::loss::mse, ctnn::optim::adam>;

// Every byte the loader may write.
template <class X>
std::vector<unsigned char> snapshot(X& x) {
    std::vector<unsigned char> s;
    auto add = [&](const void* p, std::size_t n) {
        const auto* c = static_cast<const unsigned char*>(p);
        s.insert(s.end(), c, c + n);
    };
    if constexpr (requires { x.state(); }) {
        s = snapshot(x.network());
        auto& st = x.state();
        add(st.exp_avg, sizeof st.exp_avg);
        add(st.exp_avg_sq, sizeof st.exp_avg_sq);
        add(st.max_exp_avg_sq, sizeof st.max_exp_avg_sq);
        const std::uint64_t steps = x.steps(), rng = x.generator().state();
        add(&steps, sizeof steps);
        add(&rng, sizeof rng);
    } else {
        add(x.parameter_block().data(), x.parameter_block().size_bytes());
        add(x.buffer_data(), x.buffer_block_size * sizeof(typename X::value_type));
    }
    return s;
}

template <class X, class Fresh>
void try_load(X& x, std::span<const std::byte> bytes, ctnn::load_options options, Fresh&& fresh) {
    const auto before = snapshot(x);
    try {
        ctnn::load_safetensors_from_bytes(x, bytes, options, "fuzz input");
    } catch (const ctnn::io_error& e) {
        if (snapshot(x) != before) __builtin_trap();  // a failed load changed the target
        if (e.file() != "fuzz input") __builtin_trap();
        return;
    }
    const auto saved = ctnn::save_safetensors_to_bytes(x);
    fresh([&](auto& y) {
        ctnn::load_safetensors_from_bytes(y, saved);  // must not throw: an uncaught exception is a finding
        if (snapshot(y) != snapshot(x)) __builtin_trap();
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);

    for (bool strict : {true, false}) {
        float_net a{};
        a.layer<0>().weight(1, 2) = 0.5f;
        try_load(a, bytes, {.strict = strict}, [](auto&& check) {
            float_net y{};
            check(y);
        });
        double_net b{};
        try_load(b, bytes, {.strict = strict}, [](auto&& check) {
            double_net y{};
            check(y);
        });
        float_net n{};
        float_trainer tr{n};
        tr.set_steps(3);
        try_load(tr, bytes, {.strict = strict}, [](auto&& check) {
            float_net m{};
            float_trainer y{m};
            check(y);
        });
    }

    try {
        const ctnn::io::safetensors_file f(std::vector<std::byte>(bytes.begin(), bytes.end()), "fuzz input");
        for (const auto& t : f.tensors()) {
            if (f.bytes(t).size() != t.end - t.begin) __builtin_trap();
            if (ctnn::io::is_floating(t.dtype) && f.values<float>(t.name).size() != t.element_count()) __builtin_trap();
        }
    } catch (const ctnn::io_error&) {
    }
    return 0;
}
