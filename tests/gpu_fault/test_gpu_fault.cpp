// SPDX-License-Identifier: MIT
// A fault inside a kernel retires its GPU for the rest of the process (CUDA cannot recover a
// context after a sticky error), so each test here runs in a process of its own: ctest runs
// every test separately, and gpu-bundle/run.sh runs *_fault binaries one test at a time.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "../gpu/kernels.hpp"
#include "async/staging_cases.hpp"
#include "hetex/hetex.hpp"

using namespace hetex;

namespace {

class GpuFault : public ::testing::Test {
 protected:
  void SetUp() override {
    rt = Runtime::create().value();
    if (!rt.has_gpu()) GTEST_SKIP() << "no usable CUDA GPU: " << rt.gpu_unavailable_reason();
    gpu = rt.gpus().front();
  }
  // After the fault: the device is retired, work on it fails fast and clearly, host memory and
  // the CPU carry on, and selection no longer picks the GPU.
  void expect_retired_but_process_usable(const DeviceBuffer<std::uint32_t>& before, PinnedBuffer<std::uint32_t>& pinned,
                                         Stream& s) {
    EXPECT_FALSE(gpu.healthy());
    EXPECT_TRUE(before.lost());
    const auto t0 = std::chrono::steady_clock::now();
    auto again = s.enqueue([](NativeStream ns) { hetex_test::empty_kernel(ns); }).get();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), Errc::device_lost) << again.error().describe();
    auto stale = download(s, before.read()).get();
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code(), Errc::device_lost) << stale.error().describe();
    auto fresh = DeviceBuffer<std::uint32_t>::allocate(gpu, 16);
    ASSERT_FALSE(fresh);
    EXPECT_EQ(fresh.error().code(), Errc::device_lost) << fresh.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "failing fast, not hanging";
    EXPECT_EQ(rt.select(SelectPolicy::most_free_memory).kind(), DeviceKind::cpu);
    EXPECT_EQ(rt.select("gpu").value().kind(), DeviceKind::cpu);
    // host memory is still ordinary, intact host memory
    EXPECT_EQ(std::count(pinned.span().begin(), pinned.span().end(), 7u), 1000);
    auto more = PinnedBuffer<std::uint32_t>::allocate(100);
    ASSERT_TRUE(more) << more.error().describe();
    more->span()[99] = 1;
    EXPECT_EQ(more->span()[99], 1u);
  }
  Runtime rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value();
  Device gpu;
};

}  // namespace

TEST_F(GpuFault, TrapIsAKernelFaultOnItsFuture) {
  auto s = Stream::create(gpu).value();
  auto before = DeviceBuffer<std::uint32_t>::allocate(gpu, 16).value();
  auto pinned = PinnedBuffer<std::uint32_t>::allocate(1000).value();
  std::fill(pinned.span().begin(), pinned.span().end(), 7u);
  auto r = s.enqueue([](NativeStream ns) { hetex_test::trap(ns); }).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kernel_fault) << r.error().describe();
  EXPECT_NE(r.error().message().find("cannot be used again"), std::string::npos) << r.error().describe();
  expect_retired_but_process_usable(before, pinned, s);
}

TEST_F(GpuFault, IllegalAddressFailsEveryWaiterAndContinuation) {
  auto s = Stream::create(gpu).value();
  auto before = DeviceBuffer<std::uint32_t>::allocate(gpu, 16).value();
  auto pinned = PinnedBuffer<std::uint32_t>::allocate(1000).value();
  std::fill(pinned.span().begin(), pinned.span().end(), 7u);
  auto bad = s.enqueue([](NativeStream ns) { hetex_test::illegal_address(ns); });
  auto after = s.enqueue([](NativeStream ns) { hetex_test::empty_kernel(ns); }).then([] { return 1; });
  auto a = bad.get();
  auto b = after.get();  // delivered through the monitor thread
  ASSERT_FALSE(a);
  ASSERT_FALSE(b);
  for (auto* e : {&a.error(), &b.error()})
    EXPECT_TRUE(e->code() == Errc::kernel_fault || e->code() == Errc::device_lost) << e->describe();
  expect_retired_but_process_usable(before, pinned, s);
}

// A real sticky fault inside the scheduler: the GPU is retired, its items are redone on the CPU,
// and later batches go to the CPU without touching the GPU.
#include "hetex/exec/scheduler.hpp"

TEST_F(GpuFault, SchedulerRedoesAFaultedGpuChunkOnTheCpuAndRetiresTheDevice) {
  Operation<SpanBatch<std::uint32_t>, std::uint32_t> op(
      "plus_one_or_trap", [](const SpanBatch<std::uint32_t>& in, std::span<std::uint32_t> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i] + 1;
        return {};
      });
  op.with_gpu([](GpuLane& lane, const SpanBatch<std::uint32_t>&, std::span<std::uint32_t> out) -> Status {
    std::fill(out.begin(), out.end(), 0xdeadbeefu);  // what a half-finished GPU attempt might leave
    auto f = lane.stream(0).enqueue([](NativeStream ns) { hetex_test::trap(ns); });
    return f.get();
  });
  SchedulerOptions o;
  o.policy = PinnedPolicy{DeviceId::cuda(0)};
  o.faults = FaultPlan{};
  o.calibration_file = std::filesystem::path{};
  auto s = Scheduler::create(rt, o).value();
  std::vector<std::uint32_t> in(10'000), out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint32_t>(i * 7);
  auto r = s->run(op, SpanBatch<std::uint32_t>{in}, std::span(out)).value();
  ASSERT_TRUE(r.all_ok());
  ASSERT_EQ(r.stats.faults.size(), 1u);
  EXPECT_EQ(r.stats.faults[0], Errc::kernel_fault);
  EXPECT_EQ(r.stats.fallback_items, in.size());
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] + 1);
  EXPECT_FALSE(gpu.healthy());
  EXPECT_EQ(s->devices().at(1).state, DeviceState::retired);
  auto r2 = s->run(op, SpanBatch<std::uint32_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r2.stats.faults.empty());
  EXPECT_EQ(r2.stats.device(DeviceId::cpu())->items, in.size());
}

// The staging pipeline's device-lost case (tests/async/staging_cases.hpp) with a real fault: a
// trap in the fourth chunk's kernel while later chunks are queued.
TEST_F(GpuFault, StagingPipelineDeviceLostMidBatch) {
  staging_cases::Backend b;
  b.gpu = gpu;
  for (int i = 0; i < 3; ++i) b.streams.push_back(Stream::create(gpu).value());
  b.xor_bytes = hetex_test::xor_bytes;
  b.bad_launch = hetex_test::bad_launch;
  b.fault = hetex_test::trap;
  staging_cases::device_lost_mid_batch(b);
}
