// SPDX-License-Identifier: MIT
// Foundation benchmarks, each beside its raw-CUDA comparator in the same binary and run:
//   pinned H2D/D2H through hetex vs cudaMemcpyAsync on pinned memory (goal: >= 90%),
//   upload from an ordinary std::vector vs cudaMemcpy from pageable memory (goal: >= 2x),
//   an empty kernel through Stream::enqueue + Future::get vs launch + cudaStreamSynchronize (<= 1.1x),
//   and vs launch + an event polled to completion (the part any event-based future pays).
// Without a GPU every benchmark skips with the reason, except the host's own copy rate (the
// ceiling of every path that stages pageable memory): hetex's parallel_copy on all cores against
// one core's memcpy, 1 GiB between two warm pageable buffers.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>
#include <random>

#include "hetex/hetex.hpp"
#include "raw_cuda.hpp"
#include "gpu_fixture.hpp"

using namespace hetex;

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;

Stream& stream() {
  static Stream s = Stream::create(rt().gpus().front()).value();
  return s;
}
void randomize(void* p, std::size_t bytes) {
  std::mt19937_64 rng(bytes);
  auto* w = static_cast<std::uint64_t*>(p);
  for (std::size_t i = 0; i < bytes / 8; ++i) w[i] = rng();
}

constexpr std::size_t kBytes = std::size_t(256) << 20;

void BM_Raw_H2D_Pinned(benchmark::State& st) {
  if (!need_gpu(st)) return;
  void* h = raw::pinned_alloc(kBytes);
  void* d = raw::device_alloc(kBytes);
  randomize(h, kBytes);
  for (auto _ : st) raw::copy_sync(d, h, kBytes);
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
  raw::device_free(d);
  raw::pinned_free(h);
}
void BM_Hetex_H2D_Pinned(benchmark::State& st) {
  if (!need_gpu(st)) return;
  auto h = PinnedBuffer<std::uint64_t>::allocate(kBytes / 8).value();
  auto d = DeviceBuffer<std::uint64_t>::allocate(rt().gpus().front(), kBytes / 8).value();
  randomize(h.span().data(), kBytes);
  for (auto _ : st) {
    auto c = upload(stream(), std::span<const std::uint64_t>(h.span()), d.write());
    if (!c.wait()) st.SkipWithError("upload failed");
  }
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
}
void BM_Raw_D2H_Pinned(benchmark::State& st) {
  if (!need_gpu(st)) return;
  void* h = raw::pinned_alloc(kBytes);
  void* d = raw::device_alloc(kBytes);
  randomize(h, kBytes);
  raw::copy_sync(d, h, kBytes);
  for (auto _ : st) raw::copy_sync(h, d, kBytes);
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
  raw::device_free(d);
  raw::pinned_free(h);
}
void BM_Hetex_D2H_Pinned(benchmark::State& st) {
  if (!need_gpu(st)) return;
  auto h = PinnedBuffer<std::uint64_t>::allocate(kBytes / 8).value();
  randomize(h.span().data(), kBytes);
  std::vector<std::uint64_t> init(h.span().begin(), h.span().end());
  auto d = to_device(stream(), std::move(init)).get().value();
  for (auto _ : st) {
    auto c = download(stream(), d.read(), h.span());
    if (!c.wait()) st.SkipWithError("download failed");
  }
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
}
void BM_Raw_H2D_Pageable(benchmark::State& st) {
  if (!need_gpu(st)) return;
  std::vector<std::uint64_t> h(kBytes / 8);
  randomize(h.data(), kBytes);
  void* d = raw::device_alloc(kBytes);
  for (auto _ : st) raw::memcpy_blocking(d, h.data(), kBytes);
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
  raw::device_free(d);
}
void BM_Hetex_H2D_Pageable(benchmark::State& st) {
  if (!need_gpu(st)) return;
  std::vector<std::uint64_t> h(kBytes / 8);
  randomize(h.data(), kBytes);
  auto d = DeviceBuffer<std::uint64_t>::allocate(rt().gpus().front(), kBytes / 8).value();
  for (auto _ : st) {
    auto c = upload(stream(), std::span<const std::uint64_t>(h), d.write());
    if (!c.wait()) st.SkipWithError("upload failed");
  }
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
}
void BM_Raw_D2H_Pageable(benchmark::State& st) {
  if (!need_gpu(st)) return;
  std::vector<std::uint64_t> h(kBytes / 8);
  randomize(h.data(), kBytes);
  void* d = raw::device_alloc(kBytes);
  raw::memcpy_blocking(d, h.data(), kBytes);
  for (auto _ : st) raw::memcpy_blocking(h.data(), d, kBytes);
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
  raw::device_free(d);
}
void BM_Hetex_D2H_Pageable(benchmark::State& st) {
  if (!need_gpu(st)) return;
  std::vector<std::uint64_t> h(kBytes / 8);
  randomize(h.data(), kBytes);
  auto d = to_device(stream(), std::vector<std::uint64_t>(h)).get().value();
  for (auto _ : st) {
    auto c = download(stream(), d.read(), std::span<std::uint64_t>(h));
    if (!c.wait()) st.SkipWithError("download failed");
  }
  st.SetBytesProcessed(std::int64_t(st.iterations() * kBytes));
}
void BM_Raw_EmptyKernel_LaunchSync(benchmark::State& st) {
  if (!need_gpu(st)) return;
  for (auto _ : st) raw::empty_launch_sync();
}
// What any event-based completion costs: the part of a Future's round trip a raw launch + sync
// does not pay.
void BM_Raw_EmptyKernel_LaunchEventPoll(benchmark::State& st) {
  if (!need_gpu(st)) return;
  for (auto _ : st) raw::empty_launch_event_poll(false);
}
// What a blocking-sync event (one a waiter can sleep on in the driver) adds to each record.
void BM_Raw_EmptyKernel_LaunchBlockingEventPoll(benchmark::State& st) {
  if (!need_gpu(st)) return;
  for (auto _ : st) raw::empty_launch_event_poll(true);
}
void BM_Hetex_EmptyKernel_Future(benchmark::State& st) {
  if (!need_gpu(st)) return;
  for (auto _ : st) {
    auto r = stream().enqueue([](NativeStream s) { raw::empty_launch(s); }).get();
    if (!r) st.SkipWithError(r.error().describe().c_str());
  }
}
void BM_Hetex_EmptyKernel_Then(benchmark::State& st) {
  if (!need_gpu(st)) return;
  for (auto _ : st) {
    auto r = stream().enqueue([](NativeStream s) { raw::empty_launch(s); }).then([] { return 1; }).get();
    if (!r) st.SkipWithError(r.error().describe().c_str());
  }
}

}  // namespace

// Host memory: each byte copied is one read and one (streaming) write of DRAM.
constexpr std::size_t kHostBytes = std::size_t(1) << 30;
struct HostBuffers {
  std::vector<std::uint8_t> src = std::vector<std::uint8_t>(kHostBytes), dst = std::vector<std::uint8_t>(kHostBytes);
  HostBuffers() { randomize(src.data(), kHostBytes); }
};
HostBuffers& host_buffers() {
  static HostBuffers b;
  return b;
}
void BM_Host_Memcpy_OneCore(benchmark::State& st) {
  auto& b = host_buffers();
  for (auto _ : st) std::memcpy(b.dst.data(), b.src.data(), kHostBytes);
  if (std::memcmp(b.dst.data(), b.src.data(), 4096) != 0) st.SkipWithError("copy differs");
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * kHostBytes));
}
void BM_Host_ParallelCopy_AllCores(benchmark::State& st) {
  auto& b = host_buffers();
  for (auto _ : st) hetex::detail::parallel_copy(b.dst.data(), b.src.data(), kHostBytes);
  if (std::memcmp(b.dst.data() + kHostBytes - 4096, b.src.data() + kHostBytes - 4096, 4096) != 0)
    st.SkipWithError("copy differs");
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * kHostBytes));
}

BENCHMARK(BM_Raw_H2D_Pinned)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_H2D_Pinned)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_D2H_Pinned)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_D2H_Pinned)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_H2D_Pageable)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_H2D_Pageable)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_D2H_Pageable)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_D2H_Pageable)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Raw_EmptyKernel_LaunchSync)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Raw_EmptyKernel_LaunchEventPoll)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Raw_EmptyKernel_LaunchBlockingEventPoll)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Hetex_EmptyKernel_Future)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Hetex_EmptyKernel_Then)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Host_Memcpy_OneCore)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Host_ParallelCopy_AllCores)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
