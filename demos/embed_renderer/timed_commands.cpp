#include "timed_commands.hpp"

#include "vkgrad/error.hpp"

#include <vector>

using vkgrad::check;

TimedCommands::TimedCommands(HostDevice& host, uint32_t family, uint32_t timestamps)
    : host_(host), timestamps_(timestamps) {
  VkCommandPoolCreateInfo ci{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  ci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  ci.queueFamilyIndex = family;
  check(vkCreateCommandPool(host.device, &ci, nullptr, &pool_), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(vkAllocateCommandBuffers(host.device, &ai, &cmd), "vkAllocateCommandBuffers");
  VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
  qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
  qi.queryCount = timestamps;
  check(vkCreateQueryPool(host.device, &qi, nullptr, &queries_), "vkCreateQueryPool");
}

TimedCommands::~TimedCommands() {
  vkDestroyQueryPool(host_.device, queries_, nullptr);
  vkDestroyCommandPool(host_.device, pool_, nullptr);
}

void TimedCommands::begin() {
  check(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
  vkCmdResetQueryPool(cmd, queries_, 0, timestamps_);
  stamp(0);
}

void TimedCommands::stamp(uint32_t index) {
  vkCmdWriteTimestamp2(cmd, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_, index);
}

void TimedCommands::end() { check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer"); }

double TimedCommands::ms(uint32_t from, uint32_t to) const {
  std::vector<uint64_t> t(timestamps_);
  check(vkGetQueryPoolResults(host_.device, queries_, 0, timestamps_, t.size() * sizeof(uint64_t), t.data(),
                              sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vkGetQueryPoolResults");
  return double(t[to] - t[from]) * host_.properties.limits.timestampPeriod * 1e-6;
}
