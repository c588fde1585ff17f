// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `Task<T>`: a coroutine whose result is a `Future<T>`.
///
/// @code
/// Task<int> stage(Future<int> in) {
///   Result<int> r = co_await std::move(in);   // suspends; no thread is parked meanwhile
///   if (!r) co_return r.error();
///   co_return *r + 1;
/// }
/// @endcode
///
/// A Task starts eagerly and runs until its first suspension. co_await on a `Future<U>` or a
/// `Task<U>` yields `Result<U>`; the coroutine resumes on the thread that completes what it awaits
/// (co_await resume_on(queue) moves it onto a CpuQueue). An exception escaping the body becomes
/// an Errc::internal error. `Task<void>` ends with `co_return;`, or with an error through
/// `co_await fail(error);` (a coroutine cannot have both co_return forms).
///
/// The frame destroys itself when the body ends, before the result is published, so waiters
/// never observe a result while the coroutine's locals still exist. Dropping a Task does not
/// cancel it: the body runs on and its result is discarded.

#include <atomic>
#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "hetex/async/cpu_queue.hpp"
#include "hetex/async/future.hpp"
#include "hetex/core/error.hpp"

namespace hetex {

template <class T>
class Task;

namespace detail {

template <class T>
class TaskPromiseBase {
 public:
  Task<T> get_return_object();
  std::suspend_never initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> h) noexcept {
      h.promise().finish(h);
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept {
    try {
      throw;
    } catch (const std::exception& e) {
      result_.emplace(Error(Errc::internal, std::string("exception escaped a Task: ") + e.what()));
    } catch (...) {
      result_.emplace(Error(Errc::internal, "unknown exception escaped a Task"));
    }
  }

  void fail(Error e) { result_.emplace(std::move(e)); }

  // Destroys the frame, then publishes the result. Works at any suspension point: the final
  // one, or an early exit through fail().
  template <class P>
  void finish(std::coroutine_handle<P> h) noexcept {
    Promise<T> out = std::move(out_);
    Result<T> r =
        result_ ? std::move(*result_) : Result<T>(Error(Errc::internal, "a Task<T> body ended without co_return"));
    h.destroy();  // `this` is gone from here on
    out.set_result(std::move(r));
  }

 protected:
  Promise<T> out_;
  std::optional<Result<T>> result_;
};

template <class T>
class TaskPromise : public TaskPromiseBase<T> {
 public:
  // co_return value; co_return Error(...); co_return some_result;
  void return_value(Result<T> r) { this->result_.emplace(std::move(r)); }
};

template <>
class TaskPromise<void> : public TaskPromiseBase<void> {
 public:
  void return_void() { this->result_.emplace(); }
};

// Suspends until fut is ready, then yields its Result. Registration and completion may race
// (the future may complete on another thread while await_suspend runs): whichever of the two
// comes second resumes, so the coroutine is never resumed from inside its own await_suspend.
template <class U>
class FutureAwaiter {
 public:
  explicit FutureAwaiter(Future<U>&& f) : fut_(std::move(f)) {}
  bool await_ready() const { return !fut_.valid() || fut_.is_ready(); }
  bool await_suspend(std::coroutine_handle<> h) {
    fut_.on_ready([this, h] {
      if (arrived_.exchange(true, std::memory_order_acq_rel)) h.resume();
    });
    return !arrived_.exchange(true, std::memory_order_acq_rel);
  }
  Result<U> await_resume() { return fut_.get(); }

 private:
  Future<U> fut_;
  std::atomic<bool> arrived_{false};
};

template <class>
inline constexpr bool always_false_v = false;

struct FailAwaiter {
  Error error;
  bool await_ready() const noexcept { return false; }
  template <class T>
  void await_suspend(std::coroutine_handle<TaskPromise<T>> h) noexcept {
    h.promise().fail(std::move(error));
    h.promise().finish(h);
  }
  void await_resume() const noexcept {}
};

struct ResumeOnAwaiter {
  CpuQueue* queue;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    queue->post([h] { h.resume(); });
  }
  void await_resume() const noexcept {}
};

}  // namespace detail

/// A running coroutine and its eventual `Result<T>` (see the file's description). Move-only;
/// dropping it does not cancel the coroutine.
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() = default;
  Task(Task&&) noexcept = default;
  Task& operator=(Task&&) noexcept = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  bool valid() const noexcept { return fut_.valid(); }
  bool is_ready() const { return fut_.is_ready(); }
  void wait() const { fut_.wait(); }
  /// Waits, then moves the result out; the task is invalid afterwards.
  Result<T> get() { return fut_.get(); }

  Future<T> future() && { return std::move(fut_); }  ///< the result as a Future; the task is invalid afterwards
  operator Future<T>() && { return std::move(fut_); }

 private:
  friend class detail::TaskPromiseBase<T>;
  explicit Task(Future<T> f) : fut_(std::move(f)) {}
  Future<T> fut_;
};

template <class T>
Task<T> detail::TaskPromiseBase<T>::get_return_object() {
  return Task<T>(out_.future());
}

/// co_await std::move(future) -> `Result<U>`. Awaiting consumes the future.
template <class U>
detail::FutureAwaiter<U> operator co_await(Future<U>&& f) {
  return detail::FutureAwaiter<U>(std::move(f));
}
/// Awaiting an lvalue Future does not compile: write co_await std::move(f).
template <class U>
detail::FutureAwaiter<U> operator co_await(Future<U>& f) {
  static_assert(detail::always_false_v<U>, "co_await consumes a Future: write co_await std::move(f)");
  return detail::FutureAwaiter<U>(std::move(f));
}

/// co_await child_task(...) -> `Result<U>`.
template <class U>
detail::FutureAwaiter<U> operator co_await(Task<U>&& t) {
  return detail::FutureAwaiter<U>(std::move(t).future());
}
/// Awaiting an lvalue Task does not compile: write co_await std::move(t).
template <class U>
detail::FutureAwaiter<U> operator co_await(Task<U>& t) {
  static_assert(detail::always_false_v<U>, "co_await consumes a Task: write co_await std::move(t)");
  return detail::FutureAwaiter<U>(std::move(t).future());
}

/// co_await fail(error): ends the Task with `error`, as `co_return error;` does for `Task<T>`.
/// Meant for `Task<void>`, whose body cannot co_return a value.
inline detail::FailAwaiter fail(Error error) { return detail::FailAwaiter{std::move(error)}; }

/// co_await resume_on(queue): continues the coroutine as a task on `queue`, off the thread that
/// completed the last thing it awaited.
inline detail::ResumeOnAwaiter resume_on(CpuQueue& queue) { return detail::ResumeOnAwaiter{&queue}; }

}  // namespace hetex
