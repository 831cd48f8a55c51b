// vkgrad::kernels::Axpy — y = a·x + y (shaders/axpy.comp), fp32 arithmetic over any storage.
//
// Holds its pipeline (owned by the Context's registry); no state beyond that. Recording is
// const, so one Axpy may serve many recorders, one thread at a time.
#pragma once

#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstdint>

namespace vkgrad::vk {
class Context;
}

namespace vkgrad::kernels {

// Mirrors shaders/axpy.comp's push constants.
struct AxpyArgs {
  uint32_t n;
  float a;
};
static_assert(sizeof(AxpyArgs) <= 128);

class Axpy {
public:
  Axpy(vk::Context& ctx, Storage storage);
  Storage storage() const { return storage_; }
  // x and y hold n elements each in this kernel's storage.
  void record(vk::Recorder& rec, const vk::BufferRange& x, const vk::BufferRange& y, uint32_t n, float a) const;

private:
  Storage storage_;
  const vk::Pipeline* pipeline_;
};

}  // namespace vkgrad::kernels
