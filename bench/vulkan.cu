// SPDX-License-Identifier: MIT
// The CUDA rows of bench_vulkan that need device code: vector add on device-resident buffers
// (a grid-stride float4 kernel, as src/ops/vector.cu's), and hetex's CUDA pipeline (CUB over a
// fused transform) for the reduction, device-resident and host -> host. Inputs are random floats
// in [-1, 1), never zeros; sizes are vulkan_sizes.hpp's GPU sizes.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "gpu_fixture.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/parallel/pipeline.hpp"
#include "vulkan_sizes.hpp"

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;
using hetex_bench::vulkan_sizes::kGpu;

__global__ void fill_random(float* x, std::size_t n, std::uint32_t seed) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    std::uint32_t h = static_cast<std::uint32_t>(i) * 0x9E3779B9u ^ seed;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    x[i] = static_cast<float>((h >> 8) | 1u) * (2.0f / 16777216.0f) - 1.0f;
  }
}

__global__ void add_kernel(const float4* __restrict__ x, const float4* __restrict__ y, float4* __restrict__ o,
                           std::size_t quads) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < quads;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const float4 a = x[i], b = y[i];
    o[i] = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
  }
}

struct Square {
  using hetex_device_callable = void;
  __host__ __device__ float operator()(float x) const { return x * x; }
};
struct Below {
  using hetex_device_callable = void;
  __host__ __device__ bool operator()(float y) const { return y < 0.25f; }
};

void rate(benchmark::State& st, double items, double bytes) {
  st.counters["items/s"] = benchmark::Counter(items * double(st.iterations()), benchmark::Counter::kIsRate);
  st.counters["GB/s"] = benchmark::Counter(bytes * 1e-9 * double(st.iterations()), benchmark::Counter::kIsRate);
}

void BM_VectorAdd_Resident_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.vector;
  const hetex::Device gpu = rt().gpus().front();
  auto x = hetex::DeviceBuffer<float>::allocate(gpu, n), y = hetex::DeviceBuffer<float>::allocate(gpu, n),
       o = hetex::DeviceBuffer<float>::allocate(gpu, n);
  if (!x || !y || !o) return st.SkipWithError("device allocation failed");
  cudaSetDevice(gpu.id().index);
  fill_random<<<4096, 256>>>(x->view().data(), n, 1);
  fill_random<<<4096, 256>>>(y->view().data(), n, 2);
  if (cudaDeviceSynchronize() != cudaSuccess) return st.SkipWithError("filling the inputs failed");
  const auto* x4 = reinterpret_cast<const float4*>(x->view().data());
  const auto* y4 = reinterpret_cast<const float4*>(y->view().data());
  auto* o4 = reinterpret_cast<float4*>(o->view().data());
  for (auto _ : st) {
    add_kernel<<<4096, 256>>>(x4, y4, o4, n / 4);
    if (cudaDeviceSynchronize() != cudaSuccess) return st.SkipWithError("the kernel failed");
  }
  rate(st, double(n), 12.0 * double(n));
}

void BM_Reduce_Resident_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.reduce_resident;
  const hetex::Device gpu = rt().gpus().front();
  auto x = hetex::DeviceBuffer<float>::allocate(gpu, n);
  if (!x) return st.SkipWithError("device allocation failed");
  cudaSetDevice(gpu.id().index);
  fill_random<<<4096, 256>>>(x->view().data(), n, 3);
  if (cudaDeviceSynchronize() != cudaSuccess) return st.SkipWithError("filling the input failed");
  auto run = [&] { return hetex::pipeline(*x).map(Square{}).filter(Below{}).sum(); };
  if (auto r = run(); !r) return st.SkipWithError(r.error().describe().c_str());
  for (auto _ : st) benchmark::DoNotOptimize(run());
  rate(st, double(n), 4.0 * double(n));
}

void BM_Reduce_HostToHost_Cuda(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const std::size_t n = kGpu.reduce_host;
  static const std::vector<float> v = [n] {
    std::vector<float> h(n);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (auto& e : h) {
      do e = d(rng);
      while (e == 0.0f);
    }
    return h;
  }();
  const hetex::Device gpu = rt().gpus().front();
  auto run = [&] { return hetex::pipeline(v).on(gpu).map(Square{}).filter(Below{}).sum(); };
  if (auto r = run(); !r) return st.SkipWithError(r.error().describe().c_str());
  for (auto _ : st) benchmark::DoNotOptimize(run());
  rate(st, double(n), 4.0 * double(n));
}

}  // namespace

BENCHMARK(BM_VectorAdd_Resident_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Reduce_Resident_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Reduce_HostToHost_Cuda)->Unit(benchmark::kMillisecond)->UseRealTime();
