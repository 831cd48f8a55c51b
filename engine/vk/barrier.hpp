// One global synchronization2 memory barrier, and the stage/access sets every engine command
// uses (internal to engine/vk).
#pragma once

#include "dispatch.hpp"

namespace vkgrad::vk {

// Compute dispatches and transfers: all the work the engine records.
inline constexpr VkPipelineStageFlags2 kWorkStages =
    VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_2_TRANSFER_BIT;
inline constexpr VkAccessFlags2 kWorkWrites = VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT | VK_ACCESS_2_TRANSFER_WRITE_BIT;
inline constexpr VkAccessFlags2 kWorkAccess =
    kWorkWrites | VK_ACCESS_2_SHADER_STORAGE_READ_BIT | VK_ACCESS_2_TRANSFER_READ_BIT;

inline void memory_barrier(const DispatchTable& vk, VkCommandBuffer cmd, VkPipelineStageFlags2 src_stage,
                           VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  VkMemoryBarrier2 b{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2};
  b.srcStageMask = src_stage;
  b.srcAccessMask = src_access;
  b.dstStageMask = dst_stage;
  b.dstAccessMask = dst_access;
  VkDependencyInfo dep{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
  dep.memoryBarrierCount = 1;
  dep.pMemoryBarriers = &b;
  vk.device.vkCmdPipelineBarrier2(cmd, &dep);
}

}  // namespace vkgrad::vk
