// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The executor's own threads, kept for its whole life: a block is too short (a few
/// milliseconds) to pay for starting threads, and its workers spin on shared indices, which wants
/// threads that are all running at once rather than tasks a pool may run one after another.

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hetex::ledger::stm {

/// Threads kept for an executor's life (see the file's description). Not copyable.
class WorkerPool {
 public:
  /// threads >= 1 workers in all: the caller of run() is worker 0, so threads - 1 are started.
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned size() const noexcept { return size_; }  ///< workers, the caller of run() included
  /// Calls fn(worker) once on every worker, concurrently; returns when all have returned. An
  /// exception thrown by fn on any worker is rethrown here, after every worker has returned.
  /// One run at a time.
  void run(const std::function<void(unsigned worker)>& fn);

 private:
  void loop(unsigned worker);

  unsigned size_;
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable wake_, finished_;
  const std::function<void(unsigned)>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  unsigned running_ = 0;
  std::exception_ptr thrown_;  // the first exception of the current run
  bool stop_ = false;
};

}  // namespace hetex::ledger::stm
