// A host command buffer of embed_renderer's (one queue family) with a pool of GPU timestamps:
// begin() resets both and writes timestamp 0, stamp(i) writes timestamp i, ms(a, b) reads the
// time between two once the submission has completed. Owns its command pool and query pool;
// one thread at a time.
#pragma once

#include "host_device.hpp"

class TimedCommands {
public:
  TimedCommands(HostDevice& host, uint32_t family, uint32_t timestamps);
  ~TimedCommands();
  TimedCommands(const TimedCommands&) = delete;
  TimedCommands& operator=(const TimedCommands&) = delete;

  // The previous submission must have completed.
  void begin();
  void stamp(uint32_t index);
  void end();
  double ms(uint32_t from, uint32_t to) const;

  VkCommandBuffer cmd = VK_NULL_HANDLE;

private:
  HostDevice& host_;
  uint32_t timestamps_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkQueryPool queries_ = VK_NULL_HANDLE;
};
