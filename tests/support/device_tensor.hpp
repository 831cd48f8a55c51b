// Device tensors for kernel tests: each buffer holds its data, then kTail sentinel bytes that
// no kernel may write, checked on every read-back; outputs start as NaN so that reading one
// before writing it shows. Also run(), which records through a Recorder and submits, and the
// output-rounding terms the tolerances are built from.
//
// Buffers borrow the Context, which must outlive them. One thread at a time, as GoogleTest runs.
#pragma once

#include "vkgrad/kernels/tensor_ref.hpp"
#include "vkgrad/vk/buffer.hpp"
#include "vkgrad/vk/context.hpp"
#include "vkgrad/vk/recorder.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace vkgrad::test {

constexpr size_t kTail = 16;      // sentinel bytes after every tensor
constexpr double kEps = 0x1p-24;  // fp32 unit round-off

// A device buffer: `used` bytes of data, then kTail sentinel bytes nobody may write.
struct DeviceBytes {
  vk::Buffer buffer;
  std::vector<std::byte> image;  // the buffer's bytes as uploaded (0xFF where no data was given)
  size_t used = 0;
  vk::BufferRange range() const;  // the data, rounded up to whole 32-bit words
};

// `bytes` on the device (labels, parameter blocks: data kernels read but never write).
DeviceBytes upload_bytes(vk::Context& ctx, std::span<const std::byte> bytes, const char* name);

// n elements of `type` in a DeviceBytes.
struct DeviceTensor {
  DeviceBytes bytes;
  kernels::ElemType type = kernels::ElemType::F32;
  size_t n = 0;
  kernels::TensorRef ref() const { return {bytes.range(), type}; }
  vk::BufferRange range() const { return bytes.range(); }
};

// `values` (already rounded to `type`), or, when empty, a fill_nan buffer: NaN in both types.
DeviceTensor make_tensor(vk::Context& ctx, std::span<const double> values, size_t n, kernels::ElemType type,
                         const char* name);

// Downloads the elements; a test expectation fails if any byte after them is not as uploaded
// (the unused half of an odd fp16 tensor's last word included).
std::vector<double> read_back(vk::Context& ctx, const DeviceTensor& t);

// Records with `record` through one Recorder, submits and waits.
void run(vk::Context& ctx, const std::function<void(vk::Recorder&)>& record);

// Relative error of rounding a result to `t`: 2^-11 for fp16, 2^-24 for fp32.
double u_out(kernels::ElemType t);
// Its smallest step: 2^-24 for fp16 subnormals, 2^-126 for fp32, whose denormals a device may flush.
double tiny(kernels::ElemType t);

}  // namespace vkgrad::test
