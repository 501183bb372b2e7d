// torch_mlp.hpp — the same networks in libtorch (Debian's libtorch-dev, PyTorch 1.13's C++ API),
// for the ratio a user gets by switching from libtorch to ctnn. Optional: built only when CMake
// finds Torch (bench/CMakeLists.txt, CTNN_BENCH_LIBTORCH). The interface is plain C++ so that only
// torch_mlp.cpp includes the (large) libtorch headers.
//
// A torch::nn::Sequential of Linear layers with Tanh or ReLU after every Linear but the last, in
// float on the CPU with one intra-op thread; training is torch::mse_loss (mean) + backward +
// torch::optim::Adam with PyTorch's defaults, as a user of libtorch writes it.
#pragma once

#include <memory>
#include <vector>

namespace torch_baseline {

class mlp {
 public:
  virtual ~mlp() = default;
  virtual void set_weight(int layer, int o, int i, float v) = 0;  // layer = index of the Linear
  virtual void set_bias(int layer, int o, float v) = 0;
  virtual void forward(const float* x, float* y) = 0;              // one sample
  virtual void forward_batch(const float* xb, float* yb) = 0;      // 32 samples, [32][in] -> [32][out]
  virtual float train_step(const float* x, const float* y) = 0;    // one sample
  virtual float train_step_batch(const float* xb, const float* yb) = 0;  // 32 samples
};

// widths = {in, hidden..., out}; tanh or relu after every Linear but the last.
std::unique_ptr<mlp> make_mlp(bool tanh, const std::vector<int>& widths);

}  // namespace torch_baseline
