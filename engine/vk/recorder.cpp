#include "vkgrad/vk/recorder.hpp"

#include "barrier.hpp"
#include "descriptor_sets.hpp"
#include "dispatch.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>

namespace vkgrad::vk {
namespace {

VkAccessFlags2 write_access(VkPipelineStageFlags2 stage) {
  switch (stage) {
    case VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT: return VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT;
    case VK_PIPELINE_STAGE_2_TRANSFER_BIT: return VK_ACCESS_2_TRANSFER_WRITE_BIT;
    default: return VK_ACCESS_2_MEMORY_WRITE_BIT;
  }
}


}  // namespace

Recorder::Recorder(Context& ctx, VkCommandBuffer cmd, const RecorderOptions& options)
    : ctx_(ctx), cmd_(cmd), options_(options) {
  if (options_.timestamps && ctx.caps().timestamp_valid_bits > 0 && options_.max_timestamps > 0) {
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = 2 * options_.max_timestamps;
    check(ctx.vk().device.vkCreateQueryPool(ctx.device(), &qi, nullptr, &queries_), "vkCreateQueryPool");
    ctx.vk().device.vkCmdResetQueryPool(cmd_, queries_, 0, qi.queryCount);
  }
  if (options_.begin_with_barrier)
    barrier(kWorkStages, kWorkWrites, kWorkStages, kWorkAccess);
}

Recorder::~Recorder() {
  const auto& d = ctx_.vk().device;
  if (queries_) d.vkDestroyQueryPool(ctx_.device(), queries_, nullptr);
}

void Recorder::barrier(VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access, VkPipelineStageFlags2 dst_stage,
                       VkAccessFlags2 dst_access) {
  memory_barrier(ctx_.vk(), cmd_, src_stage, src_access, dst_stage, dst_access);
  ++barriers_;
}

// A barrier is needed when a new access overlaps a tracked one and either writes. It then
// orders every tracked access (all their stages, all their writes) before every later compute
// and transfer access, so the tracked set can be cleared: accesses recorded after it need no
// further barrier against anything before it. One global memory barrier is cheaper on GPUs than
// many buffer barriers.
void Recorder::before(std::span<const Use> uses, VkPipelineStageFlags2 stage) {
  bool hazard = false;
  for (const Use& u : uses) {
    const VkDeviceSize begin = u.range.offset, end = u.range.offset + u.range.size;
    for (const Tracked& t : tracked_)
      hazard = hazard || (t.buffer == u.range.buffer && begin < t.end && t.begin < end && (t.write || u.write));
  }
  if (hazard) {
    VkPipelineStageFlags2 src_stage = 0;
    VkAccessFlags2 src_access = 0;
    for (const Tracked& t : tracked_) {
      src_stage |= t.stage;
      if (t.write) src_access |= write_access(t.stage);
    }
    barrier(src_stage, src_access, kWorkStages, kWorkAccess);
    tracked_.clear();
  }
  for (const Use& u : uses)
    tracked_.push_back({u.range.buffer, u.range.offset, u.range.offset + u.range.size, u.write, stage});
}

void Recorder::dispatch(const DispatchInfo& info) {
  const Pipeline* p = info.pipeline;
  if (!p) throw Error("dispatch '" + info.label + "' has no pipeline", "pass the kernel's pipeline");
  if (info.bindings.size() != p->bindings)
    throw Error("dispatch '" + info.label + "' binds " + std::to_string(info.bindings.size()) +
                    " buffers but its pipeline declares " + std::to_string(p->bindings),
                "bind one range per declared binding");
  for (int i = 0; i < 3; ++i)
    if (info.groups[i] == 0 || info.groups[i] > ctx_.caps().max_workgroup_count[i])
      throw Error("dispatch '" + info.label + "' asks for " + std::to_string(info.groups[i]) +
                      " workgroups in dimension " + std::to_string(i) + "; the device allows 1.." +
                      std::to_string(ctx_.caps().max_workgroup_count[i]),
                  "split the work into several dispatches or batches");
  const VkDeviceSize align = ctx_.caps().min_storage_buffer_offset_alignment;
  std::vector<Use> uses;
  std::vector<VkDescriptorBufferInfo> infos;
  for (const Binding& b : info.bindings) {
    if (!b.range.buffer || b.range.size == 0)
      throw Error("dispatch '" + info.label + "' binds an empty buffer range", "bind a buffer of at least 4 bytes");
    if (align > 1 && b.range.offset % align != 0)
      throw Error("dispatch '" + info.label + "' binds offset " + std::to_string(b.range.offset) +
                      ", not a multiple of minStorageBufferOffsetAlignment (" + std::to_string(align) + ")",
                  "align tensor offsets within their buffer");
    uses.push_back({b.range, b.access != Access::Read});
    if (b.access == Access::ReadWrite) uses.push_back({b.range, false});
    infos.push_back({b.range.buffer, b.range.offset, b.range.size});
  }
  before(uses, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT);

  const auto& d = ctx_.vk().device;
  d.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
  if (p->bindings > 0 && ctx_.descriptor_sets()) {
    // No push descriptors: a set made once for these ranges, reused by every recording.
    const VkDescriptorSet set = ctx_.descriptor_sets()->get(p->set_layout, infos);
    d.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, nullptr);
  } else if (p->bindings > 0) {
    // Push descriptors live in the command buffer itself: nothing to allocate or keep alive.
    std::vector<VkWriteDescriptorSet> writes(p->bindings);
    for (uint32_t i = 0; i < p->bindings; ++i) {
      writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes[i].dstBinding = i;
      writes[i].descriptorCount = 1;
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
    d.vkCmdPushDescriptorSetKHR(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, p->bindings, writes.data());
  }
  if (p->push_constant_size > 0) {
    if (!info.push_constants)
      throw Error("dispatch '" + info.label + "' has no push constants", "pass the kernel's argument block");
    d.vkCmdPushConstants(cmd_, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_constant_size, info.push_constants);
  }
  const bool timed = queries_ && timed_labels_.size() < options_.max_timestamps;
  const uint32_t q = 2 * static_cast<uint32_t>(timed_labels_.size());
  if (timed) d.vkCmdWriteTimestamp2(cmd_, VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, queries_, q);
  d.vkCmdDispatch(cmd_, info.groups[0], info.groups[1], info.groups[2]);
  if (timed) {
    d.vkCmdWriteTimestamp2(cmd_, VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, queries_, q + 1);
    timed_labels_.push_back(info.label);
  }
}

void Recorder::copy(const BufferRange& src, const BufferRange& dst) {
  if (src.size != dst.size)
    throw Error("copy between ranges of different sizes (" + std::to_string(src.size) + " and " +
                    std::to_string(dst.size) + " bytes)",
                "copy equal-sized ranges");
  const Use uses[] = {{src, false}, {dst, true}};
  before(uses, VK_PIPELINE_STAGE_2_TRANSFER_BIT);
  const VkBufferCopy region{src.offset, dst.offset, src.size};
  ctx_.vk().device.vkCmdCopyBuffer(cmd_, src.buffer, dst.buffer, 1, &region);
}

void Recorder::fill(const BufferRange& dst, uint32_t value) {
  if (dst.offset % 4 || dst.size % 4)
    throw Error("fill of a range not aligned to 4 bytes", "fill whole 32-bit words");
  const Use uses[] = {{dst, true}};
  before(uses, VK_PIPELINE_STAGE_2_TRANSFER_BIT);
  ctx_.vk().device.vkCmdFillBuffer(cmd_, dst.buffer, dst.offset, dst.size, value);
}

void Recorder::update(const BufferRange& dst, std::span<const std::byte> data) {
  if (dst.offset % 4 || data.size() % 4 || data.empty() || data.size() > 65536 || data.size() != dst.size)
    throw Error("in-command-buffer update of " + std::to_string(data.size()) + " bytes into a range of " +
                    std::to_string(dst.size) + " at offset " + std::to_string(dst.offset),
                "update whole 32-bit words, 4 to 65536 bytes, into a range of the same size");
  const Use uses[] = {{dst, true}};
  before(uses, VK_PIPELINE_STAGE_2_TRANSFER_BIT);
  ctx_.vk().device.vkCmdUpdateBuffer(cmd_, dst.buffer, dst.offset, data.size(), data.data());
}

void Recorder::memory_dependency(const VkMemoryBarrier2& b) {
  memory_barrier(ctx_.vk(), cmd_, b.srcStageMask, b.srcAccessMask, b.dstStageMask, b.dstAccessMask);
  ++barriers_;
  tracked_.clear();
}

HostDependencies host_dependencies() {
  HostDependencies d;
  d.before.srcStageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT;
  d.before.srcAccessMask = VK_ACCESS_2_MEMORY_WRITE_BIT;
  d.before.dstStageMask = kWorkStages;
  d.before.dstAccessMask = kWorkAccess;
  d.after.srcStageMask = kWorkStages;
  d.after.srcAccessMask = kWorkWrites;
  d.after.dstStageMask = VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_2_HOST_BIT;
  d.after.dstAccessMask = VK_ACCESS_2_MEMORY_READ_BIT | VK_ACCESS_2_MEMORY_WRITE_BIT | VK_ACCESS_2_HOST_READ_BIT;
  return d;
}

void Recorder::host_read(const BufferRange& range) {
  // Host reads happen after the fence, outside this command buffer: always make them visible.
  (void)range;  // one global barrier covers every range
  VkPipelineStageFlags2 src_stage = 0;
  VkAccessFlags2 src_access = 0;
  for (const Tracked& t : tracked_) {
    src_stage |= t.stage;
    if (t.write) src_access |= write_access(t.stage);
  }
  if (src_stage == 0) src_stage = kWorkStages;
  barrier(src_stage, src_access ? src_access : kWorkWrites,
          VK_PIPELINE_STAGE_2_HOST_BIT, VK_ACCESS_2_HOST_READ_BIT);
  tracked_.clear();
}

std::vector<DispatchTiming> Recorder::timings() const {
  std::vector<DispatchTiming> out;
  if (!queries_ || timed_labels_.empty()) return out;
  std::vector<uint64_t> ticks(2 * timed_labels_.size());
  check(ctx_.vk().device.vkGetQueryPoolResults(ctx_.device(), queries_, 0, static_cast<uint32_t>(ticks.size()),
                                               ticks.size() * sizeof(uint64_t), ticks.data(), sizeof(uint64_t),
                                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
        "vkGetQueryPoolResults");
  const uint64_t mask = ctx_.caps().timestamp_valid_bits >= 64 ? ~uint64_t{0}
                                                                : (uint64_t{1} << ctx_.caps().timestamp_valid_bits) - 1;
  for (size_t i = 0; i < timed_labels_.size(); ++i) {
    const uint64_t dt = ((ticks[2 * i + 1] - ticks[2 * i]) & mask);
    out.push_back({timed_labels_[i], static_cast<double>(dt) * ctx_.caps().timestamp_period_ns * 1e-6});
  }
  return out;
}

}  // namespace vkgrad::vk
