// eigen_mlp.hpp — the hand-written Eigen baseline that ctnn's benchmarks compare against.
//
// A fully-connected network with PyTorch nn.Linear semantics (y = W x + b, W is [out][in]),
// a hidden activation after every Linear but the last, and a linear output. Everything is
// fixed-size Eigen, float, no heap, no virtual calls: the strongest "plain Eigen" an expert
// would write, tuned cell by cell with bench/eigen_only_bench.cpp.
//
//   eigen_baseline::mlp<eigen_baseline::tanh_act, 2, 8, 1> net;      // widths in, hidden..., out
//   net.set_weight(layer, o, i, v); net.set_bias(layer, o, v);         // layer = index of the Linear
//   const float* y  = net.forward(x);                                  // x: in floats, y: out floats
//   const auto&  yb = net.forward_batch(xb);                           // xb: in x 32, samples as columns
//   float l1 = net.train_step(x, y);                                   // MSE + backward + Adam, 1 sample
//   float l2 = net.train_step_batch(xb, yb);                           // same on a batch of 32
//
// Storage: all parameters, gradients and Adam moments live in four flat 64-byte-aligned buffers
// (each Linear's W then b, every segment padded to 16 floats = 64 bytes) and are viewed through
// fixed-size aligned Eigen::Maps, so each product has static shapes and the optimizer is one
// fused pass of vectorized Eigen array expressions over the whole buffer.
//
// Variants: template knobs in `config` (see "Variant knobs" below), measured cell by cell in
// eigen_only_bench; `default_config` records which one won each cell, and `mlp` uses it.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

// Entry points are "flattened": GCC/Clang inline every (non-noinline) call in them, so Eigen's
// out-of-line helpers such as generic_fast_tanh_float<Packet16f> (called once per 16 floats
// otherwise: 37 % of the S fwd32 time in a profile) are interleaved with the products. g++ still
// honours its per-unit inline growth budget, which a benchmark TU full of networks exhausts; the
// benchmark build raises it (see bench/CMakeLists.txt). Eigen's GEMV/GEMM kernels are
// EIGEN_DONT_INLINE and stay calls. Define EIGEN_BASELINE_NO_FLATTEN to measure without.
#if !defined(EIGEN_BASELINE_NO_FLATTEN) && (defined(__GNUC__) || defined(__clang__))
#define EIGEN_BASELINE_FLATTEN __attribute__((flatten))
#else
#define EIGEN_BASELINE_FLATTEN
#endif

namespace eigen_baseline {

inline constexpr int batch_size = 32;

namespace detail {
// ReLU backward on an activation *output* a = max(z, 0): d * (a > 0), vectorized.
// (Eigen 3.4's select() has no packet path, so a custom functor is how one vectorizes this.)
struct relu_grad_op {
  EIGEN_STRONG_INLINE float operator()(const float& d, const float& a) const {
    return a > 0.f ? d : 0.f;
  }
  template <class Packet>
  EIGEN_STRONG_INLINE Packet packetOp(const Packet& d, const Packet& a) const {
    using namespace Eigen::internal;
    return pand(d, pcmp_lt(pzero(a), a));
  }
};
}  // namespace detail
}  // namespace eigen_baseline

namespace Eigen::internal {
template <>
struct functor_traits<eigen_baseline::detail::relu_grad_op> {
  enum { Cost = 2 * NumTraits<float>::AddCost, PacketAccess = true };
};
}  // namespace Eigen::internal

namespace eigen_baseline {

// ---------------------------------------------------------------------------------------------
// Activations. fwd(z) is an Eigen array expression of the pre-activation; bwd(d, a) is the
// gradient with respect to the pre-activation given the upstream gradient d and the stored
// activation output a (tanh' = 1 - a^2, relu' = [a > 0]).
struct tanh_act {
  static constexpr const char* name = "tanh";
  template <class Z>
  static EIGEN_STRONG_INLINE auto fwd(const Z& z) {
    return z.array().tanh();  // Eigen's vectorized rational approximation
  }
  template <class D, class A>
  static EIGEN_STRONG_INLINE auto bwd(const D& d, const A& a) {
    return d.array() * (1.f - a.array().square());
  }
};

struct relu_act {
  static constexpr const char* name = "relu";
  template <class Z>
  static EIGEN_STRONG_INLINE auto fwd(const Z& z) {
    return z.array().max(0.f);
  }
  template <class D, class A>
  static EIGEN_STRONG_INLINE auto bwd(const D& d, const A& a) {
    return d.array().binaryExpr(a.array(), detail::relu_grad_op{});
  }
};

// ---------------------------------------------------------------------------------------------
// Variant knobs.
//   product::eigen       `dst.noalias() = A * B`: Eigen picks the kernel (coefficient-based below
//                        its small-size threshold, otherwise its GEMV / blocked GEMM kernels).
//   product::lazy        `A.lazyProduct(B)`: the coefficient-based, inlined product, fused with
//                        the bias add and the activation in one pass.
//   product::lazy_split  forward only: the lazy product with W cut into 16-column blocks,
//                        sum_c W.middleCols<16>(16c).lazyProduct(x.segment<16>(16c)), so every
//                        output packet accumulates in In/16 independent FMA chains (ILP) instead
//                        of one chain of length In. Same as lazy when In <= 16.
//   layout::sample_cols  batch activations ColMajor [width x 32]: a sample is a contiguous column.
//   layout::sample_rows  batch activations RowMajor [width x 32]: samples run along SIMD lanes.
//   AdamChunk            0: m, v, p updated by three whole-buffer Eigen array statements;
//                        C > 0: the same three statements over C-float chunks (one fused pass).
enum class product { eigen, lazy, lazy_split };
enum class layout { sample_cols, sample_rows };

template <product Fwd1, product Fwd32, layout Fwd32Layout,      // inference
          product Train1Fwd, product Train1Bwd,                  // training, one sample
          product Train32Fwd, product Train32Bwd, layout Train32Layout,  // training, batch
          int AdamChunk>
struct config {
  static constexpr product fwd1 = Fwd1;
  static constexpr product fwd32 = Fwd32;
  static constexpr layout fwd32_layout = Fwd32Layout;
  static constexpr product train1_fwd = Train1Fwd;
  static constexpr product train1_bwd = Train1Bwd;  // dW = dz a^T and W^T dz
  static constexpr product train32_fwd = Train32Fwd;
  static constexpr product train32_bwd = Train32Bwd;  // dW = dZ A^T and W^T dZ
  static constexpr layout train32_layout = Train32Layout;
  static constexpr int adam_chunk = AdamChunk;
};

// The per-cell winners, measured with eigen_only_bench on the benchmark machine (AMD EPYC,
// family 26 = Zen 5, 2 vCPUs, g++ 12.2 -O3 -march=native, AVX-512, Eigen 3.4.0); CPU-time medians
// of 3 randomly interleaved repetitions per candidate, ns (per call / per batch of 32 / per step):
//
//   cell     net  winner                     runner-up                   worst candidate
//   fwd1     T    any (4.6; all tie)         -                           -
//            S    lazy = lazy_split (26.6)   member_eigen 32             eigen 41
//            M    lazy_split (125)           member_eigen/eigen 146-151  lazy 242
//            W    eigen (GEMV) (684)         lazy_split 998              lazy 1387
//   fwd32    T    lazy, rows (51)            lazy, cols 105              eigen, cols 230
//            S    lazy, rows (426)           lazy(_split), cols 450      eigen, rows 569
//            M    eigen (GEMM), cols (3327)  member_eigen 3346           lazy, rows 43164
//            W    eigen (GEMM), cols (14228) member_eigen 13767 (tie)    lazy, rows 499547
//   train1   T    any (49.5; all tie)        -                           -
//            S    fwd lazy, bwd lazy (174)   fwd lazy, bwd eigen 178     fwd eigen, bwd eigen 189
//            M    fwd lazy_split, bwd eigen  fwd eigen, bwd eigen 1233   fwd lazy, bwd lazy 1416
//                 (1183)
//            W    fwd eigen, bwd eigen(5753) fwd eigen, bwd lazy 5959    fwd lazy, bwd lazy 6772
//   train32  T    fwd lazy, bwd lazy, cols   fwd lazy, bwd eigen, rows   fwd eigen, bwd eigen, cols
//                 (225)                      237                         392
//            S    fwd lazy, bwd eigen, cols  (rows 1123: tie)            fwd eigen, bwd lazy, rows
//                 (1126)                                                 2619
//            M    all eigen, cols (10392)    all eigen, rows 10682       fwd lazy, bwd lazy, rows 80943
//            W    all eigen, cols (41388)    all eigen, rows 45787       fwd lazy, bwd lazy, rows 636332
//   Adam alone (whole buffer): 64-float chunks win or tie everywhere (W: 3769 vs 3.9-4.0k for
//   16/256 and 5114 for three whole-buffer passes); it runs at L2 bandwidth for M and W.
//   Flat aligned Maps cost nothing against Eigen::Matrix members (member_* rows above).
//
// Reading of it: the lazy (coefficient-based, fully inlined and fused) product wins while
// the weights are at most 16 wide; with 64-wide layers, lazy_split (independent FMA chains)
// wins on a single sample; from 64 (batch) or 128 (single sample) on, Eigen's GEMV/GEMM
// kernels win. The batch RowMajor layout (samples along SIMD lanes) pays off only when layers
// are narrower than a 16-float register (T, S).
template <int... N>
struct default_config {
  static constexpr int max_width = [] {
    int widest = 0;
    for (int n : {N...}) widest = n > widest ? n : widest;
    return widest;
  }();
  static constexpr product fwd1 = max_width <= 64 ? product::lazy_split : product::eigen;
  static constexpr product fwd32 = max_width <= 16 ? product::lazy : product::eigen;
  static constexpr layout fwd32_layout = max_width <= 16 ? layout::sample_rows : layout::sample_cols;
  static constexpr product train1_fwd = max_width <= 64 ? product::lazy_split : product::eigen;
  static constexpr product train1_bwd = max_width <= 16 ? product::lazy : product::eigen;
  static constexpr product train32_fwd = max_width <= 16 ? product::lazy : product::eigen;
  static constexpr product train32_bwd = max_width <= 8 ? product::lazy : product::eigen;
  static constexpr layout train32_layout = layout::sample_cols;
  static constexpr int adam_chunk = 64;
};

// Adam hyper-parameters, PyTorch defaults (torch.optim.Adam, no weight decay, amsgrad off).
struct adam_params {
  float lr = 1e-3f;
  double beta1 = 0.9;
  double beta2 = 0.999;
  float eps = 1e-8f;
};

namespace detail {
template <product P, class A, class B>
EIGEN_ALWAYS_INLINE auto mul(const A& a, const B& b) {
  if constexpr (P == product::eigen)
    return a * b;
  else
    return a.lazyProduct(b);
}

template <int KB, class Wt, class X, std::size_t... C>
EIGEN_ALWAYS_INLINE auto split_lazy(const Wt& W, const X& x, std::index_sequence<C...>) {
  return (... + W.template middleCols<KB>(int(C) * KB).lazyProduct(x.template segment<KB>(int(C) * KB)));
}
// The lazy product W x of a vector x, optionally split into independent 16-column blocks.
template <product P, class Wt, class X>
EIGEN_ALWAYS_INLINE auto lazy_matvec(const Wt& W, const X& x) {
  constexpr int K = int(Wt::ColsAtCompileTime);
  if constexpr (P == product::lazy_split && K > 16 && K % 16 == 0)
    return split_lazy<16>(W, x, std::make_index_sequence<std::size_t(K / 16)>{});
  else
    return W.lazyProduct(x);
}

// y = act(y + b) in place, b broadcast over the columns (samples) of y.
// Eigen 3.4's Replicate (what y.colwise() + b builds) has no packet access: it would silently
// turn the whole expression, the activation included, into scalar code (std::tanh per element).
// So the broadcast is written as a loop over contiguous columns (ColMajor) or rows (RowMajor,
// a scalar bias per row), each a vectorized expression.
template <class Act, bool Hidden, class Y, class Bt>
EIGEN_ALWAYS_INLINE void bias_act_inplace(Y& y, const Bt& b) {
  if constexpr (Y::ColsAtCompileTime == 1) {
    if constexpr (Hidden)
      y.array() = Act::fwd(y + b);
    else
      y += b;
  } else if constexpr (bool(Y::IsRowMajor)) {
    for (int i = 0; i < int(Y::RowsAtCompileTime); ++i) {
      if constexpr (Hidden)
        y.row(i).array() = Act::fwd(y.row(i).array() + b(i));
      else
        y.row(i).array() += b(i);
    }
  } else {
    for (int j = 0; j < int(Y::ColsAtCompileTime); ++j) {
      if constexpr (Hidden)
        y.col(j).array() = Act::fwd(y.col(j) + b);
      else
        y.col(j) += b;
    }
  }
}

// y = act(W x + b) (Hidden) or W x + b, for a vector or a batch x (columns are samples).
template <class Act, bool Hidden, product P, class Wt, class Bt, class X, class Y>
EIGEN_ALWAYS_INLINE void dense_forward(const Wt& W, const Bt& b, const X& x, Y& y) {
  if constexpr (P == product::eigen) {
    y.noalias() = W * x;
    bias_act_inplace<Act, Hidden>(y, b);
  } else if constexpr (Y::ColsAtCompileTime == 1) {
    // one fused pass: product, bias, activation
    if constexpr (Hidden)
      y.array() = Act::fwd(lazy_matvec<P>(W, x) + b);
    else
      y = lazy_matvec<P>(W, x) + b;
  } else if constexpr (!bool(Y::IsRowMajor)) {
    for (int j = 0; j < int(Y::ColsAtCompileTime); ++j) {
      if constexpr (Hidden)
        y.col(j).array() = Act::fwd(lazy_matvec<P>(W, x.col(j)) + b);
      else
        y.col(j) = lazy_matvec<P>(W, x.col(j)) + b;
    }
  } else {
    y = W.lazyProduct(x);  // packets run along the samples of a row
    bias_act_inplace<Act, Hidden>(y, b);
  }
}

// dst = a * b^T (outer product for vectors, a [out x B] times b^T [B x in] for batches).
template <product P, class D, class A, class B>
EIGEN_ALWAYS_INLINE void mul_bt(D&& dst, const A& a, const B& b) {
  if constexpr (P == product::eigen)
    dst.noalias() = a * b.transpose();
  else
    dst = a.lazyProduct(b.transpose());
}

template <int Rows, int Cols, layout L>
using batch_matrix =
    Eigen::Matrix<float, Rows, Cols,
                  (Rows == 1 && Cols != 1)   ? Eigen::RowMajor
                  : (Cols == 1 && Rows != 1) ? Eigen::ColMajor
                  : (L == layout::sample_rows ? Eigen::RowMajor : Eigen::ColMajor)>;

constexpr int pad16(int n) { return (n + 15) / 16 * 16; }
}  // namespace detail

// ---------------------------------------------------------------------------------------------
template <class Act, class Cfg, int... N>
class basic_mlp {
  static_assert(sizeof...(N) >= 2, "eigen_baseline::mlp needs at least an input and an output width");

 public:
  static constexpr int num_layers = int(sizeof...(N)) - 1;  // number of Linears
  static constexpr std::array<int, sizeof...(N)> widths{N...};
  static constexpr int input_size = widths.front();
  static constexpr int output_size = widths.back();
  static constexpr int batch = batch_size;
  template <int l>
  static constexpr int in_w = widths[l];
  template <int l>
  static constexpr int out_w = widths[l + 1];

  using config_type = Cfg;
  using input_vector = Eigen::Matrix<float, input_size, 1>;
  using output_vector = Eigen::Matrix<float, output_size, 1>;
  // A batch as the caller passes it: [width x 32], ColMajor, samples as columns
  // (the same memory as a row-major [32][width] array of samples).
  using input_batch = detail::batch_matrix<input_size, batch, layout::sample_cols>;
  using target_batch = detail::batch_matrix<output_size, batch, layout::sample_cols>;
  using output_batch = detail::batch_matrix<output_size, batch, Cfg::fwd32_layout>;

 private:
  struct offsets_t {
    std::array<int, sizeof...(N) - 1> w{}, b{};
    int total = 0;
  };
  static constexpr offsets_t off = [] {
    offsets_t o;
    int p = 0;
    for (int l = 0; l < num_layers; ++l) {
      o.w[l] = p;
      p += detail::pad16(widths[l] * widths[l + 1]);
      o.b[l] = p;
      p += detail::pad16(widths[l + 1]);
    }
    o.total = p;
    return o;
  }();

 public:
  static constexpr int parameter_count = [] {
    int n = 0;
    for (int l = 0; l < num_layers; ++l) n += widths[l] * widths[l + 1] + widths[l + 1];
    return n;
  }();
  static constexpr int buffer_size = off.total;  // padded, a multiple of 16 floats
  static constexpr long forward_flops = [] {
    long f = 0;
    for (int l = 0; l < num_layers; ++l) f += 2L * widths[l] * widths[l + 1];
    return f;
  }();

  basic_mlp() = default;
  explicit basic_mlp(const adam_params& hp) : hp_(hp) {}

  // ---- parameters, PyTorch logical layout (W is [out][in]) ----
  void set_weight(int layer, int o, int i, float v) { p_[windex(layer, o, i)] = v; }
  void set_bias(int layer, int o, float v) { p_[off.b[layer] + o] = v; }
  float weight(int layer, int o, int i) const { return p_[windex(layer, o, i)]; }
  float bias(int layer, int o) const { return p_[off.b[layer] + o]; }
  float grad_weight(int layer, int o, int i) const { return g_[windex(layer, o, i)]; }
  float grad_bias(int layer, int o) const { return g_[off.b[layer] + o]; }
  static constexpr int in_width(int layer) { return widths[layer]; }
  static constexpr int out_width(int layer) { return widths[layer + 1]; }

  // Fixed-size aligned views of the Linear `l`'s weight [out x in] and bias [out].
  template <int l>
  auto W() const { return Eigen::Map<const wmat<l>, Eigen::Aligned64>(p_ + off.w[l]); }
  template <int l>
  auto b() const { return Eigen::Map<const bvec<l>, Eigen::Aligned64>(p_ + off.b[l]); }

  // Adam state. reset_optimizer() zeroes the moments and the step count.
  void reset_optimizer() {
    Eigen::Map<flat, Eigen::Aligned64>(m_).setZero();
    Eigen::Map<flat, Eigen::Aligned64>(v_).setZero();
    step_ = 0;
    beta1_pow_ = beta2_pow_ = 1.0;
  }
  long step_count() const { return step_; }
  const adam_params& hyper_parameters() const { return hp_; }

  // ---- inference ----
  // One sample: x points to input_size floats; returns output_size floats owned by the network.
  EIGEN_BASELINE_FLATTEN const float* forward(const float* x) {
    forward1_impl<Cfg::fwd1>(Eigen::Map<const input_vector>(x));
    return std::get<num_layers>(a1_).data();
  }
  EIGEN_BASELINE_FLATTEN const output_vector& forward(const input_vector& x) {
    forward1_impl<Cfg::fwd1>(x);
    return std::get<num_layers>(a1_);
  }
  // A batch of 32: xb points to input_size x 32 floats, samples as columns (sample j at xb + j*in).
  // Returns the [output_size x 32] outputs: element (o, j) is output o of sample j.
  const output_batch& forward_batch(const float* xb) {
    return forward_batch(Eigen::Map<const input_batch>(xb));
  }
  template <class X>
  EIGEN_BASELINE_FLATTEN const output_batch& forward_batch(const Eigen::MatrixBase<X>& xb) {
    forward32_impl<0>(xb.derived());
    return std::get<num_layers>(af_);
  }

  // ---- training: forward + mean MSE + backward + one Adam step; returns the loss ----
  EIGEN_BASELINE_FLATTEN float train_step(const float* x, const float* y) {
    return train1_impl(Eigen::Map<const input_vector>(x), Eigen::Map<const output_vector>(y));
  }
  EIGEN_BASELINE_FLATTEN float train_step(const input_vector& x, const output_vector& y) { return train1_impl(x, y); }
  EIGEN_BASELINE_FLATTEN float train_step_batch(const float* xb, const float* yb) {
    return train32_impl(Eigen::Map<const input_batch>(xb), Eigen::Map<const target_batch>(yb));
  }
  EIGEN_BASELINE_FLATTEN float train_step_batch(const input_batch& xb, const target_batch& yb) { return train32_impl(xb, yb); }

  // One Adam step (torch.optim.Adam semantics) over the whole flat buffer, from the gradients of
  // the last train_step:  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
  //                       p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
  // Padding entries have g = m = v = 0 and stay 0. (Public so it can be timed on its own.)
  void optimizer_step() { optimizer_step_impl(); }

  // Raw flat buffers (padded layout) for tests: parameters, gradients, Adam's first and second
  // moments. Weight (o, i) of Linear `layer` is at weight_offset(layer, o, i), bias o at bias_offset.
  const float* parameter_buffer() const { return p_; }
  const float* gradient_buffer() const { return g_; }
  const float* moment1_buffer() const { return m_; }
  const float* moment2_buffer() const { return v_; }
  static int weight_offset(int layer, int o, int i) { return windex(layer, o, i); }
  static int bias_offset(int layer, int o) { return off.b[layer] + o; }

 private:
  template <int l>
  using wmat = Eigen::Matrix<float, out_w<l>, in_w<l>>;  // ColMajor ([out][in] logical)
  template <int l>
  using bvec = Eigen::Matrix<float, out_w<l>, 1>;
  using flat = Eigen::Array<float, buffer_size, 1>;
  template <int n>
  using vec = Eigen::Matrix<float, n, 1>;
  template <int n, layout L>
  using bmat = detail::batch_matrix<n, batch, L>;

  static int windex(int layer, int o, int i) { return off.w[layer] + i * widths[layer + 1] + o; }

  template <int l>
  auto Wm() { return Eigen::Map<wmat<l>, Eigen::Aligned64>(p_ + off.w[l]); }
  template <int l>
  auto gW() { return Eigen::Map<wmat<l>, Eigen::Aligned64>(g_ + off.w[l]); }
  template <int l>
  auto gb() { return Eigen::Map<bvec<l>, Eigen::Aligned64>(g_ + off.b[l]); }

  // ---- forward, one sample: a1_<l+1> = act(W_l a1_<l> + b_l) ----
  template <product P, int l = 0, class X>
  EIGEN_STRONG_INLINE void forward1_impl(const X& x) {
    detail::dense_forward<Act, (l + 1 < num_layers), P>(W<l>(), b<l>(), x, std::get<l + 1>(a1_));
    if constexpr (l + 1 < num_layers) forward1_impl<P, l + 1>(std::get<l + 1>(a1_));
  }

  // ---- forward, batch of 32 ----
  template <int l, class X>
  EIGEN_STRONG_INLINE void forward32_impl(const X& x) {
    detail::dense_forward<Act, (l + 1 < num_layers), Cfg::fwd32>(W<l>(), b<l>(), x, std::get<l + 1>(af_));
    if constexpr (l + 1 < num_layers) forward32_impl<l + 1>(std::get<l + 1>(af_));
  }

  // ---- training, one sample ----
  template <class X, class Y>
  float train1_impl(const X& x, const Y& y) {
    forward1_impl<Cfg::train1_fwd>(x);
    constexpr int L = num_layers - 1;
    auto dz = gb<L>();  // dL/dz of the last Linear == its bias gradient
    const auto& out = std::get<num_layers>(a1_);
    dz = out - y;
    const float loss = dz.squaredNorm() * (1.f / output_size);
    dz *= 2.f / output_size;
    backward1<L>(x);
    optimizer_step();
    return loss;
  }
  template <int l, class X>
  EIGEN_STRONG_INLINE void backward1(const X& x) {
    constexpr product P = Cfg::train1_bwd;
    auto dz = gb<l>();
    if constexpr (l == 0) {
      detail::mul_bt<P>(gW<0>(), dz, x);
    } else {
      const auto& a = std::get<l>(a1_);  // input of Linear l = output of the activation before it
      detail::mul_bt<P>(gW<l>(), dz, a);
      gb<l - 1>().array() = Act::bwd(detail::mul<P>(W<l>().transpose(), dz), a);
      backward1<l - 1>(x);
    }
  }

  // ---- training, batch of 32 ----
  template <product P, int l = 0, class X>
  EIGEN_STRONG_INLINE void forward32_train(const X& x) {
    detail::dense_forward<Act, (l + 1 < num_layers), P>(W<l>(), b<l>(), x, std::get<l + 1>(at_));
    if constexpr (l + 1 < num_layers) forward32_train<P, l + 1>(std::get<l + 1>(at_));
  }
  template <class X, class Y>
  float train32_impl(const X& x, const Y& y) {
    constexpr int L = num_layers - 1;
    constexpr float inv_n = 1.f / float(output_size * batch);
    forward32_train<Cfg::train32_fwd>(x);
    auto& dz = std::get<num_layers>(dzt_);
    dz = std::get<num_layers>(at_) - y;
    const float loss = dz.squaredNorm() * inv_n;
    dz *= 2.f * inv_n;
    backward32<L>(x);
    optimizer_step();
    return loss;
  }
  template <int l, class X>
  EIGEN_STRONG_INLINE void backward32(const X& x) {
    constexpr product P = Cfg::train32_bwd;
    const auto& dz = std::get<l + 1>(dzt_);
    gb<l>() = dz.rowwise().sum();
    if constexpr (l == 0) {
      detail::mul_bt<P>(gW<0>(), dz, x);
    } else {
      const auto& a = std::get<l>(at_);
      detail::mul_bt<P>(gW<l>(), dz, a);
      auto& dprev = std::get<l>(dzt_);
      if constexpr (P == product::eigen) {
        dprev.noalias() = W<l>().transpose() * dz;
        dprev.array() = Act::bwd(dprev, a);
      } else {
        dprev.array() = Act::bwd(W<l>().transpose().lazyProduct(dz), a);
      }
      backward32<l - 1>(x);
    }
  }

  EIGEN_STRONG_INLINE void optimizer_step_impl() {
    ++step_;
    beta1_pow_ *= hp_.beta1;
    beta2_pow_ *= hp_.beta2;
    // As torch: 1 - beta is formed in double, then rounded (1.f - 0.999f would be off by 1.3e-5).
    const float b1 = float(hp_.beta1), b2 = float(hp_.beta2);
    const float c1 = float(1.0 - hp_.beta1), c2 = float(1.0 - hp_.beta2);
    const float step_size = float(hp_.lr / (1.0 - beta1_pow_));
    const float inv_sqrt_bc2 = float(1.0 / std::sqrt(1.0 - beta2_pow_));
    const float eps = hp_.eps;
    if constexpr (Cfg::adam_chunk == 0) {
      adam_chunk<buffer_size>(0, b1, c1, b2, c2, step_size, inv_sqrt_bc2, eps);
    } else {
      constexpr int C = Cfg::adam_chunk;
      constexpr int full = buffer_size / C * C;
      for (int i = 0; i < full; i += C) adam_chunk<C>(i, b1, c1, b2, c2, step_size, inv_sqrt_bc2, eps);
      if constexpr (full != buffer_size)
        adam_chunk<buffer_size - full>(full, b1, c1, b2, c2, step_size, inv_sqrt_bc2, eps);
    }
  }
  template <int C>
  EIGEN_ALWAYS_INLINE void adam_chunk(int i, float b1, float c1, float b2, float c2, float step_size,
                                      float inv_sqrt_bc2, float eps) {
    using A = Eigen::Array<float, C, 1>;
    Eigen::Map<A, Eigen::Aligned64> p(p_ + i), m(m_ + i), v(v_ + i);
    Eigen::Map<const A, Eigen::Aligned64> g(g_ + i);
    m = b1 * m + c1 * g;
    v = b2 * v + c2 * g.square();
    p -= step_size * m / (v.sqrt() * inv_sqrt_bc2 + eps);
  }

  // Flat, 64-byte-aligned parameter / gradient / moment buffers.
  alignas(64) float p_[buffer_size] = {};
  alignas(64) float g_[buffer_size] = {};
  alignas(64) float m_[buffer_size] = {};
  alignas(64) float v_[buffer_size] = {};
  adam_params hp_{};
  long step_ = 0;
  double beta1_pow_ = 1.0, beta2_pow_ = 1.0;

  // Activations: a1_<k> is the output of Linear k-1 (after its activation); <0> unused (the input
  // is read in place). af_ for batch inference, at_/dzt_ for batch training (dzt_<k> = dL/dz of
  // Linear k-1).
  std::tuple<vec<N>...> a1_{};
  std::tuple<bmat<N, Cfg::fwd32_layout>...> af_{};
  std::tuple<bmat<N, Cfg::train32_layout>...> at_{};
  std::tuple<bmat<N, Cfg::train32_layout>...> dzt_{};
};

// The tuned baseline: per-cell winners.
template <class Act, int... N>
using mlp = basic_mlp<Act, default_config<N...>, N...>;

// ---------------------------------------------------------------------------------------------
// Forward-only variant with the weights as fixed-size member matrices (Eigen::Matrix<float,Out,In>
// members instead of Maps into a flat buffer). Kept to measure that the flat storage costs nothing.
template <class Act, product P, int... N>
class member_mlp {
 public:
  static constexpr int num_layers = int(sizeof...(N)) - 1;
  static constexpr std::array<int, sizeof...(N)> widths{N...};
  static constexpr int input_size = widths.front();
  static constexpr int output_size = widths.back();
  static constexpr int batch = batch_size;
  using input_vector = Eigen::Matrix<float, input_size, 1>;
  using input_batch = detail::batch_matrix<input_size, batch, layout::sample_cols>;

  void set_weight(int layer, int o, int i, float v) { set_weight_impl<0>(layer, o, i, v); }
  void set_bias(int layer, int o, float v) { set_bias_impl<0>(layer, o, v); }

  EIGEN_BASELINE_FLATTEN const float* forward(const float* x) {
    fwd1<0>(Eigen::Map<const input_vector>(x));
    return std::get<num_layers>(a1_).data();
  }
  EIGEN_BASELINE_FLATTEN const auto& forward_batch(const float* xb) {
    fwd32<0>(Eigen::Map<const input_batch>(xb));
    return std::get<num_layers>(af_);
  }

 private:
  template <std::size_t... L>
  static auto make_weights(std::index_sequence<L...>)
      -> std::tuple<Eigen::Matrix<float, widths[L + 1], widths[L]>...>;
  template <std::size_t... L>
  static auto make_biases(std::index_sequence<L...>) -> std::tuple<Eigen::Matrix<float, widths[L + 1], 1>...>;
  using weights_t = decltype(make_weights(std::make_index_sequence<num_layers>{}));
  using biases_t = decltype(make_biases(std::make_index_sequence<num_layers>{}));

  template <int l>
  void set_weight_impl(int layer, int o, int i, float v) {
    if (layer == l) std::get<l>(w_)(o, i) = v;
    if constexpr (l + 1 < num_layers) set_weight_impl<l + 1>(layer, o, i, v);
  }
  template <int l>
  void set_bias_impl(int layer, int o, float v) {
    if (layer == l) std::get<l>(b_)(o) = v;
    if constexpr (l + 1 < num_layers) set_bias_impl<l + 1>(layer, o, v);
  }
  template <int l, class X>
  EIGEN_STRONG_INLINE void fwd1(const X& x) {
    detail::dense_forward<Act, (l + 1 < num_layers), P>(std::get<l>(w_), std::get<l>(b_), x, std::get<l + 1>(a1_));
    if constexpr (l + 1 < num_layers) fwd1<l + 1>(std::get<l + 1>(a1_));
  }
  template <int l, class X>
  EIGEN_STRONG_INLINE void fwd32(const X& x) {
    detail::dense_forward<Act, (l + 1 < num_layers), P>(std::get<l>(w_), std::get<l>(b_), x, std::get<l + 1>(af_));
    if constexpr (l + 1 < num_layers) fwd32<l + 1>(std::get<l + 1>(af_));
  }

  weights_t w_{};
  biases_t b_{};
  std::tuple<Eigen::Matrix<float, N, 1>...> a1_{};
  std::tuple<detail::batch_matrix<N, batch, layout::sample_cols>...> af_{};
};

}  // namespace eigen_baseline
