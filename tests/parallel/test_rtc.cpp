// SPDX-License-Identifier: MIT
// Run-time compilation: NVRTC needs no GPU, so compiling, its errors and the caches are tested
// everywhere the CUDA backend is built. Launches are tested in tests/gpu/test_rtc_gpu.cpp.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "hetex/parallel/rtc.hpp"

namespace {

namespace rtc = hetex::rtc;

constexpr const char* kScale = R"(
extern "C" __global__ void scale(const float* x, float* y, float a, unsigned long n) {
  unsigned long i = blockIdx.x * (unsigned long)blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i];
}
)";

using ScaleKernel = rtc::Kernel<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>;

// A cache directory of this test's own, so runs never see each other's files.
class Rtc : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("hetex-rtc-test-" + std::to_string(rd()));
    options_.cache_dir = dir_;
    options_.arch = "sm_90";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // A source no earlier test compiled, so the first compile really runs NVRTC.
  std::string unique_source() { return std::string(kScale) + "// " + dir_.string() + "\n"; }
  std::filesystem::path dir_;
  rtc::Options options_;
};

#if defined(HETEX_WITH_CUDA)

TEST_F(Rtc, CompilesAndCachesInMemoryThenOnDisk) {
  const auto src = unique_source();
  const auto before = rtc::cache_stats();
  auto k = rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale", options_);
  ASSERT_TRUE(k) << k.error().describe();
  EXPECT_EQ(k->lowered_name(), "scale");
  EXPECT_EQ(rtc::cache_stats().compiles, before.compiles + 1);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator{}), 1);

  auto again =
      rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale", options_);
  ASSERT_TRUE(again);
  EXPECT_EQ(rtc::cache_stats().memory_hits, before.memory_hits + 1);
  EXPECT_EQ(rtc::cache_stats().compiles, before.compiles + 1);

  rtc::clear_memory_cache();
  auto from_disk =
      rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale", options_);
  ASSERT_TRUE(from_disk) << from_disk.error().describe();
  EXPECT_EQ(rtc::cache_stats().disk_hits, before.disk_hits + 1);
  EXPECT_EQ(rtc::cache_stats().compiles, before.compiles + 1);

  // Other options or another architecture are other kernels.
  auto other = options_;
  other.flags = {"-DUNUSED=1"};
  ASSERT_TRUE((rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale", other)));
  other.arch = "sm_80";
  ASSERT_TRUE((rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale", other)));
  EXPECT_EQ(rtc::cache_stats().compiles, before.compiles + 3);
}

TEST_F(Rtc, CompileErrorsCarryTheLogWithLineNumbers) {
  const std::string bad = "extern \"C\" __global__ void broken(float* y) {\n  y[0] = undefined_name;\n}\n";
  auto k = rtc::compile<hetex::WriteView<float>>(bad, "broken", options_);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), hetex::Errc::compile_error);
  EXPECT_NE(k.error().message().find("kernel.cu(2)"), std::string::npos) << k.error().message();
  EXPECT_NE(k.error().message().find("undefined_name"), std::string::npos) << k.error().message();
  // Errors are not cached: the same source fails again the same way.
  auto k2 = rtc::compile<hetex::WriteView<float>>(bad, "broken", options_);
  ASSERT_FALSE(k2);
  EXPECT_EQ(k2.error().code(), hetex::Errc::compile_error);
}

TEST_F(Rtc, LaunchParametersAreCheckedAgainstTheKernel) {
  // The kernel writes through its first parameter, but the handle says it only reads it.
  auto k = rtc::compile<hetex::ReadView<float>, hetex::ReadView<float>, float, std::size_t>(unique_source(), "scale",
                                                                                            options_);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), hetex::Errc::compile_error);
  EXPECT_NE(k.error().message().find("does not take the parameters"), std::string::npos) << k.error().message();
  // One parameter too few.
  auto k2 = rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float>(unique_source(), "scale", options_);
  ASSERT_FALSE(k2);
  EXPECT_EQ(k2.error().code(), hetex::Errc::compile_error);
}

TEST_F(Rtc, MissingEntryAndBadOptions) {
  auto k = rtc::compile<hetex::WriteView<float>>(unique_source(), "no_such_kernel", options_);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), hetex::Errc::compile_error);
  auto bad_arch = options_;
  bad_arch.arch = "ninety";
  EXPECT_EQ((rtc::compile<hetex::WriteView<float>>(unique_source(), "scale", bad_arch).error().code()),
            hetex::Errc::invalid_argument);
  EXPECT_EQ((rtc::compile<hetex::WriteView<float>>(unique_source(), "", options_).error().code()),
            hetex::Errc::invalid_argument);
}

TEST_F(Rtc, TemplatedEntryByNameExpression) {
  const std::string src = "template <class T> __global__ void fill(T* y, T v) { y[threadIdx.x] = v; }\n";
  auto k = rtc::compile<hetex::WriteView<double>, double>(src, "fill<double>", options_);
  ASSERT_TRUE(k) << k.error().describe();
  EXPECT_NE(k->lowered_name().find("fill"), std::string::npos);
  EXPECT_NE(k->lowered_name(), "fill<double>");  // the mangled name the loader needs
}

#else

TEST_F(Rtc, UnavailableWithoutCuda) {
  auto k = rtc::compile<hetex::WriteView<float>>(kScale, "scale", options_);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), hetex::Errc::unavailable);
}

#endif

}  // namespace
