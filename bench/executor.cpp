// SPDX-License-Identifier: MIT
// stm::Executor on a program heavier than a transfer: each transaction moves a unit between two
// accounts after a computation of `work` dependent multiply-adds (a contract's arithmetic), so the
// paths are compared where execution, not the state's lookups, is the cost. Keys are drawn from
// 1M accounts (few conflicts), 1000 (many) or 2 (every call conflicts). Blocks hold 10,000 calls,
// or (the _SmallBlock variants: no work, 1M accounts) a few, where what the executor costs per
// block (waking its workers, resetting per-block state, the barriers) is most of the time. Every
// path runs on all cores and is checked against its comparator in the same run: the same block
// executed in order on one thread.
//   BM_InOrder_OneThread/<work>/<keys>             the comparator
//   BM_Executor/<path>/<work>/<keys>               path 0 measured, 1 scheduled, 2 Block-STM, 3 in order
//   BM_InOrder_OneThread_SmallBlock/<calls>        the comparator
//   BM_Executor_SmallBlock/<path>/<calls>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <tuple>
#include <thread>
#include <vector>

#include "hetex/ledger/stm/executor.hpp"

namespace {

using namespace hetex::ledger::stm;

struct Call {
  std::uint32_t from, to, work;
};

struct Contract {
  using Key = std::uint32_t;
  using KeyHash = std::hash<Key>;
  using Value = std::int64_t;
  using Transaction = Call;
  using Output = std::int64_t;
  void declare(const Call& c, Declare<Key>& d) const {
    d.write(c.from);
    d.write(c.to);
  }
  std::int64_t execute(const Call& c, Access<Key, Value>& a) const {
    const Value* from = a.read_at(0);
    std::uint64_t h = std::uint64_t(from ? *from : 0) ^ c.from;
    for (std::uint32_t i = 0; i < c.work; ++i) h = h * 6364136223846793005ull + 1442695040888963407ull;
    if (!from || *from <= 0 || (h >> 61) == 0) return -1;  // refused: nothing written
    const Value* to = a.read_at(1);
    a.write_at(0, *from - 1);
    a.write_at(1, (to ? *to : 0) + 1);
    return static_cast<std::int64_t>(h >> 32);
  }
};

struct Accounts {
  std::vector<std::int64_t> balance;
  const std::int64_t* find(std::uint32_t k) const { return k < balance.size() ? &balance[k] : nullptr; }
};

constexpr std::size_t kBlock = 10000;  // calls per block unless a benchmark names another size

struct Workload {
  std::vector<Call> calls;
  Accounts accounts;
  BlockIndex<Contract> index;
};

const Workload& workload(std::uint32_t work, std::uint32_t keys, std::size_t block) {
  static std::map<std::tuple<std::uint32_t, std::uint32_t, std::size_t>, Workload> cache;
  auto [it, fresh] = cache.try_emplace({work, keys, block});
  Workload& w = it->second;
  if (fresh) {
    std::mt19937_64 rng(work * 7919 + keys);
    w.calls.resize(block);
    for (auto& c : w.calls) {
      c = {std::uint32_t(rng() % keys), std::uint32_t(rng() % keys), work};
      if (c.to == c.from) c.to = (c.from + 1) % keys;
    }
    w.accounts.balance.assign(keys, 100);
    w.index = index_block(Contract{}, std::span<const Call>(w.calls)).value();
  }
  return w;
}

void run(benchmark::State& st, Executor<Contract>& exec, std::uint32_t work, std::uint32_t keys, std::size_t block) {
  const Workload& w = workload(work, keys, block);
  Executor<Contract> reference(Contract{}, {.threads = 1, .path = Path::in_order});
  const auto want = reference.execute(w.index, w.accounts).value();
  for (int warm = 0; warm < 3; ++warm) {
    auto got = exec.execute(w.index, w.accounts);
    if (!got) return st.SkipWithError(got.error().describe().c_str());
    if (got->outputs != want.outputs || got->final_values != want.final_values)
      return st.SkipWithError("the executor's result differs from in-order execution on one thread");
  }
  for (auto _ : st) benchmark::DoNotOptimize(exec.execute(w.index, w.accounts));
  st.counters["tx_per_s"] = benchmark::Counter(double(st.iterations() * block), benchmark::Counter::kIsRate);
  st.counters["threads"] = exec.threads();
}

void BM_InOrder_OneThread(benchmark::State& st) {
  Executor<Contract> exec(Contract{}, {.threads = 1, .path = Path::in_order});
  run(st, exec, std::uint32_t(st.range(0)), std::uint32_t(st.range(1)), kBlock);
}

void BM_Executor(benchmark::State& st) {
  Executor<Contract> exec(Contract{}, {.path = static_cast<Path>(st.range(0))});
  run(st, exec, std::uint32_t(st.range(1)), std::uint32_t(st.range(2)), kBlock);
}

void BM_InOrder_OneThread_SmallBlock(benchmark::State& st) {
  Executor<Contract> exec(Contract{}, {.threads = 1, .path = Path::in_order});
  run(st, exec, 0, 1000000, std::size_t(st.range(0)));
}

void BM_Executor_SmallBlock(benchmark::State& st) {
  Executor<Contract> exec(Contract{}, {.path = static_cast<Path>(st.range(0))});
  run(st, exec, 0, 1000000, std::size_t(st.range(1)));
}

void shapes(benchmark::internal::Benchmark* b, bool with_path, bool small_blocks) {
  auto add = [&](std::vector<std::int64_t> args) {
    if (!with_path) return b->Args(args);
    for (Path p : {Path::measured, Path::scheduled, Path::parallel, Path::in_order}) {
      std::vector<std::int64_t> with = {static_cast<std::int64_t>(p)};
      with.insert(with.end(), args.begin(), args.end());
      b->Args(with);
    }
    return b;
  };
  if (small_blocks)
    for (std::int64_t calls : {16, 256}) add({calls});
  else
    for (std::int64_t work : {0, 200, 2000})
      for (std::int64_t keys : {1000000, 1000, 2}) add({work, keys});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(BM_InOrder_OneThread)->Apply([](auto* b) { shapes(b, false, false); });
BENCHMARK(BM_Executor)->Apply([](auto* b) { shapes(b, true, false); });
BENCHMARK(BM_InOrder_OneThread_SmallBlock)->Apply([](auto* b) { shapes(b, false, true); });
BENCHMARK(BM_Executor_SmallBlock)->Apply([](auto* b) { shapes(b, true, true); });
BENCHMARK_MAIN();
