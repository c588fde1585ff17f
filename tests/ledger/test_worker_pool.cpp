// SPDX-License-Identifier: MIT
#include "hetex/ledger/stm/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

namespace {

using hetex::ledger::stm::WorkerPool;

TEST(WorkerPool, RunsTheFunctionOnceOnEveryWorker) {
  WorkerPool pool(4);
  std::vector<std::atomic<int>> calls(4);
  for (int round = 0; round < 3; ++round) pool.run([&](unsigned w) { ++calls[w]; });
  for (auto& c : calls) EXPECT_EQ(c.load(), 3);
}

// A worker's exception reaches run()'s caller once every worker has returned, and the pool
// keeps working.
TEST(WorkerPool, AnExceptionOnAWorkerIsRethrownAfterAllReturn) {
  WorkerPool pool(4);
  std::atomic<int> returned{0};
  EXPECT_THROW(pool.run([&](unsigned w) {
    if (w == 2) throw std::runtime_error("worker 2 failed");
    ++returned;
  }),
               std::runtime_error);
  EXPECT_EQ(returned.load(), 3);
  EXPECT_THROW(pool.run([](unsigned w) {
    if (w == 0) throw std::runtime_error("the caller's share failed");
  }),
               std::runtime_error);
  std::atomic<int> after{0};
  pool.run([&](unsigned) { ++after; });
  EXPECT_EQ(after.load(), 4);
}

}  // namespace
