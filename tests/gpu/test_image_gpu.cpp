// SPDX-License-Identifier: MIT
// The image pipeline on the GPU equals the CPU's result (and so OpenCV's): device-resident and
// host to host, fused and separable paths, every border, stripes with halos.
#include <gtest/gtest.h>

#include <set>

#include "gpu_test.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/exec/gpu_lane.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/image.hpp"
#include "hetex/ops/image_scheduled.hpp"
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
    Pipeline{.edges = Edges::magnitude},   // Sobel alone
    Pipeline{.gray = true, .sigma = 3.0},  // gray + blur, fused
    Pipeline{.gray = true},
    Pipeline{.sigma = 1.5},                              // colour blur: separable
    Pipeline{.sigma = 12.0, .edges = Edges::magnitude},  // radius 36: separable
};
const Shape kShapes[] = {{1, 1, 4},   {1, 29, 1},  {31, 1, 3},    {2, 3, 4},
                         {33, 33, 3}, {65, 40, 4}, {257, 131, 1}, {640, 481, 4}};

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

// Through the scheduler on the real GPU: Adaptive sends whole frames, Split shares rows between the
// CPU and the GPU (each GPU part uploads its halo rows); both must equal the whole-frame CPU
// result, for every pipeline (the separable ones run on the GPU only as whole frames).
TEST_F(ImageGpu, ScheduledFramesEqualCpuUnderAdaptiveAndSplit) {
  for (Policy policy : {Policy{AdaptivePolicy{}}, Policy{SplitPolicy{}}}) {
    auto sched =
        Scheduler::create(hetex_test::gpu_runtime(), {.policy = policy, .calibration_file = std::filesystem::path{}})
            .value();
    std::set<std::string> used;
    for (const auto& p : {kPipelines[0], kPipelines[5]}) {
      Image in = test_image(Shape{1920, 1080, 4}, 11, false);
      auto cpu = run_cpu(p, view(in)).value();
      for (int round = 0; round < 10; ++round) {
        std::vector<std::uint8_t> out(cpu.pixels.size(), 0xA5);
        auto st = run(*sched, p, view(in), out);
        ASSERT_TRUE(st) << st.error().describe();
        ASSERT_EQ(out, cpu.pixels) << name(in.shape, p) << " round " << round << " " << policy_name(policy);
      }
      for (const auto& d : sched->devices())
        if (d.items) used.insert(d.device.to_string());
    }
    EXPECT_TRUE(used.count(gpu.id().to_string())) << policy_name(policy) << ": the GPU never ran a row";
  }
}

TEST_F(ImageGpu, AnySlicesOfTheRowsOnTheGpuMakeTheWholeFrame) {
  auto lane = GpuLane::create(gpu).value();
  const Pipeline& p = kPipelines[0];
  Image in = test_image(Shape{1500, 1301, 4}, 13, false);
  auto cpu = run_cpu(p, view(in)).value();
  for (std::size_t cut : {std::size_t(7), std::size_t(256), std::size_t(700)}) {
    std::vector<std::uint8_t> out(cpu.pixels.size(), 0xA5), done(1301, 0);
    const FrameRows rows = frame_rows(p, view(in), out).value();
    for (std::size_t b = 0; b < rows.size(); b += cut) {
      const std::size_t e = std::min(rows.size(), b + cut);
      auto st = rows_operation().run_gpu(*lane, rows.slice(b, e), std::span(done).subspan(b, e - b));
      ASSERT_TRUE(st) << st.error().describe();
    }
    EXPECT_EQ(out, cpu.pixels) << "slices of " << cut << " rows";
  }
}
