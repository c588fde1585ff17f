// SPDX-License-Identifier: MIT
#include "hetex/ledger/stm/task_scheduler.hpp"

#include <algorithm>

namespace hetex::ledger::stm {

void TaskScheduler::reset_transactions(std::uint32_t lo, std::uint32_t hi) {
  for (std::uint32_t i = lo; i < hi; ++i) {
    txs_[i].state = State::ready;
    txs_[i].incarnation = 0;
    txs_[i].dependents.clear();
  }
}

void TaskScheduler::prepare(std::uint32_t n) {
  if (n > capacity_) {
    txs_ = std::make_unique<TxState[]>(n);
    capacity_ = n;
  }
  n_ = n;
  execution_index_.store(0);
  validation_index_.store(0);
  decrease_count_.store(0);
  active_tasks_.store(0);
  done_.store(n == 0);
}

// Done when both indices are past the end and no task is held. A thread that lowers an index
// holds a task while it does, and bumps decrease_count_: reading the count before and after the
// other two conditions catches a decrease that slipped in between.
void TaskScheduler::check_done() {
  const auto observed = decrease_count_.load();
  if (std::min(execution_index_.load(), validation_index_.load()) >= n_ && active_tasks_.load() == 0 &&
      observed == decrease_count_.load())
    done_.store(true, std::memory_order_release);
}

void TaskScheduler::decrease_execution_index(std::uint32_t target) {
  auto cur = execution_index_.load();
  while (cur > target && !execution_index_.compare_exchange_weak(cur, target)) {}
  decrease_count_.fetch_add(1);
}

void TaskScheduler::decrease_validation_index(std::uint32_t target) {
  auto cur = validation_index_.load();
  while (cur > target && !validation_index_.compare_exchange_weak(cur, target)) {}
  decrease_count_.fetch_add(1);
}

bool TaskScheduler::try_incarnate(std::uint32_t tx, Task& out) {
  if (tx >= n_) return false;
  auto& t = txs_[tx];
  std::lock_guard lock(t.m);
  if (t.state != State::ready) return false;
  t.state = State::executing;
  out = {Kind::execute, tx, t.incarnation};
  return true;
}

TaskScheduler::Task TaskScheduler::next_execution() {
  if (execution_index_.load() >= n_) {
    check_done();
    return {};
  }
  active_tasks_.fetch_add(1);
  const auto tx = execution_index_.fetch_add(1);
  Task task;
  if (try_incarnate(tx, task)) return task;
  active_tasks_.fetch_sub(1);
  return {};
}

TaskScheduler::Task TaskScheduler::next_validation() {
  if (validation_index_.load() >= n_) {
    check_done();
    return {};
  }
  active_tasks_.fetch_add(1);
  const auto tx = validation_index_.fetch_add(1);
  if (tx < n_) {
    auto& t = txs_[tx];
    std::lock_guard lock(t.m);
    if (t.state == State::executed) return {Kind::validate, tx, t.incarnation};
  }
  active_tasks_.fetch_sub(1);
  return {};
}

TaskScheduler::Task TaskScheduler::next_task() {
  if (done()) return {};
  if (validation_index_.load() < execution_index_.load()) {
    if (auto t = next_validation(); t.kind != Kind::none) return t;
  } else {
    if (auto t = next_execution(); t.kind != Kind::none) return t;
  }
  return {};
}

bool TaskScheduler::add_dependency(std::uint32_t tx, std::uint32_t blocking) {
  {
    auto& b = txs_[blocking];
    std::lock_guard lock(b.m);
    if (b.state == State::executed) return false;
    // Still under b's lock, so b cannot finish (and miss tx) in between. Locks are only ever
    // nested lower transaction first.
    {
      auto& t = txs_[tx];
      std::lock_guard inner(t.m);
      t.state = State::aborting;
    }
    b.dependents.push_back(tx);
  }
  active_tasks_.fetch_sub(1);
  return true;
}

void TaskScheduler::set_ready(std::uint32_t tx) {
  auto& t = txs_[tx];
  std::lock_guard lock(t.m);
  t.state = State::ready;
  ++t.incarnation;
}

TaskScheduler::Task TaskScheduler::finish_execution(std::uint32_t tx, std::uint32_t incarnation, bool wrote_new_key) {
  std::vector<std::uint32_t> waiting;
  {
    auto& t = txs_[tx];
    std::lock_guard lock(t.m);
    t.state = State::executed;
    waiting.swap(t.dependents);
  }
  if (!waiting.empty()) {
    for (auto d : waiting) set_ready(d);
    decrease_execution_index(*std::min_element(waiting.begin(), waiting.end()));
  }
  if (validation_index_.load() > tx) {
    // The validation index has passed tx: nobody else will validate it.
    if (!wrote_new_key) return {Kind::validate, tx, incarnation};
    // Later transactions may have read below tx's new key: validate them all again, tx first.
    decrease_validation_index(tx);
  }
  active_tasks_.fetch_sub(1);
  return {};
}

bool TaskScheduler::try_validation_abort(std::uint32_t tx, std::uint32_t incarnation) {
  auto& t = txs_[tx];
  std::lock_guard lock(t.m);
  if (t.state != State::executed || t.incarnation != incarnation) return false;
  t.state = State::aborting;
  return true;
}

TaskScheduler::Task TaskScheduler::finish_validation(std::uint32_t tx, bool aborted) {
  if (aborted) {
    set_ready(tx);
    // Everything after tx may have read its (now ESTIMATE) writes.
    decrease_validation_index(tx + 1);
    // The execution index has passed tx: re-execute it here, now.
    if (execution_index_.load() > tx) {
      Task task;
      if (try_incarnate(tx, task)) return task;
    }
  }
  active_tasks_.fetch_sub(1);
  return {};
}

}  // namespace hetex::ledger::stm
