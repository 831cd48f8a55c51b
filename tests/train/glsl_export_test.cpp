// io::export_glsl: a trained neural field (Fourier features, linear layers, GELU, tanh, ReLU,
// sigmoid) exported as GLSL, included by a compute shader the test compiles with glslang and
// runs: with FP32 weights it gives Trainer::predict's outputs, with FP16 weights those of a
// float64 CPU reference of the same network on FP16-rounded weights. Unsupported graphs are
// errors naming the op.
#include "host_commands.hpp"
#include "numerics.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/graph/sequential.hpp"
#include "vkgrad/io/glsl_export.hpp"
#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/train/trainer.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;
constexpr uint32_t kRows = 37;

graph::Graph field() {
  graph::Graph g;
  auto h = g.fourier_features(g.input("xy", {2}), 8, 1.0f, "enc");
  h = g.linear(h, 24, "l0", graph::Activation::Relu);
  h = g.gelu(g.linear(h, 16, "l1"));
  h = g.tanh(g.linear(h, 16, "l2"));
  g.mse(g.sigmoid(g.linear(h, 3, "l3")), g.input("rgb", {3}));
  return g;
}

// The network in float64, as the GLSL computes it but exactly, on weights rounded as exported.
std::vector<double> reference(const train::TrainingState& st, const std::vector<float>& xy, bool fp16) {
  const auto w = [&](const std::string& name) {
    std::vector<double> v;
    for (float f : st.tensors.at(name).values) v.push_back(fp16 ? kernels::half_value(kernels::half_bits(f)) : f);
    return v;
  };
  const auto linear = [&](const std::vector<double>& x, const std::string& name) {
    const auto W = w(name + ".weight"), b = w(name + ".bias");
    std::vector<double> y(b.size());
    for (size_t o = 0; o < y.size(); ++o) {
      y[o] = b[o];
      for (size_t i = 0; i < x.size(); ++i) y[o] += W[o * x.size() + i] * x[i];
    }
    return y;
  };
  const auto& B = st.tensors.at("enc.B").values;  // exact FP32 constants in the source
  std::vector<double> out;
  for (uint32_t r = 0; r < kRows; ++r) {
    std::vector<double> h(16);
    for (size_t f = 0; f < 8; ++f) {
      const double z = 2 * M_PI * (double(B[2 * f]) * xy[2 * r] + double(B[2 * f + 1]) * xy[2 * r + 1]);
      h[f] = std::sin(z);
      h[8 + f] = std::cos(z);
    }
    h = linear(h, "l0");
    for (double& v : h) v = std::max(v, 0.0);
    h = linear(h, "l1");
    for (double& v : h) v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    h = linear(h, "l2");
    for (double& v : h) v = std::tanh(v);
    h = linear(h, "l3");
    for (double v : h) out.push_back(1 / (1 + std::exp(-v)));
  }
  return out;
}

// The exported include evaluated over kRows inputs by a compute shader of the test's own.
std::vector<float> run_exported(vk::Context& ctx, const io::GlslExport& e, bool fp16, const std::vector<float>& xy) {
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-export-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::ofstream(dir / "net.glsl") << e.source;
  std::string shader = "#version 460\n#extension GL_GOOGLE_include_directive : require\n";
  if (fp16) shader += "#extension GL_EXT_shader_16bit_storage : require\n";
  shader += "layout(local_size_x = 64) in;\n"
            "#define NET_BINDING 0\n"
            "#include \"net.glsl\"\n"
            "layout(std430, binding = 1) readonly buffer In { float xin[]; };\n"
            "layout(std430, binding = 2) writeonly buffer Out { float yout[]; };\n"
            "layout(push_constant) uniform P { uint rows; };\n"
            "void main() {\n"
            "  const uint r = gl_GlobalInvocationID.x;\n"
            "  if (r >= rows) return;\n"
            "  float x[NET_IN];\n"
            "  for (int i = 0; i < NET_IN; ++i) x[i] = xin[r * NET_IN + i];\n"
            "  float y[NET_OUT];\n"
            "  net_eval(x, y);\n"
            "  for (int i = 0; i < NET_OUT; ++i) yout[r * NET_OUT + i] = y[i];\n"
            "}\n";
  const auto spirv = compile_glsl(shader, dir.string());
  fs::remove_all(dir);
  if (spirv.empty()) return {};
  vk::Buffer weights(ctx, {.size = e.weights.size(), .name = "exported weights"});
  vk::Buffer in(ctx, {.size = 4 * xy.size(), .name = "inputs"});
  vk::Buffer out(ctx, {.size = 4ull * kRows * e.outputs, .use = vk::MemoryUse::Readback, .name = "outputs"});
  vk::upload(ctx, weights, e.weights.data(), e.weights.size());
  vk::upload(ctx, in, std::span<const float>(xy));
  const vk::BufferRange buffers[] = {weights.range(), in.range(), out.range()};
  const uint32_t rows = kRows;
  run_compute(ctx, spirv, buffers, std::as_bytes(std::span(&rows, 1)), (kRows + 63) / 64);
  out.invalidate();
  std::vector<float> y(kRows * e.outputs);
  std::memcpy(y.data(), out.mapped(), 4 * y.size());
  return y;
}

TEST_F(VkTest, ExportedGlslEvaluatesTheTrainedNetwork) {
  vk::Context& ctx = context();
  // Trained a few steps in FP32, so the weights are the trainer's own and predict() is exact FP32.
  train::Trainer trainer(ctx, field(), {.batch_size = 16, .precision = kernels::Precision::Fp32,
                                        .optimizer = train::OptimizerConfig::adam(1e-2f)});
  std::vector<float> xy, rgb;
  for (double v : uniform(kRows * 2, 0, 1, 7)) xy.push_back(float(v));
  for (double v : uniform(16 * 3, 0, 1, 8)) rgb.push_back(float(v));
  const std::span<const float> xs(xy);
  for (int i = 0; i < 5; ++i) trainer.step({16, {{xs.first(32)}, {rgb}}});
  const auto state = trainer.save_state();
  const auto predicted = trainer.predict({kRows, {{xy}}});

  const auto e32 = io::export_glsl(field(), state, {.fp16 = false});
  EXPECT_EQ(e32.inputs, 2u);
  EXPECT_EQ(e32.outputs, 3u);
  EXPECT_EQ(e32.weight_count, 16u * 24 + 24 + 24 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3);
  const auto y32 = run_exported(ctx, e32, false, xy);
  ASSERT_EQ(y32.size(), predicted.size());
  // The same FP32 arithmetic and activation code as the kernels, the dot products summed in
  // another order: four layers of ≤ 24 terms of magnitude ≤ ~2 differ by ≤ 4·24·2^-24·48 ≈ 3e-4
  // before the sigmoid, whose slope ≤ 1/4 leaves < 1e-4.
  for (size_t i = 0; i < y32.size(); ++i) EXPECT_NEAR(y32[i], predicted[i], 1e-4) << i;

  if (!ctx.caps().enabled(vk::Feature::Storage16))
    GTEST_SKIP() << "FP16 weights need storageBuffer16BitAccess (Storage16); FP32 checked";
  const auto e16 = io::export_glsl(field(), state);
  EXPECT_EQ(e16.weights.size(), (2 * e16.weight_count + 3) / 4 * 4);
  const auto y16 = run_exported(ctx, e16, true, xy);
  const auto want = reference(state, xy, true);
  ASSERT_EQ(y16.size(), want.size());
  // FP32 evaluation of exactly these FP16 weights: the same bound as above against float64.
  for (size_t i = 0; i < y16.size(); ++i) EXPECT_NEAR(y16[i], want[i], 1e-4) << i;
  // And the FP32 reference agrees with the trainer (the reference is right).
  const auto want32 = reference(state, xy, false);
  for (size_t i = 0; i < want32.size(); ++i) EXPECT_NEAR(predicted[i], want32[i], 1e-4) << i;
}

// The hash encoding: the same corners and weights (the kernels' own GLSL), the table from the
// weights buffer.
TEST_F(VkTest, ExportedGlslEvaluatesAHashGridField) {
  vk::Context& ctx = context();
  graph::Graph g;
  auto h = g.hash_grid(g.input("xy", {2}), "grid",
                       {.levels = 4, .features = 2, .log2_table_size = 6, .base_resolution = 4, .growth = 2.0f}, 0.5f);
  h = g.linear(h, 16, "l0", graph::Activation::Relu);
  g.mse(g.linear(h, 3, "l1"), g.input("rgb", {3}));
  train::Trainer trainer(ctx, g, {.batch_size = 16, .precision = kernels::Precision::Fp32,
                                   .optimizer = train::OptimizerConfig::adam(1e-2f)});
  std::vector<float> xy, rgb;
  for (double v : uniform(kRows * 2, 0, 1, 17)) xy.push_back(float(v));
  for (double v : uniform(16 * 3, 0, 1, 18)) rgb.push_back(float(v));
  const std::span<const float> xs(xy);
  for (int i = 0; i < 5; ++i) trainer.step({16, {{xs.first(32)}, {rgb}}});
  const auto e = io::export_glsl(g, trainer.save_state(), {.fp16 = false});
  EXPECT_EQ(e.inputs, 2u);
  EXPECT_EQ(e.outputs, 3u);
  EXPECT_NE(e.source.find("hash_grid_entry"), std::string::npos);
  const auto y = run_exported(ctx, e, false, xy);
  const auto predicted = trainer.predict({kRows, {{xy}}});
  ASSERT_EQ(y.size(), predicted.size());
  // As above: FP32 throughout, 4 corners × 2 features per level and dot products of ≤ 16 terms
  // summed in other orders.
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], predicted[i], 1e-4) << i;
}

TEST(GlslExport, NamesWhatItCannotExport) {
  graph::Graph conv;
  graph::Sequential net(conv, conv.input("x", {1, 4, 4}));
  net.conv2d(2, 3).flatten().linear(1);
  conv.mse(net.output(), conv.input("y", {1}));
  try {
    io::export_glsl(conv, {});
    ADD_FAILURE() << "a convolution was exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::export_glsl(field(), {}, {.prefix = "2net"}), Error);
  try {
    io::export_glsl(field(), {});
    ADD_FAILURE() << "an empty state was exported";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'enc.B'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vkgrad::test
