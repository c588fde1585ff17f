// SPDX-License-Identifier: MIT
// Ed25519 batch verification, 64-byte messages, host memory to host memory:
//   GPU (ed25519_verify_gpu, 3 streams) vs the comparator, libsodium on every core (a raw TBB
//   loop of crypto_sign_verify_detached), vs ed25519_verify_cpu, and libsodium on one thread.
// Batches 64 .. 8K (where the CPU/GPU crossover lies) and 64K / 256K / 1M; the 1K rows are the
// design notes' "Ed25519 1K" case. BM_Ed25519_Crossover scans batch sizes and reports the
// smallest one where the GPU beats all cores. Rates are in the verifies_per_s counter.
// The signatures are real (about 5% corrupted); every GPU verdict is checked against libsodium
// once before anything is timed. Without a GPU the GPU benchmarks skip with the reason.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "hetex/hetex.hpp"
#include "hetex/ops/ed25519.hpp"
#include "gpu_fixture.hpp"

using namespace hetex;
using namespace hetex::ops;

namespace {

using hetex_bench::need_gpu;
using hetex_bench::streams;

constexpr std::size_t kMaxBatch = std::size_t(1) << 20;
constexpr std::size_t kMessageBytes = 64;

struct Data {
  std::vector<PublicKey> keys;
  std::vector<Signature> sigs;
  PackedMessages msgs;
  VerifyBatch batch(std::size_t n) const { return VerifyBatch{keys, sigs, msgs.view()}.slice(0, n); }
};

// 1M signatures by 4096 keys over random 64-byte messages; 1 in 20 corrupted.
const Data& data() {
  static const Data d = [] {
    if (sodium_init() < 0) std::abort();
    Data x;
    constexpr std::size_t kKeys = 4096;
    std::vector<std::array<std::uint8_t, 64>> sks(kKeys);
    std::vector<PublicKey> pks(kKeys);
    tbb::parallel_for(std::size_t(0), kKeys, [&](std::size_t k) {
      std::array<std::uint8_t, 32> seed{};
      std::mt19937_64 rng(k + 1);
      for (auto& b : seed) b = std::uint8_t(rng());
      crypto_sign_seed_keypair(pks[k].data(), sks[k].data(), seed.data());
    });
    std::vector<std::uint8_t> bytes(kMaxBatch * kMessageBytes);
    std::mt19937_64 rng(2024);
    for (auto& b : bytes) b = std::uint8_t(rng());
    x.keys.resize(kMaxBatch);
    x.sigs.resize(kMaxBatch);
    tbb::parallel_for(std::size_t(0), kMaxBatch, [&](std::size_t i) {
      const std::uint8_t* m = bytes.data() + i * kMessageBytes;
      x.keys[i] = pks[i % kKeys];
      crypto_sign_detached(x.sigs[i].data(), nullptr, m, kMessageBytes, sks[i % kKeys].data());
      if (i % 20 == 7) x.sigs[i][i % 64] ^= 0x10;
    });
    x.msgs.reserve(kMaxBatch, bytes.size());
    for (std::size_t i = 0; i < kMaxBatch; ++i) x.msgs.add(std::span(bytes).subspan(i * kMessageBytes, kMessageBytes));
    return x;
  }();
  return d;
}

void sodium_range(const VerifyBatch& b, std::span<Verdict> out, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i)
    out[i] = crypto_sign_verify_detached(b.signatures[i].data(), b.messages[i].data(), b.messages[i].size(),
                                         b.keys[i].data()) == 0
                 ? Verdict::valid
                 : Verdict::invalid;
}
void sodium_all_cores(const VerifyBatch& b, std::span<Verdict> out) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, b.size(), 16),
                    [&](const tbb::blocked_range<std::size_t>& r) { sodium_range(b, out, r.begin(), r.end()); });
}

// Whether the GPU is usable and agrees with libsodium on every item of the input (checked once).
bool gpu_ready(benchmark::State& st) {
  if (!need_gpu(st)) return false;
  static const std::string problem = [] {
    const VerifyBatch all = data().batch(kMaxBatch);
    std::vector<Verdict> want(kMaxBatch), out(kMaxBatch);
    sodium_all_cores(all, want);
    if (auto s = ed25519_verify_gpu(streams(), all, out); !s) return s.error().describe();
    const auto diff = std::mismatch(out.begin(), out.end(), want.begin());
    if (diff.first != out.end())
      return "GPU verdict differs from libsodium at item " + std::to_string(diff.first - out.begin());
    return std::string();
  }();
  if (!problem.empty()) st.SkipWithError(problem.c_str());
  return problem.empty();
}

// ---- The comparators --------------------------------------------------------------------------

// Verifies a batch of st.range(0) items with `verify(batch, out)` per iteration, timed on the wall
// clock (the calling thread's CPU time means nothing for TBB or GPU work). `verify` returns a
// Status, or nothing for comparators that cannot fail.
template <class F>
void run_verifies(benchmark::State& st, F verify) {
  const std::size_t n = std::size_t(st.range(0));
  const VerifyBatch b = data().batch(n);
  std::vector<Verdict> out(n);
  double seconds = 0;
  for (auto _ : st) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s;
    if constexpr (std::is_void_v<decltype(verify(b, std::span<Verdict>(out)))>)
      verify(b, std::span<Verdict>(out));
    else
      s = verify(b, std::span<Verdict>(out));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s) {
      st.SkipWithError(s.error().describe().c_str());
      return;
    }
  }
  st.counters["verifies_per_s"] = seconds > 0 ? double(st.iterations()) * double(n) / seconds : 0.0;
  st.counters["batch"] = double(n);
}

void BM_Sodium_OneThread(benchmark::State& st) {
  run_verifies(st, [](const VerifyBatch& b, std::span<Verdict> out) { sodium_range(b, out, 0, b.size()); });
}
void BM_Sodium_AllCores(benchmark::State& st) {
  run_verifies(st, [](const VerifyBatch& b, std::span<Verdict> out) { sodium_all_cores(b, out); });
}

// ---- hetex ------------------------------------------------------------------------------------

void BM_Hetex_Cpu(benchmark::State& st) {
  run_verifies(st, [](const VerifyBatch& b, std::span<Verdict> out) { return ed25519_verify_cpu(b, out); });
}
void BM_Hetex_Gpu(benchmark::State& st) {
  if (!gpu_ready(st)) return;
  run_verifies(st, [](const VerifyBatch& b, std::span<Verdict> out) { return ed25519_verify_gpu(streams(), b, out); });
}

// Median seconds of `reps` runs of f.
template <class F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::nth_element(t.begin(), t.begin() + reps / 2, t.end());
  return t[reps / 2];
}

// The smallest batch at which the GPU (host to host) beats libsodium on every core, scanning
// 8 .. 16384; medians of 15 runs each. Also prints the scan.
void BM_Ed25519_Crossover(benchmark::State& st) {
  if (!gpu_ready(st)) return;
  double crossover = 0;
  for (auto _ : st) {
    crossover = 0;
    for (std::size_t n = 8; n <= 16384; n *= 2) {
      const VerifyBatch b = data().batch(n);
      std::vector<Verdict> out(n);
      const double gpu = median_seconds(15, [&] { (void)ed25519_verify_gpu(streams(), b, out); });
      const double cpu = median_seconds(15, [&] { sodium_all_cores(b, out); });
      std::fprintf(stderr, "crossover scan: batch %6zu  GPU %9.1f us  all cores %9.1f us\n", n, gpu * 1e6, cpu * 1e6);
      if (crossover == 0 && gpu < cpu) crossover = double(n);
    }
  }
  st.counters["crossover_batch"] = crossover;
}

void sizes(benchmark::internal::Benchmark* b, std::size_t max) {
  for (std::size_t n : {64u, 128u, 256u, 512u, 1024u, 2048u, 4096u, 8192u, 65536u, 262144u, 1048576u})
    if (n <= max) b->Arg(std::int64_t(n));
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}
// One thread stops at 64K: its rate is flat by then, and 1M would take a minute per run.
void sizes_one_thread(benchmark::internal::Benchmark* b) { sizes(b, 65536); }
void sizes_all(benchmark::internal::Benchmark* b) { sizes(b, kMaxBatch); }

}  // namespace

BENCHMARK(BM_Sodium_OneThread)->Apply(sizes_one_thread);
BENCHMARK(BM_Sodium_AllCores)->Apply(sizes_all);
BENCHMARK(BM_Hetex_Cpu)->Apply(sizes_all);
BENCHMARK(BM_Hetex_Gpu)->Apply(sizes_all);
BENCHMARK(BM_Ed25519_Crossover)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
