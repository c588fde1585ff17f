// SPDX-License-Identifier: MIT
// Rank 0's measure of each rank's throughput and its chunk sizes (src/dist/sizing.hpp).
#include <gtest/gtest.h>

#include "dist/sizing.hpp"

namespace hetex::dist::detail {
namespace {

using Clock = BusyRate::Clock;
using std::chrono::milliseconds;

// Two chunks given at once and run side by side finish almost together: the rank's rate is the
// two chunks over the time both took, not the second chunk over the gap between the results.
TEST(BusyRate, ChunksFinishingTogetherCountOverTheBusyTime) {
  BusyRate r;
  const auto t0 = Clock::now();
  r.assigned(0, t0);
  r.assigned(1, t0);
  r.finished(1000, t0 + milliseconds(100));
  EXPECT_NEAR(r.rate(), 10000, 1);
  r.finished(1000, t0 + milliseconds(101));
  EXPECT_NEAR(r.rate(), 2000 / 0.101, 1);
}

// Time the rank spent holding nothing is not counted against it.
TEST(BusyRate, IdleTimeStartsAFreshPeriod) {
  BusyRate r;
  const auto t0 = Clock::now();
  r.assigned(0, t0);
  r.finished(500, t0 + milliseconds(50));
  r.assigned(0, t0 + milliseconds(1000));
  r.finished(500, t0 + milliseconds(1100));
  EXPECT_NEAR(r.rate(), 5000, 1);
}

JobOptions options() {
  JobOptions o;
  o.chunk_seconds = 0.5;
  o.min_cost = 1;
  o.max_cost = 1e12;
  o.growth = 8;
  o.depth = 2;
  return o;
}

TEST(ChunkCost, ProbeFirstThenRateTimesChunkSecondsGrowingAtMostByGrowth) {
  SizingState s;
  EXPECT_EQ(chunk_cost(options(), 4096, s), 4096);
  s.rate = 1e6;
  s.last_cost = 4096;
  EXPECT_EQ(chunk_cost(options(), 4096, s), 8 * 4096);
  s.last_cost = 1e6;
  EXPECT_EQ(chunk_cost(options(), 4096, s), 0.5e6);
}

// Near the end a rank's chunk is a part of what it still has to do for all ranks to finish
// together: a CPU rank beside a GPU rank 40 times faster gets a fortieth, not half.
TEST(ChunkCost, TheEndIsSharedByRate) {
  // The GPU rank's rate is 4e6 of the job's 4.1e6.
  SizingState cpu{.rate = 1e5, .last_cost = 5e4, .total_known = true, .left = 4.1e6, .job_rate = 4.1e6, .ranks = 2};
  // Its share: 4.1e6 x 1e5 / 4.1e6 = 1e5; half of it.
  EXPECT_DOUBLE_EQ(chunk_cost(options(), 1000, cpu), 5e4);
  // What it holds comes off its share.
  cpu.held = 6e4;
  cpu.in_flight = 6e4;
  EXPECT_NEAR(chunk_cost(options(), 1000, cpu), (4.16e6 * 1e5 / 4.1e6 - 6e4) / 2, 1e-6);
  // Never below the probe: the last items still go out.
  cpu.held = 2e5;
  cpu.in_flight = 2e5;
  EXPECT_EQ(chunk_cost(options(), 1000, cpu), 1000);
}

// Near the end, a rank a hundred times slower than the rest would still be busy with the
// smallest chunk when the others had done everything: it gets nothing, unless no other rank
// holds work (then someone must take it).
TEST(ChunkCost, ASlowRankWaitsRatherThanOutlastTheJob) {
  // in_flight: the fast rank's.
  SizingState cpu{.rate = 100,
                  .last_cost = 50,
                  .total_known = true,
                  .left = 1000,
                  .in_flight = 500,
                  .job_rate = 10'100,
                  .ranks = 2};
  EXPECT_EQ(chunk_cost(options(), 64, cpu), 0) << "0.5 s of work against 0.15 s left for the job";
  cpu.in_flight = 0;
  EXPECT_GT(chunk_cost(options(), 64, cpu), 0) << "no other rank holds work: this one takes it";
  // Early in the job the same rank gets its half second.
  cpu.left = 1e7;
  cpu.in_flight = 500;
  EXPECT_EQ(chunk_cost(options(), 64, cpu), 50);
  // The fast rank gets its part: its share ends with the job.
  SizingState gpu = cpu;
  gpu.rate = 10'000;
  gpu.last_cost = 5000;
  gpu.left = 1000;
  gpu.held = 0;
  gpu.in_flight = 50;  // the slow rank's
  EXPECT_GT(chunk_cost(options(), 64, gpu), 0);
}

// Before every rank's rate is known, the end is shared equally among the ranks.
TEST(ChunkCost, UnknownRatesShareTheEndEqually) {
  SizingState s;
  s.rate = 1e9;
  s.last_cost = 1e9;
  s.total_known = true;
  s.left = 8e6;
  s.ranks = 4;
  EXPECT_EQ(chunk_cost(options(), 1000, s), 8e6 / 4 / 2);
}

// A rank computing alone has no one to finish with: its chunks do not shrink at the end (the
// source cuts the last one to what is left).
TEST(ChunkCost, OneRankDoesNotShrinkItsLastChunks) {
  SizingState s{.rate = 1e6,
                .last_cost = 1e6,
                .held = 2e5,
                .total_known = true,
                .left = 3e5,
                .in_flight = 2e5,
                .job_rate = 1e6,
                .ranks = 1};
  EXPECT_EQ(chunk_cost(options(), 1000, s), 0.5e6);
  s.ranks = 2;
  EXPECT_LT(chunk_cost(options(), 1000, s), 3e5);
}

TEST(ChunkCost, BoundsApply) {
  auto o = options();
  o.min_cost = 100;
  o.max_cost = 200;
  SizingState s;
  EXPECT_EQ(chunk_cost(o, 10, s), 100);
  s.rate = 1e6;
  EXPECT_EQ(chunk_cost(o, 10, s), 200);
}

}  // namespace
}  // namespace hetex::dist::detail
