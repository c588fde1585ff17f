// SPDX-License-Identifier: MIT
// bench_pipeline: fused pipelines on the CPU against a hand-written tbb::parallel_reduce, and the
// cost of compiling a run-time kernel again (memory-cache and disk-cache hits). The GPU
// comparisons are in pipeline.cu.

#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "hetex/parallel/pipeline.hpp"
#include "hetex/parallel/rtc.hpp"
#include "tuned_map_filter_sum.hpp"

namespace {

constexpr std::size_t kCpuN = std::size_t(1) << 26;  // 64 Mi floats, 256 MiB

const std::vector<float>& cpu_input() {
  static const std::vector<float> v = [] {
    std::vector<float> x(kCpuN);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> d(-1, 1);
    for (auto& e : x) e = d(rng);
    return x;
  }();
  return v;
}

// The same work as the GPU benchmark: square, keep what is below 0.25, add up.
float hetex_cpu(const std::vector<float>& v) {
  return hetex::pipeline(v).map([](float x) { return x * x; }).filter([](float y) { return y < 0.25f; }).sum().value();
}

float tbb_hand_written(const std::vector<float>& v) { return hetex_bench::tuned_map_filter_sum(v.data(), v.size()); }

template <class F>
void run_cpu(benchmark::State& st, F f, double tolerance) {
  const auto& v = cpu_input();
  // Against a double-precision reference: float sums in different orders differ by rounding.
  double ref = 0;
  for (float x : v)
    if (x * x < 0.25f) ref += double(x * x);
  if (std::fabs(f(v) - ref) > tolerance * ref)
    return st.SkipWithError("result differs from the double-precision reference");
  for (auto _ : st) benchmark::DoNotOptimize(f(v));
  st.SetBytesProcessed(std::int64_t(st.iterations() * kCpuN * sizeof(float)));
  st.counters["input_GBps"] =
      benchmark::Counter(double(kCpuN * sizeof(float)) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// hetex folds eight lanes per task; a plain float loop over a large TBB chunk drifts by a few
// percent of the sum (2% measured on 2 cores), which only says it is not garbage.
void BM_cpu_map_filter_sum_hetex(benchmark::State& st) { run_cpu(st, hetex_cpu, 1e-3); }
void BM_cpu_map_filter_sum_tbb_parallel_reduce(benchmark::State& st) { run_cpu(st, tbb_hand_written, 0.1); }
BENCHMARK(BM_cpu_map_filter_sum_hetex)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cpu_map_filter_sum_tbb_parallel_reduce)->Unit(benchmark::kMillisecond)->UseRealTime();

constexpr const char* kKernel = R"(
extern "C" __global__ void saxpy(const float* x, float* y, float a, unsigned long n) {
  unsigned long i = blockIdx.x * (unsigned long)blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
)";

hetex::rtc::Options rtc_options() {
  hetex::rtc::Options o;
  o.cache_dir = std::filesystem::temp_directory_path() / "hetex-bench-kernels";
  return o;
}

auto compile_saxpy(const std::string& src, const hetex::rtc::Options& o) {
  return hetex::rtc::compile<hetex::ReadView<float>, hetex::ReadWriteView<float>, float, std::size_t>(src, "saxpy", o);
}

// Compiling the same kernel again: a hash of source and options, then a lookup.
void BM_rtc_compile_memory_cache_hit(benchmark::State& st) {
  const auto o = rtc_options();
  if (auto k = compile_saxpy(kKernel, o); !k) return st.SkipWithError(k.error().describe().c_str());
  for (auto _ : st) benchmark::DoNotOptimize(compile_saxpy(kKernel, o).has_value());
}
// A new process compiling a kernel an earlier one compiled: read from the disk cache.
void BM_rtc_compile_disk_cache_hit(benchmark::State& st) {
  const auto o = rtc_options();
  if (auto k = compile_saxpy(kKernel, o); !k) return st.SkipWithError(k.error().describe().c_str());
  for (auto _ : st) {
    hetex::rtc::clear_memory_cache();
    benchmark::DoNotOptimize(compile_saxpy(kKernel, o).has_value());
  }
}
// For scale: a compile that misses both caches (each iteration a new source).
void BM_rtc_compile_cold(benchmark::State& st) {
  auto o = rtc_options();
  o.disk_cache = false;
  std::size_t i = 0;
  for (auto _ : st) {
    auto k = compile_saxpy(std::string(kKernel) + "// " + std::to_string(i++) + "\n", o);
    if (!k) return st.SkipWithError(k.error().describe().c_str());
  }
}
BENCHMARK(BM_rtc_compile_memory_cache_hit)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_rtc_compile_disk_cache_hit)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_rtc_compile_cold)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
