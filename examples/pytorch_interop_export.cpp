// Build-time step of the pytorch_interop example: loads the weights PyTorch exported and writes
// them as a C++ header with ctnn::write_header, for targets that have no file system.
//   pytorch_interop_export <model.safetensors> <out.hpp>
#include "pytorch_interop_model.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <model.safetensors> <out.hpp>\n", argv[0]);
        return 2;
    }
    try {
        pytorch_interop_net net{};
        ctnn::load_safetensors(net, argv[1]);
        ctnn::write_header(net, argv[2], "pytorch_interop_weights");
    } catch (const ctnn::io_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
