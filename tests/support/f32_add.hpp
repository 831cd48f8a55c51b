// y += x over n fp32 elements through kernels::Elementwise (binary add, in place): the dispatch
// that tests of the recorder, the validation harness and adopted devices record when any kernel
// will do. It reads x and y and writes y, so it makes every kind of hazard with two calls.
// Borrows the Context, which must outlive it; recording is one thread at a time.
#pragma once

#include "vkgrad/kernels/elementwise.hpp"

namespace vkgrad::test {

class F32Add {
public:
  explicit F32Add(vk::Context& ctx) : ew_(ctx) {}

  void record(vk::Recorder& rec, const vk::BufferRange& x, const vk::BufferRange& y, uint32_t n) const {
    const kernels::TensorRef tx{x, kernels::ElemType::F32}, ty{y, kernels::ElemType::F32};
    ew_.binary(rec, kernels::BinaryOp::Add, ty, tx, ty, 1, n, false);
  }

  static constexpr const char* kLabel = "ew.binary";  // what the recorder names its dispatches

private:
  kernels::Elementwise ew_;
};

}  // namespace vkgrad::test
