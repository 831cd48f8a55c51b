// The device-choice rule on made-up device lists (no GPU needed).
#include "vk/device_list.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/vk/context.hpp"

#include <gtest/gtest.h>

namespace vkgrad::test {
namespace {

const std::vector<vk::DeviceSummary> kDevices = {
    {0, "llvmpipe (LLVM 19.1.7, 256 bits)", VK_PHYSICAL_DEVICE_TYPE_CPU, VK_API_VERSION_1_4},
    {1, "Intel(R) UHD Graphics 770", VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, VK_API_VERSION_1_3},
    {2, "NVIDIA GeForce RTX 4090", VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_API_VERSION_1_3},
};

TEST(DeviceChoice, PrefersDiscreteThenIntegratedThenCpu) {
  EXPECT_EQ(vk::choose_device(kDevices, std::nullopt, ""), 2u);
  EXPECT_EQ(vk::choose_device(std::span(kDevices).first(2), std::nullopt, ""), 1u);
  EXPECT_EQ(vk::choose_device(std::span(kDevices).first(1), std::nullopt, ""), 0u);
}

TEST(DeviceChoice, IndexAndCaseInsensitiveNameWin) {
  EXPECT_EQ(vk::choose_device(kDevices, 0u, ""), 0u);
  EXPECT_EQ(vk::choose_device(kDevices, std::nullopt, "uhd"), 1u);
  EXPECT_EQ(vk::choose_device(kDevices, std::nullopt, "LLVMPIPE"), 0u);
}

TEST(DeviceChoice, BadRequestsNameTheDevices) {
  try {
    vk::choose_device(kDevices, 7u, "");
    FAIL() << "expected vkgrad::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("RTX 4090"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vk::choose_device(kDevices, std::nullopt, "radeon"), Error);
  EXPECT_THROW(vk::choose_device({}, std::nullopt, ""), Error);
}

TEST(DeviceChoice, DuplicateUuidsAreListedOnce) {
  const vk::Uuid a{1}, b{2}, c{3};
  const vk::Uuid uuids[] = {a, b, a, c, b};
  EXPECT_EQ(vk::first_of_each_uuid(uuids), (std::vector<size_t>{0, 1, 3}));
}

TEST(DeviceChoice, ListsDevicesWithTheirIndices) {
  const auto devices = vk::list_devices();
  ASSERT_FALSE(devices.empty());
  for (size_t i = 0; i < devices.size(); ++i) EXPECT_EQ(devices[i].index, i);
}

}  // namespace
}  // namespace vkgrad::test
