// SPDX-License-Identifier: MIT
// The device layer: discovery and the default selection, VkResult mapping, buffers and their
// out-of-memory refusals, copies through the queues, timeline gates as hetex futures, and a lost
// device retiring itself.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "vk_test.hpp"
#include "vulkan/error.hpp"
#include "vulkan/memory.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"

using hetex::Errc;
namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

vk::PhysicalDeviceInfo fake(std::uint32_t index, vk::DeviceType type, bool usable = true) {
  vk::PhysicalDeviceInfo i;
  i.index = index;
  i.type = type;
  i.usable = usable;
  return i;
}

}  // namespace

TEST(VulkanSelection, GpusAreUsedAndCpuImplementationsOnlyWhenAlone) {
  using T = vk::DeviceType;
  const std::vector<vk::PhysicalDeviceInfo> mixed = {fake(0, T::cpu), fake(1, T::discrete), fake(2, T::integrated),
                                                     fake(3, T::discrete, false)};
  EXPECT_EQ(vk::default_selection(mixed), (std::vector<std::uint32_t>{1, 2}));
  const std::vector<vk::PhysicalDeviceInfo> only_cpu = {fake(0, T::cpu), fake(1, T::discrete, false)};
  EXPECT_EQ(vk::default_selection(only_cpu), (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(vk::default_selection({}).empty());
}

TEST(VulkanErrors, ResultsMapToHetexCategories) {
  EXPECT_EQ(vk::errc_of(VK_ERROR_OUT_OF_DEVICE_MEMORY), Errc::out_of_memory);
  EXPECT_EQ(vk::errc_of(VK_ERROR_OUT_OF_HOST_MEMORY), Errc::out_of_memory);
  EXPECT_EQ(vk::errc_of(VK_ERROR_OUT_OF_POOL_MEMORY), Errc::out_of_memory);
  EXPECT_EQ(vk::errc_of(VK_ERROR_DEVICE_LOST), Errc::device_lost);
  EXPECT_EQ(vk::errc_of(VK_ERROR_INCOMPATIBLE_DRIVER), Errc::unavailable);
  EXPECT_EQ(vk::errc_of(VK_ERROR_FEATURE_NOT_PRESENT), Errc::unavailable);
  EXPECT_EQ(vk::errc_of(VK_TIMEOUT), Errc::busy);
  EXPECT_EQ(vk::errc_of(VK_ERROR_UNKNOWN), Errc::internal);
  const auto e = vk::vk_error(VK_ERROR_OUT_OF_DEVICE_MEMORY, "vkAllocateMemory");
  EXPECT_EQ(e.code(), Errc::out_of_memory);
  EXPECT_NE(e.message().find("VK_ERROR_OUT_OF_DEVICE_MEMORY"), std::string::npos) << e.message();
  EXPECT_EQ(vk::vk_result_name(static_cast<VkResult>(-12345)), "VkResult(-12345)");
}

TEST_F(VulkanTest, DeviceIsDescribed) {
  const auto& info = device().info();
  EXPECT_TRUE(info.usable);
  EXPECT_FALSE(info.name.empty());
  EXPECT_GT(info.device_local_bytes, 0u);
  EXPECT_GT(info.subgroup_size, 0u);
  EXPECT_GE(info.max_workgroup_invocations, 128u);
  EXPECT_EQ(info.uuid.size(), 32u);
  EXPECT_NE(info.describe().find("vulkan:"), std::string::npos);
  // Mesa's lavapipe is a CPU implementation; hetex must see it as one.
  if (info.name.find("llvmpipe") != std::string::npos) EXPECT_TRUE(info.is_cpu());
}

TEST_F(VulkanTest, BuffersRoundTripThroughDeviceMemory) {
  const std::size_t n = 100'003;  // odd, not a multiple of anything
  auto up = vk::Buffer::create(dev, n, vk::MemoryUse::upload).value();
  auto mid = vk::Buffer::create(dev, n, vk::MemoryUse::device).value();
  auto down = vk::Buffer::create(dev, n, vk::MemoryUse::readback).value();
  EXPECT_EQ(up.size(), n);
  EXPECT_GE(up.capacity(), n);
  EXPECT_TRUE(mid.host().empty());
  std::mt19937 rng(5);
  for (auto& b : up.host()) b = std::uint8_t(rng() | 1);
  auto rec = vk::Recording::begin(device(), vk::QueueRole::upload).value();
  rec.copy(up, 0, mid, 0, n);
  const auto uploaded = rec.submit().value();
  auto back = vk::Recording::begin(device(), vk::QueueRole::download).value();
  back.copy(mid, 0, down, 0, n);
  back.barrier(vk::Access::transfer, vk::Access::host);
  const auto done = back.submit({&uploaded, 1}).value();
  ASSERT_TRUE(device().wait(done));
  ASSERT_TRUE(down.invalidate(0, n));
  EXPECT_EQ(std::memcmp(up.host().data(), down.host().data(), n), 0);
}

TEST_F(VulkanTest, MoreThanTheHeapIsOutOfMemoryNotACrash) {
  const auto& info = device().info();
  auto huge = vk::Buffer::create(dev, info.device_local_bytes + (std::uint64_t(1) << 30), vk::MemoryUse::device);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), Errc::out_of_memory) << huge.error().describe();
  auto absurd = vk::Buffer::create(dev, ~std::uint64_t(0) - 10, vk::MemoryUse::upload);
  ASSERT_FALSE(absurd);
  EXPECT_EQ(absurd.error().code(), Errc::out_of_memory);
  // The device stays usable.
  auto small = vk::Buffer::create(dev, 1024, vk::MemoryUse::device);
  EXPECT_TRUE(small) << small.error().describe();
}

TEST_F(VulkanTest, AllocationsTogetherPastTheHeapAreOutOfMemory) {
  // Half the heap (within one allocation's limit) twice, then once more: the third cannot fit.
  const auto& info = device().info();
  std::uint64_t part = info.device_local_bytes / 2 - (std::uint64_t(1) << 20);
  if (info.max_allocation_bytes) part = std::min(part, info.max_allocation_bytes);
  if (info.device_local_bytes > (std::uint64_t(8) << 30))
    GTEST_SKIP() << "a " << info.device_local_bytes << "-byte heap is too large to fill in a test";
  std::vector<vk::Buffer> held;
  for (int i = 0; i < 2; ++i) {
    auto b = vk::Buffer::create(dev, part, vk::MemoryUse::device);
    if (!b && b.error().code() == Errc::out_of_memory) break;  // the driver ran out first: also the point
    ASSERT_TRUE(b) << b.error().describe();
    held.push_back(std::move(*b));
  }
  auto more = vk::Buffer::create(dev, part, vk::MemoryUse::device);
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code(), Errc::out_of_memory) << more.error().describe();
  held.clear();
  auto again = vk::Buffer::create(dev, part, vk::MemoryUse::device);
  EXPECT_TRUE(again) << "freed memory is usable again: " << again.error().describe();
}

TEST_F(VulkanTest, TimelineGatesBecomeHetexFutures) {
  const std::size_t n = 4096;
  auto up = vk::Buffer::create(dev, n, vk::MemoryUse::upload).value();
  auto down = vk::Buffer::create(dev, n, vk::MemoryUse::readback).value();
  for (std::size_t i = 0; i < n; ++i) up.host()[i] = std::uint8_t(i * 7 + 1);
  auto rec = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  rec.copy(up, 0, down, 0, n);
  rec.barrier(vk::Access::transfer, vk::Access::host);
  auto f = vk::as_future(device(), rec.submit());
  std::atomic<bool> ran{false};
  auto g = std::move(f).then([&] {
    ran = true;
    return 42;
  });
  auto r = g.get();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(std::memcmp(up.host().data(), down.host().data(), n), 0);
}

TEST_F(VulkanTest, ManyWatchedFuturesAllComplete) {
  std::vector<hetex::Future<void>> fs;
  auto buf = vk::Buffer::create(dev, 4096, vk::MemoryUse::device).value();
  for (int i = 0; i < 64; ++i) {
    auto rec = vk::Recording::begin(device(), vk::QueueRole::compute).value();
    rec.fill(buf, 0, 4096, std::uint32_t(i));
    rec.barrier(vk::Access::transfer, vk::Access::transfer);
    fs.push_back(vk::as_future(device(), rec.submit()));
  }
  std::atomic<int> done{0};
  std::vector<hetex::Future<int>> chained;
  for (auto& f : fs) chained.push_back(std::move(f).then([&] { return ++done; }));
  for (auto& c : chained) ASSERT_TRUE(c.get());
  EXPECT_EQ(done.load(), 64);
}

TEST(VulkanDeviceLost, ALostDeviceIsRetired) {
  HETEX_REQUIRE_VULKAN();
  // A device of its own: this one is retired for good.
  auto d = vk::Device::open(vk_test::shared().instance, vk_test::shared().device->info().index).value();
  auto before = vk::Buffer::create(d, 256, vk::MemoryUse::device);
  ASSERT_TRUE(before);
  const auto e = d->fail(VK_ERROR_DEVICE_LOST, "a test's dispatch");
  EXPECT_EQ(e.code(), Errc::device_lost);
  EXPECT_FALSE(d->healthy());
  auto after = vk::Buffer::create(d, 256, vk::MemoryUse::device);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code(), Errc::device_lost);
  EXPECT_NE(after.error().message().find("a test's dispatch"), std::string::npos) << after.error().message();
  auto rec = vk::Recording::begin(*d, vk::QueueRole::compute);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().code(), Errc::device_lost);
  vk_test::expect_no_validation_messages();
}
