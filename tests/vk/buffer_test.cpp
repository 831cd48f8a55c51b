// Buffers: round trips through staging, range checks, NaN fill, errors.
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/buffer.hpp"

#include <cmath>
#include <cstring>
#include <numeric>

namespace vkgrad::test {
namespace {

using BufferTest = VkTest;

TEST_F(BufferTest, UploadDownloadRoundTripAtAnOffset) {
  vk::Context& ctx = context();
  vk::Buffer buf(ctx, {.size = 4096, .name = "round trip"});
  std::vector<uint32_t> in(256);
  std::iota(in.begin(), in.end(), 7u);
  vk::upload(ctx, buf, std::span<const uint32_t>(in), 1024);
  std::vector<uint32_t> out(256);
  vk::download(ctx, buf, std::span<uint32_t>(out), 1024);
  EXPECT_EQ(in, out);
}

TEST_F(BufferTest, FillNanMakesUnwrittenMemoryVisible) {
  vk::Context& ctx = context();
  vk::Buffer buf(ctx, {.size = 64, .fill_nan = true});
  std::vector<uint32_t> out(16);
  vk::download(ctx, buf, std::span<uint32_t>(out));
  for (uint32_t w : out) EXPECT_EQ(w, 0xFFFFFFFFu);
  float f;
  std::memcpy(&f, out.data(), 4);
  EXPECT_TRUE(std::isnan(f));
}

TEST_F(BufferTest, SizeRoundsUpToWords) {
  vk::Buffer buf(context(), {.size = 5});
  EXPECT_EQ(buf.size(), 8u);
}

TEST_F(BufferTest, BadRequestsThrow) {
  vk::Context& ctx = context();
  EXPECT_THROW(vk::Buffer(ctx, {.size = 0, .name = "empty"}), Error);
  vk::Buffer buf(ctx, {.size = 64});
  EXPECT_THROW(buf.range(32, 64), Error);
  EXPECT_THROW((void)buf.mapped(), Error);  // device-local memory is not mappable here
  std::vector<uint32_t> big(32);
  EXPECT_THROW(vk::upload(ctx, buf, std::span<const uint32_t>(big)), Error);
}

TEST_F(BufferTest, MovedFromBufferIsEmpty) {
  vk::Buffer a(context(), {.size = 64});
  const VkBuffer handle = a.handle();
  vk::Buffer b(std::move(a));
  EXPECT_EQ(b.handle(), handle);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

}  // namespace
}  // namespace vkgrad::test
