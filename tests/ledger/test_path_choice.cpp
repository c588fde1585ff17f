// SPDX-License-Identifier: MIT
// The executor's choice between its parallel and in-order paths, from measured cost: the rule on
// its own with given costs, and the executor with an injected cost (no clock involved).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/stm/path_choice.hpp"
#include "hetex/ledger/stm/serial.hpp"

namespace hetex::ledger::stm {
namespace {

TEST(PathChoice, MeasuresBothPathsThenRunsTheCheaperAndProbesTheOtherNowAndThen) {
  PathChoice c(4);
  EXPECT_LT(c.seconds_per_transaction(true), 0);
  EXPECT_TRUE(c.next_parallel()) << "never measured: parallel first";
  c.record(true, 100, 100.0);  // 1 s a transaction (whole numbers: exact ratios)
  EXPECT_FALSE(c.next_parallel()) << "then in order, never measured either";
  c.record(false, 100, 300.0);  // 3 s
  EXPECT_DOUBLE_EQ(c.seconds_per_transaction(true), 1.0);
  EXPECT_DOUBLE_EQ(c.seconds_per_transaction(false), 3.0);
  std::vector<bool> got;
  for (int i = 3; i <= 12; ++i) {
    got.push_back(c.next_parallel());
    c.record(got.back(), 100, got.back() ? 100.0 : 300.0);
  }
  // The dearer path costs twice the cheaper one more: probes are 4 * (3 - 1) = 8 choices apart.
  EXPECT_EQ(got, (std::vector<bool>{true, true, true, true, true, true, true, false, true, true}));
}

TEST(PathChoice, FollowsAChangeOfCostAtTheNextProbe) {
  PathChoice c(4);
  c.record(true, 10, 10e-9);   // parallel 1 ns
  c.record(false, 10, 30e-9);  // in order 3 ns
  // The workload changes: parallel now costs 6 ns, in order 2 ns.
  std::vector<bool> got;
  for (int i = 0; i < 8; ++i) {
    got.push_back(c.next_parallel());
    c.record(got.back(), 10, got.back() ? 60e-9 : 20e-9);
  }
  // Parallel's mean passes in-order's old 3 ns after one block (1 -> 3.5); from then on the
  // cheaper path is in order, measured again at once (2.5 ns) and ever closer to 2 ns. The paths
  // are close, so the fourth choice probes parallel (4.75 ns after it); then they are further
  // apart (4.75 against 2.03 ns: probes 4 * 1.34 choices apart), and none of the last four is one.
  EXPECT_EQ(got, (std::vector<bool>{true, false, false, true, false, false, false, false}));
  EXPECT_NEAR(c.seconds_per_transaction(false), 2e-9 + std::pow(0.5, 6) * 1e-9, 1e-18);
  EXPECT_NEAR(c.seconds_per_transaction(true), 4.75e-9, 1e-18);
}

TEST(PathChoice, BlocksWithoutTransactionsOrWithoutATimeSayNothing) {
  PathChoice c;
  c.record(true, 0, 1.0);
  c.record(false, 10, -1.0);
  EXPECT_LT(c.seconds_per_transaction(true), 0);
  EXPECT_LT(c.seconds_per_transaction(false), 0);
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

TEST(PathChoice, TheExecutorRunsEachBlockOnThePathItsInjectedCostSaysIsCheaper) {
  const AddProgram program;
  bool parallel_dearer = false;
  // 1 s a transaction for the cheap path, 3 s for the dear one (whole numbers: exact ratios); the
  // wall time is ignored.
  auto cost = [&](const ExecutionStats& s, double) {
    return double(s.transactions) * (s.parallel == parallel_dearer ? 3.0 : 1.0);
  };
  Executor<AddProgram> exec(program, {.threads = 2, .probe_every = 8, .cost = cost});
  MapStorage storage;
  std::vector<AddProgram::Transaction> txs(64);
  for (std::uint32_t i = 0; i < txs.size(); ++i) txs[i] = {i, std::int64_t(i) + 1};
  const auto index = index_block(program, std::span<const AddProgram::Transaction>(txs)).value();
  ASSERT_EQ(index.critical_path, 1u);
  const auto want = execute_serially(program, std::span<const AddProgram::Transaction>(txs), storage);

  auto run = [&](int blocks, std::vector<bool>& paths, int& probes) {
    for (int b = 0; b < blocks; ++b) {
      auto r = exec.execute(index, storage).value();
      ASSERT_EQ(r.outputs, want.outputs);
      paths.push_back(r.stats.parallel);
      probes += r.stats.probe;
    }
  };
  std::vector<bool> paths;
  int probes = 0;
  run(32, paths, probes);
  // Block 1 measures parallel, block 2 in order; then parallel, but for a probe of the in-order
  // path 8 * (3 - 1) = 16 choices later, at block 18.
  EXPECT_TRUE(paths[0]);
  EXPECT_FALSE(paths[1]);
  EXPECT_FALSE(paths[17]);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), false), 2);
  EXPECT_EQ(probes, 1);
  EXPECT_DOUBLE_EQ(exec.path_choice().seconds_per_transaction(true), 1.0);

  // Now the parallel path is the dear one: the executor moves to the in-order path and stays,
  // but for a tie right after the move and a probe.
  parallel_dearer = true;
  paths.clear();
  probes = 0;
  run(16, paths, probes);
  const auto first_in_order = std::find(paths.begin(), paths.end(), false) - paths.begin();
  EXPECT_LE(first_in_order, 16) << "by the next probe at the latest";
  EXPECT_LE(std::count(paths.begin() + first_in_order, paths.end(), true), 2);
  EXPECT_FALSE(paths.back());
  EXPECT_LT(exec.path_choice().seconds_per_transaction(false), exec.path_choice().seconds_per_transaction(true));
}

TEST(PathChoice, AForcedPathAndOneThreadIgnoreTheCost) {
  const AddProgram program;
  int asked = 0;
  auto cost = [&](const ExecutionStats&, double) { return double(++asked); };
  std::vector<AddProgram::Transaction> txs(16);
  for (std::uint32_t i = 0; i < txs.size(); ++i) txs[i] = {i, 1};
  const auto index = index_block(program, std::span<const AddProgram::Transaction>(txs)).value();
  const MapStorage storage;
  for (Path path : {Path::parallel, Path::in_order}) {
    Executor<AddProgram> exec(program, {.threads = 2, .path = path, .cost = cost});
    for (int b = 0; b < 4; ++b) EXPECT_EQ(exec.execute(index, storage).value().stats.parallel, path == Path::parallel);
  }
  EXPECT_EQ(asked, 0) << "a forced path measures nothing";
  Executor<AddProgram> one(program, {.threads = 1, .cost = cost});
  for (int b = 0; b < 4; ++b) EXPECT_FALSE(one.execute(index, storage).value().stats.parallel);
}

}  // namespace
}  // namespace hetex::ledger::stm
