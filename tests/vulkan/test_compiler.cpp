// SPDX-License-Identifier: MIT
// Run-time GLSL: a kernel compiled from source runs; the memory and disk caches answer a second
// compile; a wrong source is a compile_error carrying the compiler's log with line numbers; and
// the Khronos validation layer, which the suite runs under, reports misuse to the test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <random>

#include "vk_test.hpp"
#include "vulkan/compiler.hpp"
#include "vulkan/kernel.hpp"
#include "vulkan/memory.hpp"
#include "vulkan/recording.hpp"

using hetex::Errc;
namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

constexpr const char* kSaxpy = R"(#version 460
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform P { float a; uint n; } p;
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i < p.n) y[i] = p.a * x[i] + y[i];
}
)";

std::filesystem::path fresh_cache_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("hetex-vk-test-" + std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_F(VulkanTest, ARunTimeKernelRuns) {
  vk::GlslOptions o;
  o.cache_dir = fresh_cache_dir("run");
  auto words = vk::compile_glsl(kSaxpy, o);
  ASSERT_TRUE(words) << words.error().describe();
  vk::KernelSpec spec;
  spec.name = "saxpy";
  spec.spirv = **words;
  spec.buffers = 2;
  spec.push_bytes = 8;
  spec.constants = {64};
  auto k = vk::Kernel::create(dev, spec);
  ASSERT_TRUE(k) << k.error().describe();

  const std::uint32_t n = 1001;
  std::vector<float> x(n), y(n);
  std::mt19937 rng(3);
  for (std::uint32_t i = 0; i < n; ++i) {
    x[i] = float(rng() % 1000 + 1) / 8;
    y[i] = float(rng() % 1000 + 1) / 4;
  }
  auto bx = vk::Buffer::create(dev, n * 4, vk::MemoryUse::upload).value();
  auto by = vk::Buffer::create(dev, n * 4, vk::MemoryUse::readback).value();  // host-visible: kernels may use it
  std::memcpy(bx.host().data(), x.data(), n * 4);
  std::memcpy(by.host().data(), y.data(), n * 4);
  auto rec = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  struct {
    float a;
    std::uint32_t n;
  } push{2.5f, n};
  ASSERT_TRUE(rec.dispatch(**k, {{&bx}, {&by}}, push, (n + 63) / 64));
  rec.barrier(vk::Access::compute, vk::Access::host);
  ASSERT_TRUE(device().wait(rec.submit().value()));
  std::vector<float> got(n);
  std::memcpy(got.data(), by.host().data(), n * 4);
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(got[i], 2.5f * x[i] + y[i]) << i;
  std::filesystem::remove_all(*o.cache_dir);
}

TEST(VulkanCompiler, MemoryAndDiskCachesAnswerRepeatedCompiles) {
  vk::GlslOptions o;
  o.cache_dir = fresh_cache_dir("cache");
  o.defines = {{"HETEX_TEST_VARIANT", "17"}};  // a key no other test uses
  const auto before = vk::compile_cache_stats();
  auto a = vk::compile_glsl(kSaxpy, o);
  ASSERT_TRUE(a) << a.error().describe();
  auto b = vk::compile_glsl(kSaxpy, o);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->get(), b->get()) << "the memory cache returns the same words";
  const auto mid = vk::compile_cache_stats();
  EXPECT_EQ(mid.compiles, before.compiles + 1);
  EXPECT_EQ(mid.memory_hits, before.memory_hits + 1);
  EXPECT_FALSE(std::filesystem::is_empty(*o.cache_dir));
  vk::clear_compile_memory_cache();
  auto c = vk::compile_glsl(kSaxpy, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(**a, **c);
  EXPECT_EQ(vk::compile_cache_stats().disk_hits, mid.disk_hits + 1);
  // A different define is a different kernel.
  o.defines = {{"HETEX_TEST_VARIANT", "18"}};
  ASSERT_TRUE(vk::compile_glsl(kSaxpy, o));
  EXPECT_EQ(vk::compile_cache_stats().compiles, mid.compiles + 1);
  std::filesystem::remove_all(*o.cache_dir);
}

TEST(VulkanCompiler, ErrorsCarryTheLogWithLineNumbers) {
  vk::GlslOptions o;
  o.disk_cache = false;
  o.file_name = "broken.comp";
  const std::string source =
      "#version 460\nlayout(local_size_x = 1) in;\n\nvoid main() {\n  uint x = undefined_name;\n}\n";
  auto r = vk::compile_glsl(source, o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::compile_error);
  EXPECT_NE(r.error().message().find("broken.comp:5"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("undefined_name"), std::string::npos) << r.error().message();
  auto not_glsl = vk::compile_glsl("this is not GLSL", o);
  ASSERT_FALSE(not_glsl);
  EXPECT_EQ(not_glsl.error().code(), Errc::compile_error);
}

TEST_F(VulkanTest, KernelsRefuseWhatIsNotSpirvOrTooLarge) {
  const std::uint32_t garbage[] = {1, 2, 3, 4, 5, 6};
  vk::KernelSpec spec;
  spec.name = "garbage";
  spec.spirv = garbage;
  auto k = vk::Kernel::create(dev, spec);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), Errc::invalid_argument);
  auto words = vk::compile_glsl(kSaxpy, {}).value();
  spec.spirv = *words;
  spec.buffers = 2;
  spec.push_bytes = device().info().max_push_constants + 4;
  k = vk::Kernel::create(dev, spec);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error().code(), Errc::invalid_argument);
}

TEST(VulkanValidation, TheMessengerReportsMisuse) {
  HETEX_REQUIRE_VULKAN();
  if (!vk_test::shared().instance->validation()) GTEST_SKIP() << vk_test::shared().instance->validation_note();
  // An instance and device of its own, whose messages this test expects.
  std::atomic<int> seen{0};
  std::string first;
  vk::InstanceOptions o;
  o.validation = true;
  o.on_message = [&](const vk::ValidationMessage& m) {
    if (seen++ == 0) first = m.id + " " + m.text;
  };
  auto inst = vk::Instance::create(std::move(o)).value();
  auto d = vk::Device::open(inst, vk_test::shared().device->info().index).value();
  // A buffer with no usage at all: VUID-VkBufferCreateInfo-usage-requiredbitmask.
  auto ci = vk::vk_struct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  ci.size = 256;
  ci.usage = 0;
  VkBuffer b = VK_NULL_HANDLE;
  (void)vkCreateBuffer(d->handle(), &ci, nullptr, &b);
  if (b != VK_NULL_HANDLE) vkDestroyBuffer(d->handle(), b, nullptr);
  EXPECT_GE(seen.load(), 1);
  EXPECT_NE(first.find("usage"), std::string::npos) << first;
  EXPECT_GE(inst->message_count(), 1u);
}
