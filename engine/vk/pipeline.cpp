#include "vkgrad/vk/pipeline.hpp"

#include "dispatch.hpp"
#include "file_replace.hpp"
#include "shader_table.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <chrono>
#include <fstream>

namespace vkgrad::vk {
namespace {

std::vector<char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

std::span<const uint32_t> embedded_shader(std::string_view name) {
  for (const EmbeddedShader& s : embedded_shaders())
    if (s.name == name) return {s.code, s.words};
  std::string known;
  for (const EmbeddedShader& s : embedded_shaders()) known += std::string(known.empty() ? "" : ", ") + std::string(s.name);
  throw Error("no embedded shader named '" + std::string(name) + "' (embedded: " + known + ")",
              "add the variant to shaders/CMakeLists.txt");
}

std::vector<std::string_view> embedded_shader_names() {
  std::vector<std::string_view> out;
  for (const EmbeddedShader& s : embedded_shaders()) out.push_back(s.name);
  return out;
}

PipelineRegistry::PipelineRegistry(Context& ctx, std::filesystem::path cache_file)
    : ctx_(ctx), cache_file_(std::move(cache_file)) {
  std::vector<char> data;
  if (!cache_file_.empty()) data = read_file(cache_file_);
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  // A cache from another driver version is rejected by the driver; start empty then.
  if (ctx_.vk().device.vkCreatePipelineCache(ctx_.device(), &ci, nullptr, &cache_) != VK_SUCCESS || data.empty()) {
    if (cache_) ctx_.vk().device.vkDestroyPipelineCache(ctx_.device(), cache_, nullptr);
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    check(ctx_.vk().device.vkCreatePipelineCache(ctx_.device(), &ci, nullptr, &cache_), "vkCreatePipelineCache");
  } else {
    stats_.cache_loaded = true;
  }
}

PipelineRegistry::~PipelineRegistry() {
  if (dirty_) {
    try {
      save_cache();
    } catch (const std::exception&) {
      // A cache that cannot be written costs compile time on the next run, nothing else.
    }
  }
  const auto& d = ctx_.vk().device;
  for (auto& [desc, p] : pipelines_) d.vkDestroyPipeline(ctx_.device(), p.pipeline, nullptr);
  for (auto& [key, layout] : layouts_) d.vkDestroyPipelineLayout(ctx_.device(), layout, nullptr);
  for (auto& [n, layout] : set_layouts_) d.vkDestroyDescriptorSetLayout(ctx_.device(), layout, nullptr);
  if (cache_) d.vkDestroyPipelineCache(ctx_.device(), cache_, nullptr);
}

void PipelineRegistry::save_cache() {
  if (cache_file_.empty()) return;
  const auto& d = ctx_.vk().device;
  size_t size = 0;
  check(d.vkGetPipelineCacheData(ctx_.device(), cache_, &size, nullptr), "vkGetPipelineCacheData");
  std::vector<char> data(size);
  check(d.vkGetPipelineCacheData(ctx_.device(), cache_, &size, data.data()), "vkGetPipelineCacheData");
  replace_file(cache_file_, std::span(data.data(), size), "pipeline cache");
  dirty_ = false;
}

VkDescriptorSetLayout PipelineRegistry::set_layout(uint32_t bindings) {
  if (auto it = set_layouts_.find(bindings); it != set_layouts_.end()) return it->second;
  std::vector<VkDescriptorSetLayoutBinding> b(bindings);
  for (uint32_t i = 0; i < bindings; ++i)
    b[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo ci{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  // Push descriptors where enabled; else the layout of the sets DescriptorSets makes.
  if (ctx_.caps().enabled(Feature::PushDescriptor)) ci.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  ci.bindingCount = bindings;
  ci.pBindings = b.data();
  VkDescriptorSetLayout layout = VK_NULL_HANDLE;
  check(ctx_.vk().device.vkCreateDescriptorSetLayout(ctx_.device(), &ci, nullptr, &layout),
        "vkCreateDescriptorSetLayout");
  set_layouts_[bindings] = layout;
  return layout;
}

const Pipeline& PipelineRegistry::get(const PipelineDesc& desc) {
  if (auto it = pipelines_.find(desc); it != pipelines_.end()) return it->second;
  if (desc.push_constant_size > 128 || desc.push_constant_size % 4)
    throw Error("pipeline '" + desc.shader + "' asks for " + std::to_string(desc.push_constant_size) +
                    " bytes of push constants",
                "keep the argument block a multiple of 4 bytes and at most 128 (the portable minimum)");
  const auto code = embedded_shader(desc.shader);
  const auto& d = ctx_.vk().device;

  Pipeline p;
  p.bindings = desc.bindings;
  p.push_constant_size = desc.push_constant_size;
  p.set_layout = set_layout(desc.bindings);
  const auto key = std::make_pair(desc.bindings, desc.push_constant_size);
  if (auto it = layouts_.find(key); it != layouts_.end()) {
    p.layout = it->second;
  } else {
    const VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_constant_size};
    VkPipelineLayoutCreateInfo li{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    li.setLayoutCount = 1;
    li.pSetLayouts = &p.set_layout;
    li.pushConstantRangeCount = desc.push_constant_size ? 1 : 0;
    li.pPushConstantRanges = &range;
    check(d.vkCreatePipelineLayout(ctx_.device(), &li, nullptr, &p.layout), "vkCreatePipelineLayout");
    layouts_[key] = p.layout;
  }

  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = code.size_bytes();
  mi.pCode = code.data();
  VkShaderModule module = VK_NULL_HANDLE;
  check(d.vkCreateShaderModule(ctx_.device(), &mi, nullptr, &module), "vkCreateShaderModule");

  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint32_t> values;
  for (const SpecConstant& s : desc.spec) {
    entries.push_back({s.id, static_cast<uint32_t>(values.size() * 4), 4});
    values.push_back(s.value);
  }
  VkSpecializationInfo spec{static_cast<uint32_t>(entries.size()), entries.data(), values.size() * 4, values.data()};

  VkPipelineShaderStageRequiredSubgroupSizeCreateInfo subgroup{
      VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO};
  subgroup.requiredSubgroupSize = desc.required_subgroup_size;
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = entries.empty() ? nullptr : &spec;
  if (desc.required_subgroup_size) {
    if (!ctx_.caps().enabled(Feature::SubgroupSizeControl) || !ctx_.caps().enabled(Feature::FullSubgroups))
      throw Error("pipeline '" + desc.shader + "' pins the subgroup size, but subgroupSizeControl and "
                  "computeFullSubgroups are not both enabled",
                  "select a kernel variant that does not pin the subgroup size on this device");
    ci.stage.pNext = &subgroup;
    ci.stage.flags = VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT;
  }
  ci.layout = p.layout;
  const auto t0 = std::chrono::steady_clock::now();
  const VkResult r = d.vkCreateComputePipelines(ctx_.device(), cache_, 1, &ci, nullptr, &p.pipeline);
  const auto t1 = std::chrono::steady_clock::now();
  d.vkDestroyShaderModule(ctx_.device(), module, nullptr);
  check(r, ("vkCreateComputePipelines for '" + desc.shader + "'").c_str());
  stats_.created += 1;
  stats_.create_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();
  dirty_ = true;
  return pipelines_.emplace(desc, p).first->second;
}

}  // namespace vkgrad::vk
