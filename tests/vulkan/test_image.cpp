// SPDX-License-Identifier: MIT
// The image pipeline on Vulkan against the CPU pipeline and OpenCV, byte for byte: every stage
// combination on gray, RGB and RGBA images of odd sizes, images taller than a stripe, radii the
// fused kernel takes and one it does not, colour blurs (separable passes), device-resident
// images, and bad arguments.
#include <gtest/gtest.h>

#include <cstring>

#include "../ops/image_reference.hpp"
#include "vk_test.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"

using hetex::Errc;
using hetex::image::Edges;
using hetex::image::Pipeline;
using hetex::image::Shape;
namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

class VulkanImage : public VulkanTest {
 protected:
  void SetUp() override {
    VulkanTest::SetUp();
    if (IsSkipped()) return;
    if (!device().info().storage8) GTEST_SKIP() << "no 8-bit storage buffers on " << device().name();
  }
  // The Vulkan result, checked against the CPU's.
  std::vector<std::uint8_t> run(const Pipeline& p, const hetex::image::Image& img) {
    const Shape out_shape = hetex::image::output_shape(p, img.shape);
    std::vector<std::uint8_t> want(out_shape.bytes()), got(out_shape.bytes(), 0x5a);
    EXPECT_TRUE(hetex::image::run_cpu(p, hetex::image::view(img), want));
    auto st = vk::image_run(device(), p, hetex::image::view(img), got);
    EXPECT_TRUE(st) << st.error().describe();
    EXPECT_EQ(hetex_test::max_diff(want, got), 0)
        << img.shape.width << "x" << img.shape.height << "x" << img.shape.channels << " sigma " << p.sigma << " edges "
        << int(p.edges);
    return got;
  }
};

}  // namespace

TEST_F(VulkanImage, EveryStageCombinationEqualsTheCpu) {
  for (int channels : {1, 3, 4}) {
    const auto img = hetex_test::test_image({67, 45, channels}, 3 + channels, true);
    run({.gray = true}, img);
    run({.gray = true, .sigma = 1.5}, img);
    run({.sigma = 0, .edges = Edges::magnitude}, img);
    run({.sigma = 2.0, .edges = Edges::magnitude}, img);
    run({.sigma = 1.2, .edges = Edges::binary, .threshold = 0.15}, img);
  }
}

TEST_F(VulkanImage, ColourBlurGoesThroughSeparablePasses) {
  for (int channels : {3, 4}) run({.sigma = 1.7}, hetex_test::test_image({53, 38, channels}, 9 + channels));
}

TEST_F(VulkanImage, TallImagesGoInStripesWithTheirHalos) {
  // Rows of 8 KiB: stripes of 480 rows (4 MiB in whole tiles), so 1100 rows make three, the last partial.
  run({.sigma = 2.0, .edges = Edges::magnitude}, hetex_test::test_image({2731, 1100, 3}, 21, true));
}

TEST_F(VulkanImage, LargeRadiusUsesSeparablePasses) {
  // Sigma 11: 67 taps, past the fused kernel's 65.
  run({.sigma = 11.0, .edges = Edges::magnitude}, hetex_test::test_image({90, 77, 1}, 5, true));
}

TEST_F(VulkanImage, TinyImagesReflectAtEveryBorder) {
  for (Shape s : {Shape{1, 1, 1}, Shape{1, 7, 3}, Shape{5, 1, 4}, Shape{2, 3, 1}})
    run({.sigma = 1.0, .edges = Edges::magnitude}, hetex_test::test_image(s, 31));
}

TEST_F(VulkanImage, MatchesOpenCV) {
#if !defined(HETEX_HAVE_OPENCV)
  GTEST_SKIP() << "OpenCV (core + imgproc) was not found at configure time";
#else
  const auto img = hetex_test::test_image({101, 63, 3}, 77, true);
  for (const Pipeline& p : {Pipeline{.sigma = 1.5, .edges = Edges::magnitude}, Pipeline{.gray = true, .sigma = 2.5},
                            Pipeline{.sigma = 1.0, .edges = Edges::binary, .threshold = 0.2}}) {
    const auto got = run(p, img);
    EXPECT_EQ(hetex_test::max_diff(hetex_test::opencv_pipeline(img, p), got), 0) << "sigma " << p.sigma;
  }
#endif
}

TEST_F(VulkanImage, DeviceResidentEqualsTheCpu) {
  const auto img = hetex_test::test_image({129, 70, 4}, 41, true);
  for (const Pipeline& p : {Pipeline{.sigma = 1.5, .edges = Edges::magnitude}, Pipeline{.sigma = 1.3}}) {
    const Shape os = hetex::image::output_shape(p, img.shape);
    std::vector<std::uint8_t> want(os.bytes());
    ASSERT_TRUE(hetex::image::run_cpu(p, hetex::image::view(img), want));
    auto stage = vk::Buffer::create(dev, img.shape.bytes(), vk::MemoryUse::upload).value();
    std::memcpy(stage.host().data(), img.pixels.data(), img.shape.bytes());
    auto in = vk::Buffer::create(dev, img.shape.bytes(), vk::MemoryUse::device).value();
    auto out = vk::Buffer::create(dev, os.bytes(), vk::MemoryUse::device).value();
    auto back = vk::Buffer::create(dev, os.bytes(), vk::MemoryUse::readback).value();
    auto up = vk::Recording::begin(device(), vk::QueueRole::compute).value();
    up.copy(stage, 0, in, 0, img.shape.bytes());
    up.barrier(vk::Access::transfer, vk::Access::compute);
    ASSERT_TRUE(device().wait(up.submit().value()));
    auto done = vk::image_run_resident(device(), p, img.shape, in, out);
    ASSERT_TRUE(done) << done.error().describe();
    auto down = vk::Recording::begin(device(), vk::QueueRole::compute).value();
    down.barrier(vk::Access::compute, vk::Access::transfer);
    down.copy(out, 0, back, 0, os.bytes());
    down.barrier(vk::Access::transfer, vk::Access::host);
    ASSERT_TRUE(device().wait(down.submit({&*done, 1}).value()));
    EXPECT_EQ(std::memcmp(want.data(), back.host().data(), os.bytes()), 0) << "sigma " << p.sigma;
  }
}

TEST_F(VulkanImage, BadArgumentsAreRefused) {
  const auto img = hetex_test::test_image({16, 16, 3}, 1);
  std::vector<std::uint8_t> out(10);
  auto st = vk::image_run(device(), {.sigma = 1.0, .edges = Edges::magnitude}, hetex::image::view(img), out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  std::vector<std::uint8_t> ok(16 * 16);
  st = vk::image_run(device(), {.sigma = -1.0}, hetex::image::view(img), ok);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  st = vk::image_run(device(), {.gray = true}, hetex::image::ImageView{{16, 16, 2}, img.pixels.data()}, ok);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
}
