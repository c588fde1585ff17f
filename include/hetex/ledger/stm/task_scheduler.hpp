// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Block-STM's collaborative scheduler: the threads of stm::Executor take execution and validation
/// tasks from two shared indices, lowest transaction first, so that work near the start of the
/// block (which everything after it depends on) is done, and re-done, first.
///
/// Each transaction has an incarnation number and a state: ready -> executing -> executed, and
/// from executed back to ready (through aborting) when a validation finds that it read a value
/// that has changed since, or from executing to aborting when it read an ESTIMATE (a value that
/// a lower transaction is about to rewrite) and must wait for that transaction. A re-execution is
/// a new incarnation. The block is done when both indices have passed the end and no thread holds
/// a task (checked with a counter of index decreases, so a decrease racing the check is noticed).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace hetex::ledger::stm {

/// Which transaction to execute or validate next, shared by the executor's threads (see the file's
/// description). Thread-safe except reset() and prepare().
class TaskScheduler {
 public:
  enum class Kind : std::uint8_t { none, execute, validate };  ///< what a task asks for; none: nothing to do now
  /// Run incarnation `incarnation` of transaction `tx`, or validate it.
  struct Task {
    Kind kind = Kind::none;
    std::uint32_t tx = 0;
    std::uint32_t incarnation = 0;
  };

  /// For a block of n transactions, all ready at incarnation 0. Not thread-safe.
  void reset(std::uint32_t n) {
    prepare(n);
    reset_transactions(0, n);
  }
  /// reset(n) in two steps, so that the transactions' states are reset on every worker: prepare(n)
  /// (not thread-safe), then reset_transactions over shares of [0, n), all before any task.
  void prepare(std::uint32_t n);
  void reset_transactions(std::uint32_t lo, std::uint32_t hi);

  /// Every transaction executed and validated.
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  /// The next task, validation first while the validation index is behind the execution index;
  /// Kind::none when there is nothing to do right now (or the block is done).
  Task next_task();

  /// The execution of tx read an ESTIMATE written by `blocking` (< tx). true: tx now waits for
  /// blocking and is re-executed when blocking finishes; the calling thread's task is over.
  /// false: blocking finished meanwhile; execute tx again at once.
  bool add_dependency(std::uint32_t tx, std::uint32_t blocking);
  /// The execution of (tx, incarnation) is recorded. wrote_new_key: it wrote a key its previous
  /// incarnation did not, so every later transaction must be validated again. May hand back the
  /// validation of tx itself.
  Task finish_execution(std::uint32_t tx, std::uint32_t incarnation, bool wrote_new_key);
  /// A validation of (tx, incarnation) failed: true if this call aborted it (only one can), in
  /// which case the caller turns its writes into ESTIMATEs and calls finish_validation(tx, true).
  bool try_validation_abort(std::uint32_t tx, std::uint32_t incarnation);
  /// May hand back the re-execution of tx.
  Task finish_validation(std::uint32_t tx, bool aborted);

 private:
  enum class State : std::uint8_t { ready, executing, executed, aborting };
  struct TxState {
    std::mutex m;
    State state = State::ready;
    std::uint32_t incarnation = 0;
    std::vector<std::uint32_t> dependents;  ///< transactions waiting for this one
  };

  Task next_execution();
  Task next_validation();
  bool try_incarnate(std::uint32_t tx, Task& out);
  void set_ready(std::uint32_t tx);  ///< aborting -> ready, next incarnation
  void decrease_execution_index(std::uint32_t target);
  void decrease_validation_index(std::uint32_t target);
  void check_done();

  std::uint32_t n_ = 0;
  std::unique_ptr<TxState[]> txs_;
  std::uint32_t capacity_ = 0;
  alignas(64) std::atomic<std::uint32_t> execution_index_{0};
  alignas(64) std::atomic<std::uint32_t> validation_index_{0};
  alignas(64) std::atomic<std::uint64_t> decrease_count_{0};
  alignas(64) std::atomic<std::int64_t> active_tasks_{0};
  alignas(64) std::atomic<bool> done_{false};
};

}  // namespace hetex::ledger::stm
