// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <filesystem>
#include <numeric>
#include <random>
#include <thread>

#include "exec/routing.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex {
namespace {

using namespace std::chrono_literals;

Runtime cpu_runtime() { return Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(); }

std::uint64_t expected(std::uint64_t x) { return x * 3 + 1; }

std::string ops_length_class(std::span<const std::uint8_t> data, std::span<const std::uint64_t> offsets) {
  return ops::length_cost_class(ops::MessageBatch{data, offsets});
}

// out[i] = 3 in[i] + 1; items equal to `poison` make their chunk fail on every device.
struct Affine {
  std::atomic<std::uint64_t> poison{~0ull};
  Operation<SpanBatch<std::uint64_t>, std::uint64_t> op{
      "affine",
      [this](const SpanBatch<std::uint64_t>& in, std::span<std::uint64_t> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) {
          if (in[i] == poison.load()) return Error(Errc::invalid_argument, "poisoned item");
          out[i] = expected(in[i]);
        }
        return {};
      },
      OperationOptions{.cpu_grain = 256, .gpu_min_chunk = 512}};
};

SchedulerOptions base_options() {
  SchedulerOptions o;
  o.use_gpus = false;
  o.faults = FaultPlan{};
  o.calibration_file = std::filesystem::path{};
  return o;
}

// A clock the test moves by hand: the breaker's back-offs pass when the test says so.
struct SteppedClock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(0);
  std::function<std::chrono::steady_clock::time_point()> now() const {
    return [ms = ms] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms->load())); };
  }
  void advance(std::chrono::milliseconds d) const { *ms += d.count(); }
};

// Tells the cost model that `device` runs "affine" in fixed + n / rate seconds, calibrated at
// every power-of-two size in [lo, hi].
void believe(Scheduler& s, DeviceId device, double fixed, double rate, std::size_t lo = 512,
             std::size_t hi = std::size_t(1) << 20) {
  for (std::size_t n = lo; n <= hi; n *= 2)
    for (std::size_t i = 0; i < CostModel::kCalibrated; ++i)
      s.cost_model().record(CostModel::Key::alone("affine", device, Residency::host), n, fixed + double(n) / rate);
}

std::vector<std::uint64_t> iota_items(std::size_t n, std::uint64_t from = 0) {
  std::vector<std::uint64_t> v(n);
  std::iota(v.begin(), v.end(), from);
  return v;
}

// The committed records of a batch must cover [0, n) exactly once.
void expect_exactly_once(const ExecReport& r) {
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (const auto& c : r.stats.chunks)
    if (c.committed()) ranges.emplace_back(c.begin, c.end);
  std::sort(ranges.begin(), ranges.end());
  std::size_t at = 0;
  for (const auto& [b, e] : ranges) {
    ASSERT_EQ(b, at) << "gap or overlap at item " << at;
    ASSERT_GT(e, b);
    at = e;
  }
  EXPECT_EQ(at, r.stats.items);
  std::size_t delivered = 0;
  for (const auto& d : r.stats.devices) delivered += d.items;
  EXPECT_EQ(delivered + r.stats.failed_items, r.stats.items);
}

TEST(Scheduler, CpuOnlyComputesEveryItem) {
  Affine a;
  auto s = Scheduler::create(cpu_runtime(), base_options()).value();
  EXPECT_FALSE(s->has_gpu());
  auto in = iota_items(100'000);
  std::vector<std::uint64_t> out(in.size());
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r.all_ok());
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], expected(in[i]));
  ASSERT_EQ(r.stats.devices.size(), 1u);
  EXPECT_EQ(r.stats.devices[0].device, DeviceId::cpu());
  EXPECT_EQ(r.stats.devices[0].items, in.size());
  expect_exactly_once(r);
}

TEST(Scheduler, EmptyAndMismatchedBatches) {
  Affine a;
  auto s = Scheduler::create(cpu_runtime(), base_options()).value();
  std::vector<std::uint64_t> none;
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{none}, std::span(none));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.items, 0u);
  auto in = iota_items(10);
  std::vector<std::uint64_t> out(9);
  auto bad = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
}

TEST(Scheduler, ItemErrorsAreReportedAndTheRestStillComputed) {
  Affine a;
  a.poison = 5000;
  auto s = Scheduler::create(cpu_runtime(), base_options()).value();
  auto in = iota_items(20'000);
  std::vector<std::uint64_t> out(in.size());
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  ASSERT_FALSE(r.all_ok());
  ASSERT_NE(r.error_for(5000), nullptr);
  EXPECT_EQ(r.error_for(5000)->code(), Errc::invalid_argument);
  EXPECT_EQ(r.error_for(19'999), nullptr);
  EXPECT_GT(r.stats.failed_items, 0u);
  EXPECT_LE(r.stats.failed_items, 256u);  // one CPU grain
  EXPECT_FALSE(r.status());
  for (std::size_t i = 0; i < in.size(); ++i)
    if (!r.error_for(i)) ASSERT_EQ(out[i], expected(in[i])) << i;
  expect_exactly_once(r);
}

TEST(Scheduler, AnOperationThatThrowsIsAnErrorNotACrash) {
  Operation<SpanBatch<int>, int> thrower(
      "thrower", [](const SpanBatch<int>&, std::span<int>) -> Status { throw std::runtime_error("boom"); });
  auto s = Scheduler::create(cpu_runtime(), base_options()).value();
  std::vector<int> in(1000), out(1000);
  auto r = s->run(thrower, SpanBatch<int>{in}, std::span(out)).value();
  EXPECT_EQ(r.stats.failed_items, 1000u);
  EXPECT_NE(r.errors.at(0).error.message().find("boom"), std::string::npos);
}

TEST(Scheduler, ThresholdRoutesBySize) {
  Affine a;
  auto o = base_options();
  o.policy = ThresholdPolicy{5000};
  o.simulated_gpus = {{.latency = 10us}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  EXPECT_TRUE(s->has_gpu());
  for (std::size_t n : {100u, 4999u, 5000u, 20000u}) {
    auto in = iota_items(n);
    std::vector<std::uint64_t> out(n);
    auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
    ASSERT_EQ(r.stats.devices.size(), 1u);
    EXPECT_EQ(r.stats.devices[0].device, n >= 5000 ? DeviceId::sim(0) : DeviceId::cpu()) << n;
    // The report says why.
    EXPECT_EQ(r.stats.route.reason, n >= 5000 ? RouteReason::above_threshold : RouteReason::below_threshold)
        << r.stats.route.describe();
    EXPECT_EQ(out.back(), expected(n - 1));
  }
}

TEST(Scheduler, AdaptiveLearnsToAvoidASlowDevice) {
  Affine a;
  auto o = base_options();
  o.policy = AdaptivePolicy{.probe_interval = 0};
  o.simulated_gpus = {{.latency = 25ms}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  auto in = iota_items(2048);
  std::vector<std::uint64_t> out(in.size());
  std::size_t on_sim = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
    // Calibrated after at most a full window each (runs of microseconds rarely agree in three).
    if (i >= 2 * int(CostModel::kWindow)) on_sim += r.stats.device(DeviceId::sim(0)) != nullptr;
  }
  EXPECT_EQ(on_sim, 0u) << "after calibration every batch should run on the CPU";
  EXPECT_TRUE(s->cost_model().calibrated(CostModel::Key::alone("affine", DeviceId::sim(0), Residency::host), 2048));
}

TEST(Scheduler, AdaptiveFollowsTheModelToTheFasterDevice) {
  Affine a;
  auto o = base_options();
  o.policy = AdaptivePolicy{.probe_interval = 0};
  o.simulated_gpus = {{.latency = 10us}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  for (int i = 0; i < 3; ++i) {
    s->cost_model().record(CostModel::Key::alone("affine", DeviceId::cpu(), Residency::host), 8192,
                           1.0);  // as if the CPU were hopeless
    s->cost_model().record(CostModel::Key::alone("affine", DeviceId::sim(0), Residency::host), 8192, 1e-4);
  }
  auto in = iota_items(8192);
  std::vector<std::uint64_t> out(in.size());
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  ASSERT_NE(r.stats.device(DeviceId::sim(0)), nullptr);
  EXPECT_EQ(r.stats.device(DeviceId::sim(0))->items, 8192u);
}

// Runs `in` through `s`; checks every result and that each item was committed exactly once.
ExecReport run_and_check(Scheduler& s, const Affine& a, const std::vector<std::uint64_t>& in) {
  std::vector<std::uint64_t> out(in.size());
  auto r = s.run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r.all_ok());
  for (std::size_t i = 0; i < in.size(); ++i)
    if (out[i] != expected(in[i])) {
      ADD_FAILURE() << "wrong result for item " << i;
      break;
    }
  expect_exactly_once(r);
  return r;
}

TEST(Scheduler, SplitUsesEveryDeviceAndStealsFromAMispredictedOne) {
  Affine a;
  auto o = base_options();
  o.policy = SplitPolicy{};
  o.simulated_gpus = {{.latency = 20us, .items_per_second = 2e6}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  // The model believes sim:0 is twice as fast as the CPU, when it is 100x slower: it gets two
  // thirds of the batch, and the CPU has to take them back by stealing.
  believe(*s, DeviceId::sim(0), 20e-6, 4e8);
  believe(*s, DeviceId::cpu(), 5e-6, 2e8);
  const auto r = run_and_check(*s, a, iota_items(400'000));
  ASSERT_NE(r.stats.device(DeviceId::cpu()), nullptr);
  ASSERT_NE(r.stats.device(DeviceId::sim(0)), nullptr);
  const bool cpu_stole = std::any_of(r.stats.chunks.begin(), r.stats.chunks.end(),
                                     [](const ChunkRecord& c) { return c.stolen && c.device.is_cpu(); });
  EXPECT_TRUE(cpu_stole);
  EXPECT_GT(r.stats.device(DeviceId::cpu())->items, 200'000u) << "the CPU should end up with most of the work";
}

// A Split scheduler over two simulated GPUs of `rate` items/s, each modelled right, and a CPU
// believed far too slow to take part: the GPUs split batches alone.
std::unique_ptr<Scheduler> two_gpus_alone(double rate) {
  auto o = base_options();
  o.policy = SplitPolicy{};
  o.simulated_gpus = {{.latency = 20us, .items_per_second = rate}, {.latency = 20us, .items_per_second = rate}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  believe(*s, DeviceId::sim(0), 20e-6, rate);
  believe(*s, DeviceId::sim(1), 20e-6, rate);
  believe(*s, DeviceId::cpu(), 1e-3, 1e2);
  return s;
}

TEST(Scheduler, SplitGpusTakeEverSmallerPiecesOfTheirShares) {
  // A GPU's running piece cannot be stolen, so each takes half of what is left of its share:
  // the last pieces, the tail the others may wait for, are small.
  Affine a;
  auto s = two_gpus_alone(2e7);
  const auto r = run_and_check(*s, a, iota_items(400'000));
  EXPECT_EQ(r.stats.device(DeviceId::cpu()), nullptr);
  for (const DeviceId dev : {DeviceId::sim(0), DeviceId::sim(1)}) {
    std::vector<ChunkRecord> own;
    for (const auto& c : r.stats.chunks)
      if (c.device == dev && !c.stolen) own.push_back(c);
    std::sort(own.begin(), own.end(), [](const auto& x, const auto& y) { return x.begin < y.begin; });
    ASSERT_GE(own.size(), 3u) << dev;
    for (std::size_t i = 1; i < own.size(); ++i) EXPECT_LE(own[i].items(), own[i - 1].items()) << dev << " piece " << i;
    EXPECT_LE(own.back().items() * 4, own.front().items()) << dev;
  }
}

TEST(Scheduler, AReprobedSplitThatPaysLiftsTheGateOfSlowMeasuredSplits) {
  // Splits over two GPUs were once measured slower than one GPU alone (a disturbed host): the
  // batches go to one GPU. After a few, a re-probe splits the batch; it pays, its measurement
  // replaces the slow ones, and the batches after it are split.
  Affine a;
  // Slow devices: a loaded test machine's late wake-ups stay small beside their times.
  auto s = two_gpus_alone(2e6);
  const std::size_t n = 100'000;  // 50 ms on one GPU
  for (const DeviceId dev : {DeviceId::sim(0), DeviceId::sim(1)})
    for (std::size_t i = 0; i < CostModel::kCalibrated; ++i)
      s->cost_model().record_ratio(CostModel::Key::beside("affine", dev, Residency::host), 1.0);
  for (std::size_t i = 0; i < CostModel::kCalibrated; ++i)
    s->cost_model().record(CostModel::Key::split("affine", Residency::host), n, 0.5);
  auto in = iota_items(n);
  std::vector<std::uint64_t> out(n);
  std::vector<Route> routes;
  std::vector<std::size_t> devices;
  for (std::size_t i = 0; i <= SplitRouter::kSplitReprobeFirst + 1; ++i) {
    auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
    ASSERT_TRUE(r.all_ok());
    expect_exactly_once(r);
    routes.push_back(r.stats.route);
    devices.push_back(r.stats.devices.size());
  }
  for (std::size_t i = 0; i + 1 < SplitRouter::kSplitReprobeFirst; ++i) {
    EXPECT_EQ(routes[i].reason, RouteReason::measured_splits_slower) << i << ": " << routes[i].describe();
    EXPECT_EQ(devices[i], 1u) << i;
  }
  const std::size_t probe = SplitRouter::kSplitReprobeFirst - 1;
  EXPECT_EQ(routes[probe].reason, RouteReason::split_reprobe) << routes[probe].describe();
  EXPECT_EQ(devices[probe], 2u);
  for (std::size_t i = probe + 1; i < routes.size(); ++i) {
    EXPECT_EQ(routes[i].reason, RouteReason::equal_finish_split) << i;
    EXPECT_EQ(devices[i], 2u) << i;
  }
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], expected(in[i])) << i;
}

TEST(Scheduler, SplitKeepsASmallBatchOffASlowStartingDevice) {
  // sim:0 costs 5 ms to start: the CPU does 2048 items in ~15 us, so the split must leave the
  // GPU out entirely, not even let it steal (which would cost the batch those 5 ms).
  Affine a;
  auto o = base_options();
  o.policy = SplitPolicy{};
  o.simulated_gpus = {{.latency = 5ms, .items_per_second = 1e10}};
  auto s = Scheduler::create(cpu_runtime(), o).value();
  believe(*s, DeviceId::sim(0), 5e-3, 1e10);
  believe(*s, DeviceId::cpu(), 1e-6, 2e8);
  auto in = iota_items(2048);
  std::vector<std::uint64_t> out(in.size());
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r.all_ok());
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], expected(in[i])) << i;
  EXPECT_EQ(r.stats.device(DeviceId::sim(0)), nullptr) << "the slow-starting device took part in a small batch";
  ASSERT_NE(r.stats.device(DeviceId::cpu()), nullptr);
  EXPECT_EQ(r.stats.device(DeviceId::cpu())->items, in.size());
}

TEST(Scheduler, CostClassesAreModelledApart) {
  // Two classes of one operation: what the model learns of one must not be filed under the other.
  std::atomic<int> cheap_calls{0};
  Operation<SpanBatch<std::uint64_t>, std::uint64_t> op{
      "classy", [&](const SpanBatch<std::uint64_t>& in, std::span<std::uint64_t> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) out[i] = expected(in[i]);
        ++cheap_calls;
        return {};
      }};
  op.with_cost_class([](const SpanBatch<std::uint64_t>& in) { return in.size() && in[0] >= 1000 ? "big" : ""; });
  auto in_small = iota_items(4096), in_big = iota_items(4096, 1000);
  EXPECT_EQ(op.cost_key(SpanBatch<std::uint64_t>{in_small}), "classy");
  EXPECT_EQ(op.cost_key(SpanBatch<std::uint64_t>{in_big}), "classy/big");
  auto s = Scheduler::create(cpu_runtime(), base_options()).value();
  std::vector<std::uint64_t> out(4096);
  ASSERT_TRUE(s->run(op, SpanBatch<std::uint64_t>{in_big}, std::span(out)).value().all_ok());
  EXPECT_EQ(out[7], expected(1007));
  EXPECT_GT(s->cost_model().samples(CostModel::Key::alone("classy/big", DeviceId::cpu(), Residency::host), 4096), 0u);
  EXPECT_EQ(s->cost_model().samples(CostModel::Key::alone("classy", DeviceId::cpu(), Residency::host), 4096), 0u);
  EXPECT_GT(cheap_calls.load(), 0);
}

TEST(Scheduler, MessageLengthsFormCostClasses) {
  std::vector<std::uint8_t> data(4096);
  std::vector<std::uint64_t> short_offsets{0, 64, 128}, long_offsets{0, 1024, 2048}, odd{0, 65, 130};
  EXPECT_EQ(ops_length_class(data, short_offsets), "64B");
  EXPECT_EQ(ops_length_class(data, long_offsets), "1KiB");
  EXPECT_EQ(ops_length_class(data, odd), "128B");
  EXPECT_EQ(ops_length_class(data, {}), "");
}

TEST(Scheduler, LostDeviceIsSuspendedFallsBackAndIsProbedAgain) {
  Affine a;
  auto lost = std::make_shared<std::atomic<bool>>(true);
  auto o = base_options();
  o.policy = PinnedPolicy{DeviceId::sim(0)};
  o.simulated_gpus = {{.latency = 10us, .lost = lost}};
  o.breaker_backoff = 50ms;
  const SteppedClock clock;
  o.breaker_clock = clock.now();
  auto s = Scheduler::create(cpu_runtime(), o).value();
  auto in = iota_items(4096);
  std::vector<std::uint64_t> out(in.size());
  auto r1 = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r1.all_ok());
  EXPECT_EQ(r1.stats.fallback_items, 4096u);
  EXPECT_EQ(r1.stats.faults, std::vector<Errc>{Errc::device_lost});
  EXPECT_EQ(s->devices().at(1).state, DeviceState::suspended);
  // While suspended, batches go to the CPU without touching the device.
  auto r2 = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(r2.stats.faults.empty());
  EXPECT_EQ(r2.stats.device(DeviceId::sim(0)), nullptr);
  // Back-off over, the device is back: the probe succeeds and it is healthy again.
  lost->store(false);
  clock.advance(60ms);
  auto r3 = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  ASSERT_NE(r3.stats.device(DeviceId::sim(0)), nullptr);
  EXPECT_EQ(r3.stats.device(DeviceId::sim(0))->items, 4096u);
  EXPECT_EQ(s->devices().at(1).state, DeviceState::healthy);
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], expected(in[i]));
}

TEST(Scheduler, AProbeThePolicyPassesOverIsOfferedAgain) {
  Affine a;
  auto lost = std::make_shared<std::atomic<bool>>(true);
  auto o = base_options();
  o.policy = ThresholdPolicy{1000};
  o.simulated_gpus = {{.latency = 10us, .lost = lost}};
  o.breaker_backoff = 20ms;
  const SteppedClock clock;
  o.breaker_clock = clock.now();
  auto s = Scheduler::create(cpu_runtime(), o).value();
  auto big = iota_items(2000), small = iota_items(100);
  std::vector<std::uint64_t> out(big.size());
  (void)s->run(a.op, SpanBatch<std::uint64_t>{big}, std::span(out)).value();  // trips sim:0
  EXPECT_EQ(s->devices().at(1).state, DeviceState::suspended);
  clock.advance(30ms);
  // Back-off over: this batch may probe sim:0, but the threshold sends it to the CPU.
  (void)s->run(a.op, SpanBatch<std::uint64_t>{small}, std::span(out).first(small.size())).value();
  EXPECT_EQ(s->devices().at(1).state, DeviceState::suspended);
  lost->store(false);
  auto r = s->run(a.op, SpanBatch<std::uint64_t>{big}, std::span(out)).value();
  ASSERT_NE(r.stats.device(DeviceId::sim(0)), nullptr) << "the device must still be probed";
  EXPECT_EQ(s->devices().at(1).state, DeviceState::healthy);
}

TEST(Scheduler, FailedProbeDoublesTheBackoff) {
  Affine a;
  auto lost = std::make_shared<std::atomic<bool>>(true);
  auto o = base_options();
  o.policy = PinnedPolicy{DeviceId::sim(0)};
  o.simulated_gpus = {{.latency = 10us, .lost = lost}};
  o.breaker_backoff = 30ms;
  const SteppedClock clock;
  o.breaker_clock = clock.now();
  auto s = Scheduler::create(cpu_runtime(), o).value();
  auto in = iota_items(1024);
  std::vector<std::uint64_t> out(in.size());
  (void)s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();  // trips: 30 ms
  clock.advance(29ms);
  auto early = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();  // 29 < 30: not probed
  EXPECT_TRUE(early.stats.faults.empty());
  clock.advance(1ms);
  auto probe = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();  // probe fails: 60 ms
  EXPECT_EQ(probe.stats.faults.size(), 1u);
  clock.advance(59ms);  // 59 < 60: still suspended
  auto quiet = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_TRUE(quiet.stats.faults.empty());
  EXPECT_EQ(s->devices().at(1).faults, 2u);
  clock.advance(1ms);  // 60: probed again, and it fails again
  auto second = s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  EXPECT_EQ(second.stats.faults.size(), 1u);
  EXPECT_EQ(s->devices().at(1).faults, 3u);
}

TEST(Scheduler, FullQueueFailsBusyOrBlocks) {
  std::atomic<bool> release{false};
  Operation<SpanBatch<int>, int> hold("hold", [&](const SpanBatch<int>&, std::span<int> out) -> Status {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    std::fill(out.begin(), out.end(), 1);
    return {};
  });
  auto o = base_options();
  o.queue_capacity = 1;
  o.when_full = WhenFull::fail_busy;
  auto s = Scheduler::create(cpu_runtime(), o).value();
  std::vector<int> in(10), out1(10), out2(10);
  auto first = s->submit(hold, SpanBatch<int>{in}, std::span(out1));
  auto second = s->submit(hold, SpanBatch<int>{in}, std::span(out2));
  auto busy = second.get();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), Errc::busy);
  EXPECT_EQ(s->queue_depth(), 1u);
  release = true;
  EXPECT_TRUE(first.get());

  // Blocking mode: the second producer waits until the first batch is done.
  release = false;
  o.when_full = WhenFull::block;
  auto b = Scheduler::create(cpu_runtime(), o).value();
  auto held = b->submit(hold, SpanBatch<int>{in}, std::span(out1));
  std::atomic<bool> admitted{false};
  std::thread producer([&] {
    auto sub = b->submit(hold, SpanBatch<int>{in}, std::span(out2));
    admitted = true;
    EXPECT_TRUE(sub.get());
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(admitted.load());
  release = true;
  producer.join();
  EXPECT_TRUE(admitted.load());
  EXPECT_TRUE(held.get());
}

TEST(Scheduler, RejectsBadConfiguration) {
  auto o = base_options();
  o.simulated_gpus = {{.items_per_second = 0}};
  EXPECT_EQ(Scheduler::create(cpu_runtime(), o).error().code(), Errc::invalid_argument);
  o = base_options();
  o.policy = PinnedPolicy{DeviceId::cuda(7)};
  EXPECT_EQ(Scheduler::create(cpu_runtime(), o).error().code(), Errc::unavailable);
  o = base_options();
  o.faults.reset();
  ::setenv("HETEX_FAULTS", "kernel=often", 1);
  auto bad = Scheduler::create(cpu_runtime(), o);
  ::unsetenv("HETEX_FAULTS");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().describe().find("HETEX_FAULTS"), std::string::npos);
}

TEST(Scheduler, CalibrationPersistsAcrossSchedulers) {
  const auto file = std::filesystem::temp_directory_path() / ("hetex-sched-" + std::to_string(::getpid()) + ".json");
  std::filesystem::remove(file);
  Affine a;
  auto o = base_options();
  o.calibration_file = file;
  auto in = iota_items(3000);
  std::vector<std::uint64_t> out(in.size());
  {
    auto s = Scheduler::create(cpu_runtime(), o).value();
    // Enough runs to fill the size's window (three calibrate only when they agree).
    for (std::size_t i = 0; i < CostModel::kWindow; ++i)
      (void)s->run(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).value();
  }
  ASSERT_TRUE(std::filesystem::exists(file));
  auto s2 = Scheduler::create(cpu_runtime(), o).value();
  EXPECT_TRUE(s2->cost_model().calibrated(CostModel::Key::alone("affine", DeviceId::cpu(), Residency::host), 3000));
  std::filesystem::remove(file);
}

// The heart of the fallback guarantee: many producers, random batch sizes, random injected
// faults of every kind on two simulated GPUs; every item gets exactly one correct result.
void exactly_once_under_faults(Policy policy) {
  Affine a;
  auto o = base_options();
  o.policy = std::move(policy);
  o.simulated_gpus = {{.latency = 20us, .items_per_second = 5e8}, {.latency = 40us, .items_per_second = 2e8}};
  FaultPlan plan;
  plan.out_of_memory = 0.08;
  plan.kernel_fault = 0.06;
  plan.device_lost = 0.03;
  plan.slow = 0.05;
  plan.slow_delay = 200us;
  plan.seed = 1234;
  o.faults = plan;
  o.breaker_backoff = 1ms;
  o.queue_capacity = 8;
  auto s = Scheduler::create(cpu_runtime(), o).value();
  // This machine's CPU beats the simulated GPUs at a trivial operation; tell the model otherwise so
  // the GPUs, where the faults are, get most of the work under every policy.
  believe(*s, DeviceId::cpu(), 1e-3, 1e6, 1, 4096);
  believe(*s, DeviceId::sim(0), 20e-6, 5e8, 1, 4096);
  believe(*s, DeviceId::sim(1), 40e-6, 2e8, 1, 4096);

  constexpr int kProducers = 4;
  constexpr int kBatches = 40;  // per producer
  std::atomic<std::size_t> items{0}, fallback{0}, faults{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(p + 1);
      for (int b = 0; b < kBatches; ++b) {
        const std::size_t n = 1 + rng() % 4000;
        auto in = iota_items(n, rng() % 1'000'000);
        std::vector<std::uint64_t> out(n, 0);
        auto r = s->submit(a.op, SpanBatch<std::uint64_t>{in}, std::span(out)).get();
        ASSERT_TRUE(r) << r.error().describe();
        ASSERT_TRUE(r->all_ok()) << r->status().error().describe();
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], expected(in[i])) << "item " << i << " of " << n;
        expect_exactly_once(*r);
        items += n;
        fallback += r->stats.fallback_items;
        faults += r->stats.faults.size();
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_GE(items.load(), 100'000u);
  EXPECT_GT(faults.load(), 0u);
  EXPECT_GT(fallback.load(), 0u);
  std::size_t delivered = 0;
  for (const auto& d : s->devices()) delivered += d.items;
  EXPECT_EQ(delivered, items.load());
}

TEST(Scheduler, ExactlyOnceUnderRandomFaultsAdaptive) {
  exactly_once_under_faults(AdaptivePolicy{.probe_interval = 0});
}
TEST(Scheduler, ExactlyOnceUnderRandomFaultsSplit) { exactly_once_under_faults(SplitPolicy{}); }
TEST(Scheduler, ExactlyOnceUnderRandomFaultsThreshold) { exactly_once_under_faults(ThresholdPolicy{500}); }

}  // namespace
}  // namespace hetex
