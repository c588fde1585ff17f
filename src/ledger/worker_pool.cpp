// SPDX-License-Identifier: MIT
#include "hetex/ledger/stm/worker_pool.hpp"

#include <algorithm>

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
    (*job)(worker);
    std::lock_guard lock(m_);
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
  fn(0);
  std::unique_lock lock(m_);
  finished_.wait(lock, [&] { return running_ == 0; });
  job_ = nullptr;
}

}  // namespace hetex::ledger::stm
