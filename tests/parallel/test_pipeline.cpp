// SPDX-License-Identifier: MIT
// The CPU path of fused pipelines against the std:: algorithms, on random data of awkward sizes.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "parallel/pipeline_test_data.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/parallel/pipeline.hpp"

namespace {
using hetex_test::random_values;
using hetex_test::tolerance;

using hetex::pipeline;

// 0, 1, primes, 2^k ± 1 around the TBB grain (2^14) and a large prime.
const std::vector<std::size_t> kSizes = {0, 1, 2, 3, 31, 127, 1023, 1025, 16383, 16385, 65537, 1000003};

template <class T>
class PipelineTyped : public ::testing::Test {};
using Types = ::testing::Types<int, float, double>;
TYPED_TEST_SUITE(PipelineTyped, Types);

TYPED_TEST(PipelineTyped, MapFilterTerminalsMatchStd) {
  using T = TypeParam;
  auto f = [](T x) { return static_cast<T>(x * 2 + 1); };
  auto p = [](T x) { return x > T(-20); };
  for (std::size_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto v = random_values<T>(n, static_cast<unsigned>(n) + 7);
    std::vector<T> expect;
    for (T x : v)
      if (T y = f(x); p(y)) expect.push_back(y);
    const auto pl = pipeline(v).map(f).filter(p);

    auto collected = pl.collect();
    ASSERT_TRUE(collected) << collected.error().describe();
    EXPECT_EQ(*collected, expect);  // maps and filters are exact: same values, same order

    EXPECT_EQ(pl.count().value(), expect.size());

    const double ref_sum = std::accumulate(expect.begin(), expect.end(), 0.0);
    EXPECT_NEAR(double(pl.sum().value()), ref_sum, tolerance<T>(expect.size(), 201));
    EXPECT_NEAR(double(pl.reduce(T(5), std::plus<>{}).value()), ref_sum + 5, tolerance<T>(expect.size(), 201));

    auto mn = pl.min().value();
    auto mx = pl.max().value();
    ASSERT_EQ(mn.has_value(), !expect.empty());
    ASSERT_EQ(mx.has_value(), !expect.empty());
    if (!expect.empty()) {
      EXPECT_EQ(*mn, *std::min_element(expect.begin(), expect.end()));
      EXPECT_EQ(*mx, *std::max_element(expect.begin(), expect.end()));
    }

    std::vector<T> incl(expect.size()), excl(expect.size());
    std::inclusive_scan(expect.begin(), expect.end(), incl.begin());
    std::exclusive_scan(expect.begin(), expect.end(), excl.begin(), T(3));
    auto si = pl.scan(std::plus<>{}).value();
    auto se = pl.exclusive_scan(T(3), std::plus<>{}).value();
    ASSERT_EQ(si.size(), incl.size());
    ASSERT_EQ(se.size(), excl.size());
    for (std::size_t i = 0; i < incl.size(); ++i) {
      ASSERT_NEAR(double(si[i]), double(incl[i]), tolerance<T>(i + 1, 201)) << "inclusive, i = " << i;
      ASSERT_NEAR(double(se[i]), double(excl[i]), tolerance<T>(i + 1, 201)) << "exclusive, i = " << i;
    }

    std::atomic<long long> visited{0};
    ASSERT_TRUE(pl.for_each([&](T) { visited.fetch_add(1, std::memory_order_relaxed); }));
    EXPECT_EQ(static_cast<std::size_t>(visited.load()), expect.size());
  }
}

TYPED_TEST(PipelineTyped, FiltersKeepingNoneAndAll) {
  using T = TypeParam;
  const auto v = random_values<T>(100003, 11);
  auto none = pipeline(v).filter([](T) { return false; });
  EXPECT_EQ(none.count().value(), 0u);
  EXPECT_EQ(none.sum().value(), T(0));
  EXPECT_EQ(none.reduce(T(9), std::multiplies<>{}).value(), T(9));  // the init alone
  EXPECT_FALSE(none.min().value().has_value());
  EXPECT_TRUE(none.collect().value().empty());
  EXPECT_TRUE(none.scan(std::plus<>{}).value().empty());

  auto all = pipeline(v).filter([](T) { return true; });
  EXPECT_EQ(all.count().value(), v.size());
  EXPECT_EQ(all.collect().value(), v);
  EXPECT_EQ(all.max().value(), *std::max_element(v.begin(), v.end()));
}

TEST(Pipeline, IntegerReductionsAreExact) {
  const auto v = random_values<int>(1000003, 3);
  auto max_op = [](int a, int b) { return std::max(a, b); };
  EXPECT_EQ(pipeline(v).reduce(std::numeric_limits<int>::min(), max_op).value(), *std::max_element(v.begin(), v.end()));
  EXPECT_EQ(pipeline(v).map([](int x) { return x & 7; }).reduce(0, std::bit_xor<>{}).value(),
            std::transform_reduce(v.begin(), v.end(), 0, std::bit_xor<>{}, [](int x) { return x & 7; }));
  // Several filters and maps interleaved: each map sees only what the filters before it kept.
  auto pl = pipeline(v)
                .filter([](int x) { return x != 0; })
                .map([](int x) { return 1000 / x; })  // would divide by zero on a dropped element
                .filter([](int x) { return x % 2 == 0; })
                .map([](int x) { return x * 3; });
  long long expect = 0;
  for (int x : v)
    if (x != 0 && (1000 / x) % 2 == 0) expect += 1000 / x * 3;
  EXPECT_EQ(pl.sum().value(), expect);
}

TEST(Pipeline, MapChangesTheElementType) {
  const auto v = random_values<float>(65537, 5);
  auto n = pipeline(v).map([](float x) { return x < 0 ? 1u : 0u; }).sum().value();
  EXPECT_EQ(n, static_cast<unsigned>(std::count_if(v.begin(), v.end(), [](float x) { return x < 0; })));
  auto d = pipeline(v).map([](float x) { return double(x) * 0.5; }).collect().value();
  ASSERT_EQ(d.size(), v.size());
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(d[i], double(v[i]) * 0.5);
}

// NaN: sum propagates it (IEEE); min and max return NaN when any element is NaN, wherever it is,
// so the answer does not depend on the order in which elements were combined.
TEST(Pipeline, NanBehaviour) {
  for (std::size_t at : {std::size_t(0), std::size_t(500), std::size_t(99999)}) {
    auto v = random_values<double>(100000, 17);
    v[at] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_TRUE(std::isnan(pipeline(v).sum().value()));
    EXPECT_TRUE(std::isnan(*pipeline(v).min().value())) << "NaN at " << at;
    EXPECT_TRUE(std::isnan(*pipeline(v).max().value())) << "NaN at " << at;
    // Filtering NaN out (x == x) gives the ordinary answers.
    auto clean = pipeline(v).filter([](double x) { return x == x; });
    EXPECT_EQ(clean.count().value(), v.size() - 1);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(at));
    EXPECT_EQ(*clean.min().value(), *std::min_element(v.begin(), v.end()));
  }
}

TEST(Pipeline, CountingRange) {
  for (long long n : {0LL, 1LL, 1025LL, 3000017LL}) {
    auto c = pipeline(hetex::counting(0LL, n));
    EXPECT_EQ(c.sum().value(), n * (n - 1) / 2);
    EXPECT_EQ(c.filter([](long long i) { return i % 3 == 0; }).count().value(), std::size_t((n + 2) / 3));
  }
  auto squares = pipeline(hetex::counting(5, 10)).map([](int i) { return i * i; }).collect().value();
  EXPECT_EQ(squares, (std::vector<int>{25, 36, 49, 64, 81}));
  EXPECT_EQ(pipeline(hetex::counting(10, 5)).count().value(), 0u);  // an empty range, not a huge one
}

struct Point {
  int x = 0;
  int y = 0;
  friend Point operator+(Point a, Point b) { return {a.x + b.x, a.y + b.y}; }
  friend bool operator==(Point a, Point b) { return a.x == b.x && a.y == b.y; }
  friend bool operator<(Point a, Point b) { return a.x != b.x ? a.x < b.x : a.y < b.y; }
};

TEST(Pipeline, UserStruct) {
  const auto xs = random_values<int>(70001, 23);
  std::vector<Point> pts(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) pts[i] = {xs[i], xs[(i * 7) % xs.size()]};
  auto swap_xy = [](Point p) { return Point{p.y, p.x}; };
  auto above = [](Point p) { return p.y > p.x; };
  auto pl = pipeline(pts).map(swap_xy).filter(above);

  std::vector<Point> expect;
  for (auto p : pts)
    if (auto q = swap_xy(p); above(q)) expect.push_back(q);
  EXPECT_EQ(pl.collect().value(), expect);
  EXPECT_EQ(pl.sum().value(), std::accumulate(expect.begin(), expect.end(), Point{}));
  EXPECT_EQ(*pl.min().value(), *std::min_element(expect.begin(), expect.end()));
  EXPECT_EQ(*pl.max().value(), *std::max_element(expect.begin(), expect.end()));
  auto componentwise_max = [](Point a, Point b) { return Point{std::max(a.x, b.x), std::max(a.y, b.y)}; };
  Point ref{-1000, -1000};
  for (auto p : expect) ref = componentwise_max(ref, p);
  EXPECT_EQ(pl.reduce(Point{-1000, -1000}, componentwise_max).value(), ref);
  std::vector<Point> incl(expect.size());
  std::inclusive_scan(expect.begin(), expect.end(), incl.begin());
  EXPECT_EQ(pl.scan(std::plus<>{}).value(), incl);
}

TEST(Pipeline, PlacementOnTheCpuAndThroughTheScheduler) {
  auto rt = hetex::Runtime::create(hetex::RuntimeOptions{.devices = "cpu", .announce_cpu_only = false}).value();
  const auto v = random_values<int>(40000, 29);
  const long long expect = std::accumulate(v.begin(), v.end(), 0LL);
  auto pl = pipeline(v).map([](int x) { return static_cast<long long>(x); });
  EXPECT_EQ(pl.on(rt.cpu()).sum().value(), expect);

  auto sched = hetex::Scheduler::create(rt, {.calibration_file = std::filesystem::path()}).value();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pl.on(*sched).sum().value(), expect);
  // Each run taught the cost model about this pipeline on the CPU.
  const auto key = pl.cost_key("sum");
  EXPECT_EQ(sched->cost_model().samples(
                hetex::CostModel::Key::alone(key, hetex::DeviceId::cpu(), hetex::Residency::host), v.size()),
            4u);
}

}  // namespace
