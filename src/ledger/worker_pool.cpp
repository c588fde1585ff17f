// SPDX-License-Identifier: MIT
#include "hetex/ledger/stm/worker_pool.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace hetex::ledger::stm {

WorkerPool::WorkerPool(unsigned threads) : size_(std::max(threads, 1u)) {
  threads_.reserve(size_ - 1);
  for (unsigned w = 1; w < size_; ++w) threads_.emplace_back([this, w] { loop(w); });
}

WorkerPool::~WorkerPool() {
  stop_ = true;
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::record(std::exception_ptr e) {
  std::lock_guard lock(thrown_m_);
  if (!thrown_) thrown_ = std::move(e);
}

void WorkerPool::loop(unsigned worker) {
  std::uint32_t seen = 0;
  for (;;) {
    seen = await_change(generation_, seen);
    if (stop_) return;
    try {
      (*job_)(worker);
    } catch (...) {
      record(std::current_exception());
    }
    if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) running_.notify_one();
  }
}

void WorkerPool::run(const std::function<void(unsigned)>& fn) {
  job_ = &fn;
  running_.store(size_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  std::exception_ptr thrown;
  try {
    fn(0);
  } catch (...) {
    thrown = std::current_exception();
  }
  // Every worker is done with fn before run returns, whatever threw.
  for (std::uint32_t left = running_.load(std::memory_order_acquire); left != 0;) left = await_change(running_, left);
  job_ = nullptr;
  std::lock_guard lock(thrown_m_);
  if (!thrown) thrown = std::exchange(thrown_, nullptr);
  thrown_ = nullptr;
  if (thrown) std::rethrow_exception(thrown);
}

}  // namespace hetex::ledger::stm
