// SPDX-License-Identifier: MIT
// Run-time kernels launched on a GPU (skips without one): results checked against the host.

#include <gtest/gtest.h>

#include <cmath>

#include <random>
#include <vector>

#include "gpu_test.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/parallel/rtc.hpp"

namespace {

using hetex_test::GpuTest;
namespace rtc = hetex::rtc;

constexpr const char* kSaxpy = R"(
extern "C" __global__ void saxpy(const float* x, float* y, float a, unsigned long n) {
  unsigned long i = blockIdx.x * (unsigned long)blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
)";

TEST_F(GpuTest, RtcKernelRunsAndMatchesTheHost) {
  auto k = rtc::compile<hetex::ReadView<float>, hetex::ReadWriteView<float>, float, std::size_t>(kSaxpy, "saxpy",
                                                                                                 {.device = gpu});
  ASSERT_TRUE(k) << k.error().describe();
  const std::size_t n = 1000003;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-10, 10);
  std::vector<float> x(n), y(n);
  for (auto& v : x) v = d(rng);
  for (auto& v : y) v = d(rng);
  auto dx = hetex::DeviceBuffer<float>::allocate(gpu, n).value();
  auto dy = hetex::DeviceBuffer<float>::allocate(gpu, n).value();
  ASSERT_TRUE(hetex::upload(s(), std::span<const float>(x), dx.write()).wait());
  ASSERT_TRUE(hetex::upload(s(), std::span<const float>(y), dy.write()).wait());
  const std::uint32_t blocks = static_cast<std::uint32_t>((n + 255) / 256);
  auto done = k->launch(s(), {.grid = {blocks}, .block = {256}}, dx.read(), dy.view(), 3.0f, n);
  ASSERT_TRUE(done.get()) << "launch";
  auto out = hetex::download(s(), dy.read()).get().value();
  // NVRTC contracts a * x + y into one fused multiply-add (one rounding), as nvcc does; the host
  // computes the same with std::fma.
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], std::fma(3.0f, x[i], y[i])) << "i = " << i;
}

TEST_F(GpuTest, RtcLaunchRefusesHostMemoryAndBadShapes) {
  auto k = rtc::compile<hetex::ReadView<float>, hetex::ReadWriteView<float>, float, std::size_t>(kSaxpy, "saxpy",
                                                                                                 {.device = gpu});
  ASSERT_TRUE(k) << k.error().describe();
  std::vector<float> host(16);
  auto dy = hetex::DeviceBuffer<float>::allocate(gpu, 16).value();
  auto r = k->launch(s(), {.grid = {1}, .block = {16}}, hetex::ReadView<float>(std::span<const float>(host)), dy.view(),
                     1.0f, std::size_t(16))
               .get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), hetex::Errc::invalid_argument);
  // 4096 threads per block is more than any GPU allows: a launch error, as a value.
  auto dx = hetex::DeviceBuffer<float>::allocate(gpu, 16).value();
  auto bad = k->launch(s(), {.grid = {1}, .block = {4096}}, dx.read(), dy.view(), 1.0f, std::size_t(16)).get();
  ASSERT_FALSE(bad);
}

}  // namespace
