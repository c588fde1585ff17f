// SPDX-License-Identifier: MIT
// The suite's process-wide pieces: the shared device and instance are destroyed when the tests
// end (so the drivers free what they hold), and in the asan build LeakSanitizer is off for this
// binary: lavapipe, the validation layer and LLVM keep allocations for the life of the process,
// and, built without frame pointers, they leave stacks no suppression can match (the slow
// unwinder that could makes the suite take hours). Every Vulkan object hetex makes is checked
// instead by the validation layer (test_lifetime.cpp); AddressSanitizer's other checks stay on.
#include <gtest/gtest.h>

#include "vk_test.hpp"

namespace {

class ReleaseSharedDevice : public ::testing::Environment {
 public:
  void TearDown() override {
    auto& s = vk_test::shared();
    s.device.reset();
    s.instance.reset();
  }
};

const auto* const release = ::testing::AddGlobalTestEnvironment(new ReleaseSharedDevice);

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif
