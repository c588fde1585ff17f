// SPDX-License-Identifier: MIT
// The image pipeline through the scheduler: rows split between the CPU and a simulated GPU (which
// runs the CPU code on its rows, so the slicing and halos are what is tested here; the real GPU is
// in tests/gpu), with and without injected faults, must give exactly the whole-frame CPU result.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/image_scheduled.hpp"

namespace hetex::image {
namespace {

Image random_frame(int w, int h, int channels, unsigned seed) {
  Image img = make_image({w, h, channels});
  std::mt19937 rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        img.pixels[(std::size_t(y) * w + x) * channels + c] =
            static_cast<std::uint8_t>(((x / 13 + y / 7 + c) % 2) * 150 + rng() % 100);
  return img;
}

// The simulated GPU runs the CPU code on one thread (at most items_per_second rows a second).
std::unique_ptr<Scheduler> split_with_simulated_gpu(FaultPlan faults = {},
                                                    std::shared_ptr<SchedulerObserver> observer = nullptr) {
  SchedulerOptions o;
  o.policy = SplitPolicy{};
  o.use_gpus = false;
  o.calibration_file = std::filesystem::path{};
  o.simulated_gpus = {{.latency = std::chrono::microseconds(20), .items_per_second = 1e7}};
  o.faults = faults;
  o.observer = std::move(observer);
  auto rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value();
  return Scheduler::create(rt, o).value();
}

class Observer : public SchedulerObserver {
 public:
  void on_chunk(const std::string&, const ChunkRecord& r) override {
    std::lock_guard lock(m);
    devices.insert(r.device);
  }
  std::mutex m;
  std::set<DeviceId> devices;
};

TEST(ImageScheduled, RowsSplitAcrossDevicesMatchTheWholeFrame) {
  const Pipeline p{.gray = true, .sigma = 2.0, .ksize = 11, .edges = Edges::magnitude};
  const Image frame = random_frame(640, 360, 4, 3);
  const auto expected = run_cpu(p, view(frame)).value();
  auto obs = std::make_shared<Observer>();
  auto sched = split_with_simulated_gpu({}, obs);
  // Calibration runs each device alone; later batches may split the rows (whether they do
  // depends on this machine's speeds; the row slicing is tested directly below).
  for (int i = 0; i < 12; ++i) {
    std::vector<std::uint8_t> out(expected.pixels.size(), 0x5a);
    ASSERT_TRUE(run(*sched, p, view(frame), out)) << "round " << i;
    ASSERT_EQ(out, expected.pixels) << "round " << i;
  }
  EXPECT_TRUE(obs->devices.count(DeviceId::cpu()));
  EXPECT_TRUE(obs->devices.count(DeviceId::sim(0)));
}

TEST(ImageScheduled, AnySlicesOfTheRowsMakeTheWholeFrame) {
  // Each slice reads the halo rows above and below it from the whole input.
  const Pipeline p{.gray = true, .sigma = 2.0, .ksize = 11, .edges = Edges::magnitude};
  const Image frame = random_frame(101, 97, 4, 9);
  const auto expected = run_cpu(p, view(frame)).value();
  for (std::size_t cut : {std::size_t(1), std::size_t(5), std::size_t(48), std::size_t(96)}) {
    std::vector<std::uint8_t> out(expected.pixels.size(), 0x5a), done(97, 0);
    const FrameRows rows = frame_rows(p, view(frame), out).value();
    for (std::size_t b = 0; b < rows.size(); b += cut) {
      const std::size_t e = std::min(rows.size(), b + cut);
      ASSERT_TRUE(rows_operation().run_cpu(rows.slice(b, e), std::span(done).subspan(b, e - b)));
    }
    EXPECT_EQ(out, expected.pixels) << "slices of " << cut << " rows";
    EXPECT_EQ(std::count(done.begin(), done.end(), 1), 97);
  }
}

TEST(ImageScheduled, EveryRowExactlyOnceUnderInjectedFaults) {
  const Pipeline p{.gray = true, .sigma = 1.5, .edges = Edges::binary, .threshold = 0.2};
  const Image frame = random_frame(333, 217, 3, 5);  // odd sizes: stripes and bands do not divide
  const auto expected = run_cpu(p, view(frame)).value();
  auto sched = split_with_simulated_gpu({.out_of_memory = 0.2, .kernel_fault = 0.2, .device_lost = 0.05, .seed = 7});
  for (int i = 0; i < 12; ++i) {
    std::vector<std::uint8_t> out(expected.pixels.size(), 0x5a);
    ASSERT_TRUE(run(*sched, p, view(frame), out)) << "round " << i;
    ASSERT_EQ(out, expected.pixels) << "round " << i;
  }
}

TEST(ImageScheduled, ABadOutputSizeIsInvalidArgument) {
  auto sched = split_with_simulated_gpu();
  const Image frame = random_frame(32, 16, 4, 1);
  std::vector<std::uint8_t> out(10);
  auto st = run(*sched, Pipeline{.gray = true}, view(frame), out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  auto bad = run(*sched, Pipeline{.gray = true, .sigma = -1}, view(frame), out);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace hetex::image
