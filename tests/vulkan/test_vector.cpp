// SPDX-License-Identifier: MIT
// Vector add and multiply on Vulkan against the CPU implementation, bit for bit: odd sizes,
// batches of several chunks, device-resident buffers, and bad arguments.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "vk_test.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"

using hetex::Errc;
using hetex::ops::VectorKind;
namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

// Never zero, never denormal: magnitudes in [1e-3, 1e3], both signs.
std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mag(1e-3f, 1e3f);
  std::vector<float> v(n);
  for (auto& x : v) x = (rng() & 1 ? 1.0f : -1.0f) * mag(rng);
  return v;
}

class VulkanVector : public vk_test::VulkanTest, public ::testing::WithParamInterface<VectorKind> {};

}  // namespace

TEST_P(VulkanVector, HostToHostMatchesTheCpuBitForBit) {
  for (std::size_t n :
       {std::size_t(1), std::size_t(3), std::size_t(1001), std::size_t(65'537), (std::size_t(1) << 22) + 7}) {
    const auto x = random_floats(n, 1 + n), y = random_floats(n, 2 + n);
    std::vector<float> want(n), got(n, -0.0f);
    ASSERT_TRUE(hetex::ops::vector_cpu(GetParam(), {x, y}, want));
    auto st = vk::vector(device(), GetParam(), {x, y}, got);
    ASSERT_TRUE(st) << st.error().describe();
    ASSERT_EQ(std::memcmp(want.data(), got.data(), n * 4), 0) << n << " items";
  }
}

TEST_P(VulkanVector, DeviceResidentMatchesTheCpu) {
  const std::size_t n = 12'345;
  const auto x = random_floats(n, 7), y = random_floats(n, 8);
  std::vector<float> want(n);
  ASSERT_TRUE(hetex::ops::vector_cpu(GetParam(), {x, y}, want));
  auto stage = vk::Buffer::create(dev, 2 * n * 4, vk::MemoryUse::upload).value();
  std::memcpy(stage.host().data(), x.data(), n * 4);
  std::memcpy(stage.host().data() + n * 4, y.data(), n * 4);
  auto dx = vk::Buffer::create(dev, n * 4, vk::MemoryUse::device).value();
  auto dy = vk::Buffer::create(dev, n * 4, vk::MemoryUse::device).value();
  auto dout = vk::Buffer::create(dev, n * 4, vk::MemoryUse::device).value();
  auto back = vk::Buffer::create(dev, n * 4, vk::MemoryUse::readback).value();
  auto up = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  up.copy(stage, 0, dx, 0, n * 4);
  up.copy(stage, n * 4, dy, 0, n * 4);
  up.barrier(vk::Access::transfer, vk::Access::compute);
  const auto uploaded = up.submit().value();
  ASSERT_TRUE(device().wait(uploaded));
  auto computed = vk::vector_resident(device(), GetParam(), dx, dy, dout, n);
  ASSERT_TRUE(computed) << computed.error().describe();
  auto down = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  down.barrier(vk::Access::compute, vk::Access::transfer);
  down.copy(dout, 0, back, 0, n * 4);
  down.barrier(vk::Access::transfer, vk::Access::host);
  const auto done = down.submit({&*computed, 1}).value();
  ASSERT_TRUE(device().wait(done));
  EXPECT_EQ(std::memcmp(want.data(), back.host().data(), n * 4), 0);
}

INSTANTIATE_TEST_SUITE_P(Kinds, VulkanVector, ::testing::Values(VectorKind::add, VectorKind::mul),
                         [](const auto& info) { return info.param == VectorKind::add ? "add" : "mul"; });

TEST_F(VulkanTest, VectorRejectsMismatchedLengths) {
  std::vector<float> x(10, 1.0f), y(9, 1.0f), out(10);
  auto st = vk::vector(device(), VectorKind::add, {x, y}, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  auto dx = vk::Buffer::create(dev, 16, vk::MemoryUse::device).value();
  auto r = vk::vector_resident(device(), VectorKind::add, dx, dx, dx, 100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}
