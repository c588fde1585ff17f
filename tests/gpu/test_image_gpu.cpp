// The image pipeline on the GPU equals the CPU's result (and so OpenCV's): device-resident and
// host to host, fused and separable paths, every border, stripes with halos.
#include <gtest/gtest.h>

#include "gpu_test.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/exec/gpu_lane.hpp"
#include "hetex/ops/image.hpp"
#include "ops/image_reference.hpp"
#include "ops/image_stream_corpus.hpp"

using namespace hetex;
using namespace hetex::image;
using hetex_test::max_diff;
using hetex_test::test_image;

namespace {

const Pipeline kPipelines[] = {
    Pipeline{.sigma = 2.0, .ksize = 11, .edges = Edges::magnitude},  // the benchmark's
    Pipeline{.sigma = 1.0, .edges = Edges::binary, .threshold = 0.1},
    Pipeline{.edges = Edges::magnitude},                               // Sobel alone
    Pipeline{.gray = true, .sigma = 3.0},                              // gray + blur, fused
    Pipeline{.gray = true},
    Pipeline{.sigma = 1.5},                                            // colour blur: separable
    Pipeline{.sigma = 12.0, .edges = Edges::magnitude},                // radius 36: separable
};
const Shape kShapes[] = {{1, 1, 4}, {1, 29, 1}, {31, 1, 3}, {2, 3, 4}, {33, 33, 3}, {65, 40, 4}, {257, 131, 1}, {640, 481, 4}};

std::string name(const Shape& s, const Pipeline& p) {
  return std::to_string(s.width) + "x" + std::to_string(s.height) + "x" + std::to_string(s.channels) + " sigma " +
         std::to_string(p.sigma) + " edges " + std::to_string(int(p.edges));
}

class ImageGpu : public hetex_test::GpuTest {};

}  // namespace

TEST_F(ImageGpu, DeviceResidentEqualsCpu) {
  for (const auto& shape : kShapes)
    for (const auto& p : kPipelines) {
      Image in = test_image(shape, 17, true);
      auto cpu = run_cpu(p, view(in)).value();
      auto din = make_device_image(gpu, in.shape).value();
      auto dout = make_device_image(gpu, output_shape(p, in.shape)).value();
      ASSERT_TRUE(upload(s(), std::span<const std::uint8_t>(in.pixels), din.pixels.write()).wait());
      auto st = run_gpu(s(), p, din, dout);
      ASSERT_TRUE(st) << st.error().describe();
      auto back = download(s(), dout.pixels.read()).get();
      ASSERT_TRUE(back) << back.error().describe();
      EXPECT_LE(max_diff(*back, cpu.pixels), 1) << name(shape, p);
      EXPECT_EQ(*back, cpu.pixels) << name(shape, p) << " (the integer arithmetic is the same on both)";
    }
}

TEST_F(ImageGpu, HostToHostEqualsCpuAcrossStripes) {
  auto lane = GpuLane::create(gpu).value();
  // Tall enough for several stripes (about 4 MiB of input each) so halos cross stripe borders.
  for (const Shape& shape : {Shape{1100, 2900, 4}, Shape{3001, 1500, 1}, Shape{77, 45, 3}})
    for (const auto& p : kPipelines) {
      Image in = test_image(shape, 5, false);
      auto cpu = run_cpu(p, view(in)).value();
      std::vector<std::uint8_t> out(output_shape(p, shape).bytes(), 0xA5);
      auto st = run_gpu(*lane, p, view(in), out);
      ASSERT_TRUE(st) << st.error().describe();
      EXPECT_EQ(out, cpu.pixels) << name(shape, p);
    }
}

TEST_F(ImageGpu, MatchesOpenCV) {
#if !defined(HETEX_HAVE_OPENCV)
  GTEST_SKIP() << "OpenCV (core + imgproc) was not found at configure time";
#else
  auto lane = GpuLane::create(gpu).value();
  Image in = test_image({3840, 2160, 4}, 9, true);
  const Pipeline p{.sigma = 2.0, .ksize = 11, .edges = Edges::magnitude};
  std::vector<std::uint8_t> out(in.shape.pixels());
  ASSERT_TRUE(run_gpu(*lane, p, view(in), out));
  EXPECT_LE(max_diff(out, hetex_test::opencv_pipeline(in, p)), 1);
#endif
}

TEST_F(ImageGpu, BadArgumentsAreRefused) {
  Image in = test_image({16, 16, 3}, 1);
  auto din = make_device_image(gpu, in.shape).value();
  auto wrong = make_device_image(gpu, {16, 16, 3}).value();
  EXPECT_EQ(run_gpu(s(), Pipeline{.edges = Edges::magnitude}, din, wrong).error().code(), Errc::invalid_argument);
  auto lane = GpuLane::create(gpu).value();
  std::vector<std::uint8_t> small(3);
  EXPECT_EQ(run_gpu(*lane, Pipeline{.gray = true}, view(in), small).error().code(), Errc::invalid_argument);
}

TEST_F(ImageGpu, StreamingThousandFilesEqualsCpuInOrder) {
  hetex_test::StreamCorpus corpus("gpu", 1000);
  const Pipeline p{.sigma = 2.0, .edges = Edges::binary, .threshold = 0.15};
  std::size_t expected_next = 0;
  bool in_order = true;
  StreamOptions options{.pipeline = p, .device = "gpu", .in_flight = 12};
  options.on_done = [&](std::size_t i, const FileJob&, const Status&) { in_order = in_order && i == expected_next++; };
  auto report = process_files(corpus.jobs, options);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_TRUE(in_order);
  EXPECT_NE(report->device, "cpu");
  EXPECT_EQ(report->gpu_fallbacks, 0u);
  for (std::size_t i = 0; i < corpus.jobs.size(); ++i) {
    if (corpus.corrupt[i]) continue;
    auto written = load(corpus.jobs[i].output).value();
    ASSERT_EQ(written.pixels, run_cpu(p, view(corpus.inputs[i])).value().pixels) << corpus.jobs[i].input;
  }
}
