// SPDX-License-Identifier: MIT
// Every Vulkan object hetex makes is destroyed: a device and instance of their own run each
// workload once and are then destroyed; the validation layer reports any object left behind
// (at vkDestroyDevice and vkDestroyInstance), which fails the test.
#include <gtest/gtest.h>

#include <mutex>

#include "../ops/sha256_reference.hpp"
#include "../ops/test_ed25519_cases.hpp"
#include "vk_test.hpp"
#include "vulkan/ops.hpp"

namespace vk = hetex::vulkan;

TEST(VulkanLifetime, DestroyingTheDeviceLeavesNoObjectBehind) {
  HETEX_REQUIRE_VULKAN();
  if (!vk_test::shared().instance->validation()) GTEST_SKIP() << vk_test::shared().instance->validation_note();
  std::vector<std::string> messages;
  std::mutex m;
  {
    vk::InstanceOptions o;
    o.validation = true;
    o.on_message = [&](const vk::ValidationMessage& msg) {
      std::lock_guard lock(m);
      messages.push_back(msg.id + " " + msg.text);
    };
    auto inst = vk::Instance::create(std::move(o)).value();
    auto dev = vk::Device::open(inst, vk_test::shared().device->info().index).value();

    std::vector<float> x(5000, 1.5f), y(5000, 2.25f), out(5000);
    ASSERT_TRUE(vk::vector(*dev, hetex::ops::VectorKind::add, {x, y}, out));
    const auto pm = hetex_test::random_batch(300, 100, 3);
    std::vector<hetex::ops::Digest> digests(pm.size());
    ASSERT_TRUE(vk::sha256(*dev, pm.view(), digests));
    const auto img = hetex::image::make_image({40, 30, 3});
    std::vector<std::uint8_t> edges(40 * 30);
    if (dev->info().storage8)
      ASSERT_TRUE(
          vk::image_run(*dev, {.sigma = 1.0, .edges = hetex::image::Edges::magnitude}, hetex::image::view(img), edges));
    ASSERT_TRUE(vk::reduce<float>(*dev, {"x * 2.0", "y > 1.0"}, x));
    ed25519_test::Dataset d;
    for (const auto& v : ed25519_test::rfc8032_vectors())
      d.add(ed25519_test::array_from_hex<32>(v.public_key), ed25519_test::array_from_hex<64>(v.signature),
            ed25519_test::from_hex(v.message), v.name, 1);
    std::vector<hetex::ops::Verdict> verdicts(d.size());
    ASSERT_TRUE(vk::ed25519_verify(*dev, d.batch(), verdicts));  // its tables stay with the device
    auto a = vk::Buffer::create(dev, 64, vk::MemoryUse::device).value();
    auto b = vk::Buffer::create(dev, 64, vk::MemoryUse::device).value();
    auto c = vk::Buffer::create(dev, 64, vk::MemoryUse::device).value();
    auto f = vk::as_future(*dev, vk::vector_resident(*dev, hetex::ops::VectorKind::mul, a, b, c, 16));
    ASSERT_TRUE(f.get());
  }  // the device, then the instance
  for (const auto& msg : messages) ADD_FAILURE() << msg;
}
