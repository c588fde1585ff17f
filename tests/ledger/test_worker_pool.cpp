// SPDX-License-Identifier: MIT
#include "hetex/ledger/stm/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using hetex::ledger::stm::Barrier;
using hetex::ledger::stm::WorkerPool;

TEST(WorkerPool, RunsTheFunctionOnceOnEveryWorker) {
  WorkerPool pool(4);
  std::vector<std::atomic<int>> calls(4);
  for (int round = 0; round < 3; ++round) pool.run([&](unsigned w) { ++calls[w]; });
  for (auto& c : calls) EXPECT_EQ(c.load(), 3);
}

// Workers that went to sleep between runs (idle for longer than they poll) are woken by the next.
TEST(WorkerPool, WorkersIdleLongEnoughToSleepStillRunTheNextJob) {
  WorkerPool pool(3);
  std::vector<std::atomic<int>> calls(3);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pool.run([&](unsigned w) { ++calls[w]; });
  }
  for (auto& c : calls) EXPECT_EQ(c.load(), 3);
}

// No worker leaves a barrier before every worker has arrived, round after round, within a run
// and across runs.
TEST(Barrier, NoWorkerLeavesBeforeAllHaveArrived) {
  constexpr unsigned kWorkers = 4;
  constexpr int kRounds = 200;
  WorkerPool pool(kWorkers);
  Barrier barrier(kWorkers);
  std::vector<std::atomic<unsigned>> arrived(2 * kRounds);
  std::atomic<int> early{0};
  for (int run = 0; run < 2; ++run)
    pool.run([&](unsigned) {
      for (int round = run * kRounds; round < (run + 1) * kRounds; ++round) {
        arrived[round].fetch_add(1);
        barrier.arrive_and_wait();
        if (arrived[round].load() != kWorkers) early.fetch_add(1);
      }
    });
  EXPECT_EQ(early.load(), 0);
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
