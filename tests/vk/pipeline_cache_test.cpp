// The pipeline registry reuses pipelines and persists its VkPipelineCache across Contexts.
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/elementwise.hpp"
#include "vkgrad/vk/pipeline.hpp"

#include <filesystem>
#include <random>

namespace vkgrad::test {
namespace {

using PipelineTest = VkTest;

// Any embedded shader will do.
vk::PipelineDesc some_pipeline(uint32_t push_constant_size = sizeof(kernels::ElementwiseArgs)) {
  return {.shader = "elementwise", .bindings = 4, .push_constant_size = push_constant_size};
}

std::filesystem::path fresh_dir() {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("vkgrad-cache-test-" + std::to_string(rd()));
  std::filesystem::remove_all(dir);
  return dir;
}

TEST_F(PipelineTest, SameDescriptionGivesSamePipeline) {
  vk::Context& ctx = context();
  const vk::PipelineDesc desc = some_pipeline();
  const uint32_t before = ctx.pipelines().stats().created;
  const vk::Pipeline& a = ctx.pipelines().get(desc);
  const uint32_t after_first = ctx.pipelines().stats().created;
  const vk::Pipeline& b = ctx.pipelines().get(desc);
  EXPECT_EQ(a.pipeline, b.pipeline);
  EXPECT_LE(after_first - before, 1u);
  EXPECT_EQ(ctx.pipelines().stats().created, after_first);
}

TEST_F(PipelineTest, CacheIsSavedAndLoaded) {
  const auto dir = fresh_dir();
  auto info = strict_create_info();
  info.pipeline_cache_dir = dir;
  {
    vk::Context ctx(info);
    EXPECT_FALSE(ctx.pipelines().stats().cache_loaded);
    ctx.pipelines().get(some_pipeline());
  }
  ASSERT_TRUE(std::filesystem::exists(dir));
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename().string().rfind("pipelines-", 0), 0u) << e.path();
    EXPECT_GT(e.file_size(), 0u);
  }
  EXPECT_EQ(files, 1u);  // no temporary file left behind
  {
    vk::Context ctx(info);
    EXPECT_TRUE(ctx.pipelines().stats().cache_loaded);
  }
  std::filesystem::remove_all(dir);
}

TEST_F(PipelineTest, UnknownShaderNamesTheKnownOnes) {
  try {
    context().pipelines().get({.shader = "no_such_kernel", .bindings = 1});
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("loss_scale_unscale"), std::string::npos) << e.what();
  }
}

TEST_F(PipelineTest, OversizedPushConstantsAreRejected) {
  EXPECT_THROW(context().pipelines().get(some_pipeline(132)), Error);
}

}  // namespace
}  // namespace vkgrad::test
