#include "device_tensor.hpp"

#include "numerics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace vkgrad::test {
namespace {

size_t whole_words(size_t bytes) { return (bytes + 3) / 4 * 4; }

// `used` bytes, the first bytes.size() of them from `bytes`; with `bytes` empty, a fill_nan buffer.
DeviceBytes upload(vk::Context& ctx, std::span<const std::byte> bytes, size_t used, const char* name) {
  const size_t size = whole_words(used) + kTail;
  DeviceBytes d{vk::Buffer(ctx, {.size = size, .name = name, .fill_nan = bytes.empty()}), {}, used};
  d.image.assign(d.buffer.size(), std::byte{0xFF});
  if (bytes.empty()) return d;
  std::memcpy(d.image.data(), bytes.data(), bytes.size());
  vk::upload(ctx, d.buffer, d.image.data(), d.image.size());
  return d;
}

}  // namespace

vk::BufferRange DeviceBytes::range() const { return buffer.range(0, whole_words(used)); }

DeviceBytes upload_bytes(vk::Context& ctx, std::span<const std::byte> bytes, const char* name) {
  return upload(ctx, bytes, bytes.size(), name);
}

DeviceTensor make_tensor(vk::Context& ctx, std::span<const double> values, size_t n, kernels::ElemType type,
                         const char* name) {
  const auto bytes = values.empty() ? std::vector<std::byte>() : encode(type, values);
  return {upload(ctx, bytes, n * kernels::elem_bytes(type), name), type, n};
}

std::vector<double> read_back(vk::Context& ctx, const DeviceTensor& t) {
  const DeviceBytes& d = t.bytes;
  std::vector<std::byte> bytes(d.image.size());
  vk::download(ctx, d.buffer, bytes.data(), bytes.size());
  EXPECT_EQ(std::memcmp(bytes.data() + d.used, d.image.data() + d.used, bytes.size() - d.used), 0)
      << "bytes after the " << t.n << "-element tensor were written";
  return decode(t.type, bytes, t.n);
}

void run(vk::Context& ctx, const std::function<void(vk::Recorder&)>& record) {
  ctx.run_now([&](VkCommandBuffer cmd) {
    vk::Recorder rec(ctx, cmd);
    record(rec);
  });
}

double u_out(kernels::ElemType t) {
  return t == kernels::ElemType::F16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -24);
}

double tiny(kernels::ElemType t) {
  return t == kernels::ElemType::F16 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -126);
}

}  // namespace vkgrad::test
