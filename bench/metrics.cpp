// SPDX-License-Identifier: MIT
// What metric updates cost on the hot path. Pairs to compare (1 and 4 threads each):
//   BM_Counter_Inc            vs BM_StdAtomic_FetchAdd     a whole increment on one shared counter
//   BM_Counter_IncPerThread   vs BM_StdAtomic_PerThread    each thread its own series (no sharing)
//   BM_Counter_IncFraction    vs BM_StdAtomicDouble_FetchAdd  a fractional increment (CAS loop)
//   BM_Histogram_Observe      vs BM_StdAtomic_FetchAdd     22 latency buckets: search + 2 atomics
// Off the hot path, for sizing: BM_Family_With (child lookup by label values),
// BM_PrometheusText/N (a scrape of N series), BM_Trace_Record (one trace event).

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cmath>
#include <random>

#include "hetex/metrics/registry.hpp"
#include "hetex/metrics/trace.hpp"

using namespace hetex::metrics;

namespace {

Registry& bench_registry() {
  static Registry reg;
  return reg;
}

void BM_Counter_Inc(benchmark::State& state) {
  static Counter c = bench_registry().counter("bench_shared_total", "h").value();
  for (auto _ : state) c.inc();
  benchmark::DoNotOptimize(c.value());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Counter_Inc)->Threads(1)->Threads(4)->UseRealTime();

void BM_StdAtomic_FetchAdd(benchmark::State& state) {
  static std::atomic<std::uint64_t> n{0};
  for (auto _ : state) n.fetch_add(1, std::memory_order_relaxed);
  benchmark::DoNotOptimize(n.load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdAtomic_FetchAdd)->Threads(1)->Threads(4)->UseRealTime();

void BM_Counter_IncPerThread(benchmark::State& state) {
  static CounterFamily fam = bench_registry().counter_family("bench_per_thread_total", "h", {"thread"}).value();
  Counter c = fam.with({std::to_string(state.thread_index())}).value();
  for (auto _ : state) c.inc();
  benchmark::DoNotOptimize(c.value());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Counter_IncPerThread)->Threads(1)->Threads(4)->UseRealTime();

// Plain atomics side by side in one array: what per-thread counters cost without padding.
void BM_StdAtomic_PerThread(benchmark::State& state) {
  static std::array<std::atomic<std::uint64_t>, 64> slots{};
  auto& n = slots[static_cast<std::size_t>(state.thread_index()) % slots.size()];
  for (auto _ : state) n.fetch_add(1, std::memory_order_relaxed);
  benchmark::DoNotOptimize(n.load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdAtomic_PerThread)->Threads(1)->Threads(4)->UseRealTime();

void BM_Counter_IncFraction(benchmark::State& state) {
  static Counter c = bench_registry().counter("bench_seconds_total", "h").value();
  for (auto _ : state) c.inc(0.25);
  benchmark::DoNotOptimize(c.value());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Counter_IncFraction)->Threads(1)->Threads(4)->UseRealTime();

void BM_StdAtomicDouble_FetchAdd(benchmark::State& state) {
  static std::atomic<double> n{0};
  for (auto _ : state) n.fetch_add(0.25, std::memory_order_relaxed);
  benchmark::DoNotOptimize(n.load());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdAtomicDouble_FetchAdd)->Threads(1)->Threads(4)->UseRealTime();

// Log-uniform latencies over 0.1 µs .. 100 s, so that every bucket is hit.
std::array<double, 1024> latencies() {
  std::array<double, 1024> v{};
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exp10(-7, 2);
  for (auto& x : v) x = std::pow(10.0, exp10(rng));
  return v;
}

void BM_Histogram_Observe(benchmark::State& state) {
  static Histogram h = bench_registry().histogram("bench_latency_seconds", "h", latency_buckets_seconds()).value();
  static const auto values = latencies();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 97;
  for (auto _ : state) h.observe(values[i++ & (values.size() - 1)]);
  benchmark::DoNotOptimize(h.sum());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Histogram_Observe)->Threads(1)->Threads(4)->UseRealTime();

void BM_Family_With(benchmark::State& state) {
  static CounterFamily fam = bench_registry().counter_family("bench_lookup_total", "h", {"device", "op"}).value();
  for (const char* d : {"cpu", "cuda:0", "cuda:1", "cuda:2"})
    for (const char* op : {"sha256", "ed25519", "blake3"}) (void)fam.with({d, op});
  for (auto _ : state) {
    auto c = fam.with({"cuda:1", "ed25519"});
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Family_With)->Threads(1)->Threads(4)->UseRealTime();

void BM_PrometheusText(benchmark::State& state) {
  Registry reg;
  auto c = reg.counter_family("items_total", "Items", {"device", "op"}).value();
  auto h = reg.histogram_family("batch_seconds", "Latency", latency_buckets_seconds(), {"device"}).value();
  for (int i = 0; i < state.range(0); ++i) {
    c.with({"cuda:" + std::to_string(i), "sha256"})->inc(i);
    h.with({"cuda:" + std::to_string(i)})->observe(1e-3 * i);
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = reg.prometheus_text();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_PrometheusText)->Arg(8)->Arg(256);

void BM_Trace_Record(benchmark::State& state) {
  static TraceRecorder rec(1u << 20);
  const auto t0 = TraceRecorder::Clock::now();
  std::uint32_t k = 0;
  for (auto _ : state) {
    // Stay below capacity so that every iteration records rather than drops; checked rarely,
    // as size() takes the lock too.
    if ((++k & 4095) == 0 && rec.size() > rec.capacity() / 2) rec.clear();
    rec.record("sha256 batch", "ops", "cuda:0", t0, std::chrono::microseconds(10));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Trace_Record)->Threads(1)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
