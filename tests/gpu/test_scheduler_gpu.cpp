// SPDX-License-Identifier: MIT
// The scheduler with the real CUDA executor: results checked against the CPU on random data,
// injected faults redone on the CPU, Split across CPU and GPU.
#include <gtest/gtest.h>

#include <map>

#include <random>

#include "hetex/async/transfer.hpp"
#include "hetex/exec/scheduler.hpp"
#include "kernels.hpp"
#include "hetex/ops/vector.hpp"

using namespace hetex;

namespace {

class GpuScheduler : public ::testing::Test {
 protected:
  void SetUp() override {
    rt = Runtime::create().value();
    if (!rt.has_gpu()) GTEST_SKIP() << "no usable CUDA GPU: " << rt.gpu_unavailable_reason();
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-100, 100);
    a.resize(kN);
    b.resize(kN);
    for (std::size_t i = 0; i < kN; ++i) {
      a[i] = u(rng);
      b[i] = u(rng);
    }
  }
  std::unique_ptr<Scheduler> make(Policy p, std::optional<FaultPlan> faults = FaultPlan{}) {
    SchedulerOptions o;
    o.policy = std::move(p);
    o.faults = faults;
    o.calibration_file = std::filesystem::path{};
    o.breaker_backoff = std::chrono::milliseconds(1);
    return Scheduler::create(rt, o).value();
  }
  void expect_sum(std::span<const float> out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], a[i] + b[i]) << "item " << i << " of " << n;
  }
  static constexpr std::size_t kN = (std::size_t(1) << 23) + 12345;  // two pieces and a ragged tail
  Runtime rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value();
  std::vector<float> a, b;
};

TEST_F(GpuScheduler, GpuOnlyMatchesTheCpu) {
  auto s = make(PinnedPolicy{rt.gpus().front().id()});
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t(1) << 20, kN}) {
    std::vector<float> out(n, -1);
    auto r = s->run(ops::vector_add(), ZipBatch<float>{std::span(a).first(n), std::span(b).first(n)}, std::span(out))
                 .value();
    ASSERT_TRUE(r.all_ok());
    ASSERT_EQ(r.stats.devices.size(), 1u);
    EXPECT_EQ(r.stats.devices[0].device, DeviceId::cuda(0));
    EXPECT_EQ(r.stats.fallback_items, 0u);
    expect_sum(out, n);
  }
}

TEST_F(GpuScheduler, GpuExecutorAndCpuExecutorAgree) {
  auto g = GpuExecutor::create(rt.gpus().front()).value();
  CpuExecutor c;
  static_assert(Executor<GpuExecutor, ZipBatch<float>, float>);
  static_assert(Executor<CpuExecutor, ZipBatch<float>, float>);
  static_assert(Executor<Scheduler, ZipBatch<float>, float>);
  std::vector<float> og(kN), oc(kN);
  ASSERT_TRUE(g.execute(ops::vector_mul(), ZipBatch<float>{a, b}, std::span(og)));
  ASSERT_TRUE(c.execute(ops::vector_mul(), ZipBatch<float>{a, b}, std::span(oc)));
  EXPECT_EQ(og, oc);
}

TEST_F(GpuScheduler, InjectedFaultsOnTheRealGpuAreRedoneOnTheCpu) {
  FaultPlan plan;
  plan.out_of_memory = 0.2;
  plan.kernel_fault = 0.2;
  plan.device_lost = 0.1;
  plan.seed = 5;
  auto s = make(PinnedPolicy{DeviceId::cuda(0)}, plan);
  std::size_t faults = 0, fallback = 0, on_gpu = 0;
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) {
    const std::size_t n = 1 + rng() % (std::size_t(1) << 21);
    std::vector<float> out(n, -1);
    auto r = s->run(ops::vector_add(), ZipBatch<float>{std::span(a).first(n), std::span(b).first(n)}, std::span(out))
                 .value();
    ASSERT_TRUE(r.all_ok()) << r.status().error().describe();
    expect_sum(out, n);
    faults += r.stats.faults.size();
    fallback += r.stats.fallback_items;
    if (const auto* d = r.stats.device(DeviceId::cuda(0))) on_gpu += d->items;
  }
  EXPECT_GT(faults, 0u);
  EXPECT_GT(fallback, 0u);
  EXPECT_GT(on_gpu, 0u);
  EXPECT_TRUE(rt.gpus().front().healthy()) << "injected faults must not retire the real device";
}

// A compute-heavy operation (an LCG iterated 2000 times per item) split across CPU and GPU:
// correct every round, each device measured alone first, then in proportion to measured speed.
TEST_F(GpuScheduler, SplitSharesThenFollowsMeasuredSpeed) {
  constexpr unsigned kRounds = 2000;
  Operation<SpanBatch<std::uint32_t>, std::uint32_t> op(
      "lcg",
      [](const SpanBatch<std::uint32_t>& in, std::span<std::uint32_t> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) out[i] = hetex_test::lcg_rounds_host(in[i], kRounds);
        return {};
      },
      OperationOptions{.cpu_grain = 1024, .gpu_min_chunk = 1 << 14});
  op.with_gpu([](GpuLane& lane, const SpanBatch<std::uint32_t>& in, std::span<std::uint32_t> out) -> Status {
    Stream& s = lane.stream(0);
    auto din = HETEX_TRY(to_device(s, std::vector<std::uint32_t>(in.items.begin(), in.items.end())).get());
    auto dout = HETEX_TRY(DeviceBuffer<std::uint32_t>::allocate(lane.device(), in.size()));
    const auto* src = din.view().data();
    auto* dst = dout.view().data();
    const std::size_t n = in.size();
    HETEX_TRY_VOID(
        s.enqueue([=](NativeStream ns) { hetex_test::lcg_rounds(ns, src, dst, n, kRounds); }, din.read(), dout.write())
            .get());
    return download(s, dout.read(), out).wait();
  });
  auto s = make(SplitPolicy{});
  std::vector<std::uint32_t> in(1 << 20), out(in.size()), expected(in.size());
  std::mt19937 rng(9);
  for (auto& x : in) x = rng();
  CpuExecutor cpu;
  ASSERT_TRUE(cpu.execute(op, SpanBatch<std::uint32_t>{in}, std::span(expected)));
  // Every device is calibrated alone first, the CPU, then each GPU in order: three batches each,
  // up to a full window when their times disagree (a GPU's first call is slower).
  std::vector<DeviceId> devices{DeviceId::cpu()};
  for (const auto& d : s->devices())
    if (!d.device.is_cpu()) devices.push_back(d.device);
  std::map<DeviceId, std::size_t> calibration_runs;
  std::size_t at = 0;  // the device being calibrated
  int splits = 0;
  const int most = static_cast<int>(CostModel::kWindow * devices.size()) + 2;
  for (int i = 0; i < most && splits < 2; ++i) {
    std::fill(out.begin(), out.end(), 0u);
    auto r = s->run(op, SpanBatch<std::uint32_t>{in}, std::span(out)).value();
    ASSERT_TRUE(r.all_ok());
    ASSERT_TRUE(out == expected) << "round " << i;
    // What each round did, for reading a failure: device, range, s(tolen), milliseconds.
    std::string chunks;
    for (const auto& c : r.stats.chunks)
      chunks += " " + c.device.to_string() + "[" + std::to_string(c.begin) + "," + std::to_string(c.end) + ")" +
                (c.stolen ? "s" : "") +
                std::to_string(std::chrono::duration<double, std::milli>(c.finish - c.start).count()).substr(0, 5);
    std::printf("round %d: %.1f ms [%s]:%s\n", i, r.stats.total_seconds * 1e3, r.stats.route.describe().c_str(),
                chunks.c_str());
    if (r.stats.route.reason == RouteReason::calibrating) {
      EXPECT_EQ(splits, 0) << "round " << i << ": calibrating again after splitting";
      ASSERT_EQ(r.stats.devices.size(), 1u) << "round " << i;
      const DeviceId dev = r.stats.devices[0].device;
      while (at < devices.size() && devices[at] != dev) ++at;
      ASSERT_LT(at, devices.size()) << "round " << i << ": " << dev.to_string() << " calibrated out of order";
      ++calibration_runs[dev];
    } else {
      ++splits;
      // The GPUs (each about 100x faster at this than the CPU) get nearly all of each batch.
      std::size_t on_gpus = 0;
      for (std::size_t k = 1; k < devices.size(); ++k)
        if (const auto* u = r.stats.device(devices[k])) on_gpus += u->items;
      EXPECT_GT(on_gpus, in.size() * 9 / 10) << "round " << i;
    }
  }
  EXPECT_EQ(splits, 2);
  for (const auto& d : devices) {
    EXPECT_GE(calibration_runs[d], CostModel::kCalibrated) << d.to_string();
    EXPECT_LE(calibration_runs[d], CostModel::kWindow) << d.to_string();
  }
}

TEST_F(GpuScheduler, PinnedAndPageableDataAreModelledApart) {
  // The same batch from pageable and from page-locked memory: a GPU reads the second without
  // staging copies, so the cost model must not mix their times.
  auto s = make(AdaptivePolicy{});
  const std::size_t n = std::size_t(1) << 16;
  auto pa = PinnedBuffer<float>::allocate(n).value();
  auto pb = PinnedBuffer<float>::allocate(n).value();
  std::copy_n(a.begin(), n, pa.span().begin());
  std::copy_n(b.begin(), n, pb.span().begin());
  std::vector<float> out(n);
  const auto cpu_pageable = CostModel::Key::alone("vector_add", DeviceId::cpu(), Residency::host);
  const auto cpu_pinned = CostModel::Key::alone("vector_add", DeviceId::cpu(), Residency::pinned);
  auto r =
      s->run(ops::vector_add(), ZipBatch<float>{std::span(a).first(n), std::span(b).first(n)}, std::span(out)).value();
  ASSERT_TRUE(r.all_ok());
  expect_sum(out, n);
  EXPECT_EQ(s->cost_model().samples(cpu_pageable, n), 1u);
  EXPECT_EQ(s->cost_model().samples(cpu_pinned, n), 0u);
  std::fill(out.begin(), out.end(), -1.0f);
  r = s->run(ops::vector_add(), ZipBatch<float>{std::span<const float>(pa.span()), std::span<const float>(pb.span())},
             std::span(out))
          .value();
  ASSERT_TRUE(r.all_ok());
  expect_sum(out, n);
  // Calibration starts again for pinned data: the CPU first.
  EXPECT_EQ(r.stats.route.reason, RouteReason::calibrating) << r.stats.route.describe();
  EXPECT_EQ(r.stats.route.device, DeviceId::cpu());
  EXPECT_EQ(s->cost_model().samples(cpu_pinned, n), 1u);
  EXPECT_EQ(s->cost_model().samples(cpu_pageable, n), 1u);
}

TEST(GpuTransfer, DownloadWaitsForStagingStillFeedingAnUploadOnAnotherStream) {
  auto rt = Runtime::create().value();
  if (!rt.has_gpu()) GTEST_SKIP() << "no usable CUDA GPU: " << rt.gpu_unavailable_reason();
  auto sa = Stream::create(rt.gpus().front()).value();
  auto sb = Stream::create(rt.gpus().front()).value();
  const std::size_t n = std::size_t(6) << 20;  // 24 MiB: three staging chunks each way
  std::vector<std::uint32_t> x(n), y(n);
  std::mt19937 rng(1);
  for (auto& v : x) v = rng();
  for (auto& v : y) v = rng();
  auto dy = to_device(sb, std::vector<std::uint32_t>(y)).get().value();
  auto dx = DeviceBuffer<std::uint32_t>::allocate(rt.gpus().front(), n).value();
  for (int round = 0; round < 4; ++round) {
    auto up = upload(sa, std::span<const std::uint32_t>(x), dx.write());  // staging still in flight...
    auto back = download(sb, dy.read()).get().value();                    // ...while this reuses it
    ASSERT_TRUE(up.wait());
    ASSERT_TRUE(back == y) << "round " << round;
    auto xs = download(sa, dx.read()).get().value();
    ASSERT_TRUE(xs == x) << "round " << round;
  }
}

}  // namespace
