// SPDX-License-Identifier: MIT
#include "hetex/async/future.hpp"

#include <thread>

namespace hetex::detail {

void StateBase::publish(std::unique_lock<std::mutex>& lock) {
  ready_.store(true, std::memory_order_release);
  auto conts = std::move(continuations_);
  continuations_.clear();
  lock.unlock();
  cv_.notify_all();
  for (auto& c : conts) c();
}

void StateBase::complete_from_gate(Status status) {
  std::unique_lock lock(m_);
  if (ready_.load(std::memory_order_relaxed)) return;  // another waiter got there first
  resolve_from_gate(std::move(status));
  publish(lock);
}

bool StateBase::is_ready() {
  if (ready_.load(std::memory_order_acquire)) return true;
  if (!gate_) return false;
  if (auto s = gate_->poll()) {
    complete_from_gate(std::move(*s));
    return true;
  }
  return false;
}

void StateBase::wait() {
  if (ready_.load(std::memory_order_acquire)) return;
  if (gate_) {
    // Waiting on the gate directly costs what a stream synchronize costs; no hand-off thread.
    complete_from_gate(gate_->wait());
    return;
  }
  std::unique_lock lock(m_);
  cv_.wait(lock, [&] { return ready_.load(std::memory_order_relaxed); });
}

bool StateBase::wait_until(std::chrono::steady_clock::time_point deadline) {
  if (ready_.load(std::memory_order_acquire)) return true;
  if (gate_) {
    // Bounded waits on device work poll; unbounded ones (wait()) block on the gate instead.
    auto pause = std::chrono::microseconds(2);
    while (!is_ready()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
    return true;
  }
  std::unique_lock lock(m_);
  return cv_.wait_until(lock, deadline, [&] { return ready_.load(std::memory_order_relaxed); });
}

void StateBase::on_ready(UniqueFunction<void()> cb) {
  std::unique_lock lock(m_);
  if (ready_.load(std::memory_order_relaxed)) {
    lock.unlock();
    cb();
    return;
  }
  continuations_.push_back(std::move(cb));
  if (gate_ && !notify_requested_) {
    notify_requested_ = true;
    auto self = shared_from_this();  // before unlocking: a completer may drop the last other owner
    lock.unlock();
    gate_->notify([self](Status s) { self->complete_from_gate(std::move(s)); });
  }
}

}  // namespace hetex::detail
