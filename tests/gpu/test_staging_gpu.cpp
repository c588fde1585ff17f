// SPDX-License-Identifier: MIT
// The staging pipeline's cases (tests/async/staging_cases.hpp) on CUDA: the same tests the fake
// GPU runs everywhere, with a real kernel, real DMA and a real launch failure. The device-lost
// case retires the GPU, so it runs in test_gpu_fault (a process of its own).
#include <gtest/gtest.h>

#include "async/staging_cases.hpp"
#include "gpu/gpu_test.hpp"
#include "gpu/kernels.hpp"

using namespace hetex;

namespace {

class StagingOnCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    HETEX_REQUIRE_GPU();
    b.gpu = hetex_test::gpu_runtime().gpus().front();
    for (int i = 0; i < 3; ++i) {
      auto s = Stream::create(b.gpu);
      ASSERT_TRUE(s) << s.error().describe();
      b.streams.push_back(std::move(*s));
    }
    b.xor_bytes = hetex_test::xor_bytes;
    b.bad_launch = hetex_test::bad_launch;
  }
  staging_cases::Backend b;
};

}  // namespace

TEST_F(StagingOnCuda, ChunksLandOnceInOrderWithTheirOwnData) { staging_cases::ordering(b); }
TEST_F(StagingOnCuda, FailingLaunchInTheMiddle) { staging_cases::failing_launch_in_the_middle(b); }
TEST_F(StagingOnCuda, FailingPackInTheMiddle) { staging_cases::failing_pack_in_the_middle(b); }
TEST_F(StagingOnCuda, ZeroLengthAndOddTails) { staging_cases::zero_length_and_odd_tails(b); }
TEST_F(StagingOnCuda, DetachCoversEveryStream) { staging_cases::detach_covers_every_stream(b); }
