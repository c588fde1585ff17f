// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `Future<T>`: the one asynchronous result type of hetex, for CPU tasks and device work alike.
///
/// A state becomes ready either when a Promise sets it, or when its Gate (device work, e.g. a
/// CUDA event) finishes. Waiting on a gated state waits on the gate itself, so a blocked get()
/// costs what a stream synchronize costs; then() asks the gate to notify once, from a hetex
/// thread, so no thread is parked per future. Continuations run on the thread that completes
/// the state; post heavy work to a CpuQueue instead of doing it inline.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "hetex/core/gate.hpp"
#include "hetex/core/unique_function.hpp"
#include "hetex/core/error.hpp"

namespace hetex {

template <class T>
class Future;
template <class T>
class Promise;

namespace detail {

class StateBase : public std::enable_shared_from_this<StateBase> {
 public:
  virtual ~StateBase() = default;

  bool is_ready();
  void wait();
  // false on time-out. A gated state is polled at a coarse interval while waiting with a limit.
  bool wait_until(std::chrono::steady_clock::time_point deadline);
  // Runs cb once the state is ready: inline if it already is, else on the completing thread.
  void on_ready(UniqueFunction<void()> cb);

 protected:
  explicit StateBase(std::shared_ptr<Gate> gate = nullptr) : gate_(std::move(gate)) {}
  // Under m_: store the outcome of the gate (value on success, error otherwise).
  virtual void resolve_from_gate(Status status) = 0;
  // Marks ready, wakes waiters and runs continuations; call with `lock` held (it is released).
  void publish(std::unique_lock<std::mutex>& lock);
  void complete_from_gate(Status status);

  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  std::vector<UniqueFunction<void()>> continuations_;
  std::shared_ptr<Gate> gate_;
  bool notify_requested_ = false;
};

template <class T>
class State final : public StateBase {
  using Pending = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

 public:
  State() = default;
  // A gated state: `pending` becomes the value when the gate succeeds.
  State(std::shared_ptr<Gate> gate, Pending pending) : StateBase(std::move(gate)), pending_(std::move(pending)) {}

  // false if the state was already satisfied (the new result is dropped).
  bool set(Result<T> r) {
    std::unique_lock lock(m_);
    if (ready_.load(std::memory_order_relaxed)) return false;
    result_ = std::move(r);
    publish(lock);
    return true;
  }
  // Precondition: ready.
  Result<T> take() {
    std::lock_guard lock(m_);
    Result<T> r = std::move(*result_);
    result_.reset();
    return r;
  }

 private:
  void resolve_from_gate(Status status) override {
    // Assignments, not emplace(): nvcc warns (#2810-D) wherever a returned reference to a
    // [[nodiscard]] Result is unused.
    if (!status) {
      result_ = Result<T>(std::move(status).error());
    } else if constexpr (std::is_void_v<T>) {
      result_ = Result<T>();
    } else {
      result_ = Result<T>(std::move(*pending_));
    }
    pending_.reset();
  }

  std::optional<Result<T>> result_;
  std::optional<Pending> pending_;
};

template <class T>
struct is_future : std::false_type {};
template <class T>
struct is_future<Future<T>> : std::true_type {};

// What a continuation f(Result<T>) or f(T) produces, unwrapped: U for U, Result<U> and Future<U>.
template <class R>
struct unwrap_result {
  using type = R;
};
template <class U>
struct unwrap_result<Result<U>> {
  using type = U;
};
template <class U>
struct unwrap_result<Future<U>> {
  using type = U;
};

template <class T, class F>
constexpr bool takes_result_v = std::is_invocable_v<F, Result<T>>;

template <class T, class F>
auto continuation_call_type() {
  if constexpr (takes_result_v<T, F>) {
    return std::type_identity<std::invoke_result_t<F, Result<T>>>{};
  } else if constexpr (std::is_void_v<T>) {
    static_assert(std::is_invocable_v<F>, "then(f) on Future<void>: f takes () or (Result<void>)");
    return std::type_identity<std::invoke_result_t<F>>{};
  } else {
    static_assert(std::is_invocable_v<F, T>, "then(f) on Future<T>: f takes (T) or (Result<T>)");
    return std::type_identity<std::invoke_result_t<F, T>>{};
  }
}
template <class T, class F>
using continuation_return_t = typename decltype(continuation_call_type<T, F>())::type;

}  // namespace detail

template <class T>
Future<T> make_error_future(Error e);

/// The eventual `Result<T>` of asynchronous work (see the file's description). Move-only: one
/// consumer per result. It may be waited on from any thread, by one thread at a time.
template <class T>
class [[nodiscard]] Future {
 public:
  using value_type = T;

  Future() = default;
  explicit Future(std::shared_ptr<detail::State<T>> state) : state_(std::move(state)) {}
  /// One consumer per result: a Future is moved, never copied.
  Future(Future&&) noexcept = default;
  Future& operator=(Future&&) noexcept = default;
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;

  /// A future that is already ready with `r`.
  static Future ready(Result<T> r) {
    auto s = std::make_shared<detail::State<T>>();
    (void)s->set(std::move(r));
    return Future(std::move(s));
  }

  /// False for a default-constructed, moved-from or consumed future.
  bool valid() const noexcept { return state_ != nullptr; }
  bool is_ready() const { return state_ && state_->is_ready(); }  ///< never blocks
  /// Blocks until the result is ready (at once for an invalid future).
  void wait() const {
    if (state_) state_->wait();
  }
  /// false when `d` passed first.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    return !state_ || state_->wait_until(std::chrono::steady_clock::now() + d);
  }

  /// Waits, then moves the result out; the future is invalid afterwards.
  /// Errc::invalid_argument on an empty or consumed future; otherwise the work's own result.
  Result<T> get() {
    if (!state_) return Error(Errc::invalid_argument, "get() on an empty or already consumed Future");
    state_->wait();
    auto s = std::move(state_);
    return s->take();
  }

  /// f(T) runs on success only (errors pass through); f(`Result<T>`) always runs.
  /// f may return U, `Result<U>` or `Future<U>`; the result is `Future<U>`.
  template <class F>
  auto then(F&& f) &&;

  /// Non-consuming readiness hook (when_all/when_any, awaiters).
  void on_ready(detail::UniqueFunction<void()> cb) const { state_->on_ready(std::move(cb)); }

 private:
  std::shared_ptr<detail::State<T>> state_;
};

/// The producer's side of a Future: sets its result once, from any thread. Move-only.
template <class T>
class Promise {
 public:
  Promise() : state_(std::make_shared<detail::State<T>>()) {}
  Promise(Promise&&) noexcept = default;
  Promise& operator=(Promise&& o) noexcept {
    if (this != &o) {
      abandon();
      state_ = std::move(o.state_);
      retrieved_ = o.retrieved_;
    }
    return *this;
  }
  Promise(const Promise&) = delete;
  Promise& operator=(const Promise&) = delete;
  /// A promise dropped unset completes its future with Errc::cancelled, so no waiter hangs.
  ~Promise() { abandon(); }

  /// The one future of this promise; asking twice yields an error future.
  Future<T> future() {
    if (retrieved_ || !state_)
      return make_error_future<T>(Error(Errc::invalid_argument, "Promise::future() was already called"));
    retrieved_ = true;
    return Future<T>(state_);
  }

  /// Completes the future with `v`; later sets are ignored.
  template <class U = T>
  requires(!std::is_void_v<U>) void set_value(U&& v) { settle(Result<T>(std::forward<U>(v))); }
  void set_value() requires std::is_void_v<T> { settle(Result<T>()); }  ///< the same, for `Future<void>`
  /// Completes the future with `e`; later sets are ignored.
  void set_error(Error e) { settle(Result<T>(std::move(e))); }
  /// Completes the future with `r`; later sets are ignored.
  void set_result(Result<T> r) { settle(std::move(r)); }

 private:
  void settle(Result<T> r) {
    if (state_) {
      (void)state_->set(std::move(r));
      state_.reset();
    }
  }
  void abandon() {
    if (state_) settle(Error(Errc::cancelled, "the promise was dropped before a result was set"));
  }
  std::shared_ptr<detail::State<T>> state_;
  bool retrieved_ = false;
};

/// A future completed by device work: ready when `gate` finishes, holding `value` on success.
template <class T>
Future<T> make_gated_future(std::shared_ptr<detail::Gate> gate, T value) {
  return Future<T>(std::make_shared<detail::State<T>>(std::move(gate), std::move(value)));
}
inline Future<void> make_gated_future(std::shared_ptr<detail::Gate> gate) {
  return Future<void>(std::make_shared<detail::State<void>>(std::move(gate), std::monostate{}));
}

/// A future already holding `value`.
template <class T>
Future<T> make_ready_future(T value) {
  return Future<T>::ready(Result<T>(std::move(value)));
}
inline Future<void> make_ready_future() { return Future<void>::ready(Result<void>()); }
/// A future already holding the error `e`.
template <class T>
Future<T> make_error_future(Error e) {
  return Future<T>::ready(Result<T>(std::move(e)));
}

namespace detail {

// Settles p with what invoke() produces: void, U, Result<U> or Future<U> (flattened).
// Exceptions become Errc::internal errors naming `who`, so a throwing user function fails its
// future instead of terminating the process.
template <class U, class Invoke>
void settle_with(Promise<U>& p, Invoke&& invoke, const char* who) noexcept {
  using Ret = decltype(invoke());
  try {
    if constexpr (std::is_void_v<Ret>) {
      invoke();
      p.set_value();
    } else if constexpr (is_result<Ret>::value) {
      p.set_result(invoke());
    } else if constexpr (is_future<Ret>::value) {
      auto inner = std::make_shared<Ret>(invoke());
      if (!inner->valid()) {
        p.set_error(Error(Errc::invalid_argument, std::string(who) + " returned an empty Future"));
        return;
      }
      inner->on_ready([inner, p = std::move(p)]() mutable { p.set_result(inner->get()); });
    } else {
      p.set_value(invoke());
    }
  } catch (const std::exception& e) {
    p.set_error(Error(Errc::internal, std::string("exception thrown by ") + who + ": " + e.what()));
  } catch (...) {
    p.set_error(Error(Errc::internal, std::string("unknown exception thrown by ") + who));
  }
}

// Feeds r into f (f(T) runs on success only; f(Result<T>) always) and f's outcome into p.
template <class T, class F, class U>
void run_continuation(F& f, Result<T> r, Promise<U>& p) {
  if constexpr (takes_result_v<T, F>) {
    settle_with(
        p, [&]() -> decltype(auto) { return f(std::move(r)); }, "a continuation");
  } else {
    if (!r) {
      p.set_error(std::move(r).error());
      return;
    }
    if constexpr (std::is_void_v<T>) {
      settle_with(
          p, [&]() -> decltype(auto) { return f(); }, "a continuation");
    } else {
      settle_with(
          p, [&]() -> decltype(auto) { return f(std::move(*r)); }, "a continuation");
    }
  }
}

}  // namespace detail

template <class T>
template <class F>
auto Future<T>::then(F&& f) && {
  using U = typename detail::unwrap_result<detail::continuation_return_t<T, F>>::type;
  Promise<U> next;
  Future<U> out = next.future();
  if (!state_) {
    next.set_error(Error(Errc::invalid_argument, "then() on an empty or already consumed Future"));
    return out;
  }
  auto st = std::move(state_);
  auto* raw = st.get();
  raw->on_ready([st = std::move(st), fn = std::decay_t<F>(std::forward<F>(f)), p = std::move(next)]() mutable {
    detail::run_continuation<T>(fn, st->take(), p);
  });
  return out;
}

/// Ready when every input is; one Result per input, in order.
template <class T>
Future<std::vector<Result<T>>> when_all(std::vector<Future<T>> futures) {
  struct Join {
    std::vector<Future<T>> inputs;
    std::atomic<std::size_t> left;
    Promise<std::vector<Result<T>>> out;
  };
  auto join = std::make_shared<Join>();
  join->inputs = std::move(futures);
  join->left.store(join->inputs.size() + 1);
  Future<std::vector<Result<T>>> result = join->out.future();
  auto arrive = [join] {
    if (join->left.fetch_sub(1) != 1) return;
    std::vector<Result<T>> all;
    all.reserve(join->inputs.size());
    for (auto& f : join->inputs) all.push_back(f.get());
    join->out.set_value(std::move(all));
  };
  for (auto& f : join->inputs) {
    if (f.valid()) {
      f.on_ready(arrive);
    } else {
      arrive();  // get() on it reports the empty future as an error
    }
  }
  arrive();
  return result;
}

/// Ready when every input is; one Result per input, as a tuple.
template <class... Ts>
Future<std::tuple<Result<Ts>...>> when_all(Future<Ts>... futures) {
  struct Join {
    std::tuple<Future<Ts>...> inputs;
    std::atomic<std::size_t> left{sizeof...(Ts) + 1};
    Promise<std::tuple<Result<Ts>...>> out;
  };
  auto join = std::make_shared<Join>();
  join->inputs = std::tuple<Future<Ts>...>(std::move(futures)...);
  auto result = join->out.future();
  auto arrive = [join] {
    if (join->left.fetch_sub(1) != 1) return;
    join->out.set_value(std::apply([](auto&... f) { return std::tuple<Result<Ts>...>(f.get()...); }, join->inputs));
  };
  std::apply([&](auto&... f) { ((f.valid() ? f.on_ready(arrive) : arrive()), ...); }, join->inputs);
  arrive();
  return result;
}

/// The outcome of when_any.
template <class T>
struct WhenAny {
  std::size_t index;               ///< the first input found ready
  std::vector<Future<T>> futures;  ///< all inputs, handed back; futures[index] is ready
};

/// Ready when the first input is. An empty input list is an invalid_argument error.
template <class T>
Future<WhenAny<T>> when_any(std::vector<Future<T>> futures) {
  if (futures.empty()) return make_error_future<WhenAny<T>>(Error(Errc::invalid_argument, "when_any of no futures"));
  for (auto& f : futures)
    if (!f.valid())
      return make_error_future<WhenAny<T>>(Error(Errc::invalid_argument, "when_any given an empty Future"));
  constexpr std::size_t undecided = static_cast<std::size_t>(-1);
  struct Race {
    std::vector<Future<T>> inputs;
    std::atomic<std::size_t> winner{static_cast<std::size_t>(-1)};
    std::atomic<std::size_t> registered{0};
    std::mutex m;
    bool done = false;
    Promise<WhenAny<T>> out;
  };
  auto race = std::make_shared<Race>();
  race->inputs = std::move(futures);
  auto result = race->out.future();
  const std::size_t n = race->inputs.size();
  // The inputs are handed back only once every on_ready registration is done, so that no
  // registration touches a vector that has already been moved out. Whichever of "a winner is
  // decided" and "all are registered" happens last calls finish.
  auto finish = [race] {
    std::lock_guard lock(race->m);
    if (race->done) return;
    race->done = true;
    race->out.set_value(WhenAny<T>{race->winner.load(), std::move(race->inputs)});
  };
  for (std::size_t i = 0; i < n; ++i) {
    race->inputs[i].on_ready([race, i, n, finish] {
      std::size_t expected = undecided;
      if (race->winner.compare_exchange_strong(expected, i) && race->registered.load() == n) finish();
    });
    if (race->registered.fetch_add(1) + 1 == n && race->winner.load() != undecided) finish();
  }
  return result;
}

}  // namespace hetex
