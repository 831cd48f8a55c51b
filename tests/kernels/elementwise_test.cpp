// Elementwise kernels (unary, unary backward, binary, column sum) against the float64
// reference, over fp32 and fp16 operands in every mix the tests name.
//
// Inputs are rounded to their storage type first, so the reference sees what the device sees;
// the bound per element is the error of the fp32 computation, plus the rounding to the output
// type (u = 2^-11·|ref| for fp16, 2^-24 for fp32) and one step of its smallest value (2^-24 for
// fp16 subnormals; 2^-126 for fp32, whose denormals a device may flush). The fp32 computation:
// - Identity, Relu: exact (conversions are exact or are the output rounding).
// - Gelu, GeluTanh: erf approximation (1.5e-7) and fp32 transcendentals: 1e-6·|x| + 2^-20, as
//   the GEMM epilogue test. Their derivatives (|f'| ≤ 1.13, arguments O(1) where not flat):
//   1e-6 absolute.
// - Tanh: Taylor series below |x| = 0.4, (1 − t)/(1 + t) from t = e^(-2|x|) above; Vulkan's exp
//   is good to (3 + 2|arg|) ulp, which moves the result by ≤ 2·2^-24 absolute, and the
//   arithmetic adds ≤ 6 ulp: (8|y| + 4)·2^-24. Sigmoid through t = e^(-|x|): ((8 + 2|x|)|y| + 1)·2^-24.
//   tanh' = 4t/(1 + t)²: (7 + 4|x|)·2^-24 relative; σ' = t/(1 + t)²: (7 + 2|x|)·2^-24 relative.
// - Sin, cos (and their derivatives): Vulkan bounds them by 2^-11 absolute on [−π, π], where
//   the argument is reduced first (k·C2 rounds by ≤ |x|·2^-30): 2^-11 + |x|·2^-30.
// - Backward: dy·f'(x) adds 2^-24 of the product, accumulation 2^-24·(|product| + |old|).
// - Binary: one fp32 rounding, 2^-24·|ref|.
// - Column sum: each invocation sums every 8th row, then the 8 partials meet in a 3-level tree
//   (common/workgroup_reduce.glsl) and the old value is added with accumulate: chain
//   ceil(rows/8) + 4 additions, each ≤ 2^-24·Σ|terms| (column_sum_chain).
// Bytes after each output tensor (the padding half of an odd fp16 tensor included) must come
// back untouched.
#include "device_tensor.hpp"
#include "numerics.hpp"
#include "reference/elementwise.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/elementwise.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

namespace vkgrad::test {
namespace {

using kernels::BinaryOp;
using kernels::ElemType;
using kernels::UnaryOp;

constexpr ElemType F32 = ElemType::F32, F16 = ElemType::F16;

// x values: random in [-6, 6) with the awkward ones first (after element 0): zero, the tanh
// branch point, tiny and large arguments, and ±80 and ±1000 where exp overflows unguarded.
std::vector<double> inputs(size_t n, ElemType t, uint32_t seed) {
  auto v = uniform(n, -6, 6, seed);
  const double special[] = {0, 80, -80, 0.4, -0.4, 1e-3, -1e-3, 20, -20, 1000, -1000, 3.5, -9, 0.3999};
  for (size_t i = 1; i < n && i <= std::size(special); ++i) v[i] = special[i - 1];
  return round_for(t, v);
}

double value_error(UnaryOp op, double x, double y) {
  switch (op) {
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh: return 1e-6 * std::fabs(x) + std::ldexp(1.0, -20);
    case UnaryOp::Tanh: return (8 * std::fabs(y) + 4) * kEps;
    case UnaryOp::Sigmoid: return ((8 + 2 * std::fabs(x)) * std::fabs(y) + 1) * kEps;
    // Vulkan's bound on [−π, π], 2^-11 absolute, plus the reduction (k·C2 rounded, ≤ |x|·2^-30).
    case UnaryOp::Sin:
    case UnaryOp::Cos: return std::ldexp(1.0, -11) + std::fabs(x) * std::ldexp(1.0, -30);
    default: return 0;
  }
}

double grad_error(UnaryOp op, double x, double g) {
  switch (op) {
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh: return 1e-6;
    case UnaryOp::Tanh: return (7 + 4 * std::fabs(x)) * kEps * std::fabs(g);
    case UnaryOp::Sigmoid: return (7 + 2 * std::fabs(x)) * kEps * std::fabs(g);
    case UnaryOp::Sin:
    case UnaryOp::Cos: return std::ldexp(1.0, -11) + std::fabs(x) * std::ldexp(1.0, -30);
    default: return 0;
  }
}

const char* op_name(UnaryOp op) {
  static const char* names[] = {"identity", "relu", "gelu", "gelu_tanh", "tanh", "sigmoid", "sin", "cos"};
  return names[uint32_t(op)];
}

// The longest chain of fp32 additions behind one column sum (see the header).
double column_sum_chain(uint32_t rows) { return std::ceil(rows / 8.0) + 4; }

const UnaryOp kUnaryOps[] = {UnaryOp::Identity, UnaryOp::Relu, UnaryOp::Gelu, UnaryOp::GeluTanh,
                             UnaryOp::Tanh,     UnaryOp::Sigmoid, UnaryOp::Sin, UnaryOp::Cos};

// The unary suites' cases: every op × every type mix in `types` (x, y, ... and a name) × n = 1,
// 15 and 1027 elements.
template <typename Types, size_t N>
auto unary_cases(const Types (&types)[N]) {
  return ::testing::Combine(::testing::ValuesIn(kUnaryOps), ::testing::ValuesIn(types),
                            ::testing::Values(1u, 15u, 1027u));
}

// Their names: op, type mix, n ("gelu_tanh_f16_f32_acc_n15").
struct UnaryCaseName {
  template <typename Types>
  std::string operator()(const ::testing::TestParamInfo<std::tuple<UnaryOp, Types, uint32_t>>& info) const {
    const auto& [op, types, n] = info.param;
    return std::string(op_name(op)) + "_" + types.name + "_n" + std::to_string(n);
  }
};

// --- the reference itself -------------------------------------------------------------------

// The reference derivatives against central differences of the reference functions, in
// float64 (h = 1e-6: truncation ~h²·f''' and rounding ~1e-16/h, both far below 1e-7).
TEST(ElementwiseReference, DerivativesMatchFiniteDifferences) {
  const double h = 1e-6;
  for (UnaryOp op : kUnaryOps) {
    for (double x = -7.0; x <= 7.0; x += 0.0625) {
      if (op == UnaryOp::Relu && std::fabs(x) < 2 * h) continue;  // the kink
      const uint32_t c = uint32_t(op);
      const double fd = (reference::unary(c, x + h) - reference::unary(c, x - h)) / (2 * h);
      EXPECT_NEAR(reference::unary_grad(c, x), fd, 1e-7) << op_name(op) << " at " << x;
    }
  }
}

// --- unary ----------------------------------------------------------------------------------

struct UnaryTypes {
  ElemType x, y;
  const char* name;
};
const UnaryTypes kUnaryTypes[] = {{F32, F32, "f32"}, {F16, F16, "f16"}, {F32, F16, "f32_f16"}, {F16, F32, "f16_f32"}};

class UnaryTest : public VkTestWithParam<std::tuple<UnaryOp, UnaryTypes, uint32_t>> {};

TEST_P(UnaryTest, MatchesReference) {
  const auto& [op, types, n] = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const auto x = inputs(n, types.x, 100 + n);
  DeviceTensor bx = make_tensor(ctx, x, n, types.x, "x");
  DeviceTensor by = make_tensor(ctx, {}, n, types.y, "y");
  run(ctx, [&](vk::Recorder& rec) { ew.unary(rec, op, bx.ref(), by.ref(), n); });
  const auto got = read_back(ctx, by);
  std::vector<double> want(n), tol(n);
  for (uint32_t i = 0; i < n; ++i) {
    want[i] = reference::unary(uint32_t(op), x[i]);
    tol[i] = value_error(op, x[i], want[i]) + u_out(types.y) * std::fabs(want[i]) + tiny(types.y);
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryTest, unary_cases(kUnaryTypes), UnaryCaseName());

// --- unary backward -------------------------------------------------------------------------

struct BackwardTypes {
  ElemType x, dy, dx;
  bool accumulate;
  const char* name;
};
const BackwardTypes kBackwardTypes[] = {{F32, F32, F32, false, "f32"},
                                        {F16, F16, F16, true, "f16_acc"},
                                        {F16, F16, F32, true, "f16_f32_acc"},
                                        {F32, F32, F16, false, "f32_f16"}};

class UnaryBackwardTest : public VkTestWithParam<std::tuple<UnaryOp, BackwardTypes, uint32_t>> {};

TEST_P(UnaryBackwardTest, MatchesReference) {
  const auto& [op, types, n] = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const auto x = inputs(n, types.x, 200 + n);
  const auto dy = round_for(types.dy, uniform(n, -2, 2, 300 + n));
  const auto old = round_for(types.dx, uniform(n, -1, 1, 400 + n));
  DeviceTensor bx = make_tensor(ctx, x, n, types.x, "x");
  DeviceTensor bdy = make_tensor(ctx, dy, n, types.dy, "dy");
  // Without accumulate dx starts as NaN: reading it would show.
  DeviceTensor bdx = make_tensor(ctx, types.accumulate ? std::span<const double>(old) : std::span<const double>(), n,
                                 types.dx, "dx");
  run(ctx, [&](vk::Recorder& rec) { ew.unary_backward(rec, op, bx.ref(), bdy.ref(), bdx.ref(), n, types.accumulate); });
  const auto got = read_back(ctx, bdx);
  std::vector<double> want(n), tol(n);
  for (uint32_t i = 0; i < n; ++i) {
    const double g = reference::unary_grad(uint32_t(op), x[i]);
    const double prod = dy[i] * g;
    want[i] = prod + (types.accumulate ? old[i] : 0.0);
    tol[i] = std::fabs(dy[i]) * grad_error(op, x[i], g) + kEps * std::fabs(prod) +
             (types.accumulate ? kEps * (std::fabs(prod) + std::fabs(old[i])) : 0.0) +
             u_out(types.dx) * std::fabs(want[i]) + tiny(types.dx);
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryBackwardTest, unary_cases(kBackwardTypes), UnaryCaseName());

// dx written over dy (the same range): each invocation reads the pair it then overwrites.
using ElementwiseInPlace = VkTest;

TEST_F(ElementwiseInPlace, UnaryBackwardOverItsGradient) {
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const uint32_t n = 301;
  const auto x = inputs(n, F16, 7);
  const auto dy = round_for(F16, uniform(n, -2, 2, 8));
  DeviceTensor bx = make_tensor(ctx, x, n, F16, "x");
  DeviceTensor bdy = make_tensor(ctx, dy, n, F16, "dy");
  run(ctx, [&](vk::Recorder& rec) { ew.unary_backward(rec, UnaryOp::Sigmoid, bx.ref(), bdy.ref(), bdy.ref(), n, false); });
  const auto got = read_back(ctx, bdy);
  std::vector<double> want(n), tol(n);
  for (uint32_t i = 0; i < n; ++i) {
    const double g = reference::unary_grad(uint32_t(UnaryOp::Sigmoid), x[i]);
    want[i] = dy[i] * g;
    tol[i] = std::fabs(dy[i]) * grad_error(UnaryOp::Sigmoid, x[i], g) + kEps * std::fabs(want[i]) +
             u_out(F16) * std::fabs(want[i]) + tiny(F16);
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

// --- binary ---------------------------------------------------------------------------------

struct BinaryCase {
  const char* name;
  BinaryOp op;
  uint32_t rows, cols;
  bool broadcast;
  ElemType a, b, c;
  bool in_place = false;  // c is a's range
  // Run with 16-bit storage switched off: fp16 tensors are words (common/words.glsl) and need none.
  bool without_storage16 = false;
};

const BinaryCase kBinaryCases[] = {
    {"add_one", BinaryOp::Add, 1, 1, false, F32, F32, F32},
    {"mul_f16", BinaryOp::Mul, 7, 13, false, F16, F16, F16},
    {"add_broadcast_odd_cols_f16", BinaryOp::Add, 5, 7, true, F16, F32, F16},
    {"mul_broadcast_f32", BinaryOp::Mul, 33, 255, true, F32, F32, F32},
    {"add_broadcast_mixed", BinaryOp::Add, 17, 3, true, F16, F16, F32},
    {"add_broadcast_in_place_f16", BinaryOp::Add, 9, 11, true, F16, F16, F16, true},
    {"mul_in_place_f32", BinaryOp::Mul, 3, 1000, false, F32, F16, F32, true},
    {"add_broadcast_one_col", BinaryOp::Add, 301, 1, true, F16, F32, F16},
    {"add_broadcast_odd_cols_f16_no_storage16", BinaryOp::Add, 5, 7, true, F16, F16, F16, false, true},
};

class BinaryTest : public VkTestWithParam<BinaryCase> {};

TEST_P(BinaryTest, MatchesReference) {
  const BinaryCase& bc = GetParam();
  vk::Context& ctx = bc.without_storage16 ? context({vk::Feature::Storage16}) : context();
  if (bc.without_storage16) {
    ASSERT_FALSE(ctx.caps().enabled(vk::Feature::Storage16));
  }
  const kernels::Elementwise ew(ctx);
  const size_t n = size_t(bc.rows) * bc.cols, nb = bc.broadcast ? bc.cols : n;
  const auto a = round_for(bc.a, uniform(n, -3, 3, 500 + uint32_t(n)));
  const auto b = round_for(bc.b, uniform(nb, -3, 3, 600 + uint32_t(n)));
  DeviceTensor ba = make_tensor(ctx, a, n, bc.a, "a");
  DeviceTensor bb = make_tensor(ctx, b, nb, bc.b, "b");
  DeviceTensor bcc = make_tensor(ctx, {}, bc.in_place ? 1 : n, bc.c, "c");
  const DeviceTensor& out = bc.in_place ? ba : bcc;
  run(ctx, [&](vk::Recorder& rec) {
    ew.binary(rec, bc.op, ba.ref(), bb.ref(), out.ref(), bc.rows, bc.cols, bc.broadcast);
  });
  const auto got = read_back(ctx, out);
  const auto want = reference::binary(uint32_t(bc.op), a, b, bc.rows, bc.cols, bc.broadcast);
  std::vector<double> tol(n);
  for (size_t i = 0; i < n; ++i) tol[i] = (kEps + u_out(out.type)) * std::fabs(want[i]) + tiny(out.type);
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Cases, BinaryTest, ::testing::ValuesIn(kBinaryCases),
                         [](const auto& p) { return std::string(p.param.name); });

// --- column sum -----------------------------------------------------------------------------

struct ColumnSumCase {
  const char* name;
  uint32_t rows, cols;
  ElemType x, out;
  bool accumulate;
};

const ColumnSumCase kColumnSumCases[] = {
    {"one", 1, 1, F32, F32, false},
    {"odd_f16", 3, 7, F16, F16, false},
    {"tall_f16_acc", 300, 5, F16, F32, true},
    {"odd_cols_f32_to_f16_acc", 17, 129, F32, F16, true},
    {"wide", 4, 1000, F16, F16, false},
    {"no_rows_acc", 0, 9, F32, F32, true},
};

class ColumnSumTest : public VkTestWithParam<ColumnSumCase> {};

TEST_P(ColumnSumTest, MatchesReference) {
  const ColumnSumCase& cc = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const size_t n = size_t(cc.rows) * cc.cols;
  const auto x = round_for(cc.x, uniform(n, -2, 2, 700 + uint32_t(n)));
  const auto old = round_for(cc.out, uniform(cc.cols, -4, 4, 800 + cc.cols));
  // rows = 0 still binds x: give it one element.
  DeviceTensor bx = make_tensor(ctx, x, std::max<size_t>(n, 1), cc.x, "x");
  DeviceTensor bout = make_tensor(ctx, cc.accumulate ? std::span<const double>(old) : std::span<const double>(),
                                  cc.cols, cc.out, "out");
  run(ctx, [&](vk::Recorder& rec) { ew.column_sum(rec, bx.ref(), bout.ref(), cc.rows, cc.cols, cc.accumulate); });
  const auto got = read_back(ctx, bout);
  auto want = reference::column_sum(x, cc.rows, cc.cols);
  std::vector<double> tol(cc.cols);
  const double chain = column_sum_chain(cc.rows);
  for (uint32_t j = 0; j < cc.cols; ++j) {
    double magnitude = cc.accumulate ? std::fabs(old[j]) : 0.0;
    for (uint32_t r = 0; r < cc.rows; ++r) magnitude += std::fabs(x[size_t(r) * cc.cols + j]);
    if (cc.accumulate) want[j] += old[j];
    tol[j] = chain * kEps * magnitude + u_out(cc.out) * std::fabs(want[j]) + tiny(cc.out);
  }
  EXPECT_TRUE(all_close(got, want, tol));
}

INSTANTIATE_TEST_SUITE_P(Cases, ColumnSumTest, ::testing::ValuesIn(kColumnSumCases),
                         [](const auto& p) { return std::string(p.param.name); });

// --- activation backward with the bias gradient in one pass -------------------------------

struct BackwardSumCase {
  const char* name;
  UnaryOp op;
  uint32_t rows, cols;
  ElemType x, dx;  // dy has x's type
  bool accumulate;
};

const BackwardSumCase kBackwardSumCases[] = {
    {"relu_f16_acc", UnaryOp::Relu, 300, 66, F16, F16, true},
    {"gelu_f32", UnaryOp::Gelu, 17, 130, F32, F32, false},
    {"relu_f32_to_f16", UnaryOp::Relu, 9, 2, F32, F16, false},
    {"odd_cols_two_passes", UnaryOp::Relu, 9, 7, F16, F16, true},
    {"no_rows_acc", UnaryOp::Relu, 0, 4, F16, F16, true},
};

class BackwardColumnSumTest : public VkTestWithParam<BackwardSumCase> {};

// dx against the float64 derivative, the sums against the column sums of dx as stored (the
// reference's dx rounded to dx's type), and both bit for bit against the two-pass path.
TEST_P(BackwardColumnSumTest, MatchesReferenceAndTheTwoPassPath) {
  const BackwardSumCase& bc = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const size_t n = size_t(bc.rows) * bc.cols;
  const auto x = inputs(std::max<size_t>(n, 1), bc.x, 900 + uint32_t(n));
  const auto dy = round_for(bc.x, uniform(std::max<size_t>(n, 1), -2, 2, 901 + uint32_t(n)));
  const auto old = round_for(F32, uniform(bc.cols, -4, 4, 902));
  DeviceTensor bx = make_tensor(ctx, x, std::max<size_t>(n, 1), bc.x, "x");
  DeviceTensor bdy = make_tensor(ctx, dy, std::max<size_t>(n, 1), bc.x, "dy");
  const auto sums_init = bc.accumulate ? std::span<const double>(old) : std::span<const double>();
  DeviceTensor dx1 = make_tensor(ctx, {}, std::max<size_t>(n, 1), bc.dx, "dx fused");
  DeviceTensor dx2 = make_tensor(ctx, {}, std::max<size_t>(n, 1), bc.dx, "dx two passes");
  DeviceTensor s1 = make_tensor(ctx, sums_init, bc.cols, F32, "sums fused");
  DeviceTensor s2 = make_tensor(ctx, sums_init, bc.cols, F32, "sums two passes");
  run(ctx, [&](vk::Recorder& rec) {
    ew.unary_backward_column_sum(rec, bc.op, bx.ref(), bdy.ref(), dx1.ref(), s1.ref().range, bc.rows, bc.cols,
                                 bc.accumulate);
    ew.unary_backward(rec, bc.op, bx.ref(), bdy.ref(), dx2.ref(), uint32_t(n), false);
    ew.column_sum(rec, dx2.ref(), s2.ref(), bc.rows, bc.cols, bc.accumulate);
  });
  const auto got_dx = read_back(ctx, dx1), got_sums = read_back(ctx, s1);
  const auto two_dx = read_back(ctx, dx2), two_sums = read_back(ctx, s2);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(got_dx[i], two_dx[i]) << "dx element " << i;
  for (uint32_t j = 0; j < bc.cols; ++j) EXPECT_EQ(got_sums[j], two_sums[j]) << "sum " << j;

  std::vector<double> want_dx(n), tol_dx(n);
  for (size_t i = 0; i < n; ++i) {
    const double g = reference::unary_grad(uint32_t(bc.op), x[i]);
    want_dx[i] = dy[i] * g;
    tol_dx[i] = std::fabs(dy[i]) * grad_error(bc.op, x[i], g) + kEps * std::fabs(want_dx[i]) +
                u_out(bc.dx) * std::fabs(want_dx[i]) + tiny(bc.dx);
  }
  EXPECT_TRUE(all_close(std::span(got_dx).first(n), want_dx, tol_dx));
  const auto stored = round_for(bc.dx, want_dx);
  auto want_sums = reference::column_sum(stored, bc.rows, bc.cols);
  std::vector<double> tol_sums(bc.cols);
  const double chain = column_sum_chain(bc.rows);
  for (uint32_t j = 0; j < bc.cols; ++j) {
    double magnitude = bc.accumulate ? std::fabs(old[j]) : 0.0, element_error = 0;
    for (uint32_t r = 0; r < bc.rows; ++r) {
      magnitude += std::fabs(stored[size_t(r) * bc.cols + j]);
      element_error += tol_dx[size_t(r) * bc.cols + j];  // a stored dx may round the other way
    }
    if (bc.accumulate) want_sums[j] += old[j];
    tol_sums[j] = chain * kEps * magnitude + element_error + tiny(F32);
  }
  EXPECT_TRUE(all_close(got_sums, want_sums, tol_sums));
}

INSTANTIATE_TEST_SUITE_P(Cases, BackwardColumnSumTest, ::testing::ValuesIn(kBackwardSumCases),
                         [](const auto& p) { return std::string(p.param.name); });

// --- beyond one dispatch's worth of workgroups ----------------------------------------------

// More pairs than 4096 workgroups of 256 cover, and more columns than 4096 blocks of 64: the
// grid-stride loops must reach every element. The column sum runs twice: same bits.
using ElementwiseLarge = VkTest;

TEST_F(ElementwiseLarge, GridStrideReachesEveryElement) {
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const uint32_t n = 2 * 256 * 4096 + 4097;  // odd: the last pair is half padding
  const auto x = round_for(F32, uniform(n, -2, 2, 9));
  DeviceTensor bx = make_tensor(ctx, x, n, F32, "x");
  DeviceTensor by = make_tensor(ctx, {}, n, F16, "y");
  const uint32_t rows = 2, cols = 64 * 4096 + 33;
  DeviceTensor s1 = make_tensor(ctx, {}, cols, F32, "sum1");
  DeviceTensor s2 = make_tensor(ctx, {}, cols, F32, "sum2");
  run(ctx, [&](vk::Recorder& rec) {
    ew.unary(rec, UnaryOp::Identity, bx.ref(), by.ref(), n);
    ew.column_sum(rec, bx.ref(), s1.ref(), rows, cols, false);
    ew.column_sum(rec, bx.ref(), s2.ref(), rows, cols, false);
  });
  // Against x itself, not a host rounding of it: the host's fp16 rounding (GLM) breaks ties upwards.
  EXPECT_TRUE(all_close(read_back(ctx, by), x, tiny(F16), u_out(F16)));
  const auto sum1 = read_back(ctx, s1), sum2 = read_back(ctx, s2);
  const double sum_tol = column_sum_chain(rows) * kEps * 2.0 * rows;  // |x| < 2
  EXPECT_TRUE(all_close(sum1, reference::column_sum(x, rows, cols), sum_tol, 0));
  EXPECT_EQ(sum1, sum2) << "column sums differ between runs";
}

// --- column blocks (concat, slice) ---------------------------------------------------------

// Copies move values exactly (fp16 → fp16, fp32 → fp32, fp16 → fp32) and leave the other
// columns bit for bit; accumulation rounds once: |sum|·u_out.
class CopyColumnsTest : public VkTestWithParam<std::tuple<ElemType, bool>> {};

TEST_P(CopyColumnsTest, MovesTheBlockAndKeepsTheRest) {
  const auto [t, accumulate] = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  // Odd widths and offsets: blocks start and end in the middle of fp16 words.
  const uint32_t rows = 7, src_cols = 9, src_col = 3, dst_cols = 11, dst_col = 5, width = 5;
  const auto x = round_for(t, uniform(size_t(rows) * src_cols, -2, 2, 41));
  const auto old = round_for(t, uniform(size_t(rows) * dst_cols, -2, 2, 42));
  const auto bx = make_tensor(ctx, x, x.size(), t, "x"), bout = make_tensor(ctx, old, old.size(), t, "out");
  run(ctx, [&](vk::Recorder& rec) {
    ew.copy_columns(rec, bx.ref(), bout.ref(), rows, src_cols, src_col, dst_cols, dst_col, width, accumulate);
  });
  auto want = old;
  std::vector<double> tol(want.size(), 0.0);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t j = 0; j < width; ++j) {
      const size_t o = size_t(r) * dst_cols + dst_col + j;
      const double v = x[size_t(r) * src_cols + src_col + j];
      want[o] = accumulate ? want[o] + v : v;
      if (accumulate) tol[o] = u_out(t) * std::fabs(want[o]) + tiny(t);
    }
  EXPECT_TRUE(all_close(read_back(ctx, bout), want, tol));
}

INSTANTIATE_TEST_SUITE_P(Types, CopyColumnsTest, ::testing::Combine(::testing::Values(F32, F16), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, bool>>& p) {
                           return std::string(kernels::elem_type_name(std::get<0>(p.param))) +
                                  (std::get<1>(p.param) ? "_accumulate" : "_overwrite");
                         });

// --- transposes (attention's head dimension) ------------------------------------------------

// A transpose moves values exactly; accumulation rounds once. Shapes of 3 to 5 dimensions with
// odd sizes (fp16 words split across rows), swapping adjacent and distant dimensions.
class TransposeTest : public VkTestWithParam<std::tuple<ElemType, bool>> {};

TEST_P(TransposeTest, MatchesIndexArithmetic) {
  const auto [t, accumulate] = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  struct Case {
    std::vector<uint32_t> dims;
    uint32_t i, j;
  };
  for (const Case& c : {Case{{3, 5, 2, 7}, 1, 2}, Case{{4, 3, 5}, 0, 2}, Case{{2, 3, 1, 3, 5}, 0, 4}}) {
    size_t n = 1;
    for (uint32_t d : c.dims) n *= d;
    const auto x = round_for(t, uniform(n, -2, 2, 43));
    const auto old = round_for(t, uniform(n, -2, 2, 44));
    const auto bx = make_tensor(ctx, x, n, t, "x"), bout = make_tensor(ctx, old, n, t, "out");
    run(ctx, [&](vk::Recorder& rec) { ew.transpose(rec, bx.ref(), bout.ref(), c.dims, c.i, c.j, accumulate); });
    auto out_dims = c.dims;
    std::swap(out_dims[c.i], out_dims[c.j]);
    std::vector<double> want(n), tol(n, 0.0);
    for (size_t o = 0; o < n; ++o) {
      std::vector<uint32_t> coord(out_dims.size());
      size_t rest = o;
      for (size_t d = out_dims.size(); d-- > 0;) coord[d] = uint32_t(rest % out_dims[d]), rest /= out_dims[d];
      std::swap(coord[c.i], coord[c.j]);  // now coordinates in x
      size_t src = 0;
      for (size_t d = 0; d < c.dims.size(); ++d) src = src * c.dims[d] + coord[d];
      want[o] = accumulate ? old[o] + x[src] : x[src];
      if (accumulate) tol[o] = u_out(t) * std::fabs(want[o]) + tiny(t);
    }
    EXPECT_TRUE(all_close(read_back(ctx, bout), want, tol)) << c.dims.size() << " dims, " << c.i << " ↔ " << c.j;
  }
}

// Into a strided destination (attention heads back into a fused QKV gradient): columns of odd
// width at an odd offset, so fp16 halves share words with columns the copy must not touch.
TEST_P(TransposeTest, StridedCopyIntoAColumnBlock) {
  const auto [t, accumulate] = GetParam();
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  const uint32_t rows = 3, heads = 2, tt = 4, hd = 3, width = 11, offset = 1;  // [rows, tt, width] ← [rows, heads, tt, hd]
  const size_t n = size_t(rows) * heads * tt * hd, m = size_t(rows) * tt * width;
  const auto x = round_for(t, uniform(n, -2, 2, 45));
  const auto old = round_for(t, uniform(m, -2, 2, 46));
  const auto bx = make_tensor(ctx, x, n, t, "heads"), bout = make_tensor(ctx, old, m, t, "block");
  kernels::StridedCopy c;
  c.dims = {1, rows, heads, tt, hd};
  c.src_strides = {0, heads * tt * hd, tt * hd, hd, 1};
  c.dst_strides = {0, tt * width, hd, width, 1};
  c.dst_offset = offset;
  run(ctx, [&](vk::Recorder& rec) { ew.strided_copy(rec, bx.ref(), bout.ref(), c, accumulate); });
  auto want = old;
  std::vector<double> tol(m, 0.0);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t h = 0; h < heads; ++h)
      for (uint32_t i = 0; i < tt; ++i)
        for (uint32_t j = 0; j < hd; ++j) {
          const size_t o = (size_t(r) * tt + i) * width + offset + h * hd + j;
          const double v = x[((size_t(r) * heads + h) * tt + i) * hd + j];
          want[o] = accumulate ? want[o] + v : v;
          if (accumulate) tol[o] = u_out(t) * std::fabs(want[o]) + tiny(t);
        }
  EXPECT_TRUE(all_close(read_back(ctx, bout), want, tol));
}

INSTANTIATE_TEST_SUITE_P(Types, TransposeTest, ::testing::Combine(::testing::Values(F32, F16), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<ElemType, bool>>& p) {
                           return std::string(kernels::elem_type_name(std::get<0>(p.param))) +
                                  (std::get<1>(p.param) ? "_accumulate" : "_overwrite");
                         });

// --- argument checks ------------------------------------------------------------------------

using ElementwiseErrors = VkTest;

TEST_F(ElementwiseErrors, BadArgumentsAreRejected) {
  vk::Context& ctx = context();
  const kernels::Elementwise ew(ctx);
  vk::Buffer buf(ctx, {.size = 1024});
  const kernels::TensorRef x{buf.range(0, 256), F32}, y{buf.range(512, 256), F32};
  run(ctx, [&](vk::Recorder& rec) {
    EXPECT_THROW(ew.unary(rec, UnaryOp::Relu, x, y, 65), Error);  // 65 fp32 elements need 260 bytes
    EXPECT_THROW(ew.unary(rec, UnaryOp(9), x, y, 8), Error);
    const kernels::TensorRef shifted{buf.range(4, 256), F32};
    EXPECT_THROW(ew.unary(rec, UnaryOp::Relu, x, shifted, 8), Error);  // overlaps x, not in place
    const kernels::TensorRef retyped{buf.range(0, 256), F16};
    EXPECT_THROW(ew.unary(rec, UnaryOp::Relu, x, retyped, 8), Error);  // same bytes, other type
    EXPECT_THROW(ew.binary(rec, BinaryOp::Add, y, x, x, 2, 4, true), Error);  // c over a broadcast b
    EXPECT_THROW(ew.binary(rec, BinaryOp(2), x, x, y, 2, 4, false), Error);
    EXPECT_THROW(ew.column_sum(rec, x, y, 100, 1, false), Error);  // x too small
    EXPECT_THROW(ew.column_sum(rec, x, x, 2, 2, false), Error);    // out over x
    EXPECT_THROW(ew.binary(rec, BinaryOp::Add, x, x, y, 0x10000, 0x10000, false), Error);  // 2^32 elements
    EXPECT_THROW(ew.copy_columns(rec, x, y, 2, 4, 3, 4, 0, 2, false), Error);  // the block leaves x's rows
    EXPECT_THROW(ew.copy_columns(rec, x, x, 2, 4, 0, 4, 0, 2, false), Error);  // out over x
    const uint32_t dims[] = {2, 4};
    EXPECT_THROW(ew.transpose(rec, x, y, dims, 1, 0, false), Error);  // i > j
    EXPECT_THROW(ew.transpose(rec, x, x, dims, 0, 1, false), Error);  // in place
  });
}

}  // namespace
}  // namespace vkgrad::test
