// SPDX-License-Identifier: MIT
// Fused pipelines on the GPU, differential against the CPU path on random data (skips without a GPU).
// The same pipeline object runs on both: .on(rt.cpu()) and .on(gpu) (or a device-buffer source).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "parallel/pipeline_test_data.hpp"
#include "gpu_test.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/parallel/pipeline.hpp"

namespace {

using hetex::pipeline;
using hetex_test::GpuTest;
using hetex_test::random_values;
using hetex_test::tolerance;

const std::vector<std::size_t> kSizes = {0, 1, 2, 3, 31, 127, 1023, 1025, 65535, 65537, 1000003, (1u << 24) + 1};

template <class T>
std::vector<T> to_host(hetex::Stream& s, const hetex::DeviceBuffer<T>& b) {
  return hetex::download(s, b.read()).get().value();
}

struct Pair {
  int a, b;
};

// nvcc allows __host__ __device__ lambdas only in functions it can name from outside, which a
// gtest body (a private member) is not: each test's body is a free function.

// Every terminal on the GPU, from a host source (.on(gpu)) and from a device buffer, against the
// same pipeline on the CPU.
template <class T>
void terminals_match_the_cpu_path(hetex::Stream& stream, const hetex::Device& gpu) {
  auto f = [] __host__ __device__(T x) { return static_cast<T>(x * 2 + 1); };
  auto keep = [] __host__ __device__(T x) { return x > T(-20); };
  auto plus = [] __host__ __device__(T a, T b) { return a + b; };
  const auto cpu = hetex_test::gpu_runtime().cpu();
  for (std::size_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const auto v = random_values<T>(n, static_cast<unsigned>(n) + 3);
    auto dev = hetex::DeviceBuffer<T>::allocate(gpu, n).value();
    ASSERT_TRUE(hetex::upload(stream, std::span<const T>(v), dev.write()).wait());

    const auto host_pl = pipeline(v).map(f).filter(keep);
    const auto ref = host_pl.on(cpu);
    const auto on_gpu = host_pl.on(gpu);
    const auto dev_pl = pipeline(dev).map(f).filter(keep);

    const auto expect = ref.collect().value();
    auto got = on_gpu.collect();
    ASSERT_TRUE(got) << got.error().describe();
    EXPECT_EQ(*got, expect);
    auto got_dev = dev_pl.collect();
    ASSERT_TRUE(got_dev) << got_dev.error().describe();
    ASSERT_EQ(got_dev->size(), expect.size());
    EXPECT_EQ(to_host(stream, *got_dev), expect);

    EXPECT_EQ(on_gpu.count().value(), expect.size());
    EXPECT_EQ(dev_pl.count().value(), expect.size());

    const double scale = 201;
    EXPECT_NEAR(double(on_gpu.sum().value()), double(ref.sum().value()), 2 * tolerance<T>(expect.size(), scale));
    EXPECT_NEAR(double(dev_pl.sum().value()), double(ref.sum().value()), 2 * tolerance<T>(expect.size(), scale));
    EXPECT_NEAR(double(dev_pl.reduce(T(7), plus).value()), double(ref.reduce(T(7), std::plus<>{}).value()),
                2 * tolerance<T>(expect.size(), scale));
    EXPECT_EQ(dev_pl.min().value(), ref.min().value());
    EXPECT_EQ(dev_pl.max().value(), ref.max().value());

    auto si = dev_pl.scan(plus);
    ASSERT_TRUE(si) << si.error().describe();
    auto se = on_gpu.exclusive_scan(T(3), plus);
    ASSERT_TRUE(se) << se.error().describe();
    const auto ri = ref.scan(std::plus<>{}).value();
    const auto re = ref.exclusive_scan(T(3), std::plus<>{}).value();
    const auto hi = to_host(stream, *si);
    ASSERT_EQ(hi.size(), ri.size());
    ASSERT_EQ(se->size(), re.size());
    for (std::size_t i = 0; i < ri.size(); ++i) {
      ASSERT_NEAR(double(hi[i]), double(ri[i]), 2 * tolerance<T>(i + 1, scale)) << "inclusive, i = " << i;
      ASSERT_NEAR(double((*se)[i]), double(re[i]), 2 * tolerance<T>(i + 1, scale)) << "exclusive, i = " << i;
    }
  }
}

template <class T>
class PipelineGpu : public GpuTest {};
using Types = ::testing::Types<int, float, double>;
TYPED_TEST_SUITE(PipelineGpu, Types);
TYPED_TEST(PipelineGpu, TerminalsMatchTheCpuPath) { terminals_match_the_cpu_path<TypeParam>(this->s(), this->gpu); }

void shapes_and_sources(hetex::Stream& stream, const hetex::Device& gpu) {
  auto s = [&]() -> hetex::Stream& { return stream; };
  const auto v = random_values<int>(3000017, 41);
  auto dev = hetex::DeviceBuffer<int>::allocate(gpu, v.size()).value();
  ASSERT_TRUE(hetex::upload(s(), std::span<const int>(v), dev.write()).wait());
  // No filter (DeviceTransform / plain reduce), a filter alone on the raw pointer, maps between
  // filters (the general (value, present) selection).
  auto sq = [] __host__ __device__(int x) { return x * x; };
  auto even = [] __host__ __device__(int x) { return x % 2 == 0; };
  auto nonzero = [] __host__ __device__(int x) { return x != 0; };
  auto inv = [] __host__ __device__(int x) { return 1000 / x; };
  auto max_op = [] __host__ __device__(int a, int b) { return a > b ? a : b; };
  const auto cpu = hetex_test::gpu_runtime().cpu();

  EXPECT_EQ(to_host(s(), pipeline(dev).map(sq).collect().value()), pipeline(v).map(sq).on(cpu).collect().value());
  EXPECT_EQ(to_host(s(), pipeline(dev).filter(even).collect().value()), pipeline(v).filter(even).collect().value());
  auto general = [&](auto pl) { return pl.filter(nonzero).map(inv).filter(even).map(sq); };
  EXPECT_EQ(to_host(s(), general(pipeline(dev)).collect().value()), general(pipeline(v)).collect().value());
  EXPECT_EQ(general(pipeline(dev)).sum().value(), general(pipeline(v)).sum().value());
  EXPECT_EQ(pipeline(dev).reduce(INT_MIN, max_op).value(), pipeline(v).reduce(INT_MIN, max_op).value());
  EXPECT_EQ(general(pipeline(dev)).reduce(-5, max_op).value(), general(pipeline(v)).reduce(-5, max_op).value());

  // Counting ranges are generated on the device.
  auto c = pipeline(hetex::counting(0LL, 5000011LL)).map([] __host__ __device__(long long i) { return i % 1000; });
  EXPECT_EQ(c.on(gpu).sum().value(), c.on(cpu).sum().value());

  // collect_into: a caller's buffer, no allocation, the count back.
  auto out = hetex::DeviceBuffer<int>::allocate(gpu, v.size()).value();
  auto kept = pipeline(dev).filter(even).collect_into(out);
  ASSERT_TRUE(kept) << kept.error().describe();
  auto expect = pipeline(v).filter(even).collect().value();
  ASSERT_EQ(*kept, expect.size());
  auto head = to_host(s(), out);
  head.resize(*kept);
  EXPECT_EQ(head, expect);
  auto small = hetex::DeviceBuffer<int>::allocate(gpu, 10).value();
  EXPECT_EQ(pipeline(dev).collect_into(small).error().code(), hetex::Errc::invalid_argument);

  // for_each runs the function on the device for every survivor.
  auto hits = hetex::DeviceBuffer<unsigned long long>::allocate(gpu, 1).value();
  ASSERT_TRUE(
      hetex::upload(s(), std::span<const unsigned long long>(std::vector<unsigned long long>{0}), hits.write()).wait());
  unsigned long long* h = hits.view().data();
  ASSERT_TRUE(pipeline(dev).filter(even).for_each([h] __host__ __device__(int) {
#if defined(__CUDA_ARCH__)
    atomicAdd(h, 1ull);
#endif
  }));
  EXPECT_EQ(to_host(s(), hits)[0], expect.size());
}
TEST_F(GpuTest, PipelineShapesAndSourcesOnTheGpu) { shapes_and_sources(s(), gpu); }

void nan_and_user_structs(hetex::Stream& stream, const hetex::Device& gpu) {
  auto s = [&]() -> hetex::Stream& { return stream; };
  auto v = random_values<float>(1 << 20, 43);
  v[777777] = std::numeric_limits<float>::quiet_NaN();
  auto dev = hetex::DeviceBuffer<float>::allocate(gpu, v.size()).value();
  ASSERT_TRUE(hetex::upload(s(), std::span<const float>(v), dev.write()).wait());
  EXPECT_TRUE(std::isnan(*pipeline(dev).min().value()));
  EXPECT_TRUE(std::isnan(*pipeline(dev).max().value()));
  EXPECT_TRUE(std::isnan(pipeline(dev).sum().value()));
  auto clean = pipeline(dev).filter([] __host__ __device__(float x) { return x == x; });
  EXPECT_EQ(clean.min().value(), pipeline(v).filter([](float x) { return x == x; }).min().value());

  std::vector<Pair> pts(200003);
  for (std::size_t i = 0; i < pts.size(); ++i) pts[i] = {int(i % 97) - 48, int(i % 89) - 44};
  auto swap = [] __host__ __device__(Pair p) { return Pair{p.b, p.a}; };
  auto add = [] __host__ __device__(Pair x, Pair y) { return Pair{x.a + y.a, x.b + y.b}; };
  auto above = [] __host__ __device__(Pair p) { return p.b > p.a; };
  auto g = pipeline(pts).map(swap).filter(above).on(gpu).reduce(Pair{1, 2}, add).value();
  auto c = pipeline(pts).map(swap).filter(above).reduce(Pair{1, 2}, add).value();
  EXPECT_EQ(g.a, c.a);
  EXPECT_EQ(g.b, c.b);
}
TEST_F(GpuTest, PipelineNanAndUserStructsOnTheGpu) { nan_and_user_structs(s(), gpu); }

void chosen_by_the_scheduler(const hetex::Device& gpu) {
  auto sched =
      hetex::Scheduler::create(hetex_test::gpu_runtime(), {.calibration_file = std::filesystem::path()}).value();
  const auto v = random_values<int>(1 << 22, 47);
  auto pl = pipeline(v).map([] __host__ __device__(int x) { return (long long)x * x; });
  const long long expect = pl.sum().value();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(pl.on(*sched).sum().value(), expect) << "run " << i;
  // Exploration ran it on both devices.
  const auto key = pl.cost_key("sum");
  EXPECT_GE(sched->cost_model().samples(
                hetex::CostModel::Key::alone(key, hetex::DeviceId::cpu(), hetex::Residency::host), v.size()),
            3u);
  EXPECT_GE(sched->cost_model().samples(hetex::CostModel::Key::alone(key, gpu.id(), hetex::Residency::host), v.size()),
            3u);
}
TEST_F(GpuTest, PipelineChosenByTheScheduler) { chosen_by_the_scheduler(gpu); }

// Under a Split scheduler sum, count, min and max run on the CPU and the GPU at once and combine.
// The cost model is told both devices are equally fast, so the first run splits.
void split_by_the_scheduler(const hetex::Device& gpu) {
  auto sched = hetex::Scheduler::create(hetex_test::gpu_runtime(),
                                        {.policy = hetex::SplitPolicy{}, .calibration_file = std::filesystem::path()})
                   .value();
  const auto v = random_values<int>(1 << 22, 53);
  auto pl = pipeline(v)
                .map([] __host__ __device__(int x) { return (long long)x * x; })
                .filter([] __host__ __device__(long long y) { return y % 3 != 0; });
  const long long sum = pl.sum().value();
  const std::size_t count = pl.count().value();
  const auto lo = pl.min().value(), hi = pl.max().value();
  for (const char* terminal : {"sum", "count", "min", "max"})
    for (std::size_t n = 1024; n <= (std::size_t(1) << 24); n *= 2)
      for (int i = 0; i < 3; ++i)
        for (const auto& d : sched->devices())  // every GPU there is, not only `gpu`
          sched->cost_model().record(
              hetex::CostModel::Key::alone(pl.cost_key(terminal), d.device, hetex::Residency::host), n,
              1e-4 + n * 1e-9);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(pl.on(*sched).sum().value(), sum) << "run " << i;
    EXPECT_EQ(pl.on(*sched).count().value(), count) << "run " << i;
    EXPECT_EQ(pl.on(*sched).min().value(), lo) << "run " << i;
    EXPECT_EQ(pl.on(*sched).max().value(), hi) << "run " << i;
  }
  // Both devices ran a part, and what each did beside the other was recorded.
  for (const hetex::DeviceId device : {hetex::DeviceId::cpu(), gpu.id()})
    EXPECT_TRUE(
        sched->cost_model().ratio(hetex::CostModel::Key::beside(pl.cost_key("sum"), device, hetex::Residency::host)))
        << device.to_string();
}
TEST_F(GpuTest, PipelineSplitByTheScheduler) { split_by_the_scheduler(gpu); }

}  // namespace
