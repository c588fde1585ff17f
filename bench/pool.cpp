// SPDX-License-Identifier: MIT
// Pools against what people write by hand, in the same binary and run:
//   device: DevicePool allocate+free vs cudaMalloc/cudaFree vs cudaMallocAsync/cudaFreeAsync
//     (the device's default pool, and a pool of one's own that caches everything), without and
//     with a stream synchronize per allocation (one batch each);
//   pinned: PinnedPool acquire+release vs cudaHostAlloc/cudaFreeHost vs malloc+cudaHostRegister
//     (what PinnedBuffer does without a pool).
// Without a GPU every benchmark skips with the reason.
#include <benchmark/benchmark.h>

#include "hetex/hetex.hpp"
#include "hetex/memory/pool.hpp"
#include "gpu_fixture.hpp"

using namespace hetex;

namespace rawpool {
void* device_malloc(std::size_t bytes);
void device_free(void* p);
void* malloc_async(std::size_t bytes);         // the device's default pool
void* malloc_async_cached(std::size_t bytes);  // a pool of its own, release threshold = all
void free_async(void* p);
void sync();
void* host_alloc(std::size_t bytes);
void free_host(void* p);
void* register_alloc(std::size_t bytes);
void unregister_free(void* p);
}  // namespace rawpool

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;

Stream& stream() {
  static Stream s = Stream::create(rt().gpus().front()).value();
  return s;
}
DevicePool& device_pool() {
  static std::shared_ptr<DevicePool> p = DevicePool::shared(rt().gpus().front()).value();
  return *p;
}

// ---- device ----

void BM_Hetex_DevicePool(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  auto& pool = device_pool();
  for (auto _ : st) {
    auto b = pool.allocate<std::byte>(stream(), n);
    if (!b) {
      st.SkipWithError(b.error().describe().c_str());
      break;
    }
    benchmark::DoNotOptimize(b->view().data());
  }
  (void)stream().synchronize();
}
void BM_Raw_MallocAsync(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) rawpool::free_async(rawpool::malloc_async(n));
  rawpool::sync();
}
void BM_Raw_Malloc(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) rawpool::device_free(rawpool::device_malloc(n));
}

// One batch each: allocate, free, wait for the stream. The default pool gives its memory back
// at every synchronize; hetex's pool keeps it.
void BM_Hetex_DevicePool_Sync(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  auto& pool = device_pool();
  for (auto _ : st) {
    {
      auto b = pool.allocate<std::byte>(stream(), n);
      if (!b) {
        st.SkipWithError(b.error().describe().c_str());
        break;
      }
      benchmark::DoNotOptimize(b->view().data());
    }
    (void)stream().synchronize();
  }
}
void BM_Raw_MallocAsync_Sync(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) {
    rawpool::free_async(rawpool::malloc_async(n));
    rawpool::sync();
  }
}
void BM_Raw_MallocAsyncCachedPool_Sync(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) {
    rawpool::free_async(rawpool::malloc_async_cached(n));
    rawpool::sync();
  }
}

// ---- pinned ----

void BM_Hetex_PinnedPool(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  auto& pool = PinnedPool::shared();
  for (auto _ : st) {
    auto b = pool.acquire<std::byte>(n);
    if (!b) {
      st.SkipWithError(b.error().describe().c_str());
      break;
    }
    benchmark::DoNotOptimize(b->span().data());
  }
  st.counters["hits"] = double(pool.stats().hits);
}
void BM_Hetex_PinnedBuffer_Unpooled(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) {
    auto b = PinnedBuffer<std::byte>::allocate(n);
    if (!b) {
      st.SkipWithError(b.error().describe().c_str());
      break;
    }
    benchmark::DoNotOptimize(b->span().data());
  }
}
void BM_Raw_HostAlloc(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) rawpool::free_host(rawpool::host_alloc(n));
}
void BM_Raw_MallocHostRegister(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto n = std::size_t(st.range(0));
  for (auto _ : st) rawpool::unregister_free(rawpool::register_alloc(n));
}

void device_sizes(benchmark::internal::Benchmark* b) {
  for (long n : {4L << 10, 1L << 20, 64L << 20}) b->Arg(n);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void pinned_sizes(benchmark::internal::Benchmark* b) {
  for (long n : {64L << 10, 1L << 20, 64L << 20}) b->Arg(n);
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_Hetex_DevicePool)->Apply(device_sizes);
BENCHMARK(BM_Raw_MallocAsync)->Apply(device_sizes);
BENCHMARK(BM_Raw_Malloc)->Apply(device_sizes);
BENCHMARK(BM_Hetex_DevicePool_Sync)->Apply(device_sizes);
BENCHMARK(BM_Raw_MallocAsync_Sync)->Apply(device_sizes);
BENCHMARK(BM_Raw_MallocAsyncCachedPool_Sync)->Apply(device_sizes);
BENCHMARK(BM_Hetex_PinnedPool)->Apply(pinned_sizes);
BENCHMARK(BM_Hetex_PinnedBuffer_Unpooled)->Apply(pinned_sizes);
BENCHMARK(BM_Raw_HostAlloc)->Apply(pinned_sizes);
BENCHMARK(BM_Raw_MallocHostRegister)->Apply(pinned_sizes);
BENCHMARK_MAIN();
