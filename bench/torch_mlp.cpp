// libtorch implementation of torch_mlp.hpp.
#include "torch_mlp.hpp"

#include <torch/torch.h>

namespace torch_baseline {
namespace {

class torch_mlp final : public mlp {
 public:
  torch_mlp(bool tanh, const std::vector<int>& widths) : widths_(widths) {
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      auto linear = torch::nn::Linear(widths[l], widths[l + 1]);
      linears_.push_back(linear);
      net_->push_back(linear);
      if (l + 2 < widths.size()) {
        if (tanh)
          net_->push_back(torch::nn::Tanh());
        else
          net_->push_back(torch::nn::ReLU());
      }
    }
    optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(1e-3));
  }

  void set_weight(int layer, int o, int i, float v) override {
    torch::NoGradGuard guard;
    linears_[std::size_t(layer)]->weight.index_put_({o, i}, v);
  }
  void set_bias(int layer, int o, float v) override {
    torch::NoGradGuard guard;
    linears_[std::size_t(layer)]->bias.index_put_({o}, v);
  }

  void forward(const float* x, float* y) override {
    torch::NoGradGuard guard;
    const auto out = net_->forward(view(x, {in()}));
    std::memcpy(y, out.data_ptr<float>(), sizeof(float) * std::size_t(out_()));
  }
  void forward_batch(const float* xb, float* yb) override {
    torch::NoGradGuard guard;
    const auto out = net_->forward(view(xb, {32, in()}));
    std::memcpy(yb, out.data_ptr<float>(), sizeof(float) * 32 * std::size_t(out_()));
  }
  float train_step(const float* x, const float* y) override { return train(view(x, {in()}), view(y, {out_()})); }
  float train_step_batch(const float* xb, const float* yb) override {
    return train(view(xb, {32, in()}), view(yb, {32, out_()}));
  }

 private:
  int in() const { return widths_.front(); }
  int out_() const { return widths_.back(); }
  static torch::Tensor view(const float* p, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(p), shape, torch::kFloat32);
  }
  float train(const torch::Tensor& x, const torch::Tensor& y) {
    optimizer_->zero_grad();
    auto loss = torch::mse_loss(net_->forward(x), y);
    loss.backward();
    optimizer_->step();
    return loss.item<float>();
  }

  std::vector<int> widths_;
  torch::nn::Sequential net_;
  std::vector<torch::nn::Linear> linears_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

}  // namespace

std::unique_ptr<mlp> make_mlp(bool tanh, const std::vector<int>& widths) {
  static const bool single_thread = [] {
    torch::set_num_threads(1);  // one core, as ctnn and Eigen use
    return true;
  }();
  (void)single_thread;
  return std::make_unique<torch_mlp>(tanh, widths);
}

}  // namespace torch_baseline
