#include "host_commands.hpp"
#include "paths.hpp"

#include "vk/dispatch.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace vkgrad::test {

HostCommands::HostCommands(vk::Context& c) : ctx(c) {
  const auto& d = ctx.vk().device;
  const VkCommandPoolCreateInfo pci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, nullptr,
                                    VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, ctx.queue_family()};
  EXPECT_EQ(d.vkCreateCommandPool(ctx.device(), &pci, nullptr, &pool), VK_SUCCESS);
  const VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, nullptr, pool,
                                       VK_COMMAND_BUFFER_LEVEL_PRIMARY, 1};
  EXPECT_EQ(d.vkAllocateCommandBuffers(ctx.device(), &ai, &cmd), VK_SUCCESS);
  const VkFenceCreateInfo fci{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  EXPECT_EQ(d.vkCreateFence(ctx.device(), &fci, nullptr, &fence), VK_SUCCESS);
}

HostCommands::~HostCommands() {
  const auto& d = ctx.vk().device;
  d.vkDestroyFence(ctx.device(), fence, nullptr);
  d.vkDestroyCommandPool(ctx.device(), pool, nullptr);
}

void HostCommands::begin() {
  const VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, nullptr,
                                    VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  ASSERT_EQ(ctx.vk().device.vkBeginCommandBuffer(cmd, &bi), VK_SUCCESS);
}

void HostCommands::submit_and_wait() {
  const auto& d = ctx.vk().device;
  ASSERT_EQ(d.vkEndCommandBuffer(cmd), VK_SUCCESS);
  const VkCommandBufferSubmitInfo ci{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO, nullptr, cmd};
  VkSubmitInfo2 si{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
  si.commandBufferInfoCount = 1;
  si.pCommandBufferInfos = &ci;
  ASSERT_EQ(d.vkQueueSubmit2(ctx.queue(), 1, &si, fence), VK_SUCCESS);
  ASSERT_EQ(d.vkWaitForFences(ctx.device(), 1, &fence, VK_TRUE, 60'000'000'000ull), VK_SUCCESS);
  ASSERT_EQ(d.vkResetFences(ctx.device(), 1, &fence), VK_SUCCESS);
}

void run_compute(vk::Context& ctx, std::span<const uint32_t> spirv, std::span<const vk::BufferRange> buffers,
                 std::span<const std::byte> push, uint32_t groups) {
  const auto& d = ctx.vk().device;
  const VkDevice dev = ctx.device();
  VkShaderModuleCreateInfo smci{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  smci.codeSize = spirv.size_bytes();
  smci.pCode = spirv.data();
  VkShaderModule module = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkCreateShaderModule(dev, &smci, nullptr, &module), VK_SUCCESS);
  std::vector<VkDescriptorSetLayoutBinding> bindings;
  for (uint32_t i = 0; i < buffers.size(); ++i)
    bindings.push_back({i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr});
  VkDescriptorSetLayoutCreateInfo dslci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  dslci.bindingCount = uint32_t(bindings.size());
  dslci.pBindings = bindings.data();
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkCreateDescriptorSetLayout(dev, &dslci, nullptr, &set_layout), VK_SUCCESS);
  const VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, uint32_t(push.size())};
  VkPipelineLayoutCreateInfo plci{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  plci.setLayoutCount = 1;
  plci.pSetLayouts = &set_layout;
  plci.pushConstantRangeCount = push.empty() ? 0 : 1;
  plci.pPushConstantRanges = &range;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkCreatePipelineLayout(dev, &plci, nullptr, &layout), VK_SUCCESS);
  VkComputePipelineCreateInfo cpci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  cpci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, nullptr, 0, VK_SHADER_STAGE_COMPUTE_BIT, module,
                "main", nullptr};
  cpci.layout = layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, nullptr, &pipeline), VK_SUCCESS);

  // An ordinary descriptor set (the host's own shaders need no push descriptors).
  const VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, uint32_t(buffers.size())};
  VkDescriptorPoolCreateInfo dpci{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  dpci.maxSets = 1;
  dpci.poolSizeCount = 1;
  dpci.pPoolSizes = &pool_size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkCreateDescriptorPool(dev, &dpci, nullptr, &pool), VK_SUCCESS);
  VkDescriptorSetAllocateInfo dsai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  dsai.descriptorPool = pool;
  dsai.descriptorSetCount = 1;
  dsai.pSetLayouts = &set_layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  ASSERT_EQ(d.vkAllocateDescriptorSets(dev, &dsai, &set), VK_SUCCESS);
  std::vector<VkDescriptorBufferInfo> infos;
  for (const auto& b : buffers) infos.push_back({b.buffer, b.offset, b.size});
  std::vector<VkWriteDescriptorSet> writes;
  for (uint32_t i = 0; i < infos.size(); ++i) {
    VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    w.dstSet = set;
    w.dstBinding = i;
    w.descriptorCount = 1;
    w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w.pBufferInfo = &infos[i];
    writes.push_back(w);
  }
  d.vkUpdateDescriptorSets(dev, uint32_t(writes.size()), writes.data(), 0, nullptr);
  HostCommands host(ctx);
  host.begin();
  // Earlier uploads (transfers) before the shader's reads; its writes before the host's reads.
  VkMemoryBarrier2 before{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2, nullptr, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                          VK_ACCESS_2_MEMORY_WRITE_BIT, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                          VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT};
  VkDependencyInfo dep{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
  dep.memoryBarrierCount = 1;
  dep.pMemoryBarriers = &before;
  d.vkCmdPipelineBarrier2(host.cmd, &dep);
  d.vkCmdBindPipeline(host.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  d.vkCmdBindDescriptorSets(host.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, nullptr);
  if (!push.empty())
    d.vkCmdPushConstants(host.cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, uint32_t(push.size()), push.data());
  d.vkCmdDispatch(host.cmd, groups, 1, 1);
  VkMemoryBarrier2 after{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2, nullptr, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT,
                         VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_2_HOST_BIT,
                         VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_HOST_READ_BIT};
  dep.pMemoryBarriers = &after;
  d.vkCmdPipelineBarrier2(host.cmd, &dep);
  host.submit_and_wait();
  d.vkDestroyPipeline(dev, pipeline, nullptr);
  d.vkDestroyDescriptorPool(dev, pool, nullptr);
  d.vkDestroyPipelineLayout(dev, layout, nullptr);
  d.vkDestroyDescriptorSetLayout(dev, set_layout, nullptr);
  d.vkDestroyShaderModule(dev, module, nullptr);
}

std::vector<uint32_t> compile_glsl(const std::string& source, const std::string& include_dir) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("vkgrad-glsl-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::ofstream(dir / "main.comp") << source;
  const std::string cmd = build_path("VKGRAD_GLSLANG", VKGRAD_GLSLANG) + " --quiet --target-env vulkan1.3 -I" + include_dir + " -o " +
                          (dir / "main.spv").string() + " " + (dir / "main.comp").string() + " > " +
                          (dir / "log.txt").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream log(dir / "log.txt");
  const std::string output{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
  EXPECT_EQ(rc, 0) << output;
  std::vector<uint32_t> words;
  std::ifstream spv(dir / "main.spv", std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(spv), std::istreambuf_iterator<char>()};
  words.resize(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), words.size() * 4);
  fs::remove_all(dir);
  return words;
}

}  // namespace vkgrad::test
