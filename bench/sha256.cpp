// SPDX-License-Identifier: MIT
// Batched SHA-256, each figure beside the library people use today (OpenSSL libcrypto), in the
// same binary and run. msgs/s is the headline counter; bytes/s counts message bytes.
//   (a) 64-byte messages host->host on the GPU, vs a raw TBB loop over EVP_Digest (the MD fetched
//       once) on every core, the same loop over SHA256_Init/Update/Final, and sha256_cpu, at
//       10K / 1M / 16M messages (goal: GPU >= 600M msgs/s at 16M).
//   (b) 1 KiB messages already on the GPU, 1M and 4M (goal: >= 0.5G msgs/s).
//   (c) sha256_cpu vs the raw loop, serial and all cores (goal: >= 0.9x).
//   (d) "SHA-256 10K": 10K 64-byte messages on one thread, all cores, the GPU.
// Diagnostics: the GPU pipeline with other chunk sizes, pinned in/out (no host copies), and the
// host packing alone (what the pipeline's CPU side can feed).
// GPU results are checked against OpenSSL on a sample before timing; without a GPU the GPU
// benchmarks skip with the reason.
#include <benchmark/benchmark.h>
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "../src/ops/sha256_detail.hpp"
#include "hetex/hetex.hpp"
#include "hetex/ops/sha256.hpp"
#include "gpu_fixture.hpp"

using namespace hetex;
using hetex::ops::Digest;

namespace {

using hetex_bench::need_gpu;
using hetex_bench::rt;
using hetex_bench::streams;

const EVP_MD* fetched_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// n messages of `len` random bytes, packed; built once per shape.
struct Batch {
  std::vector<std::uint8_t> data;
  std::vector<std::uint64_t> offsets;
  ops::MessageBatch view() const { return {data, offsets}; }
  std::size_t size() const { return offsets.size() - 1; }
};
const Batch& batch(std::size_t n, std::size_t len) {
  static std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Batch>> cache;
  auto& b = cache[{n, len}];
  if (b) return *b;
  b = std::make_unique<Batch>();
  b->data.resize(n * len);
  b->offsets.resize(n + 1);
  constexpr std::size_t kPiece = 1 << 16;
  tbb::parallel_for(std::size_t(0), (b->data.size() + kPiece - 1) / kPiece, [&](std::size_t p) {
    std::uint64_t x = 0x9e3779b97f4a7c15ull * (p + 1);
    const std::size_t end = std::min(b->data.size(), (p + 1) * kPiece);
    for (std::size_t i = p * kPiece; i < end; ++i) {  // splitmix64, a byte at a time is plenty fast
      x += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      b->data[i] = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
  });
  for (std::size_t i = 0; i <= n; ++i) b->offsets[i] = i * len;
  return *b;
}

Digest openssl_one(std::span<const std::uint8_t> m) {
  Digest d{};
  EVP_Digest(m.data(), m.size(), d.data(), nullptr, fetched_md(), nullptr);
  return d;
}

// Every digest at a spread of ~4096 indices (and both ends) equals OpenSSL's.
bool sample_ok(const ops::MessageBatch& in, std::span<const Digest> out, benchmark::State& st) {
  const std::size_t n = in.size(), step = std::max<std::size_t>(1, n / 4096);
  for (std::size_t i = 0; i < n; i += step)
    if (out[i] != openssl_one(in[i])) {
      st.SkipWithError(("digest " + std::to_string(i) + " differs from OpenSSL").c_str());
      return false;
    }
  if (n && out[n - 1] != openssl_one(in[n - 1])) {
    st.SkipWithError("last digest differs from OpenSSL");
    return false;
  }
  return true;
}

void report(benchmark::State& st, std::size_t n, std::size_t len) {
  st.counters["msgs/s"] = benchmark::Counter(double(n) * double(st.iterations()), benchmark::Counter::kIsRate);
  st.SetBytesProcessed(std::int64_t(st.iterations()) * std::int64_t(n * len));
}

// ---- the raw library loops (comparators) ---------------------------------------------------

void raw_openssl_all_cores(const ops::MessageBatch& in, std::span<Digest> out) {
  const EVP_MD* md = fetched_md();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, in.size(), 256), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      auto m = in[i];
      EVP_Digest(m.data(), m.size(), out[i].data(), nullptr, md, nullptr);
    }
  });
}

// The same over OpenSSL's deprecated low-level SHA256_Init/Update/Final (no EVP dispatch), which
// sha256_cpu uses: the fastest way to call the library.
void raw_lowlevel_all_cores(const ops::MessageBatch& in, std::span<Digest> out) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, in.size(), 256), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      auto m = in[i];
      SHA256_CTX c;
      SHA256_Init(&c);
      SHA256_Update(&c, m.data(), m.size());
      SHA256_Final(out[i].data(), &c);
    }
  });
}

void BM_OpenSSL_LowLevel_AllCores(benchmark::State& st) {
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  for (auto _ : st) raw_lowlevel_all_cores(b.view(), out);
  report(st, b.size(), st.range(1));
}
void BM_OpenSSL_AllCores(benchmark::State& st) {
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  for (auto _ : st) raw_openssl_all_cores(b.view(), out);
  report(st, b.size(), st.range(1));
}
void BM_OpenSSL_Serial(benchmark::State& st) {
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  const EVP_MD* md = fetched_md();
  const auto in = b.view();
  for (auto _ : st)
    for (std::size_t i = 0; i < in.size(); ++i) {
      auto m = in[i];
      EVP_Digest(m.data(), m.size(), out[i].data(), nullptr, md, nullptr);
    }
  report(st, b.size(), st.range(1));
}

// ---- hetex -----------------------------------------------------------------------------------

void BM_Hetex_Cpu_AllCores(benchmark::State& st) {
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  for (auto _ : st)
    if (auto s = ops::sha256_cpu(b.view(), out); !s) st.SkipWithError(s.error().describe().c_str());
  report(st, b.size(), st.range(1));
}
void BM_Hetex_Cpu_Serial(benchmark::State& st) {
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  for (auto _ : st)
    if (auto s = ops::sha256_cpu_serial(b.view(), out); !s) st.SkipWithError(s.error().describe().c_str());
  report(st, b.size(), st.range(1));
}

// Host memory (std::vector) in and out. range(2): chunk size in MiB (0: default); range(3): 0
// for plain stores into and out of staging instead of streaming stores.
void BM_Hetex_Gpu_HostToHost(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto& b = batch(st.range(0), st.range(1));
  std::vector<Digest> out(b.size());
  detail::sha256::GpuOptions o;
  if (st.range(2) > 0) o.chunk_bytes = std::size_t(st.range(2)) << 20;
  o.streaming_stores = st.range(3) != 0;
  auto run = [&] { return detail::sha256::gpu_with_options(streams(), b.view(), out, o); };
  if (auto s = run(); !s) return st.SkipWithError(s.error().describe().c_str());
  if (!sample_ok(b.view(), out, st)) return;
  for (auto _ : st)
    if (auto s = run(); !s) st.SkipWithError(s.error().describe().c_str());
  report(st, b.size(), st.range(1));
}

// The same with page-locked input and output: DMA straight from and to them, no host copies.
void BM_Hetex_Gpu_PinnedToPinned(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto& b = batch(st.range(0), st.range(1));
  auto data = PinnedBuffer<std::uint8_t>::allocate(b.data.size());
  auto out = PinnedBuffer<Digest>::allocate(b.size());
  if (!data || !out) return st.SkipWithError("pinned allocation failed");
  std::memcpy(data->span().data(), b.data.data(), b.data.size());
  const ops::MessageBatch in{std::span<const std::uint8_t>(data->span()), b.offsets};
  if (auto s = ops::sha256_gpu(streams(), in, out->span()); !s) return st.SkipWithError(s.error().describe().c_str());
  if (!sample_ok(in, out->span(), st)) return;
  for (auto _ : st)
    if (auto s = ops::sha256_gpu(streams(), in, out->span()); !s) st.SkipWithError(s.error().describe().c_str());
  report(st, b.size(), st.range(1));
}

// Already on the device: the kernel alone (plus one launch and one wait per iteration).
void BM_Hetex_Gpu_DeviceResident(benchmark::State& st) {
  if (!need_gpu(st)) return;
  const auto& b = batch(st.range(0), st.range(1));
  Stream& s = streams().front();
  auto data = to_device(s, std::vector<std::uint8_t>(b.data)).get();
  auto offs = to_device(s, std::vector<std::uint64_t>(b.offsets)).get();
  auto out = DeviceBuffer<Digest>::allocate(s.device(), b.size());
  if (!data || !offs || !out) return st.SkipWithError("device upload or allocation failed");
  auto run = [&] { return ops::sha256_gpu_device(s, data->read(), offs->read(), out->write()).get(); };
  if (auto r = run(); !r) return st.SkipWithError(r.error().describe().c_str());
  auto got = download(s, out->read()).get();
  if (!got) return st.SkipWithError(got.error().describe().c_str());
  if (!sample_ok(b.view(), *got, st)) return;
  for (auto _ : st)
    if (auto r = run(); !r) st.SkipWithError(r.error().describe().c_str());
  report(st, b.size(), st.range(1));
}

// The CPU side of the pipeline on one 16 MiB chunk: checking offsets and copying the data into
// pinned staging. Must outrun PCIe (~55 GB/s) for the GPU path not to be host-bound.
void BM_Hetex_PackChunk(benchmark::State& st) {
  const std::size_t len = st.range(1);
  const auto& b = batch(st.range(0), len);
  const std::size_t n = b.size();
  auto staging = PinnedBuffer<std::uint8_t>::allocate(detail::sha256::staging_bytes(n, n * len));
  if (!staging) return st.SkipWithError("pinned allocation failed");
  for (auto _ : st)
    if (auto p = detail::sha256::pack_chunk(b.view(), 0, n, staging->span()); !p)
      st.SkipWithError(p.error().describe().c_str());
  report(st, n, len);
}

// parallel_copy of 64 MiB from pageable memory into pinned memory (range(0): 1 streaming
// stores, 0 plain), the host copy bandwidth the pipeline has per direction.
void BM_Hetex_HostCopyToPinned(benchmark::State& st) {
  constexpr std::size_t kBytes = std::size_t(64) << 20;
  const auto& b = batch(1, kBytes);  // one 64 MiB message: random bytes
  auto dst = PinnedBuffer<std::uint8_t>::allocate(kBytes);
  if (!dst) return st.SkipWithError("pinned allocation failed");
  for (auto _ : st) detail::parallel_copy(dst->span().data(), b.data.data(), kBytes, st.range(0) != 0);
  st.SetBytesProcessed(std::int64_t(st.iterations()) * std::int64_t(kBytes));
}

}  // namespace

constexpr std::int64_t k10K = 10000, k1M = 1 << 20, k4M = 4 << 20, k16M = 16 << 20;

// (a) and (c): 64-byte messages.
BENCHMARK(BM_OpenSSL_AllCores)
    ->Args({k10K, 64})
    ->Args({k1M, 64})
    ->Args({k16M, 64})
    ->Args({k10K, 1024})
    ->Args({k1M, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenSSL_LowLevel_AllCores)
    ->Args({k10K, 64})
    ->Args({k1M, 64})
    ->Args({k16M, 64})
    ->Args({k1M, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_Cpu_AllCores)
    ->Args({k10K, 64})
    ->Args({k1M, 64})
    ->Args({k16M, 64})
    ->Args({k10K, 1024})
    ->Args({k1M, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_Gpu_HostToHost)
    ->Args({k10K, 64, 0, 1})
    ->Args({k1M, 64, 0, 1})
    ->Args({k16M, 64, 0, 1})
    ->Args({k10K, 1024, 0, 1})
    ->Args({k1M, 1024, 0, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// (b)
BENCHMARK(BM_Hetex_Gpu_DeviceResident)
    ->Args({k1M, 1024})
    ->Args({k4M, 1024})
    ->Args({k16M, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// (c) and (d): one thread; 10K rows are the design notes' case.
BENCHMARK(BM_OpenSSL_Serial)
    ->Args({k10K, 64})
    ->Args({k1M, 64})
    ->Args({k10K, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_Cpu_Serial)
    ->Args({k10K, 64})
    ->Args({k1M, 64})
    ->Args({k10K, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// Diagnostics: chunk size and store kind of the host->host path, its ceiling without host
// copies, and what the host side alone sustains.
BENCHMARK(BM_Hetex_Gpu_HostToHost)
    ->Name("BM_Hetex_Gpu_HostToHost_Tuning")
    ->ArgNames({"n", "len", "chunkMiB", "streaming"})
    ->Args({k16M, 64, 4, 1})
    ->Args({k16M, 64, 8, 1})
    ->Args({k16M, 64, 32, 1})
    ->Args({k16M, 64, 64, 1})
    ->Args({k16M, 64, 4, 0})
    ->Args({k16M, 64, 16, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_Gpu_PinnedToPinned)->Args({k16M, 64})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hetex_PackChunk)
    ->Args({256 << 10, 64})
    ->Args({16 << 10, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Hetex_HostCopyToPinned)->Arg(1)->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
