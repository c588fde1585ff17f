// SPDX-License-Identifier: MIT
#include "hetex/async/cpu_queue.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#if defined(__SANITIZE_THREAD__)
#define HETEX_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HETEX_UNDER_TSAN 1
#endif
#endif

#if HETEX_UNDER_TSAN
#include <sanitizer/tsan_interface.h>

// The system TBB is not built with ThreadSanitizer, so TSan cannot see how it hands a task to a
// worker: what the poster did before post() happens-before the task is annotated in post() and
// Job. TBB's recycling of task memory between threads is suppressed in tests/tsan.supp.
#endif

namespace hetex {

namespace {

// The count of unfinished tasks. Shared with the tasks themselves: the one that finishes last
// still touches it after the queue's waiter may have returned and destroyed the queue.
struct Tracker {
  std::atomic<std::size_t> pending{0};
  std::mutex m;
  std::condition_variable idle;

  void finish_one() {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // Notify under the lock: a waiter between its check and its sleep holds the lock, so the
    // wake-up cannot fall in that gap.
    std::lock_guard lock(m);
    idle.notify_all();
  }
  void wait() {
    std::unique_lock lock(m);
    idle.wait(lock, [&] { return pending.load(std::memory_order_acquire) == 0; });
  }
};

// The hardware threads this process may use (its affinity mask, not the whole machine).
std::size_t resolve_concurrency(std::size_t requested) {
  if (requested != 0) return requested;
  return static_cast<std::size_t>(std::max(1, tbb::info::default_concurrency()));
}

// Callers only enqueue, they never join the arena, so ideally every slot goes to a worker. But
// TBB has (allowed parallelism - 1) workers and prints a warning when an arena asks for more;
// the slots beyond that are reserved for external threads instead, which leaves the limit of
// `n` tasks at once intact. At least one slot stays open to workers, or nothing would run.
unsigned reserved_slots(std::size_t n) {
  const std::size_t allowed = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
  const std::size_t workers = std::max<std::size_t>(1, allowed > 0 ? allowed - 1 : 0);
  return n > workers ? static_cast<unsigned>(n - workers) : 0u;
}

}  // namespace

struct CpuQueue::Impl {
  explicit Impl(std::size_t n) : concurrency(n), arena(static_cast<int>(n), reserved_slots(n)) {}

  std::size_t concurrency;
  tbb::task_arena arena;
  std::shared_ptr<Tracker> tracker = std::make_shared<Tracker>();
};

CpuQueue::CpuQueue(std::size_t max_concurrency) : impl_(std::make_unique<Impl>(resolve_concurrency(max_concurrency))) {}

CpuQueue::~CpuQueue() { wait_idle(); }

CpuQueue& CpuQueue::shared() {
  static CpuQueue queue;
  return queue;
}

std::size_t CpuQueue::max_concurrency() const noexcept { return impl_->concurrency; }

namespace {

// TBB stores an enqueued functor as const and calls it once; the mutable member lets the one
// call consume the move-only function.
struct Job {
  mutable detail::UniqueFunction<void()> fn;
  std::shared_ptr<Tracker> tracker;

  void operator()() const noexcept {
#if HETEX_UNDER_TSAN
    __tsan_acquire(tracker.get());
#endif
    {
      // Destroy the function (and what it captured) before counting it finished, so that
      // wait_idle() covers the side effects of those destructors too.
      auto local = std::move(fn);
      local();
    }
    tracker->finish_one();
  }
};

}  // namespace

void CpuQueue::post(detail::UniqueFunction<void()> fn) {
  impl_->tracker->pending.fetch_add(1, std::memory_order_relaxed);
#if HETEX_UNDER_TSAN
  __tsan_release(impl_->tracker.get());
#endif
  impl_->arena.enqueue(Job{std::move(fn), impl_->tracker});
}

void CpuQueue::wait_idle() { impl_->tracker->wait(); }

}  // namespace hetex
