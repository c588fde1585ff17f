// SPDX-License-Identifier: MIT
// What the Vulkan backend adds to the backend contract (tests/backends): its errors' fault
// classes, on a logical device of its own (a loss retires only that one), and pointers into its
// allocations resolving to their buffers.
#include <gtest/gtest.h>

#include "hetex/core/runtime.hpp"
#include "vk_test.hpp"
#include "vulkan/backend.hpp"

namespace {

using hetex::Errc;
using hetex::MemoryKind;
using hetex::detail::FaultClass;

// A fresh GpuDevice for the suite's physical device, opened now.
std::shared_ptr<hetex::vulkan::GpuDevice> fresh_device() {
  auto& s = vk_test::shared();
  auto gpu = std::make_shared<hetex::vulkan::GpuDevice>(s.instance, s.device->info(), "");
  EXPECT_TRUE(gpu->open());
  return gpu;
}

TEST(VulkanBackend, OutOfMemoryIsTooBigAndADeviceLossRetiresTheDevice) {
  HETEX_REQUIRE_VULKAN();
  auto gpu = fresh_device();
  auto huge = gpu->allocate(MemoryKind::device, std::size_t(1) << 50);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), Errc::out_of_memory);
  EXPECT_EQ(gpu->classify(huge.error()), FaultClass::too_big);
  auto mapped = gpu->allocate(MemoryKind::mapped, 64);
  ASSERT_FALSE(mapped);
  EXPECT_EQ(mapped.error().code(), Errc::invalid_argument);
  EXPECT_NE(mapped.error().message().find("mapped"), std::string::npos);

  auto kept = gpu->allocate(MemoryKind::pinned, 4096);
  ASSERT_TRUE(kept);
  EXPECT_EQ(gpu->generation(), 0u);
  // What a VK_ERROR_DEVICE_LOST from any call does:
  const hetex::Error lost = (*gpu->open())->fail(VK_ERROR_DEVICE_LOST, "vkQueueSubmit");
  EXPECT_EQ(lost.code(), Errc::device_lost);
  EXPECT_FALSE(gpu->healthy());
  EXPECT_EQ(gpu->classify(lost), FaultClass::device_retired);
  EXPECT_EQ(gpu->generation(), 1u);
  auto after = gpu->allocate(MemoryKind::device, 64);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code(), Errc::device_lost);
  EXPECT_FALSE(gpu->create_stream());
  static_cast<std::uint8_t*>(*kept)[4095] = 1;  // pinned memory stays host memory
  gpu->deallocate(MemoryKind::pinned, *kept, 4096, 0);
  gpu.reset();
  vk_test::expect_no_validation_messages();
}

TEST(VulkanBackend, PointersInsideAnAllocationResolveToItsBuffer) {
  HETEX_REQUIRE_VULKAN();
  auto gpu = fresh_device();
  void* d = gpu->allocate(MemoryKind::device, 1000).value();
  void* p = gpu->allocate(MemoryKind::pinned, 1000).value();
  const auto at = gpu->resolve(static_cast<char*>(d) + 999);
  ASSERT_TRUE(at.buffer);
  EXPECT_EQ(at.offset, 999u);
  EXPECT_EQ(at.room, 1u);
  EXPECT_FALSE(gpu->resolve(static_cast<char*>(d) + 1000).buffer);
  EXPECT_FALSE(gpu->is_pinned(d));
  EXPECT_TRUE(gpu->is_pinned(static_cast<char*>(p) + 10));
  int host = 0;
  EXPECT_FALSE(gpu->resolve(&host).buffer);
  EXPECT_FALSE(gpu->is_pinned(&host));
  auto s = gpu->create_stream().value();
  auto past = s->copy(d, &host, 1001);  // more than the allocation holds
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code(), Errc::invalid_argument);
  ASSERT_TRUE(s->synchronize());
  gpu->deallocate(MemoryKind::device, d, 1000, 0);
  gpu->deallocate(MemoryKind::pinned, p, 1000, 0);
  EXPECT_FALSE(gpu->resolve(d).buffer);
  s.reset();
  gpu.reset();
  vk_test::expect_no_validation_messages();
}

// A stream's copies in every direction the interface allows, under the validation layer:
// pageable and pinned host memory, device memory, sub-ranges, unaligned fills, and many small
// copies (their staging buffers are reused).
TEST(VulkanBackend, StreamCopiesEveryWayInOrderWithoutValidationMessages) {
  HETEX_REQUIRE_VULKAN();
  auto gpu = fresh_device();
  auto s = gpu->create_stream().value();
  const std::size_t n = 70001;
  std::vector<std::uint8_t> src(n), back(n, 0);
  for (std::size_t i = 0; i < n; ++i) src[i] = static_cast<std::uint8_t>(i * 7 + 3);
  void* d = gpu->allocate(MemoryKind::device, n).value();
  void* d2 = gpu->allocate(MemoryKind::device, n).value();
  auto* p = static_cast<std::uint8_t*>(gpu->allocate(MemoryKind::pinned, n).value());
  ASSERT_TRUE(s->copy(d, src.data(), n));                                              // pageable -> device
  ASSERT_TRUE(s->copy(static_cast<char*>(d2) + 1, static_cast<char*>(d) + 1, n - 2));  // device -> device
  ASSERT_TRUE(s->fill_zero(static_cast<char*>(d2) + 5, 3));                            // unaligned
  ASSERT_TRUE(s->copy(p, d2, n));                                                      // device -> pinned
  ASSERT_TRUE(s->copy(back.data(), p, n));                                             // pinned -> pageable
  ASSERT_TRUE(s->synchronize());
  std::vector<std::uint8_t> want = src;
  want[0] = 0;  // d2's first and last bytes were never written: not compared
  for (std::size_t i = 5; i < 8; ++i) want[i] = 0;
  EXPECT_TRUE(std::equal(want.begin() + 1, want.end() - 1, back.begin() + 1));
  for (int round = 0; round < 50; ++round) {
    const std::uint8_t v = static_cast<std::uint8_t>(round);
    std::vector<std::uint8_t> small(100 + round, v), out(small.size(), 0);
    ASSERT_TRUE(s->copy(d, small.data(), small.size()));
    ASSERT_TRUE(s->copy(out.data(), d, out.size()));
    ASSERT_EQ(out, small) << round;
  }
  ASSERT_TRUE(s->synchronize());
  gpu->deallocate(MemoryKind::device, d, n, 0);
  gpu->deallocate(MemoryKind::device, d2, n, 0);
  gpu->deallocate(MemoryKind::pinned, p, n, 0);
  s.reset();
  gpu.reset();
  vk_test::expect_no_validation_messages();
}

}  // namespace
