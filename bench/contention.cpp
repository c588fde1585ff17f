// SPDX-License-Identifier: MIT
// What the CPU and a GPU each keep of their speed when they hash at the same time: the question
// behind the scheduler's split (CPU + GPU throughput falls short of the sum of each alone).
// Each run hashes SHA-256 for one second on both sides at once and reports each side's rate:
//   cpu_threads   threads of the CPU side's TBB arena (0: CPU idle)
//   gpu_mode      0 GPU idle; 1 sha256_gpu from pageable memory (host copies into pinned staging);
//                 2 sha256_gpu from pinned memory (DMA only, no host copies); 3 pinned upload of
//                 the batch's bytes, no kernel; 4 pageable upload (staging copies + DMA), no kernel
//   gpu_threads   threads of the GPU side's arena, which its staging copies run in; negative:
//                 that many at high priority, the CPU side's arena at normal priority (TBB then
//                 lends the CPU's workers to the GPU's copies whenever those have work)
// Rates of modes 3 and 4 count message-equivalents (bytes / len). Comparing a row with the rows
// where one side is idle separates the causes: cores taken by staging copies (mode 1 vs 2, and
// the gpu_threads sweep) from host memory bandwidth (modes 2 and 3 take no cores).
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <map>
#include <cstring>
#include <thread>
#include <vector>

#include "hetex/hetex.hpp"
#include "hetex/ops/sha256.hpp"
#include "gpu_fixture.hpp"

using namespace hetex;
using hetex::ops::Digest;

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;
using hetex_bench::streams;
using Clock = std::chrono::steady_clock;

struct Batch {
  std::vector<std::uint8_t> data;
  std::vector<std::uint64_t> offsets;
  Batch(std::size_t n, std::size_t len, std::uint64_t seed) : data(n * len), offsets(n + 1) {
    std::uint64_t x = seed;
    for (auto& b : data) {  // xorshift: random bytes, never zeros
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = std::uint8_t(x >> 24);
    }
    for (std::size_t i = 0; i <= n; ++i) offsets[i] = i * len;
  }
  ops::MessageBatch view() const { return {data, offsets}; }
  std::size_t size() const { return offsets.size() - 1; }
};

// Runs `once` (which returns the messages it did) until the deadline; messages per second.
template <class F>
double rate_until(Clock::time_point deadline, F&& once, benchmark::State& st) {
  const auto t0 = Clock::now();
  std::size_t done = 0;
  while (Clock::now() < deadline) {
    auto n = once();
    if (!n) {
      st.SkipWithError(n.error().describe().c_str());
      return 0;
    }
    done += *n;
  }
  return double(done) / std::chrono::duration<double>(Clock::now() - t0).count();
}

void BM_Concurrent(benchmark::State& st) {
  const std::size_t len = st.range(0);
  const int cpu_threads = int(st.range(1)), gpu_mode = int(st.range(2)), gpu_threads = int(st.range(3));
  if (gpu_mode && !need_gpu(st)) return;
  // Built once per length: generating 320 MB per run would cost more than the run.
  static std::map<std::size_t, std::pair<Batch, Batch>> batches;
  if (!batches.count(len))
    batches.try_emplace(len, Batch(len == 64 ? 1 << 20 : 1 << 17, len, 7),
                        Batch(len == 64 ? 4 << 20 : 1 << 18, len, 11));
  const Batch& cpu_batch = batches.at(len).first;
  const Batch& gpu_batch = batches.at(len).second;
  std::vector<Digest> cpu_out(cpu_batch.size()), gpu_out(gpu_batch.size());
  std::optional<PinnedBuffer<std::uint8_t>> pinned_in;
  std::optional<PinnedBuffer<Digest>> pinned_out;
  std::optional<DeviceBuffer<std::uint8_t>> device_in;
  if (gpu_mode >= 2 && gpu_mode <= 3) {
    pinned_in = PinnedBuffer<std::uint8_t>::allocate(gpu_batch.data.size()).value();
    std::memcpy(pinned_in->span().data(), gpu_batch.data.data(), gpu_batch.data.size());
    pinned_out = PinnedBuffer<Digest>::allocate(gpu_batch.size()).value();
  }
  if (gpu_mode >= 3)
    device_in = DeviceBuffer<std::uint8_t>::allocate(rt().gpus().front(), gpu_batch.data.size()).value();

  auto gpu_once = [&]() -> Result<std::size_t> {
    Stream& s = streams().front();
    switch (gpu_mode) {
      case 1: HETEX_TRY_VOID(ops::sha256_gpu(streams(), gpu_batch.view(), gpu_out)); break;
      case 2:
        HETEX_TRY_VOID(ops::sha256_gpu(streams(), {std::span<const std::uint8_t>(pinned_in->span()), gpu_batch.offsets},
                                       pinned_out->span()));
        break;
      default: {
        const std::uint8_t* src = gpu_mode == 3 ? pinned_in->span().data() : gpu_batch.data.data();
        HETEX_TRY_VOID(upload(s, std::span<const std::uint8_t>(src, gpu_batch.data.size()), device_in->write()).wait());
      }
    }
    return gpu_batch.size();
  };
  auto cpu_once = [&]() -> Result<std::size_t> {
    HETEX_TRY_VOID(ops::sha256_cpu(cpu_batch.view(), cpu_out));
    return cpu_batch.size();
  };
  if (gpu_mode && !gpu_once()) return st.SkipWithError("the GPU side failed before timing");

  double cpu_rate = 0, gpu_rate = 0;
  for (auto _ : st) {
    const auto deadline = Clock::now() + std::chrono::seconds(1);
    std::thread gpu([&] {
      if (!gpu_mode) return;
      tbb::task_arena arena(std::abs(gpu_threads), 1,
                            gpu_threads < 0 ? tbb::task_arena::priority::high : tbb::task_arena::priority::normal);
      arena.execute([&] { gpu_rate = rate_until(deadline, gpu_once, st); });
    });
    if (cpu_threads) {
      tbb::task_arena arena(cpu_threads);
      arena.execute([&] { cpu_rate = rate_until(deadline, cpu_once, st); });
    }
    gpu.join();
  }
  st.counters["cpu msgs/s"] = cpu_rate;
  st.counters["gpu msgs/s"] = gpu_rate;
  st.counters["sum msgs/s"] = cpu_rate + gpu_rate;
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"len", "cpu_threads", "gpu_mode", "gpu_threads"});
  for (int len : {64, 1024}) {
    for (int c : {16, 14, 12, 10}) b->Args({len, c, 0, 0});  // the CPU alone
    for (int g : {16, 6, 4, 2}) b->Args({len, 0, 1, g});     // the GPU alone, from pageable memory
    b->Args({len, 0, 2, 2});                                 // ... from pinned memory
    b->Args({len, 0, 3, 1});                                 // pinned DMA alone
    b->Args({len, 0, 4, 4});                                 // pageable upload alone
    b->Args({len, 14, 1, 16});  // both, the GPU's staging free to use any core (no cores set aside)
    b->Args({len, 14, 1, 2});
    b->Args({len, 12, 1, 4});
    b->Args({len, 10, 1, 6});
    b->Args({len, 14, 2, 2});
    b->Args({len, 16, 2, 1});
    b->Args({len, 16, 3, 1});
    b->Args({len, 12, 4, 4});
    b->Args({len, 16, 1, -16});
    b->Args({len, 14, 1, -16});
    b->Args({len, 16, 2, -16});
    b->Args({len, 12, 2, 4});
  }
}

}  // namespace

BENCHMARK(BM_Concurrent)->Apply(shapes)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
