// PyTorch -> ctnn: a model trained in PyTorch (scripts/export_pytorch.py) runs in ctnn and gives
// PyTorch's outputs.
//   1. load the safetensors file PyTorch's side wrote (parameters, batch-norm buffers and its int64
//      counter) and compare ctnn's outputs with PyTorch's on 64 inputs, in float and in double;
//   2. save and load again: the round trip is exact, and the saved file is byte for byte the one
//      PyTorch's side wrote;
//   3. a mistake (the wrong network type) is an io_error that says what is wrong, and changes nothing;
//   4. the same weights compiled in: pytorch_interop_weights.hpp was generated at build time by
//      ctnn::write_header (examples/pytorch_interop_export.cpp), and builds the network as a
//      constexpr object, with no file at run time.
// Exits 1 if an output differs from PyTorch's by more than the rounding of the arithmetic allows.
//   pytorch_interop [data directory]     (default: the repository's examples/data)
#include "pytorch_interop_model.hpp"
#include "pytorch_interop_weights.hpp"  // generated at build time

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

template <class Net>
double max_error(const Net& net, const std::vector<typename Net::value_type>& x,
                 const std::vector<typename Net::value_type>& expected, bool print) {
    using T = typename Net::value_type;
    double worst = 0;
    for (std::size_t s = 0; s < x.size() / 3; ++s) {
        const auto y = net.forward(ctnn::tensor<T, 3>{x[3 * s], x[3 * s + 1], x[3 * s + 2]});
        for (std::size_t j = 0; j < 2; ++j)
            worst = std::max(worst, std::abs(static_cast<double>(y[j]) - static_cast<double>(expected[2 * s + j])));
        if (print && s < 4)
            std::printf("    x = [%+.3f %+.3f %+.3f]   ctnn [%+.7f %+.7f]   PyTorch [%+.7f %+.7f]\n",
                        static_cast<double>(x[3 * s]), static_cast<double>(x[3 * s + 1]),
                        static_cast<double>(x[3 * s + 2]), static_cast<double>(y[0]), static_cast<double>(y[1]),
                        static_cast<double>(expected[2 * s]), static_cast<double>(expected[2 * s + 1]));
    }
    return worst;
}

std::vector<char> file_bytes(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
    const std::filesystem::path dir = argc > 1 ? argv[1] : CTNN_EXAMPLES_DATA_DIR;
    const auto model_file = dir / "pytorch_interop.safetensors";
    bool ok = true;
    try {
        // ---- 1. PyTorch's weights, PyTorch's outputs -----------------------------------------
        pytorch_interop_net net{};
        ctnn::load_safetensors(net, model_file);
        const ctnn::io::safetensors_file io(dir / "pytorch_interop_io.safetensors");
        const auto x = io.values<float>("inputs");
        std::printf("1. %s: %zu tensors, batch norm has tracked %lld batches\n", model_file.string().c_str(),
                    ctnn::io::safetensors_file(model_file).tensors().size(),
                    static_cast<long long>(net.layer<1>().num_batches_tracked()));
        const double err = max_error(net, x, io.values<float>("outputs"), true);
        std::printf("   float:  max |ctnn - PyTorch| over %zu inputs = %.3g\n", x.size() / 3, err);

        using net64 = ctnn::network<double, ctnn::input<3>, ctnn::dense<16>, ctnn::batch_norm, ctnn::tanh,
                                    ctnn::dense<16>, ctnn::gelu, ctnn::dropout<0.1>, ctnn::dense<2>>;
        net64 wide{};
        ctnn::load_safetensors(wide, model_file);  // the F32 file converts to double on load
        const double err64 = max_error(wide, io.values<double>("inputs"), io.values<double>("outputs_f64"), false);
        std::printf("   double: max |ctnn - PyTorch (model.double())| = %.3g\n", err64);
        ok = ok && err <= 2e-6 && err64 <= 1e-14;

        // ---- 2. save and load ---------------------------------------------------------------
        const auto copy = std::filesystem::temp_directory_path() / "ctnn_pytorch_interop_copy.safetensors";
        ctnn::save_safetensors(net, copy);
        pytorch_interop_net back{};
        ctnn::load_safetensors(back, copy);
        const bool same_bytes = file_bytes(copy) == file_bytes(model_file);
        std::printf("2. saved and loaded again: %s; the saved file %s PyTorch's side wrote\n",
                    back == net ? "identical" : "DIFFERENT", same_bytes ? "is byte for byte the one" : "DIFFERS from the one");
        std::filesystem::remove(copy);
        ok = ok && back == net && same_bytes;

        // ---- 3. a mistake -------------------------------------------------------------------
        using wrong = ctnn::network<float, ctnn::input<3>, ctnn::dense<8>, ctnn::tanh, ctnn::dense<2>>;
        wrong w{};
        try {
            ctnn::load_safetensors(w, model_file);
            ok = false;
        } catch (const ctnn::io_error& e) {
            std::printf("3. loading into the wrong network: %s\n   (the network is unchanged: %s)\n", e.what(),
                        w == wrong{} ? "yes" : "NO");
            ok = ok && w == wrong{};
        }
    } catch (const ctnn::io_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // ---- 4. the weights compiled in ---------------------------------------------------------
    static constexpr pytorch_interop_net embedded = pytorch_interop_weights<pytorch_interop_net>();
    pytorch_interop_net loaded{};
    ctnn::load_safetensors(loaded, model_file);
    std::printf("4. pytorch_interop_weights.hpp (write_header, at build time): a constexpr network of %zu "
                "parameters, %s the loaded one\n",
                pytorch_interop_net::parameter_count, embedded == loaded ? "identical to" : "DIFFERENT from");
    ok = ok && embedded == loaded;

    std::printf(ok ? "ctnn reproduces PyTorch.\n" : "MISMATCH\n");
    return ok ? 0 : 1;
}
