// SPDX-License-Identifier: MIT
// The executor's choice between its paths, from measured cost: the rule on
// its own with given costs, and the executor with an injected cost (no clock involved).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/stm/path_choice.hpp"
#include "hetex/ledger/stm/serial.hpp"

namespace hetex::ledger::stm {
namespace {

constexpr Path S = Path::scheduled, P = Path::parallel, I = Path::in_order;

TEST(PathChoice, MeasuresEveryPathThenRunsTheCheapestAndProbesTheOthersNowAndThen) {
  PathChoice c(4);
  EXPECT_LT(c.seconds_per_transaction(S), 0);
  EXPECT_EQ(c.cheapest(), Path::measured) << "nothing measured yet";
  // 1, 3 and 5 s a transaction (whole numbers: exact ratios).
  const std::map<Path, double> cost = {{S, 100.0}, {P, 300.0}, {I, 500.0}};
  for (Path want : {S, P, I}) {
    EXPECT_EQ(c.next(), want) << "never measured paths first, in order";
    c.record(want, 100, cost.at(want));
  }
  EXPECT_DOUBLE_EQ(c.seconds_per_transaction(S), 1.0);
  EXPECT_DOUBLE_EQ(c.seconds_per_transaction(P), 3.0);
  EXPECT_DOUBLE_EQ(c.seconds_per_transaction(I), 5.0);
  EXPECT_EQ(c.cheapest(), S);
  std::vector<Path> got;
  for (int i = 0; i < 17; ++i) {
    got.push_back(c.next());
    c.record(got.back(), 100, cost.at(got.back()));
  }
  // Parallel costs twice the cheapest more: probed 4 * (3 - 1) = 8 choices after it last ran;
  // in order four times more: 4 * (5 - 1) = 16. Both are due at the 16th choice: parallel goes
  // first, in order at the next.
  EXPECT_EQ(got, (std::vector<Path>{S, S, S, S, S, S, S, P, S, S, S, S, S, S, S, P, I}));
}

TEST(PathChoice, MovesToTheNewCheapestPathByItsNextProbe) {
  PathChoice c(4);
  c.record(S, 10, 10e-9);  // 1 ns a transaction
  c.record(P, 10, 30e-9);  // 3 ns
  c.record(I, 10, 50e-9);  // 5 ns
  // The workload changes: scheduled now costs 6 ns, parallel 4 ns, in order 2 ns.
  const std::map<Path, double> cost = {{S, 60e-9}, {P, 40e-9}, {I, 20e-9}};
  std::vector<Path> got;
  for (int i = 0; i < 64; ++i) {
    got.push_back(c.next());
    c.record(got.back(), 10, cost.at(got.back()));
  }
  const auto first_in_order = std::find(got.begin(), got.end(), I) - got.begin();
  EXPECT_LE(first_in_order, 16) << "in order was due for a probe 4 * (5 - 1) choices on";
  // Once every figure has followed the change, in order runs most and each dearer path's probes
  // cost at most 1 / probe_every of the run beyond it: over the last 32 choices, at most
  // 2 ns * (1 + 2 / 4) a transaction on average.
  double spent = 0;
  for (auto it = got.end() - 32; it != got.end(); ++it) spent += cost.at(*it) / 10;
  EXPECT_LE(spent / 32, 2e-9 * 1.5 * (1 + 1e-9));
  EXPECT_GT(std::count(got.begin(), got.end(), I),
            std::count(got.begin(), got.end(), S) + std::count(got.begin(), got.end(), P));
  EXPECT_EQ(got.back(), I);
  EXPECT_NEAR(c.seconds_per_transaction(I), 2e-9, 1e-12);
  EXPECT_NEAR(c.seconds_per_transaction(S), 6e-9, 1e-10);
  EXPECT_NEAR(c.seconds_per_transaction(P), 4e-9, 1e-10);
}

TEST(PathChoice, BlocksWithoutTransactionsOrWithoutAFiniteTimeSayNothing) {
  PathChoice c;
  c.record(P, 0, 1.0);
  c.record(I, 10, -1.0);
  c.record(Path::measured, 10, 1.0);
  c.record(S, 10, std::numeric_limits<double>::infinity());
  c.record(S, 10, std::numeric_limits<double>::quiet_NaN());
  for (Path p : {S, P, I, Path::measured}) EXPECT_LT(c.seconds_per_transaction(p), 0);
}

// Each transaction adds its amount to its own key: no conflicts, so the critical path is one and
// every block may run either way.
struct AddProgram {
  using Key = std::uint32_t;
  using KeyHash = std::hash<Key>;
  using Value = std::int64_t;
  using Transaction = std::pair<Key, std::int64_t>;
  using Output = std::int64_t;
  void declare(const Transaction& t, Declare<Key>& d) const { d.write(t.first); }
  std::int64_t execute(const Transaction& t, Access<Key, Value>& a) const {
    const Value* v = a.read_at(0);
    const std::int64_t now = (v ? *v : 0) + t.second;
    a.write_at(0, now);
    return now;
  }
};

struct MapStorage {
  std::map<std::uint32_t, std::int64_t> values;
  const std::int64_t* find(const std::uint32_t& k) const {
    auto it = values.find(k);
    return it == values.end() ? nullptr : &it->second;
  }
};

TEST(PathChoice, TheExecutorRunsEachBlockOnThePathItsInjectedCostSaysIsCheapest) {
  const AddProgram program;
  // Seconds a transaction per path (whole numbers: exact ratios); the wall time is ignored.
  std::map<Path, double> per_tx = {{S, 1.0}, {P, 2.0}, {I, 3.0}};
  auto cost = [&](const ExecutionStats& s, double) { return double(s.transactions) * per_tx.at(s.path); };
  Executor<AddProgram> exec(program, {.threads = 2, .probe_every = 8, .cost = cost});
  MapStorage storage;
  std::vector<AddProgram::Transaction> txs(64);
  for (std::uint32_t i = 0; i < txs.size(); ++i) txs[i] = {i, std::int64_t(i) + 1};
  const auto index = index_block(program, std::span<const AddProgram::Transaction>(txs)).value();
  ASSERT_EQ(index.critical_path, 1u);
  const auto want = execute_serially(program, std::span<const AddProgram::Transaction>(txs), storage);

  auto run = [&](int blocks, std::vector<Path>& paths, int& probes) {
    for (int b = 0; b < blocks; ++b) {
      auto r = exec.execute(index, storage).value();
      ASSERT_EQ(r.outputs, want.outputs);
      EXPECT_EQ(r.stats.parallel(), r.stats.path != I);
      paths.push_back(r.stats.path);
      probes += r.stats.probe;
    }
  };
  std::vector<Path> paths;
  int probes = 0;
  run(24, paths, probes);
  // Blocks 1-3 measure each path; then scheduled, but for probes of parallel 8 * (2 - 1) = 8
  // choices after it ran (blocks 11 and 19) and of in order 8 * (3 - 1) = 16 after (block 19,
  // due with parallel, so block 20).
  EXPECT_EQ(std::vector<Path>(paths.begin(), paths.begin() + 3), (std::vector<Path>{S, P, I}));
  EXPECT_EQ(paths[10], P);
  EXPECT_EQ(paths[18], P);
  EXPECT_EQ(paths[19], I);
  EXPECT_EQ(std::count(paths.begin() + 3, paths.end(), S), 21 - 3);
  EXPECT_EQ(probes, 3);
  EXPECT_DOUBLE_EQ(exec.path_choice().seconds_per_transaction(S), 1.0);

  // Now in order is the cheap one: the executor moves there by its next probe and stays, but for
  // probes of the others.
  per_tx = {{S, 3.0}, {P, 2.0}, {I, 1.0}};
  paths.clear();
  probes = 0;
  run(32, paths, probes);
  const auto first_in_order = std::find(paths.begin(), paths.end(), I) - paths.begin();
  EXPECT_LE(first_in_order, 16) << "by the next probe at the latest";
  // Over the last 16 blocks, each dearer path's probes cost at most 1 / probe_every of the run
  // beyond the cheapest.
  double spent = 0;
  for (auto it = paths.end() - 16; it != paths.end(); ++it) spent += per_tx.at(*it);
  EXPECT_LE(spent / 16, 1.0 * (1 + 2.0 / 8) * (1 + 1e-9));
  EXPECT_EQ(paths.back(), I);
  EXPECT_LT(exec.path_choice().seconds_per_transaction(I), exec.path_choice().seconds_per_transaction(P));
}

TEST(PathChoice, AForcedPathAndOneThreadIgnoreTheCost) {
  const AddProgram program;
  int asked = 0;
  auto cost = [&](const ExecutionStats&, double) { return double(++asked); };
  std::vector<AddProgram::Transaction> txs(16);
  for (std::uint32_t i = 0; i < txs.size(); ++i) txs[i] = {i, 1};
  const auto index = index_block(program, std::span<const AddProgram::Transaction>(txs)).value();
  const MapStorage storage;
  for (Path path : {S, P, I}) {
    Executor<AddProgram> exec(program, {.threads = 2, .path = path, .cost = cost});
    for (int b = 0; b < 4; ++b) EXPECT_EQ(exec.execute(index, storage).value().stats.path, path);
  }
  EXPECT_EQ(asked, 0) << "a forced path measures nothing";
  Executor<AddProgram> one(program, {.threads = 1, .cost = cost});
  for (int b = 0; b < 4; ++b) EXPECT_EQ(one.execute(index, storage).value().stats.path, I);
}

}  // namespace
}  // namespace hetex::ledger::stm
