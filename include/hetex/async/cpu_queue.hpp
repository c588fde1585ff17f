// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// CpuQueue: runs tasks on CPU cores through a oneTBB arena of its own, so a queue's concurrency
/// limit holds regardless of what else in the process uses TBB. Tasks run concurrently, in no
/// particular order. TBB stays out of this header: the queue is a pimpl with a type-erased post().
///
/// Tasks run on TBB's worker threads only (a thread waiting on a Future does not join in), and a
/// process has (hardware threads - 1) of those unless a tbb::global_control says otherwise: a
/// queue over every hardware thread runs at most that many tasks at once. Tasks must not block
/// waiting on other tasks of the same queue: with few workers that deadlocks. Chain with
/// then()/then_on() or a Task instead.

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "hetex/async/future.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/unique_function.hpp"

namespace hetex {

class CpuQueue;

namespace detail {

// Runs f() into p; see settle_with for what f may return.
template <class F, class U>
void run_task(F& f, Promise<U>& p) noexcept {
  settle_with(
      p, [&]() -> decltype(auto) { return f(); }, "a CpuQueue task");
}

}  // namespace detail

/// A bounded pool of CPU workers for tasks (see the file's description). Thread-safe: any thread may
/// submit, including a task of this queue.
class CpuQueue {
 public:
  /// 0 (the default) means every hardware thread this process may run on.
  explicit CpuQueue(std::size_t max_concurrency = 0);
  /// Waits for every task already submitted: none is lost, none outlives the queue.
  ~CpuQueue();
  CpuQueue(const CpuQueue&) = delete;
  CpuQueue& operator=(const CpuQueue&) = delete;

  /// The process-wide queue over all hardware threads, created on first use.
  static CpuQueue& shared();

  /// The most tasks that may run at once.
  std::size_t max_concurrency() const noexcept;

  /// f() may return U, `Result<U>`, `Future<U>` (flattened) or void; the result is `Future<U>`.
  /// Exceptions thrown by f become Errc::internal errors.
  template <class F>
  auto submit(F&& f) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "CpuQueue::submit(f): f must be callable with no arguments");
    using U = typename detail::unwrap_result<std::invoke_result_t<Fn&>>::type;
    Promise<U> p;
    Future<U> out = p.future();
    post([fn = Fn(std::forward<F>(f)), p = std::move(p)]() mutable { detail::run_task(fn, p); });
    return out;
  }

  /// Low level: runs fn on the queue. fn must not throw (an exception escaping it terminates,
  /// as in std::thread); submit() is the throwing-safe way in.
  void post(detail::UniqueFunction<void()> fn);

  /// Blocks until every task submitted so far, and any they submitted meanwhile, has finished.
  /// Not from a task of this queue: it would wait for itself.
  void wait_idle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Like fut.then(f), but f runs as a task on `queue` instead of on the thread that completes fut
/// (a device notify thread, say, which should not do heavy work). f takes T or `Result<T>` and may
/// return U, `Result<U>` or `Future<U>`, as with then(). `queue` must outlive fut's completion.
template <class T, class F>
auto then_on(CpuQueue& queue, Future<T>&& fut, F&& f) {
  using Fn = std::decay_t<F>;
  using U = typename detail::unwrap_result<detail::continuation_return_t<T, Fn>>::type;
  return std::move(fut).then([q = &queue, fn = Fn(std::forward<F>(f))](Result<T> r) mutable -> Future<U> {
    if constexpr (!detail::takes_result_v<T, Fn>) {
      // f(T) never sees errors; pass them straight on without a trip through the queue.
      if (!r) return make_error_future<U>(std::move(r).error());
    }
    Promise<U> p;
    Future<U> out = p.future();
    q->post([fn = std::move(fn), r = std::move(r), p = std::move(p)]() mutable {
      detail::run_continuation<T>(fn, std::move(r), p);
    });
    return out;
  });
}

}  // namespace hetex
