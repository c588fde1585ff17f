// SPDX-License-Identifier: MIT
// The fused-pipeline workload of `hetex bench`: square each float, keep those below 0.25, add
// them up (map → filter → sum), host memory in, one number out. hetex runs it as one pass on
// each device; the comparators are the same work as a hand-written tbb::parallel_reduce and as
// the unfused Thrust chain (transform, copy_if, reduce) a CUDA programmer writes first.
// Compiled by nvcc in the CUDA build (the functors then run on the GPU too) and by the C++
// compiler otherwise (no_cuda/bench_pipeline.cpp includes this file).

#include <tbb/task_arena.h>

#include <cmath>
#include <random>

#include "bench.hpp"
#include "bench_thrust.hpp"
#include "hetex/parallel/pipeline.hpp"
#include "tuned_map_filter_sum.hpp"

#if defined(__CUDACC__)
#define HETEX_BENCH_HD __host__ __device__
#else
#define HETEX_BENCH_HD
#endif

namespace hetex::cli::bench {
namespace {

struct Square {
  using hetex_device_callable = void;
  HETEX_BENCH_HD float operator()(float x) const { return x * x; }
};
struct BelowQuarter {
  using hetex_device_callable = void;
  HETEX_BENCH_HD bool operator()(float y) const { return y < 0.25f; }
};

struct Data {
  std::vector<float> x;
  std::vector<double> expected;  // per size, summed in double
  float result = 0;
};

auto chain(const Data& d, std::size_t n) {
  return pipeline(std::span<const float>(d.x).first(n)).map(Square{}).filter(BelowQuarter{});
}

Status store(Data& d, Result<float> r) {
  if (!r) return std::move(r).error();
  d.result = *r;
  return {};
}

}  // namespace

Plan pipeline_plan(Devices& d, const Settings& s) {
  Plan p;
  p.meta = {.id = "pipeline",
            .title = "map → filter → sum, f32 (x², keep < ¼)",
            .unit = "floats",
            .where = "host memory in, one number out"};
  p.meta.table_size = 1u << 24;
  p.sizes = s.full ? sweep(s, 1u << 10, 1u << 26, 2, 0) : sweep(s, 1u << 12, 1u << 24, 4, 0);
  auto data = std::make_shared<Data>();
  const std::size_t max = p.sizes.back();
  data->x.resize(max);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : data->x) v = dist(rng);
  for (std::size_t n : p.sizes) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (const float y = data->x[i] * data->x[i]; y < 0.25f) sum += y;
    data->expected.push_back(sum);
  }
  auto poison = [data](std::size_t) { data->result = NAN; };
  auto check = [data, sizes = p.sizes](std::size_t n) -> Status {
    const double want = data->expected[std::find(sizes.begin(), sizes.end(), n) - sizes.begin()];
    // Float sums of millions of terms, grouped differently by each device and comparator, round
    // apart by up to ~4e-4 relative; 1e-3 still catches an inverted filter or a chunk missed or
    // summed twice (each at least a thousandth of the data at the sizes measured).
    if (!(std::fabs(data->result - want) <= 1e-3 * want + 1e-3))
      return Error(Errc::internal, "map → filter → sum: got " + std::to_string(data->result) + ", expected " +
                                       std::to_string(want) + " for " + std::to_string(n) + " floats");
    return {};
  };
  auto add = [&](std::string id, std::string label, metrics::SeriesKind kind, std::function<Status(std::size_t)> run,
                 bool calibrate = false) {
    p.columns.push_back({std::move(id), std::move(label), kind, std::move(run), poison, check, calibrate});
  };
  add("cpu_1", "hetex CPU, 1 thread", metrics::SeriesKind::cpu, [data](std::size_t n) {
    tbb::task_arena one(1);
    return one.execute([&] { return store(*data, chain(*data, n).sum()); });
  });
  const auto cores = std::to_string(d.runtime.cpu().cpu_info()->logical_cores);
  add("cpu_all", "hetex CPU, " + cores + " threads", metrics::SeriesKind::cpu,
      [data](std::size_t n) { return store(*data, chain(*data, n).sum()); });
  if (s.gpus)
    for (std::size_t g = 0; g < d.runtime.gpus().size(); ++g)
      add("gpu" + std::to_string(g), "hetex " + d.gpu_labels[g], metrics::SeriesKind::gpu,
          [data, gpu = d.runtime.gpus()[g]](std::size_t n) { return store(*data, chain(*data, n).on(gpu).sum()); });
  if (s.gpus && !d.gpus.empty()) {
    add(
        "adaptive", "hetex adaptive (CPU or GPU)", metrics::SeriesKind::hybrid,
        [data, sched = d.adaptive.get()](std::size_t n) { return store(*data, chain(*data, n).on(*sched).sum()); },
        true);
    add(
        "split", "hetex split (CPU + GPUs)", metrics::SeriesKind::hybrid,
        [data, sched = d.split.get()](std::size_t n) { return store(*data, chain(*data, n).on(*sched).sum()); }, true);
  }
  add("tbb_reduce", "tbb::parallel_reduce, hand-written", metrics::SeriesKind::comparator, [data](std::size_t n) {
    data->result = hetex_bench::tuned_map_filter_sum(data->x.data(), n);
    return Status{};
  });
  if (s.gpus && !d.gpus.empty() && thrust_available())
    add("thrust", "Thrust on cuda:0, unfused (transform, copy_if, reduce)", metrics::SeriesKind::comparator,
        [data](std::size_t n) { return thrust_map_filter_sum(data->x.data(), n, data->result); });
  return p;
}

}  // namespace hetex::cli::bench
