// SPDX-License-Identifier: MIT
// map -> filter -> sum/count/min/max on Vulkan against hetex::pipeline on the CPU: the built-in
// stages and run-time compiled ones, float, int and uint elements, odd sizes over several chunks,
// nothing surviving, NaNs, device-resident data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "hetex/parallel/pipeline.hpp"
#include "vk_test.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"

namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = d(rng);
    while (x == 0.0f);
  }
  return v;
}

template <class T>
std::vector<T> random_ints(std::size_t n, std::uint32_t seed, T lo, T hi) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<T> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) {
    do x = d(rng);
    while (x == 0);
  }
  return v;
}

}  // namespace

TEST_F(VulkanTest, FloatSquareBelowAQuarterMatchesThePipeline) {
  // The benchmark's workload (a built-in kernel), in three chunks of at most 16 MiB.
  const std::size_t n = (std::size_t(9) << 20) + 5;
  const auto v = random_floats(n, 1);
  auto got = vk::reduce<float>(device(), vk::square_below_quarter(), v);
  ASSERT_TRUE(got) << got.error().describe();
  auto cpu = [&] {
    return hetex::pipeline(v).map([](float x) { return x * x; }).filter([](float y) { return y < 0.25f; });
  };
  EXPECT_EQ(got->count, cpu().count().value());
  EXPECT_EQ(got->min, cpu().min().value());
  EXPECT_EQ(got->max, cpu().max().value());
  // Sums in different orders differ by rounding: against a double-precision sum.
  double ref = 0;
  for (float x : v)
    if (x * x < 0.25f) ref += double(x * x);
  EXPECT_NEAR(got->sum, ref, 1e-5 * ref);
  EXPECT_NEAR(got->sum, cpu().sum().value(), 1e-5 * ref);
}

TEST_F(VulkanTest, IntegerReductionsAreExact) {
  const auto iv = random_ints<std::int32_t>(1'000'003, 2, -1000, 1000);
  auto gi = vk::reduce<std::int32_t>(device(), {}, iv);
  ASSERT_TRUE(gi) << gi.error().describe();
  EXPECT_EQ(gi->sum, hetex::pipeline(iv).sum().value());
  EXPECT_EQ(gi->count, iv.size());
  EXPECT_EQ(gi->min, hetex::pipeline(iv).min().value());
  EXPECT_EQ(gi->max, hetex::pipeline(iv).max().value());

  const auto uv = random_ints<std::uint32_t>(777'777, 3, 1, 4000);
  // Run-time stages: 3x + 1 of the odd ones.
  const vk::ReduceSpec spec{"3u * x + 1u", "(y & 2u) == 0u"};
  auto gu = vk::reduce<std::uint32_t>(device(), spec, uv);
  ASSERT_TRUE(gu) << gu.error().describe();
  auto cpu = [&] {
    return hetex::pipeline(uv).map([](std::uint32_t x) { return 3u * x + 1u; }).filter([](std::uint32_t y) {
      return (y & 2u) == 0u;
    });
  };
  EXPECT_EQ(gu->sum, cpu().sum().value());
  EXPECT_EQ(gu->count, cpu().count().value());
  EXPECT_EQ(gu->min, cpu().min().value());
  EXPECT_EQ(gu->max, cpu().max().value());
}

TEST_F(VulkanTest, RunTimeFloatStagesMatchThePipeline) {
  const auto v = random_floats(300'001, 4);
  const vk::ReduceSpec spec{"abs(x) * 2.0 - 0.5", "y > 0.0 && y < 1.25"};
  auto got = vk::reduce<float>(device(), spec, v);
  ASSERT_TRUE(got) << got.error().describe();
  auto cpu = [&] {
    return hetex::pipeline(v).map([](float x) { return std::fabs(x) * 2.0f - 0.5f; }).filter([](float y) {
      return y > 0.0f && y < 1.25f;
    });
  };
  EXPECT_EQ(got->count, cpu().count().value());
  EXPECT_EQ(got->min, cpu().min().value());
  EXPECT_EQ(got->max, cpu().max().value());
  EXPECT_NEAR(got->sum, cpu().sum().value(), 1e-4 * std::fabs(cpu().sum().value()));
}

TEST_F(VulkanTest, NothingSurvivingHasNoMinOrMax) {
  const auto v = random_floats(10'001, 5);
  auto got = vk::reduce<float>(device(), {"x", "y > 2.0"}, v);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->count, 0u);
  EXPECT_EQ(got->sum, 0.0f);
  EXPECT_FALSE(got->min);
  EXPECT_FALSE(got->max);
  auto empty = vk::reduce<float>(device(), {}, std::span<const float>());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->count, 0u);
}

TEST_F(VulkanTest, ASurvivingNanMakesEverythingNan) {
  auto v = random_floats(4'099, 6);
  v[1234] = std::numeric_limits<float>::quiet_NaN();
  auto got = vk::reduce<float>(device(), {}, v);
  ASSERT_TRUE(got) << got.error().describe();
  EXPECT_EQ(got->count, v.size());
  EXPECT_TRUE(std::isnan(got->sum));
  EXPECT_TRUE(std::isnan(*got->min));
  EXPECT_TRUE(std::isnan(*got->max));
  EXPECT_TRUE(std::isnan(*hetex::pipeline(v).min().value()));
}

TEST_F(VulkanTest, DeviceResidentReductionMatches) {
  const std::size_t n = 123'457;
  const auto v = random_ints<std::int32_t>(n, 7, -50, 50);
  auto stage = vk::Buffer::create(dev, n * 4, vk::MemoryUse::upload).value();
  std::memcpy(stage.host().data(), v.data(), n * 4);
  auto data = vk::Buffer::create(dev, n * 4, vk::MemoryUse::device).value();
  auto up = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  up.copy(stage, 0, data, 0, n * 4);
  up.barrier(vk::Access::transfer, vk::Access::compute);
  ASSERT_TRUE(device().wait(up.submit().value()));
  auto got = vk::reduce_resident<std::int32_t>(device(), {"x * x", "y > 100"}, data, n);
  ASSERT_TRUE(got) << got.error().describe();
  auto cpu = [&] { return hetex::pipeline(v).map([](int x) { return x * x; }).filter([](int y) { return y > 100; }); };
  EXPECT_EQ(got->sum, cpu().sum().value());
  EXPECT_EQ(got->count, cpu().count().value());
  EXPECT_EQ(got->min, cpu().min().value());
  EXPECT_EQ(got->max, cpu().max().value());
}

TEST_F(VulkanTest, AMistakeInAStageIsACompileErrorWithItsLine) {
  const std::vector<float> v(100, 1.0f);
  auto got = vk::reduce<float>(device(), {"x * undefined_thing", "true"}, v);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), hetex::Errc::compile_error);
  EXPECT_NE(got.error().message().find("map:1"), std::string::npos) << got.error().message();
  EXPECT_NE(got.error().message().find("undefined_thing"), std::string::npos) << got.error().message();
  auto bad_filter = vk::reduce<float>(device(), {"x", "y <"}, v);
  ASSERT_FALSE(bad_filter);
  EXPECT_EQ(bad_filter.error().code(), hetex::Errc::compile_error);
  EXPECT_NE(bad_filter.error().message().find("filter:"), std::string::npos) << bad_filter.error().message();
}
