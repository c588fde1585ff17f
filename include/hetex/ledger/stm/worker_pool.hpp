// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The executor's own threads, kept for its whole life: a block is too short (a few
/// milliseconds) to pay for starting threads, and its workers spin on shared indices, which wants
/// threads that are all running at once rather than tasks a pool may run one after another.
///
/// Blocks come one after another, a few tens of microseconds apart, and a sleeping thread takes
/// about as long to wake: an idle worker, and a caller waiting for the workers, poll for a while
/// (kSpin) before they sleep, and a hand-off finds them awake. The polling yields the core, so a
/// thread with work to do there (another stage's) gets it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hetex::ledger::stm {

/// How long a waiting thread polls before it sleeps.
inline constexpr std::chrono::microseconds kSpin{50};

/// Polls until ready() holds, for kSpin at most; true if it did.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    if (i % 16 == 0) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::yield();
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

/// Waits until a.load() != old (polling first, then sleeping); the new value.
inline std::uint32_t await_change(const std::atomic<std::uint32_t>& a, std::uint32_t old) {
  std::uint32_t now = old;
  if (spin_until([&] { return (now = a.load(std::memory_order_acquire)) != old; })) return now;
  for (;;) {
    a.wait(old, std::memory_order_acquire);
    if ((now = a.load(std::memory_order_acquire)) != old) return now;
  }
}

/// All the workers of a run meet: none leaves before all have arrived. Reusable, run after run.
class Barrier {
 public:
  explicit Barrier(unsigned workers) : workers_(workers) {}
  void arrive_and_wait() {
    // The phase cannot move before this worker has arrived.
    const auto phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == workers_) {
      arrived_.store(0, std::memory_order_relaxed);
      phase_.fetch_add(1, std::memory_order_release);
      phase_.notify_all();
      return;
    }
    await_change(phase_, phase);
  }

 private:
  unsigned workers_;
  alignas(64) std::atomic<std::uint32_t> arrived_{0};
  alignas(64) std::atomic<std::uint32_t> phase_{0};
};

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
  void record(std::exception_ptr e);

  unsigned size_;
  std::vector<std::thread> threads_;
  const std::function<void(unsigned)>* job_ = nullptr;  // published by generation_
  bool stop_ = false;                                   // published by generation_
  alignas(64) std::atomic<std::uint32_t> generation_{0};
  alignas(64) std::atomic<std::uint32_t> running_{0};  // started workers still in the current run
  std::mutex thrown_m_;
  std::exception_ptr thrown_;  // the first exception of the current run
};

}  // namespace hetex::ledger::stm
