// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "hetex/metrics/registry.hpp"

using namespace hetex;
using namespace hetex::metrics;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();

template <class R>
void expect_invalid(const R& r, std::string_view needle = {}) {
  ASSERT_FALSE(r) << "expected an error";
  EXPECT_EQ(r.error().code(), Errc::invalid_argument) << r.error().describe();
  if (!needle.empty()) EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
}
}  // namespace

TEST(MetricNames, FollowThePrometheusDataModel) {
  Registry reg;
  for (const char* good : {"a", "_x", ":x", "hetex:items_total", "A9_:b"}) EXPECT_TRUE(reg.counter(good, "h")) << good;
  for (const char* bad : {"", "9abc", "a-b", "a b", "caf\xc3\xa9", "a.b", "a{b}"})
    expect_invalid(reg.counter(bad, "h"), "is invalid");
}

TEST(MetricNames, LabelNamesAreCheckedToo) {
  Registry reg;
  EXPECT_TRUE(reg.counter_family("ok_total", "h", {"_a", "b9", "Device"}));
  for (const char* bad : {"", "__reserved", "9a", "a-b", "a:b"})
    expect_invalid(reg.counter_family("c_total", "h", {bad}), "label name");
  expect_invalid(reg.gauge_family("g", "h", {"a", "b", "a"}), "given twice");
  expect_invalid(reg.histogram_family("h_seconds", "h", {1.0}, {"le"}), "reserved");
  EXPECT_TRUE(reg.gauge_family("g_le", "gauges may use le", {"le"}));
}

TEST(MetricNames, InvalidUtf8IsRefused) {
  Registry reg;
  expect_invalid(reg.gauge("g", "bad \xff help"), "UTF-8");
  auto fam = reg.gauge_family("g2", "h", {"a"});
  ASSERT_TRUE(fam);
  expect_invalid(fam->with({"\xc3"}), "UTF-8");          // truncated sequence
  expect_invalid(fam->with({"\xc0\xaf"}), "UTF-8");      // overlong '/'
  expect_invalid(fam->with({"\xed\xa0\x80"}), "UTF-8");  // a surrogate
  EXPECT_TRUE(fam->with({"caf\xc3\xa9 \xf0\x9f\x9a\x80"}));
}

TEST(Families, SameDefinitionReturnsTheSameFamily) {
  Registry reg;
  auto a = reg.counter_family("items_total", "Items", {"device"});
  auto b = reg.counter_family("items_total", "Items", {"device"});
  ASSERT_TRUE(a && b);
  a->with({"cpu"})->inc(2);
  b->with({"cpu"})->inc(3);
  EXPECT_EQ(a->with({"cpu"})->value(), 5);
  EXPECT_EQ(a->name(), "items_total");
  EXPECT_EQ(a->label_names(), std::vector<std::string>{"device"});
}

TEST(Families, AnotherDefinitionOfANameIsAnError) {
  Registry reg;
  ASSERT_TRUE(reg.counter_family("x_total", "Items", {"device"}));
  expect_invalid(reg.gauge_family("x_total", "Items", {"device"}), "as a counter");
  expect_invalid(reg.counter_family("x_total", "Items", {"op"}), "with labels");
  expect_invalid(reg.counter_family("x_total", "Items", {}), "with labels");
  expect_invalid(reg.counter_family("x_total", "Other help", {"device"}), "with help");
  ASSERT_TRUE(reg.histogram_family("lat_seconds", "h", {0.1, 1}));
  expect_invalid(reg.histogram_family("lat_seconds", "h", {0.1, 2}), "other buckets");
  EXPECT_TRUE(reg.histogram_family("lat_seconds", "h", {0.1, 1, inf}));  // +Inf is implied
}

TEST(Families, TwoFamiliesCannotWriteTheSameSeries) {
  Registry reg;
  ASSERT_TRUE(reg.histogram_family("req_seconds", "h", {1}));
  expect_invalid(reg.counter("req_seconds_count", "h"), "already writes");
  expect_invalid(reg.gauge("req_seconds_bucket", "h"), "already writes");
  ASSERT_TRUE(reg.gauge("q_sum", "h"));
  expect_invalid(reg.histogram("q", "h", {1}), "already writes");
}

TEST(Families, LabelArityMustMatch) {
  Registry reg;
  auto fam = reg.counter_family("items_total", "h", {"device", "op"});
  ASSERT_TRUE(fam);
  expect_invalid(fam->with({"cpu"}), "has labels {\"device\", \"op\"} but 1 label values");
  expect_invalid(fam->with({"cpu", "sha", "x"}));
  std::vector<std::string> values{"cpu", "sha256"};
  auto c = fam->with(values);
  ASSERT_TRUE(c);
  c->inc();
  EXPECT_EQ(fam->with({"cpu", "sha256"})->value(), 1);
  // The one-call form takes the names from the pairs, in order.
  EXPECT_EQ(reg.counter("items_total", "h", {{"device", "cpu"}, {"op", "sha256"}})->value(), 1);
  expect_invalid(reg.counter("items_total", "h", {{"op", "sha256"}, {"device", "cpu"}}), "with labels");
}

TEST(Counter, IsMonotonicAndExact) {
  Registry reg;
  auto c = reg.counter("c_total", "h").value();
  c.inc();
  c.inc(2);
  c.inc(0.5);
  c.inc(-10);   // ignored
  c.inc(qnan);  // ignored
  c.inc(0);
  EXPECT_EQ(c.value(), 3.5);
  // Whole increments stay exact past 2^53 as long as the total fits a uint64 (read back as double).
  auto big = reg.counter("big_total", "h").value();
  for (int i = 0; i < 1024; ++i) big.inc(0x1p44);
  EXPECT_EQ(big.value(), 0x1p54);
  c.inc(inf);
  EXPECT_EQ(c.value(), inf);
}

TEST(Gauge, SetIncDec) {
  Registry reg;
  auto g = reg.gauge("g", "h").value();
  EXPECT_EQ(g.value(), 0);
  g.set(10);
  g.inc();
  g.inc(2.5);
  g.dec(4);
  EXPECT_EQ(g.value(), 9.5);
  g.set(-inf);
  EXPECT_EQ(g.value(), -inf);
  g.set(qnan);
  EXPECT_TRUE(std::isnan(g.value()));
}

TEST(Histogram, BucketsCountObservationsAtOrBelowTheirBound) {
  Registry reg;
  auto h = reg.histogram("h_seconds", "h", {1, 2, 4}).value();
  for (double v : {-1.0, 0.5, 1.0, 1.0000001, 2.0, 3.0, 4.0, 4.5, 1e300, inf}) h.observe(v);
  h.observe(qnan);  // ignored
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{3, 5, 7, 10}));
  EXPECT_EQ(h.count(), 10u);
  EXPECT_EQ(h.sum(), inf);
  auto low = reg.histogram("low_seconds", "h", {-5, 0}).value();
  low.observe(-inf);
  low.observe(-5);
  low.observe(-4.9);
  EXPECT_EQ(low.cumulative_counts(), (std::vector<std::uint64_t>{2, 3, 3}));
  auto g = reg.histogram("g_seconds", "h", {0.25, 0.5, 1}).value();
  for (double v : {0.125, 0.25, 0.75, 4.0}) g.observe(v);
  EXPECT_EQ(g.sum(), 5.125);
  EXPECT_EQ(g.cumulative_counts(), (std::vector<std::uint64_t>{2, 2, 3, 4}));
}

TEST(Histogram, RandomObservationsMatchAReferenceCount) {
  Registry reg;
  const std::vector<double> bounds = *exponential_buckets(0.001, 3, 10);
  auto h = reg.histogram("r_seconds", "h", bounds).value();
  std::vector<std::uint64_t> expected(bounds.size() + 1);
  std::uint64_t state = 42;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double v = static_cast<double>(state >> 11) * 0x1p-53 * 30.0;
    h.observe(v);
    std::size_t b = 0;
    while (b < bounds.size() && v > bounds[b]) ++b;
    for (std::size_t k = b; k < expected.size(); ++k) ++expected[k];
  }
  EXPECT_EQ(h.cumulative_counts(), expected);
}

TEST(Histogram, BadBucketsAreRefused) {
  Registry reg;
  expect_invalid(reg.histogram("a", "h", {1, qnan}), "not finite");
  expect_invalid(reg.histogram("b", "h", {-inf, 1}), "not finite");
  expect_invalid(reg.histogram("c", "h", {1, 1}), "increase strictly");
  expect_invalid(reg.histogram("d", "h", {2, 1}), "increase strictly");
  auto only_inf = reg.histogram("e", "h", {});
  ASSERT_TRUE(only_inf);
  only_inf->observe(3);
  EXPECT_EQ(only_inf->cumulative_counts(), std::vector<std::uint64_t>{1});
}

TEST(BucketHelpers, ExponentialLinearAndLatency) {
  auto e = exponential_buckets(1e-6, 10, 8);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 8u);
  for (std::size_t i = 0; i < e->size(); ++i)
    EXPECT_NEAR((*e)[i], 1e-6 * std::pow(10.0, static_cast<double>(i)), 1e-15 * std::pow(10.0, static_cast<double>(i)));
  auto r = exponential_buckets_range(1e-6, 10, 15);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->front(), 1e-6);
  EXPECT_EQ(r->back(), 10.0);
  EXPECT_TRUE(std::is_sorted(r->begin(), r->end()));
  EXPECT_EQ(*linear_buckets(1, 0.5, 4), (std::vector<double>{1, 1.5, 2, 2.5}));
  const auto lat = latency_buckets_seconds();
  EXPECT_EQ(lat.size(), 22u);
  EXPECT_EQ(lat.front(), 1e-6);
  EXPECT_EQ(lat.back(), 10.0);
  EXPECT_TRUE(std::adjacent_find(lat.begin(), lat.end(), std::greater_equal<>()) == lat.end());
  Registry reg;
  EXPECT_TRUE(reg.histogram("lat_seconds", "h", lat));

  expect_invalid(exponential_buckets(0, 2, 3));
  expect_invalid(exponential_buckets(1, 1, 3));
  expect_invalid(exponential_buckets(1, 2, 0));
  expect_invalid(exponential_buckets(1e300, 1e10, 3), "infinity");
  expect_invalid(exponential_buckets_range(1, 1, 3));
  expect_invalid(exponential_buckets_range(1, 2, 1));
  expect_invalid(linear_buckets(0, 0, 3));
  expect_invalid(linear_buckets(1e17, 1, 3), "too small");
}

TEST(Concurrency, UpdatesFromManyThreadsAddUpExactly) {
  Registry reg;
  auto fam = reg.counter_family("items_total", "h", {"device"}).value();
  auto hist = reg.histogram_family("lat_seconds", "h", {0.5, 1.5}, {"device"}).value();
  auto gauge = reg.gauge("inflight", "h").value();
  constexpr int threads = 4, per_thread = 50000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // Each thread looks the children up itself: concurrent first use must yield one child.
      Counter shared = fam.with({"cpu"}).value();
      Counter own = fam.with({"t" + std::to_string(t)}).value();
      Histogram h = hist.with({"cpu"}).value();
      for (int i = 0; i < per_thread; ++i) {
        shared.inc();
        shared.inc(0.5);
        own.inc(2);
        h.observe(i % 3);  // 0, 1, 2 -> buckets 0.5, 1.5, +Inf
        gauge.inc();
        gauge.dec();
        if (i % 5000 == 0) (void)reg.prometheus_text();  // reading while writing
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(fam.with({"cpu"})->value(), threads * per_thread * 1.5);
  for (int t = 0; t < threads; ++t) EXPECT_EQ(fam.with({"t" + std::to_string(t)})->value(), 2.0 * per_thread);
  auto h = hist.with({"cpu"}).value();
  EXPECT_EQ(h.count(), static_cast<std::uint64_t>(threads * per_thread));
  const std::uint64_t zeros = threads * ((per_thread + 2) / 3), ones = threads * ((per_thread + 1) / 3);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{zeros, zeros + ones, threads * per_thread}));
  EXPECT_EQ(h.sum(), static_cast<double>(ones + 2 * (threads * per_thread - zeros - ones)));
  EXPECT_EQ(gauge.value(), 0);
}

TEST(Concurrency, RacingRegistrationsAgree) {
  Registry reg;
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto c = reg.counter("m" + std::to_string(i % 20) + "_total", "h", {{"k", std::to_string(i % 7)}});
        ASSERT_TRUE(c);
        c->inc();
      }
    });
  for (auto& th : pool) th.join();
  double total = 0;
  for (int m = 0; m < 20; ++m)
    for (int k = 0; k < 7; ++k)
      total += reg.counter("m" + std::to_string(m) + "_total", "h", {{"k", std::to_string(k)}})->value();
  EXPECT_EQ(total, 800);
}

TEST(Registry, GlobalIsOneInstance) {
  EXPECT_EQ(&Registry::global(), &Registry::global());
  auto c = Registry::global().counter("hetex_test_global_total", "A test counter");
  ASSERT_TRUE(c);
  c->inc();
  EXPECT_GE(Registry::global().counter("hetex_test_global_total", "A test counter")->value(), 1);
}
