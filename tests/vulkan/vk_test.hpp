// SPDX-License-Identifier: MIT
#pragma once
// The Vulkan suite's fixture: one instance with the Khronos validation layer (synchronization
// validation on) and one device for the whole binary. Every validation message fails the test
// that was running when it came. Tests skip with the reason when there is no usable Vulkan
// device. HETEX_VULKAN_DEVICE=N picks vulkan:N; otherwise the default selection's first device
// (a GPU where there is one, else lavapipe).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vulkan/device.hpp"
#include "vulkan/instance.hpp"

namespace vk_test {

struct Shared {
  std::shared_ptr<hetex::vulkan::Instance> instance;
  std::shared_ptr<hetex::vulkan::Device> device;
  std::string skip_reason;
  std::mutex m;
  std::vector<hetex::vulkan::ValidationMessage> messages;

  std::vector<hetex::vulkan::ValidationMessage> take_messages() {
    std::lock_guard lock(m);
    return std::exchange(messages, {});
  }
  // The sink every validated instance of the suite reports to.
  hetex::vulkan::MessageSink sink() {
    return [this](const hetex::vulkan::ValidationMessage& msg) {
      std::lock_guard lock(m);
      messages.push_back(msg);
    };
  }
};

inline Shared& shared() {
  static Shared* s = [] {
    auto* s = new Shared;  // kept to the end of the process, like the devices the library keeps
    hetex::vulkan::InstanceOptions o;
    o.validation = true;
    o.on_message = s->sink();
    auto inst = hetex::vulkan::Instance::create(std::move(o));
    if (!inst) {
      s->skip_reason = "no Vulkan: " + inst.error().describe();
      return s;
    }
    s->instance = *inst;
    if (!s->instance->validation())
      std::fprintf(stderr, "[vulkan] running WITHOUT validation: %s\n", s->instance->validation_note().c_str());
    std::uint32_t index = 0;
    if (const char* e = std::getenv("HETEX_VULKAN_DEVICE"); e && *e) {
      index = static_cast<std::uint32_t>(std::strtoul(e, nullptr, 10));
    } else {
      const auto picked = hetex::vulkan::default_selection(s->instance->devices());
      if (picked.empty()) {
        s->skip_reason = "no usable Vulkan device (" + std::to_string(s->instance->devices().size()) + " found)";
        return s;
      }
      index = picked.front();
    }
    auto dev = hetex::vulkan::Device::open(s->instance, index);
    if (!dev) {
      s->skip_reason = "vulkan:" + std::to_string(index) + " cannot be opened: " + dev.error().describe();
      return s;
    }
    s->device = *dev;
    std::fprintf(stderr, "[vulkan] testing on %s\n", s->device->info().describe().c_str());
    return s;
  }();
  return *s;
}

#define HETEX_REQUIRE_VULKAN()                                                        \
  do {                                                                                \
    if (!::vk_test::shared().device) GTEST_SKIP() << ::vk_test::shared().skip_reason; \
  } while (0)

// Fails the current test for every validation message that arrived while it ran.
inline void expect_no_validation_messages() {
  for (const auto& m : shared().take_messages())
    ADD_FAILURE() << "Vulkan validation " << (m.error ? "error" : "warning") << " " << m.id << ": " << m.text;
}

class VulkanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HETEX_REQUIRE_VULKAN();
    dev = shared().device;
  }
  void TearDown() override {
    if (dev) (void)dev->check(vkDeviceWaitIdle(dev->handle()), "vkDeviceWaitIdle");
    expect_no_validation_messages();
  }
  hetex::vulkan::Device& device() { return *dev; }
  std::shared_ptr<hetex::vulkan::Device> dev;
};

}  // namespace vk_test
