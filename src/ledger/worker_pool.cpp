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
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::loop(unsigned worker) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(unsigned)>* job;
    {
      std::unique_lock lock(m_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    std::exception_ptr thrown;
    try {
      (*job)(worker);
    } catch (...) {
      thrown = std::current_exception();
    }
    std::lock_guard lock(m_);
    if (thrown && !thrown_) thrown_ = thrown;
    if (--running_ == 0) finished_.notify_one();
  }
}

void WorkerPool::run(const std::function<void(unsigned)>& fn) {
  {
    std::lock_guard lock(m_);
    job_ = &fn;
    running_ = size_ - 1;
    ++generation_;
  }
  wake_.notify_all();
  std::exception_ptr thrown;
  try {
    fn(0);
  } catch (...) {
    thrown = std::current_exception();
  }
  // Every worker is done with fn before run returns, whatever threw.
  std::unique_lock lock(m_);
  finished_.wait(lock, [&] { return running_ == 0; });
  job_ = nullptr;
  if (!thrown) thrown = std::exchange(thrown_, nullptr);
  thrown_ = nullptr;
  lock.unlock();
  if (thrown) std::rethrow_exception(thrown);
}

}  // namespace hetex::ledger::stm
