// SPDX-License-Identifier: MIT
// Block-STM's collaborative scheduler, driven step by step on one thread: which task comes next,
// dependencies, aborts, and when the block is done.
#include <gtest/gtest.h>

#include "hetex/ledger/stm/task_scheduler.hpp"

namespace hetex::ledger::stm {
namespace {

using Kind = TaskScheduler::Kind;

void expect_task(TaskScheduler::Task t, Kind kind, std::uint32_t tx, std::uint32_t inc) {
  EXPECT_EQ(t.kind, kind);
  EXPECT_EQ(t.tx, tx);
  EXPECT_EQ(t.incarnation, inc);
}

TEST(TaskScheduler, ExecutesInOrderAndValidatesEachTransactionAfterItExecuted) {
  TaskScheduler s;
  s.reset(3);
  expect_task(s.next_task(), Kind::execute, 0, 0);
  // The validation index is behind, so validation is tried first; tx 0 is still executing, so
  // its slot is passed over (it is validated when it finishes) and there is nothing right now.
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 0);
  // The validation index passed tx 0: finishing it hands back its own validation.
  expect_task(s.finish_execution(0, 0, false), Kind::validate, 0, 0);
  EXPECT_EQ(s.finish_validation(0, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.finish_execution(1, 0, false), Kind::validate, 1, 0);
  EXPECT_EQ(s.finish_validation(1, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 2, 0);
  // The validation index has not passed tx 2: it is validated from there.
  EXPECT_EQ(s.finish_execution(2, 0, false).kind, Kind::none);
  EXPECT_FALSE(s.done());
  expect_task(s.next_task(), Kind::validate, 2, 0);
  EXPECT_EQ(s.finish_validation(2, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  EXPECT_TRUE(s.done());
}

TEST(TaskScheduler, AWaitingTransactionIsReExecutedAfterTheOneItWaitsFor) {
  TaskScheduler s;
  s.reset(2);
  expect_task(s.next_task(), Kind::execute, 0, 0);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 0);
  // tx 1 read an ESTIMATE of tx 0, which is still executing: it waits.
  EXPECT_TRUE(s.add_dependency(1, 0));
  EXPECT_EQ(s.next_task().kind, Kind::none);  // nothing to do until tx 0 finishes
  // tx 0 finishes: tx 1 is ready again, at incarnation 1, and the execution index is back at 1.
  expect_task(s.finish_execution(0, 0, false), Kind::validate, 0, 0);
  EXPECT_EQ(s.finish_validation(0, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 1);
  expect_task(s.finish_execution(1, 1, false), Kind::validate, 1, 1);
  EXPECT_EQ(s.finish_validation(1, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  EXPECT_TRUE(s.done());
}

TEST(TaskScheduler, ADependencyOnAFinishedTransactionIsRefused) {
  TaskScheduler s;
  s.reset(2);
  expect_task(s.next_task(), Kind::execute, 0, 0);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 0);
  expect_task(s.finish_execution(0, 0, false), Kind::validate, 0, 0);
  // tx 0 has executed meanwhile: tx 1 must read again instead of waiting.
  EXPECT_FALSE(s.add_dependency(1, 0));
  EXPECT_EQ(s.finish_validation(0, false).kind, Kind::none);
  EXPECT_EQ(s.finish_execution(1, 0, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::validate, 1, 0);
  EXPECT_EQ(s.finish_validation(1, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  EXPECT_TRUE(s.done());
}

TEST(TaskScheduler, OnlyOneValidationAbortsAnIncarnationAndItsReExecutionComesBack) {
  TaskScheduler s;
  s.reset(2);
  expect_task(s.next_task(), Kind::execute, 0, 0);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 0);
  expect_task(s.finish_execution(0, 0, false), Kind::validate, 0, 0);
  EXPECT_EQ(s.finish_validation(0, false).kind, Kind::none);
  EXPECT_EQ(s.finish_execution(1, 0, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::validate, 1, 0);
  EXPECT_TRUE(s.try_validation_abort(1, 0));
  EXPECT_FALSE(s.try_validation_abort(1, 0));  // a second, concurrent validation of the same incarnation
  // The execution index passed tx 1: the aborting thread re-executes it at once, incarnation 1.
  expect_task(s.finish_validation(1, true), Kind::execute, 1, 1);
  EXPECT_FALSE(s.try_validation_abort(1, 0));  // a stale incarnation can no longer be aborted
  expect_task(s.finish_execution(1, 1, false), Kind::validate, 1, 1);
  EXPECT_EQ(s.finish_validation(1, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  EXPECT_TRUE(s.done());
}

TEST(TaskScheduler, ANewWriteRevalidatesEverythingFromTheWriterOn) {
  TaskScheduler s;
  s.reset(3);
  expect_task(s.next_task(), Kind::execute, 0, 0);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 1, 0);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  expect_task(s.next_task(), Kind::execute, 2, 0);
  expect_task(s.finish_execution(0, 0, false), Kind::validate, 0, 0);
  EXPECT_EQ(s.finish_validation(0, false).kind, Kind::none);
  expect_task(s.finish_execution(1, 0, false), Kind::validate, 1, 0);
  EXPECT_TRUE(s.try_validation_abort(1, 0));
  expect_task(s.finish_validation(1, true), Kind::execute, 1, 1);
  // Incarnation 1 wrote a key incarnation 0 did not: tx 1 and everything after it is validated
  // again, in order.
  EXPECT_EQ(s.finish_execution(1, 1, true).kind, Kind::none);
  EXPECT_EQ(s.finish_execution(2, 0, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::validate, 1, 1);
  EXPECT_EQ(s.finish_validation(1, false).kind, Kind::none);
  expect_task(s.next_task(), Kind::validate, 2, 0);
  EXPECT_FALSE(s.done());
  EXPECT_EQ(s.finish_validation(2, false).kind, Kind::none);
  EXPECT_EQ(s.next_task().kind, Kind::none);
  EXPECT_TRUE(s.done());
}

TEST(TaskScheduler, AnEmptyBlockIsDoneAtOnce) {
  TaskScheduler s;
  s.reset(0);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.next_task().kind, Kind::none);
}

}  // namespace
}  // namespace hetex::ledger::stm
