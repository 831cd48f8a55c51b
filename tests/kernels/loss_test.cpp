// Cross-entropy, MSE and L1: per-row losses, their mean and the scaled gradient, against the
// float64 reference, recorded as a trainer records them (forward, mean, backward in one
// command buffer). Cases cover one element, odd columns (fp16 gradient words straddling two
// rows), 5000-column rows, ±80 and ±1000 logits, padding rows (valid_rows < rows, their
// prediction and target NaN so that reading them shows), loss scales ≠ 1, L1 ties, and a
// sequence (several rows per sample: valid_rows counts samples).
//
// Inputs are rounded to their storage type first. Error bounds, first order, ε = 2^-24, with
// chain = ceil(cols/256) + 8 additions per row sum (strided loop, then the tree):
// - Cross-entropy row: Vulkan's exp is good to (3 + 2|arg|) ulp and x − m is rounded, so each
//   e_k errs by δ_k = (3 + 3|x_k − m|)·ε relative and the row sum S by Σ y_k·δ_k + chain·ε
//   relative, which log turns into the same absolute error; log itself adds 2^-21 absolute
//   (Vulkan's bound on [0.5, 2]) + 3ε·|log S|; m − p_label and the final add ε each.
// - MSE row: (chain + 3)·ε·Σ d² (d, d² and the sum rounded); L1 row: (chain + 1)·ε·Σ|d|.
// - Mean: (ceil(valid/256) + 8 + 3)·ε·Σ|row| / N (sum, then the division's 2.5 ulp).
// - Gradient: k = scale/N costs 3ε; cross-entropy's softmax term errs like the row sum above
//   plus 3ε for the division, then ε each for − onehot and · k; MSE 2·d·k: 5ε; L1 sign·k: 4ε.
// Every output adds its rounding (2^-11·|ref| for fp16, ε for fp32) and smallest step (2^-24
// for fp16 subnormals, 2^-126 for fp32, whose denormals a device may flush). Padding rows must
// come back exactly 0.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/loss.hpp"
#include "reference/softmax.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/loss.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace vkgrad::test {
namespace {

using kernels::ElemType;
using kernels::LossKind;

constexpr ElemType F32 = ElemType::F32, F16 = ElemType::F16;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

DeviceBytes params_buffer(vk::Context& ctx, float scale, uint32_t valid_rows, uint32_t mean_rows = 0) {
  const kernels::LossParams params{scale, valid_rows, mean_rows};
  std::vector<std::byte> bytes(sizeof params);
  std::memcpy(bytes.data(), &params, sizeof params);
  return upload_bytes(ctx, bytes, "params");
}

DeviceBytes labels_buffer(vk::Context& ctx, std::span<const int32_t> labels) {
  std::vector<std::byte> bytes(4 * labels.size());
  std::memcpy(bytes.data(), labels.data(), bytes.size());
  return upload_bytes(ctx, bytes, "labels");
}

uint32_t chain(uint32_t n) { return (n + 255) / 256 + 8; }

// --- the reference itself -------------------------------------------------------------------

// scale · ∂ mean/∂ pred from the reference against central differences of the reference mean,
// in float64; padding rows have gradient 0 and do not move the loss.
TEST(LossReference, BackwardMatchesFiniteDifferences) {
  for (uint32_t kind : {0u, 1u, 2u}) {
    const reference::LossProblem p{kind, 4, 5, 3, 7.0};
    auto pred = uniform(20, -2, 2, 3 + kind);
    const auto target = uniform(20, -2, 2, 4 + kind);
    const std::vector<int32_t> labels = {2, 0, 4, 1};
    const auto objective = [&](const std::vector<double>& v) {
      return p.scale * reference::loss_mean(p, reference::loss_rows(p, v, target, labels));
    };
    const auto grad = reference::loss_backward(p, pred, target, labels);
    const double h = 1e-6;
    for (size_t i = 0; i < pred.size(); ++i) {
      ASSERT_GT(std::fabs(pred[i] - target[i]), 10 * h) << "L1's kink is inside the difference";
      auto plus = pred, minus = pred;
      plus[i] += h;
      minus[i] -= h;
      EXPECT_NEAR(grad[i], (objective(plus) - objective(minus)) / (2 * h), 1e-7) << "kind " << kind << " element " << i;
    }
  }
}

// --- forward, mean and backward together ----------------------------------------------------

struct LossCase {
  const char* name;
  LossKind kind;
  uint32_t rows, cols, valid;
  ElemType pred, target, dpred;  // target: ignored (int32 labels) for cross-entropy
  float scale;
  bool extreme = false;
  uint32_t positions = 1;  // rows per sample; `valid` counts samples
  uint32_t mean_rows = 0;  // samples the mean divides by (data parallel: the global batch's); 0: valid
};

const LossCase kCases[] = {
    {"ce_one", LossKind::CrossEntropy, 1, 1, 1, F32, F32, F32, 1},
    {"ce_odd_cols_f16_padded", LossKind::CrossEntropy, 7, 13, 5, F16, F16, F16, 1024},
    {"ce_large_row", LossKind::CrossEntropy, 3, 5003, 3, F32, F32, F16, 1},
    {"ce_large_row_f16_padded", LossKind::CrossEntropy, 4, 5001, 2, F16, F32, F32, 8},
    {"ce_extreme_f32", LossKind::CrossEntropy, 6, 9, 6, F32, F32, F32, 1, true},
    {"ce_extreme_f16_scaled", LossKind::CrossEntropy, 5, 11, 4, F16, F32, F16, 65536, true},
    {"mse_f16_padded", LossKind::Mse, 9, 7, 6, F16, F32, F16, 8},
    {"mse_wide_f32", LossKind::Mse, 5, 300, 5, F32, F32, F32, 1},
    {"mse_many_rows", LossKind::Mse, 600, 1, 517, F32, F16, F16, 2},
    {"mse_valid_beyond_rows", LossKind::Mse, 3, 4, 10, F32, F32, F32, 1},
    {"l1_f16_padded_ties", LossKind::L1, 10, 3, 7, F16, F16, F16, 128},
    {"l1_one", LossKind::L1, 1, 1, 1, F32, F16, F32, 0.5f},
    // A sequence: 3 samples × 4 positions, 2 samples valid, the mean over their 8 positions.
    {"ce_sequence_f16_padded", LossKind::CrossEntropy, 12, 7, 2, F16, F32, F16, 256, false, 4},
    // One rank's share of a global mean (data parallel): 5 valid rows of a global batch of 16.
    {"ce_share_of_global_mean", LossKind::CrossEntropy, 6, 9, 5, F16, F32, F16, 1024, false, 1, 16},
    {"mse_share_of_global_mean", LossKind::Mse, 8, 3, 8, F32, F32, F32, 4, false, 1, 24},
    {"ce_sequence_share_of_global_mean", LossKind::CrossEntropy, 8, 5, 2, F32, F32, F32, 1, false, 4, 6},
};

class LossTest : public VkTestWithParam<LossCase> {};

TEST_P(LossTest, MatchesReference) {
  const LossCase& c = GetParam();
  vk::Context& ctx = context();
  const kernels::Loss loss(ctx);
  const bool ce = c.kind == LossKind::CrossEntropy;
  const uint32_t valid = std::min(c.valid * c.positions, c.rows);
  const size_t n = size_t(c.rows) * c.cols;
  const reference::LossProblem p{uint32_t(c.kind), c.rows, c.cols, c.valid * c.positions, c.scale, c.mean_rows * c.positions};

  // Predictions, targets and labels; padding rows hold NaN (and label −1) that must not be read.
  std::vector<double> pred = uniform(n, -3, 3, 50 + c.cols), target;
  if (c.extreme) {
    const double big[] = {80, -80, 1000, -1000, 79.5, 0};
    for (size_t i = 0; i < n; ++i)
      if (i % 3 != 2) pred[i] = big[(i * 7 + i / 5) % std::size(big)];
  }
  pred = round_for(c.pred, pred);
  std::vector<int32_t> labels(c.rows, -1);
  std::mt19937 rng(60 + c.cols);
  for (uint32_t r = 0; r < valid; ++r) labels[r] = int32_t(rng() % c.cols);
  if (!ce) {
    target = round_for(c.target, uniform(n, -3, 3, 70 + c.cols));
    if (c.kind == LossKind::L1)  // ties, representable in both types: sign(0) = 0
      for (size_t i = 0; i < n; i += 4) pred[i] = target[i] = round_half(float(target[i]));
  }
  for (size_t i = size_t(valid) * c.cols; i < n; ++i) {
    pred[i] = kNaN;
    if (!ce) target[i] = kNaN;
  }

  DeviceTensor bpred = make_tensor(ctx, pred, n, c.pred, "pred");
  DeviceBytes btarget = ce ? labels_buffer(ctx, labels) : make_tensor(ctx, target, n, c.target, "target").bytes;
  DeviceBytes bparams = params_buffer(ctx, c.scale, c.valid, c.mean_rows);
  DeviceTensor brows = make_tensor(ctx, {}, c.rows, F32, "row_loss");
  DeviceTensor bmean = make_tensor(ctx, {}, 1, F32, "loss");
  DeviceTensor bgrad = make_tensor(ctx, {}, n, c.dpred, "dpred");
  run(ctx, [&](vk::Recorder& rec) {
    const kernels::TensorRef tr{btarget.range(), c.target};
    loss.forward(rec, c.kind, bpred.ref(), tr, bparams.range(), brows.range(), c.rows, c.cols, c.positions);
    loss.mean(rec, c.kind, brows.range(), bparams.range(), bmean.range(), c.rows, c.cols, c.positions);
    loss.backward(rec, c.kind, bpred.ref(), tr, bparams.range(), bgrad.ref(), c.rows, c.cols, c.positions);
  });
  const auto rows_got = read_back(ctx, brows);
  const double mean_got = read_back(ctx, bmean)[0];
  const auto grad_got = read_back(ctx, bgrad);

  const auto rows_want = reference::loss_rows(p, pred, target, labels);
  const auto grad_want = reference::loss_backward(p, pred, target, labels);
  const double mean_rows = c.mean_rows ? double(c.mean_rows) * c.positions : double(valid);
  const double count = ce ? mean_rows : mean_rows * c.cols;
  const double k = c.scale / count;
  std::vector<double> rows_tol(c.rows, tiny(F32)), grad_tol(n, tiny(c.dpred));
  for (uint32_t r = 0; r < valid; ++r) {
    const size_t base = size_t(r) * c.cols;
    if (ce) {
      const double m = *std::max_element(pred.begin() + base, pred.begin() + base + c.cols);
      const auto y = reference::softmax(std::span(pred).subspan(base, c.cols), 1, c.cols);
      const auto delta = [&](uint32_t j) { return (3 + 3 * std::fabs(pred[base + j] - m)) * kEps; };
      double sum_rel = chain(c.cols) * kEps, s = 0;
      for (uint32_t j = 0; j < c.cols; ++j) {
        sum_rel += y[j] * delta(j);
        s += std::exp(pred[base + j] - m);
      }
      rows_tol[r] += kEps * std::fabs(m - pred[base + labels[r]]) + sum_rel + std::ldexp(1.0, -21) +
                     3 * kEps * std::log(s) + kEps * std::fabs(rows_want[r]);
      for (uint32_t j = 0; j < c.cols; ++j) {
        const double onehot = int32_t(j) == labels[r] ? 1.0 : 0.0;
        grad_tol[base + j] += k * (y[j] * (delta(j) + sum_rel + 3 * kEps) + kEps * std::fabs(y[j] - onehot)) +
                              (4 * kEps + u_out(c.dpred)) * std::fabs(grad_want[base + j]);
      }
    } else {
      double magnitude = 0;
      for (uint32_t j = 0; j < c.cols; ++j) {
        const double d = pred[base + j] - target[base + j];
        magnitude += c.kind == LossKind::Mse ? d * d : std::fabs(d);
        grad_tol[base + j] += ((c.kind == LossKind::Mse ? 5 : 4) * kEps + u_out(c.dpred)) * std::fabs(grad_want[base + j]);
      }
      rows_tol[r] += (chain(c.cols) + (c.kind == LossKind::Mse ? 3 : 1)) * kEps * magnitude;
    }
  }
  EXPECT_TRUE(all_close(rows_got, rows_want, rows_tol)) << "row losses";
  EXPECT_TRUE(all_close(grad_got, grad_want, grad_tol)) << "gradient";

  // The mean of the device's own row losses isolates the mean kernel's error; against the
  // reference's rows it also carries theirs.
  double device_sum = 0, row_err = 0;
  for (uint32_t r = 0; r < valid; ++r) device_sum += std::fabs(rows_got[r]), row_err += rows_tol[r];
  const double mean_tol = (chain(valid) + 3) * kEps * device_sum / count + tiny(F32);
  EXPECT_NEAR(mean_got, reference::loss_mean(p, rows_got), mean_tol);
  EXPECT_NEAR(mean_got, reference::loss_mean(p, rows_want), mean_tol + row_err / count);
}

INSTANTIATE_TEST_SUITE_P(Cases, LossTest, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

// --- labels the trainer must hear about -----------------------------------------------------

using LossLabels = VkTest;

// A label outside [0, cols) makes its row's loss, the mean and the row's gradient NaN, so that
// a non-finite check catches bad data; other rows are unaffected.
TEST_F(LossLabels, OutOfRangeLabelGivesNaN) {
  vk::Context& ctx = context();
  const kernels::Loss loss(ctx);
  const uint32_t rows = 3, cols = 5;
  const auto pred = round_for(F32, uniform(rows * cols, -1, 1, 80));
  const std::vector<int32_t> labels = {1, 5, -1};
  DeviceTensor bpred = make_tensor(ctx, pred, pred.size(), F32, "pred");
  DeviceBytes blabels = labels_buffer(ctx, labels);
  DeviceBytes bparams = params_buffer(ctx, 1, rows);
  DeviceTensor brows = make_tensor(ctx, {}, rows, F32, "row_loss");
  DeviceTensor bmean = make_tensor(ctx, {}, 1, F32, "loss");
  DeviceTensor bgrad = make_tensor(ctx, {}, pred.size(), F16, "dpred");
  run(ctx, [&](vk::Recorder& rec) {
    const kernels::TensorRef lr{blabels.range(), F32};
    loss.forward(rec, LossKind::CrossEntropy, bpred.ref(), lr, bparams.range(), brows.range(), rows, cols);
    loss.mean(rec, LossKind::CrossEntropy, brows.range(), bparams.range(), bmean.range(), rows, cols);
    loss.backward(rec, LossKind::CrossEntropy, bpred.ref(), lr, bparams.range(), bgrad.ref(), rows, cols);
  });
  const auto row_loss = read_back(ctx, brows);
  const auto grad = read_back(ctx, bgrad);
  EXPECT_TRUE(std::isfinite(row_loss[0]));
  EXPECT_TRUE(std::isnan(row_loss[1]));
  EXPECT_TRUE(std::isnan(row_loss[2]));
  EXPECT_TRUE(std::isnan(read_back(ctx, bmean)[0]));
  for (uint32_t j = 0; j < cols; ++j) {
    EXPECT_TRUE(std::isfinite(grad[j])) << j;
    EXPECT_TRUE(std::isnan(grad[cols + j])) << j;
    EXPECT_TRUE(std::isnan(grad[2 * cols + j])) << j;
  }
}

// --- argument checks ------------------------------------------------------------------------

using LossErrors = VkTest;

TEST_F(LossErrors, BadArgumentsAreRejected) {
  vk::Context& ctx = context();
  const kernels::Loss loss(ctx);
  vk::Buffer buf(ctx, {.size = 4096});
  const kernels::TensorRef pred{buf.range(0, 256), F32}, target{buf.range(256, 256), F32};
  const vk::BufferRange params = buf.range(512, 8), rows = buf.range(1024, 64), out = buf.range(2048, 256);
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(loss.forward(rec, LossKind::Mse, pred, target, params, rows, 0, 4), Error);
    EXPECT_THROW(loss.forward(rec, LossKind::Mse, pred, target, params, rows, 8, 9), Error);  // pred too small
    EXPECT_THROW(loss.forward(rec, LossKind::CrossEntropy, pred, {buf.range(256, 8), F32}, params, rows, 4, 4),
                 Error);  // 4 labels need 16 bytes
    EXPECT_THROW(loss.forward(rec, LossKind::Mse, pred, target, buf.range(512, 4), rows, 4, 4), Error);  // params
    EXPECT_THROW(loss.forward(rec, LossKind::Mse, pred, target, params, buf.range(0, 16), 4, 4), Error);  // over pred
    EXPECT_THROW(loss.forward(rec, LossKind(3), pred, target, params, rows, 4, 4), Error);
    EXPECT_THROW(loss.mean(rec, LossKind::Mse, rows, params, buf.range(1024, 4), 4, 4), Error);  // over row_loss
    EXPECT_THROW(loss.backward(rec, LossKind::Mse, pred, target, params, {buf.range(128, 256), F32}, 4, 4), Error);
    EXPECT_THROW(loss.backward(rec, LossKind::L1, pred, target, params, {out, F32}, 8, 9), Error);
  });
}

}  // namespace
}  // namespace vkgrad::test
