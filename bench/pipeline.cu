// SPDX-License-Identifier: MIT
// GPU halves of bench_pipeline: hetex's fused pipelines on a device buffer against what a CUDA
// programmer writes by hand (CUB over a transform iterator, CUB's selection) and against the
// unfused Thrust chain. Every variant ends with its result on the host, as a caller needs it.
// Input: 256 Mi random floats in [-1, 1) (never zeros), checked against each other before timing.

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cub/device/device_reduce.cuh>
#include <cub/device/device_select.cuh>
#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>
#include <thrust/transform.h>

#include <cmath>
#include <cstdint>
#include <optional>

#include "hetex/core/runtime.hpp"
#include "hetex/parallel/pipeline.hpp"

namespace {

constexpr std::size_t kN = std::size_t(1) << 28;  // 256 Mi floats, 1 GiB

__global__ void fill_random(float* x, std::size_t n, std::uint32_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    std::uint32_t h = static_cast<std::uint32_t>(i) * 0x9E3779B9u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    x[i] = static_cast<float>(h >> 8) * (2.0f / 16777216.0f) - 1.0f;
  }
}

// The work: square, keep what is below 0.25, add up.
struct Square {
  using hetex_device_callable = void;
  __host__ __device__ float operator()(float x) const { return x * x; }
};
struct Below {
  using hetex_device_callable = void;
  __host__ __device__ bool operator()(float y) const { return y < 0.25f; }
};
struct SquareKeptOrZero {  // the hand-fused transform a CUB user writes
  __host__ __device__ float operator()(float x) const {
    const float y = x * x;
    return y < 0.25f ? y : 0.0f;
  }
};
struct KeepSmall {  // filter→collect: keep |x| < 0.5 (about half)
  using hetex_device_callable = void;
  __host__ __device__ bool operator()(float x) const { return x < 0.5f && x > -0.5f; }
};

struct Data {
  hetex::Device gpu;
  std::optional<hetex::DeviceBuffer<float>> x, out;
  float* scratch = nullptr;  // for the unfused chain and the comparators' output
  float* scratch2 = nullptr;
  void* temp = nullptr;
  std::size_t temp_bytes = 0;
  int* d_count = nullptr;
  float* d_sum = nullptr;
  cudaStream_t stream = nullptr;
  std::string error;
};

Data* data() {
  static Data* d = [] {
    auto* s = new Data;
    auto rt = hetex::Runtime::create().value();
    if (!rt.has_gpu()) {
      s->error = "no GPU: " + rt.gpu_unavailable_reason();
      return s;
    }
    s->gpu = rt.gpus().front();
    s->x.emplace(hetex::DeviceBuffer<float>::allocate(s->gpu, kN).value());
    s->out.emplace(hetex::DeviceBuffer<float>::allocate(s->gpu, kN).value());
    cudaSetDevice(s->gpu.id().index);
    cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    fill_random<<<4096, 256, 0, s->stream>>>(s->x->view().data(), kN, 12345u);
    cudaMalloc(&s->scratch, kN * sizeof(float));
    cudaMalloc(&s->scratch2, kN * sizeof(float));
    cudaMalloc(&s->d_count, sizeof(int));
    cudaMalloc(&s->d_sum, sizeof(float));
    // Temp storage for both comparators, sized once (they then cost no allocation per run).
    std::size_t a = 0, b = 0;
    auto in = thrust::make_transform_iterator(s->x->view().data(), SquareKeptOrZero{});
    cub::DeviceReduce::Reduce(nullptr, a, in, s->d_sum, int(kN), cuda::std::plus<>{}, 0.0f, s->stream);
    cub::DeviceSelect::If(nullptr, b, s->x->view().data(), s->scratch, s->d_count, int(kN), KeepSmall{}, s->stream);
    s->temp_bytes = std::max(a, b);
    cudaMalloc(&s->temp, s->temp_bytes);
    if (cudaStreamSynchronize(s->stream) != cudaSuccess || cudaGetLastError() != cudaSuccess) s->error = "setup failed";
    return s;
  }();
  return d;
}

float cub_fused_sum(Data& d) {
  auto in = thrust::make_transform_iterator(d.x->view().data(), SquareKeptOrZero{});
  std::size_t bytes = d.temp_bytes;
  cub::DeviceReduce::Reduce(d.temp, bytes, in, d.d_sum, int(kN), cuda::std::plus<>{}, 0.0f, d.stream);
  float h = 0;
  cudaMemcpyAsync(&h, d.d_sum, sizeof(float), cudaMemcpyDeviceToHost, d.stream);
  cudaStreamSynchronize(d.stream);
  return h;
}

float thrust_unfused_sum(Data& d) {
  auto policy = thrust::cuda::par_nosync.on(d.stream);
  thrust::device_ptr<const float> x(d.x->view().data());
  thrust::device_ptr<float> t(d.scratch), u(d.scratch2);
  thrust::transform(policy, x, x + kN, t, Square{});
  auto end = thrust::copy_if(policy, t, t + kN, u, Below{});
  float s = thrust::reduce(thrust::cuda::par.on(d.stream), u, end, 0.0f);
  return s;
}

float hetex_fused_sum(Data& d) { return hetex::pipeline(*d.x).map(Square{}).filter(Below{}).sum().value(); }

int cub_select(Data& d) {
  std::size_t bytes = d.temp_bytes;
  cub::DeviceSelect::If(d.temp, bytes, d.x->view().data(), d.scratch, d.d_count, int(kN), KeepSmall{}, d.stream);
  int h = 0;
  cudaMemcpyAsync(&h, d.d_count, sizeof(int), cudaMemcpyDeviceToHost, d.stream);
  cudaStreamSynchronize(d.stream);
  return h;
}

std::size_t hetex_select(Data& d) { return hetex::pipeline(*d.x).filter(KeepSmall{}).collect_into(*d.out).value(); }

bool close(double a, double b) { return std::fabs(a - b) <= 1e-4 * std::fabs(b) + 1e-3; }

template <class F>
void run_sum(benchmark::State& st, F f) {
  Data& d = *data();
  if (!d.error.empty()) return st.SkipWithError(d.error.c_str());
  const double expect = cub_fused_sum(d);
  if (!close(f(d), expect)) return st.SkipWithError("result differs from the CUB comparator");
  for (auto _ : st) benchmark::DoNotOptimize(f(d));
  st.SetBytesProcessed(std::int64_t(st.iterations() * kN * sizeof(float)));
  st.counters["input_GBps"] =
      benchmark::Counter(double(kN * sizeof(float)) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

template <class F>
void run_select(benchmark::State& st, F f) {
  Data& d = *data();
  if (!d.error.empty()) return st.SkipWithError(d.error.c_str());
  const std::size_t kept = static_cast<std::size_t>(cub_select(d));
  if (static_cast<std::size_t>(f(d)) != kept) return st.SkipWithError("selected count differs from CUB's");
  for (auto _ : st) benchmark::DoNotOptimize(f(d));
  // Bytes moved: the input read plus the survivors written.
  const double bytes = double(kN + kept) * sizeof(float);
  st.SetBytesProcessed(std::int64_t(double(st.iterations()) * bytes));
  st.counters["moved_GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["kept_fraction"] = double(kept) / double(kN);
}

void BM_gpu_map_filter_sum_hetex(benchmark::State& st) { run_sum(st, hetex_fused_sum); }
void BM_gpu_map_filter_sum_cub_transform_reduce(benchmark::State& st) { run_sum(st, cub_fused_sum); }
void BM_gpu_map_filter_sum_thrust_unfused(benchmark::State& st) { run_sum(st, thrust_unfused_sum); }
void BM_gpu_filter_collect_hetex(benchmark::State& st) { run_select(st, hetex_select); }
void BM_gpu_filter_collect_cub_select_if(benchmark::State& st) { run_select(st, cub_select); }

BENCHMARK(BM_gpu_map_filter_sum_hetex)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gpu_map_filter_sum_cub_transform_reduce)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gpu_map_filter_sum_thrust_unfused)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gpu_filter_collect_hetex)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_gpu_filter_collect_cub_select_if)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
