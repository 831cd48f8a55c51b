// embed_renderer's frame: a graphics pipeline (dynamic rendering) that draws, into an offscreen
// RGBA8 image of 2R × R pixels, the training picture on the left (read from the trainer's shared
// target buffer) and the network on the right (the exported GLSL in field.frag, weights from
// the host's buffer); the image is then copied to a host-visible buffer for PNGs and PSNR.
// GPU timestamps split the frame into render (the picture and the copy) and inference (the
// network's square). Owns its pipeline, image, descriptor set and timed command buffer;
// one thread at a time.
#pragma once

#include "host_device.hpp"
#include "timed_commands.hpp"

#include <vector>

struct FrameTimes {
  double render_ms = 0, inference_ms = 0;
};

class FieldPass {
public:
  // `weights` holds the exported network (FP16 where `fp16`), `target` the picture as R·R RGB
  // floats; both stay the caller's.
  FieldPass(HostDevice& host, uint32_t resolution, bool fp16, const HostBuffer& weights, const HostBuffer& target);
  ~FieldPass();
  FieldPass(const FieldPass&) = delete;
  FieldPass& operator=(const FieldPass&) = delete;

  // Records the frame into its own command buffer (the previous frame must have completed).
  VkCommandBuffer record();
  // After the frame's submission completed: the network's square as RGB in [0, 1], and times.
  std::vector<float> network_pixels() const;
  FrameTimes times() const;

private:
  HostDevice& host_;
  uint32_t res_;
  VkImage image_ = VK_NULL_HANDLE;
  VkDeviceMemory image_memory_ = VK_NULL_HANDLE;
  VkImageView view_ = VK_NULL_HANDLE;
  HostBuffer readback_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  TimedCommands commands_;  // timestamps: start, picture drawn, network drawn, copied
};
