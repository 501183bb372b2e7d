// naive_mlp.hpp — a deliberately plain scalar reference (double precision, nested loops) of the
// MLP the benchmarks time: PyTorch nn.Linear (W is [out][in]), tanh or relu hidden activations,
// linear output, mean MSE loss (torch.nn.MSELoss), torch.optim.Adam with default betas/eps.
// Used only to check the optimized implementations; never timed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace naive_reference {

struct mlp {
  std::vector<int> widths;  // in, hidden..., out
  bool relu = false;        // hidden activation: relu if true, tanh otherwise
  // W[l][o * in + i] ([out][in] row-major as in PyTorch), b[l][o]
  std::vector<std::vector<double>> W, b, gW, gb, mW, mb, vW, vb;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  long t = 0;

  mlp(std::vector<int> w, bool use_relu) : widths(std::move(w)), relu(use_relu) {
    const int L = int(widths.size()) - 1;
    for (auto* v : {&W, &gW, &mW, &vW}) v->resize(L);
    for (auto* v : {&b, &gb, &mb, &vb}) v->resize(L);
    for (int l = 0; l < L; ++l) {
      for (auto* v : {&W, &gW, &mW, &vW}) (*v)[l].assign(std::size_t(widths[l]) * widths[l + 1], 0.0);
      for (auto* v : {&b, &gb, &mb, &vb}) (*v)[l].assign(widths[l + 1], 0.0);
    }
  }
  int layers() const { return int(widths.size()) - 1; }
  double act(double z) const { return relu ? (z > 0 ? z : 0.0) : std::tanh(z); }
  double act_grad_from_output(double a) const { return relu ? (a > 0 ? 1.0 : 0.0) : 1.0 - a * a; }

  // All activations of one sample: acts[0] = x, acts[l+1] = output of Linear l (after activation).
  std::vector<std::vector<double>> forward_all(const float* x) const {
    std::vector<std::vector<double>> acts(widths.size());
    acts[0].assign(x, x + widths[0]);
    for (int l = 0; l < layers(); ++l) {
      const int in = widths[l], out = widths[l + 1];
      acts[l + 1].assign(out, 0.0);
      for (int o = 0; o < out; ++o) {
        double s = b[l][o];
        for (int i = 0; i < in; ++i) s += W[l][std::size_t(o) * in + i] * acts[l][i];
        acts[l + 1][o] = (l + 1 < layers()) ? act(s) : s;
      }
    }
    return acts;
  }
  std::vector<double> forward(const float* x) const { return forward_all(x).back(); }

  // Mean MSE over out * n outputs; sets gW/gb to dL/dtheta. x: n samples of in floats, y: n x out.
  double loss_and_gradients(const float* x, const float* y, int n) {
    for (int l = 0; l < layers(); ++l) {
      std::fill(gW[l].begin(), gW[l].end(), 0.0);
      std::fill(gb[l].begin(), gb[l].end(), 0.0);
    }
    const int in0 = widths.front(), outL = widths.back();
    const double scale = 1.0 / (double(outL) * n);
    double loss = 0;
    for (int s = 0; s < n; ++s) {
      auto acts = forward_all(x + std::size_t(s) * in0);
      std::vector<double> dz(outL);
      for (int o = 0; o < outL; ++o) {
        const double d = acts.back()[o] - y[std::size_t(s) * outL + o];
        loss += d * d * scale;
        dz[o] = 2.0 * d * scale;
      }
      for (int l = layers() - 1; l >= 0; --l) {
        const int in = widths[l], out = widths[l + 1];
        std::vector<double> da(in, 0.0);
        for (int o = 0; o < out; ++o) {
          gb[l][o] += dz[o];
          for (int i = 0; i < in; ++i) {
            gW[l][std::size_t(o) * in + i] += dz[o] * acts[l][i];
            da[i] += W[l][std::size_t(o) * in + i] * dz[o];
          }
        }
        if (l > 0) {
          dz.assign(in, 0.0);
          for (int i = 0; i < in; ++i) dz[i] = da[i] * act_grad_from_output(acts[l][i]);
        }
      }
    }
    return loss;
  }

  void adam_step() {
    ++t;
    const double bc1 = 1.0 - std::pow(beta1, double(t));
    const double bc2 = 1.0 - std::pow(beta2, double(t));
    auto upd = [&](std::vector<double>& p, const std::vector<double>& g, std::vector<double>& m,
                   std::vector<double>& v) {
      for (std::size_t k = 0; k < p.size(); ++k) {
        m[k] = beta1 * m[k] + (1 - beta1) * g[k];
        v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k];
        const double denom = std::sqrt(v[k]) / std::sqrt(bc2) + eps;
        p[k] -= lr / bc1 * m[k] / denom;
      }
    };
    for (int l = 0; l < layers(); ++l) {
      upd(W[l], gW[l], mW[l], vW[l]);
      upd(b[l], gb[l], mb[l], vb[l]);
    }
  }

  double train_step(const float* x, const float* y, int n) {
    const double loss = loss_and_gradients(x, y, n);
    adam_step();
    return loss;
  }
};

}  // namespace naive_reference
