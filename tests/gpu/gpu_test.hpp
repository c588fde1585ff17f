// SPDX-License-Identifier: MIT
#pragma once
// What every GPU test starts from: the process's runtime, a skip with the reason where no GPU
// can run (CI has none), and a fixture holding the first GPU and a stream on it.

#include <gtest/gtest.h>

#include <optional>

#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"

namespace hetex_test {

inline const hetex::Runtime& gpu_runtime() {
  static hetex::Runtime rt = hetex::Runtime::create().value();
  return rt;
}

#define HETEX_REQUIRE_GPU()                   \
  if (!::hetex_test::gpu_runtime().has_gpu()) \
  GTEST_SKIP() << "no usable CUDA GPU: " << ::hetex_test::gpu_runtime().gpu_unavailable_reason()

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HETEX_REQUIRE_GPU();
    gpu = gpu_runtime().gpus().front();
    auto st = hetex::Stream::create(gpu);
    ASSERT_TRUE(st) << st.error().describe();
    stream.emplace(std::move(*st));
  }
  hetex::Stream& s() { return *stream; }
  hetex::Device gpu;
  std::optional<hetex::Stream> stream;
};

}  // namespace hetex_test
