// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <optional>

#include "exec/routing.hpp"

namespace hetex {
namespace {

const DeviceId kCpu = DeviceId::cpu(), kGpu = DeviceId::cuda(0);

// A device that takes `fixed` seconds plus n / rate.
void calibrate(CostModel& m, DeviceId dev, double fixed, double rate) {
  for (std::size_t n = 1; n <= (std::size_t(1) << 26); n *= 2)
    for (int i = 0; i < 3; ++i) m.record(CostModel::Key::alone("op", dev, Residency::host), n, fixed + n / rate);
}

// Splits measured dev `times` times as `slowdown` times slower beside the others than alone.
void beside(CostModel& m, DeviceId dev, double slowdown, int times = int(CostModel::kCalibrated)) {
  for (int i = 0; i < times; ++i) m.record_ratio(CostModel::Key::beside("op", dev, Residency::host), slowdown);
}

// A CPU of 1e8 items/s (5 us to start) and a GPU of 3e8/s (100 us), measured alone, and in
// `times` splits as `cpu_slowdown` and `gpu_slowdown` times slower beside each other.
void cpu_gpu_beside(CostModel& m, double cpu_slowdown, double gpu_slowdown, int times = int(CostModel::kCalibrated)) {
  calibrate(m, kCpu, 5e-6, 1e8);
  calibrate(m, kGpu, 1e-4, 3e8);
  beside(m, kCpu, cpu_slowdown, times);
  beside(m, kGpu, gpu_slowdown, times);
}

const std::vector<Candidate> kCpuGpu{{kCpu, 0}, {kGpu, 0}};

TEST(Threshold, SmallBatchesOnTheCpuLargeOnTheGpu) {
  ThresholdPolicy p{1000};
  EXPECT_EQ(route_threshold(p, kCpuGpu, 999).shares.at(0).candidate, 0u);
  EXPECT_EQ(route_threshold(p, kCpuGpu, 1000).shares.at(0).candidate, 1u);
  const std::vector<Candidate> cpu_only{{kCpu, 0}};
  EXPECT_EQ(route_threshold(p, cpu_only, 1 << 20).shares.at(0).candidate, 0u);
}

TEST(Threshold, PicksTheLeastBusyGpu) {
  const std::vector<Candidate> c{{kCpu, 0}, {kGpu, 0.5}, {DeviceId::cuda(1), 0.1}};
  auto plan = route_threshold({10}, c, 100);
  EXPECT_EQ(plan.shares.at(0).candidate, 2u);
  EXPECT_EQ(plan.shares[0].begin, 0u);
  EXPECT_EQ(plan.shares[0].end, 100u);
}

TEST(Adaptive, ExploresEachDeviceUntilCalibratedOneAfterTheOther) {
  // Back to back, so that a device's later runs find it warm (TBB's workers awake).
  CostModel m;
  AdaptiveRouter r;
  std::vector<std::size_t> order;
  for (int i = 0; i < 6; ++i) {
    auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, 4096);
    ASSERT_TRUE(plan.exploring);
    const auto dev = plan.shares.at(0).candidate;
    order.push_back(dev);
    m.record(CostModel::Key::alone("op", kCpuGpu[dev].device, Residency::host), 4096, 1e-3);
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_FALSE(r.route({}, m, "op", Residency::host, kCpuGpu, 4096).exploring);
}

TEST(Adaptive, ADeviceWhoseFirstRunsDisagreeIsExploredUntilItsWindowIsFull) {
  // The CPU's first two runs were slowed (a cold start, a busy host): three samples that disagree
  // are not a calibration. Two more runs, and the median of five puts the CPU ahead of the GPU.
  CostModel m;
  AdaptiveRouter r;
  for (int i = 0; i < 3; ++i) m.record(CostModel::Key::alone("op", kGpu, Residency::host), 1024, 2e-3);
  for (double t : {6e-3, 5e-3, 1e-3}) m.record(CostModel::Key::alone("op", kCpu, Residency::host), 1024, t);
  EXPECT_FALSE(m.calibrated(CostModel::Key::alone("op", kCpu, Residency::host), 1024));
  for (int i = 0; i < 2; ++i) {
    auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, 1024);
    EXPECT_TRUE(plan.exploring);
    EXPECT_EQ(plan.shares.at(0).candidate, 0u);
    m.record(CostModel::Key::alone("op", kCpu, Residency::host), 1024, 1e-3);
  }
  auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, 1024);
  EXPECT_FALSE(plan.exploring);
  EXPECT_EQ(plan.shares.at(0).candidate, 0u) << plan.route.describe();
  // Samples that agree calibrate at three.
  CostModel agree;
  for (double t : {1.0e-3, 1.2e-3, 1.4e-3}) agree.record(CostModel::Key::alone("op", kCpu, Residency::host), 1024, t);
  EXPECT_TRUE(agree.calibrated(CostModel::Key::alone("op", kCpu, Residency::host), 1024));
}

// CPU and GPU calibrated alone at 4096 and 16384 items: the GPU 1 ms per 4096 items, the CPU
// `cpu_slower` times that at 16384, and `falling` times more per item at 4096.
void measured_below(CostModel& m, double cpu_slower, double falling = 1.0) {
  for (std::size_t at : {4096u, 16384u})
    for (int i = 0; i < int(CostModel::kCalibrated); ++i) {
      const double gpu = 1e-3 * static_cast<double>(at) / 4096;
      m.record(CostModel::Key::alone("op", kGpu, Residency::host), at, gpu);
      m.record(CostModel::Key::alone("op", kCpu, Residency::host), at, cpu_slower * gpu * (at == 4096 ? falling : 1.0));
    }
}

// The candidates calibrated at n by successive batches, until none is: one entry per batch. Each
// runs at its rate at 16384 items (see measured_below).
std::vector<std::size_t> calibration_order(CostModel& m, std::size_t n, double cpu_slower) {
  AdaptiveRouter r;
  std::vector<std::size_t> order;
  for (auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, n); plan.exploring && order.size() < 12;
       plan = r.route({}, m, "op", Residency::host, kCpuGpu, n)) {
    EXPECT_EQ(plan.route.reason, RouteReason::calibrating);
    const auto dev = plan.shares.at(0).candidate;
    order.push_back(dev);
    const double gpu = 1e-3 * static_cast<double>(n) / 4096;
    m.record(CostModel::Key::alone("op", kCpuGpu[dev].device, Residency::host), n, dev == 0 ? cpu_slower * gpu : gpu);
  }
  return order;
}

TEST(Adaptive, ADeviceFarSlowerAtItsBestRateIsNotCalibratedAtANewSize) {
  // The device predicted fastest is measured first; the CPU, 40 times slower per item at two
  // sizes below, would be at least that slow here: three CPU batches would cost 120 GPU batches,
  // and a split would give it a share of under 3%.
  CostModel m;
  measured_below(m, 40);
  EXPECT_EQ(calibration_order(m, 1 << 20, 40), (std::vector<std::size_t>{1, 1, 1}));
  AdaptiveRouter r;
  const auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, 1 << 20);
  EXPECT_EQ(plan.route.reason, RouteReason::earliest_finish);
  EXPECT_EQ(plan.shares.at(0).candidate, 1u);
  // Split calibrates alike.
  CostModel s;
  measured_below(s, 40);
  const std::vector<std::size_t> mins{1, 1};
  for (int i = 0; i < int(CostModel::kCalibrated); ++i) {
    const auto split = route_split(s, "op", Residency::host, kCpuGpu, mins, 1 << 20);
    ASSERT_TRUE(split.exploring);
    EXPECT_EQ(split.shares.at(0).candidate, 1u);
    s.record(CostModel::Key::alone("op", kGpu, Residency::host), 1 << 20, 0.256);
  }
  EXPECT_FALSE(route_split(s, "op", Residency::host, kCpuGpu, mins, 1 << 20).route.reason == RouteReason::calibrating);
}

TEST(Adaptive, ADeviceWhoseMeasurementHasBegunGoesOnEvenIfItNowLooksSlower) {
  // The GPU, predicted fastest, is measured first; its first run is disturbed (50 times its
  // speed) and now predicts it slower than the CPU. It still runs until measured: back to back.
  CostModel m;
  measured_below(m, 4);
  AdaptiveRouter r;
  const std::size_t n = 1 << 20;
  const auto gpu = CostModel::Key::alone("op", kGpu, Residency::host);
  const double normal = 1e-3 * static_cast<double>(n) / 4096;
  std::vector<std::size_t> order;
  for (int i = 0; i < 3; ++i) {
    const auto plan = r.route({}, m, "op", Residency::host, kCpuGpu, n);
    ASSERT_TRUE(plan.exploring);
    order.push_back(plan.shares.at(0).candidate);
    m.record(gpu, n, i == 0 ? 50 * normal : normal);
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 1, 1}));
}

TEST(Adaptive, ADeviceOnlyALittleSlowerOrStillGainingWithSizeIsCalibrated) {
  CostModel close;  // 4 times slower: a split would give it a fifth
  measured_below(close, 4);
  EXPECT_EQ(calibration_order(close, 1 << 20, 4), (std::vector<std::size_t>{1, 1, 1, 0, 0, 0}));
  CostModel gaining;  // 40 times slower, but twice as fast per item at 16384 as at 4096
  measured_below(gaining, 40, 2.0);
  EXPECT_EQ(calibration_order(gaining, 1 << 20, 40), (std::vector<std::size_t>{1, 1, 1, 0, 0, 0}));
}

TEST(Adaptive, RoutesToTheEarliestFinish) {
  CostModel m;
  calibrate(m, kCpu, 5e-6, 1e9);     // cheap to start, 1 G items/s
  calibrate(m, kGpu, 250e-6, 1e10);  // 250 us to start, 10 G items/s
  AdaptiveRouter r;
  AdaptivePolicy p{0, 2.0};  // no re-probing in this test
  EXPECT_EQ(r.route(p, m, "op", Residency::host, kCpuGpu, 1 << 10).shares[0].candidate, 0u);
  EXPECT_EQ(r.route(p, m, "op", Residency::host, kCpuGpu, 1 << 24).shares[0].candidate, 1u);
  // Crossover: 5e-6 + n/1e9 = 250e-6 + n/1e10  =>  n ~ 272k.
  EXPECT_EQ(r.route(p, m, "op", Residency::host, kCpuGpu, 200'000).shares[0].candidate, 0u);
  EXPECT_EQ(r.route(p, m, "op", Residency::host, kCpuGpu, 400'000).shares[0].candidate, 1u);
  // A GPU with a second of queued work loses even large batches.
  const std::vector<Candidate> busy{{kCpu, 0}, {kGpu, 1.0}};
  EXPECT_EQ(r.route(p, m, "op", Residency::host, busy, 1 << 24).shares[0].candidate, 0u);
}

TEST(Adaptive, ReprobesTheRunnerUpOnlyWhenItIsClose) {
  CostModel m;
  calibrate(m, kCpu, 1e-6, 1e9);
  calibrate(m, kGpu, 1.5e-6, 1e9);  // close: within 2x
  AdaptiveRouter r;
  AdaptivePolicy p{8, 2.0};
  int probes = 0;
  for (int i = 0; i < 64; ++i)
    probes += r.route(p, m, "op", Residency::host, kCpuGpu, 1 << 12).shares[0].candidate == 1;
  EXPECT_EQ(probes, 8);
  CostModel far;
  calibrate(far, kCpu, 1e-6, 1e9);
  calibrate(far, kGpu, 1e-3, 1e9);  // hundreds of times slower at this size: never worth a probe
  AdaptiveRouter r2;
  probes = 0;
  for (int i = 0; i < 64; ++i)
    probes += r2.route(p, far, "op", Residency::host, kCpuGpu, 1 << 12).shares[0].candidate == 1;
  EXPECT_EQ(probes, 0);
}

double share_time(const CostModel& m, const Candidate& c, const Share& s) {
  return c.backlog_seconds + *m.predict(CostModel::Key::alone("op", c.device, Residency::host), s.end - s.begin);
}

void expect_tiles(const RoutePlan& p, std::size_t n) {
  std::size_t at = 0;
  for (const auto& s : p.shares) {
    EXPECT_EQ(s.begin, at);
    EXPECT_GT(s.end, s.begin);
    at = s.end;
  }
  EXPECT_EQ(at, n);
}

TEST(Split, ProportionalToThroughputAloneThenBesideTheOthers) {
  CostModel m;
  calibrate(m, kCpu, 0, 1e9);
  calibrate(m, kGpu, 0, 3e9);
  const std::vector<std::size_t> mins{1, 1};
  const std::size_t n = 1 << 24;
  auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(plan.shares.size(), 2u);
  expect_tiles(plan, n);
  EXPECT_NEAR(double(plan.shares[1].end - plan.shares[1].begin) / n, 0.75, 0.01);
  EXPECT_FALSE(plan.exploring);
  EXPECT_FALSE(plan.beside_speeds);
  // Once both have run in splits, where the CPU managed half its speed alone, shares follow that.
  beside(m, kCpu, 2.0);
  beside(m, kGpu, 1.0);
  auto beside = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  EXPECT_TRUE(beside.beside_speeds);
  ASSERT_EQ(beside.shares.size(), 2u);
  expect_tiles(beside, n);
  EXPECT_NEAR(double(beside.shares[0].end) / n, 1.0 / 7, 0.01);
}

TEST(Split, AccountsForFixedCostsAndBacklogAcrossManyGpus) {
  CostModel m;
  calibrate(m, kCpu, 10e-6, 1e9);
  calibrate(m, kGpu, 200e-6, 8e9);
  calibrate(m, DeviceId::cuda(1), 200e-6, 8e9);
  const std::vector<Candidate> c{{kCpu, 0}, {kGpu, 0}, {DeviceId::cuda(1), 2e-3}};
  const std::vector<std::size_t> mins{1, 1, 1};
  const std::size_t n = 1 << 26;
  auto plan = route_split(m, "op", Residency::host, c, mins, n);
  ASSERT_EQ(plan.shares.size(), 3u);
  expect_tiles(plan, n);
  const double t0 = share_time(m, c[0], plan.shares[0]);
  for (const auto& s : plan.shares) EXPECT_NEAR(share_time(m, c[s.candidate], s) / t0, 1.0, 0.01);
  // The GPU with queued work gets less.
  EXPECT_LT(plan.shares[2].end - plan.shares[2].begin, plan.shares[1].end - plan.shares[1].begin);
}

TEST(Split, SmallBatchesStayOnOneDevice) {
  CostModel m;
  calibrate(m, kCpu, 5e-6, 1e9);
  calibrate(m, kGpu, 250e-6, 1e10);
  const std::vector<std::size_t> mins{1024, 1 << 16};
  auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, 10'000);
  ASSERT_EQ(plan.shares.size(), 1u);
  EXPECT_EQ(plan.shares[0].candidate, 0u);
  expect_tiles(plan, 10'000);
}

TEST(Split, EachDeviceIsMeasuredAloneAtASizeBeforeItIsSplit) {
  // Nothing known: the CPU first. The CPU known at every size but the GPU not: the GPU takes the
  // whole batch until it has been measured at that size (its curve from other sizes would not do).
  CostModel m;
  const std::vector<std::size_t> mins{1, 4096};
  auto first = route_split(m, "op", Residency::host, kCpuGpu, mins, 1000);
  EXPECT_TRUE(first.exploring);
  ASSERT_EQ(first.shares.size(), 1u);
  EXPECT_EQ(first.shares[0].candidate, 0u);
  calibrate(m, kCpu, 5e-6, 1e6);
  for (int i = 0; i < 3; ++i) m.record(CostModel::Key::alone("op", kGpu, Residency::host), 1 << 20, 1e-3);
  for (int i = 0; i < int(CostModel::kCalibrated); ++i) {
    auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, 1000);
    EXPECT_TRUE(plan.exploring);
    ASSERT_EQ(plan.shares.size(), 1u);
    EXPECT_EQ(plan.shares[0].candidate, 1u);
    expect_tiles(plan, 1000);
    m.record(CostModel::Key::alone("op", kGpu, Residency::host), 1000, 1e-3);
  }
  EXPECT_FALSE(route_split(m, "op", Residency::host, kCpuGpu, mins, 1000).exploring);
}

TEST(Split, ASplitThatSavesLittleGoesToTheBestDeviceAlone) {
  // The CPU alone takes 1 ms, the GPU 1.5 ms of which 1 ms is fixed: a split could hardly
  // finish sooner, and would add hand-offs.
  CostModel m;
  calibrate(m, kCpu, 5e-6, 1e8);
  calibrate(m, kGpu, 1e-3, 2e8);
  const std::vector<std::size_t> mins{1, 1};
  const std::size_t n = 100'000;
  auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(plan.shares.size(), 1u);
  EXPECT_EQ(plan.shares[0].candidate, 0u);
  expect_tiles(plan, n);
  EXPECT_EQ(plan.route.reason, RouteReason::split_saves_too_little) << plan.route.describe();
  // Ten times the batch (CPU 10 ms, GPU 6 ms): together they take 4 ms.
  auto big = route_split(m, "op", Residency::host, kCpuGpu, mins, 10 * n);
  ASSERT_EQ(big.shares.size(), 2u);
  expect_tiles(big, 10 * n);
}

TEST(Split, SplitsMeasuredSlowerThanTheBestDeviceStop) {
  // Predicted: CPU 10 ms, GPU 3.4 ms, together about 2.6 ms. Measured splits decide.
  const std::size_t n = 1 << 20;
  const std::vector<std::size_t> mins{1, 1};
  auto model_with_splits_taking = [&](std::optional<double> seconds) {
    auto m = std::make_unique<CostModel>();
    calibrate(*m, kCpu, 5e-6, 1e8);
    calibrate(*m, kGpu, 1e-4, 3e8);
    if (seconds)
      for (int i = 0; i < 3; ++i) m->record(CostModel::Key::split("op", Residency::host), n, *seconds);
    return m;
  };
  EXPECT_EQ(route_split(*model_with_splits_taking(std::nullopt), "op", Residency::host, kCpuGpu, mins, n).shares.size(),
            2u);
  EXPECT_EQ(route_split(*model_with_splits_taking(2.7e-3), "op", Residency::host, kCpuGpu, mins, n).shares.size(), 2u);
  // Contention: the split took longer than the GPU alone would.
  auto plan = route_split(*model_with_splits_taking(5e-3), "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(plan.shares.size(), 1u);
  EXPECT_EQ(plan.shares[0].candidate, 1u);
  EXPECT_EQ(plan.route.reason, RouteReason::measured_splits_slower) << plan.route.describe();
}

TEST(Split, OneSlowSplitDoesNotStopSplitting) {
  // Together CPU and GPU take 3/4 of the GPU's time alone. The first split ran the GPU 20 times
  // slower than alone (a cold start, a disturbed host): shares follow that, but the batch is
  // still split until such speeds were measured kCalibrated times; then their median decides.
  CostModel m;
  cpu_gpu_beside(m, 1.0, 20.0, 1);
  const std::vector<std::size_t> mins{1, 1};
  const std::size_t n = 1 << 22;
  auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  EXPECT_TRUE(plan.beside_speeds);
  EXPECT_FALSE(plan.gated);
  ASSERT_EQ(plan.shares.size(), 2u) << plan.route.describe();
  expect_tiles(plan, n);
  // The next two splits found the GPU at its speed alone: the median forgets the slow one.
  beside(m, kCpu, 1.0, 2);
  beside(m, kGpu, 1.0, 2);
  auto later = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(later.shares.size(), 2u) << later.route.describe();
  EXPECT_NEAR(double(later.shares[1].end - later.shares[1].begin) / n, 0.75, 0.01);
  // Had they been as slow, three measurements would have kept the batch on the GPU.
  CostModel slow;
  cpu_gpu_beside(slow, 1.0, 20.0);
  auto gated = route_split(slow, "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(gated.shares.size(), 1u) << gated.route.describe();
  EXPECT_EQ(gated.shares[0].candidate, 1u);
  EXPECT_TRUE(gated.gated);
}

TEST(Split, AReprobeSplitsFromTheSpeedsAlone) {
  // Beside the CPU the GPU was measured so slow that its share would not pay its minimum: the
  // batch goes to the GPU alone. A re-probe planned from those speeds would run on the CPU alone
  // and measure nothing; it plans from the speeds alone, as the first split did.
  CostModel m;
  cpu_gpu_beside(m, 1.0, 300.0);
  const std::vector<std::size_t> mins{64, 1 << 16};
  const std::size_t n = 1 << 19;
  auto plan = route_split(m, "op", Residency::host, kCpuGpu, mins, n);
  ASSERT_EQ(plan.shares.size(), 1u);
  EXPECT_EQ(plan.shares[0].candidate, 1u) << plan.route.describe();
  EXPECT_TRUE(plan.gated);
  EXPECT_TRUE(plan.beside_speeds);
  auto probe = route_split(m, "op", Residency::host, kCpuGpu, mins, n, true);
  EXPECT_EQ(probe.shares.size(), 2u) << probe.route.describe();
  EXPECT_TRUE(probe.reprobe);
  EXPECT_FALSE(probe.beside_speeds);
}

TEST(Split, AGatedSplitIsReprobedEverLessOftenUntilItPaysAgain) {
  // Alone the CPU does 1e8/s and the GPU 3e8/s, but beside each other they were measured at a
  // fifth of that: the split is gated to the GPU, and re-probed after 4 gated batches, then 8, 16.
  CostModel m;
  cpu_gpu_beside(m, 5.0, 5.0);
  const std::vector<std::size_t> mins{1, 1};
  const std::size_t n = 1 << 22;
  SplitRouter router;
  std::vector<int> reprobes;
  for (int i = 1; i <= 48; ++i) {
    auto plan = router.route(m, "op", Residency::host, kCpuGpu, mins, n);
    expect_tiles(plan, n);
    if (plan.reprobe) {
      reprobes.push_back(i);
      EXPECT_EQ(plan.shares.size(), 2u);
      EXPECT_EQ(plan.route.reason, RouteReason::split_reprobe) << plan.route.describe();
    } else {
      EXPECT_TRUE(plan.gated);
      ASSERT_EQ(plan.shares.size(), 1u);
      EXPECT_EQ(plan.shares[0].candidate, 1u);
    }
  }
  EXPECT_EQ(reprobes, (std::vector<int>{4, 12, 28}));
  // Other data (pinned) is paced on its own: nothing measured there yet, so no gate.
  EXPECT_FALSE(router.route(m, "op", Residency::pinned, kCpuGpu, mins, n).gated);
  // The re-probes found the devices at full speed beside each other: splits resume.
  // (A re-probe's measurements replace the window: one is enough.)
  m.record_ratio(CostModel::Key::beside("op", kCpu, Residency::host), 1.0, true);
  m.record_ratio(CostModel::Key::beside("op", kGpu, Residency::host), 1.0, true);
  auto plan = router.route(m, "op", Residency::host, kCpuGpu, mins, n);
  EXPECT_FALSE(plan.gated);
  EXPECT_FALSE(plan.reprobe);
  EXPECT_EQ(plan.shares.size(), 2u) << plan.route.describe();
}

}  // namespace
}  // namespace hetex
