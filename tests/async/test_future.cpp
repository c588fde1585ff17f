// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "hetex/async/future.hpp"

using namespace hetex;
using namespace std::chrono_literals;

namespace {

TEST(Future, PromiseSetThenGet) {
  Promise<int> p;
  Future<int> f = p.future();
  EXPECT_TRUE(f.valid());
  EXPECT_FALSE(f.is_ready());
  p.set_value(7);
  EXPECT_TRUE(f.is_ready());
  Result<int> r = f.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 7);
  EXPECT_FALSE(f.valid());  // get() consumes
}

TEST(Future, GetOnConsumedFutureIsAnError) {
  Future<int> f = make_ready_future(1);
  (void)f.get();
  Result<int> again = f.get();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Errc::invalid_argument);
}

TEST(Future, VoidPromise) {
  Promise<void> p;
  Future<void> f = p.future();
  p.set_value();
  EXPECT_TRUE(f.get().has_value());
}

TEST(Future, ErrorPropagates) {
  Promise<std::string> p;
  auto f = p.future();
  p.set_error(Error(Errc::io, "disk gone"));
  Result<std::string> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_EQ(r.error().message(), "disk gone");
}

TEST(Future, DroppedPromiseCancels) {
  Future<int> f;
  {
    Promise<int> p;
    f = p.future();
  }
  Result<int> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled);
}

TEST(Future, MoveAssignedPromiseCancelsTheOldState) {
  Promise<int> a;
  Future<int> fa = a.future();
  Promise<int> b;
  a = std::move(b);
  Result<int> r = fa.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled);
}

TEST(Future, FirstResultWins) {
  Promise<int> p;
  auto f = p.future();
  p.set_value(1);
  p.set_value(2);  // the promise is spent; ignored
  EXPECT_EQ(*f.get(), 1);
}

TEST(Future, ThenWithValue) {
  Promise<int> p;
  Future<std::string> f = p.future().then([](int v) { return std::to_string(v * 2); });
  p.set_value(21);
  EXPECT_EQ(*f.get(), "42");
}

TEST(Future, ThenWithValueSkipsOnError) {
  Promise<int> p;
  bool ran = false;
  auto f = p.future().then([&](int v) {
    ran = true;
    return v;
  });
  p.set_error(Error(Errc::busy, "x"));
  Result<int> r = f.get();
  EXPECT_FALSE(ran);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::busy);
}

TEST(Future, ThenWithResultSeesErrors) {
  Promise<int> p;
  auto f = p.future().then([](Result<int> r) { return r ? 0 : static_cast<int>(r.error().code()); });
  p.set_error(Error(Errc::device_lost, "x"));
  EXPECT_EQ(*f.get(), static_cast<int>(Errc::device_lost));
}

TEST(Future, ThenOnVoid) {
  Promise<void> p;
  Future<int> f = p.future().then([] { return 5; });
  p.set_value();
  EXPECT_EQ(*f.get(), 5);
}

TEST(Future, ThenReturningVoid) {
  std::atomic<int> hits{0};
  Future<void> f = make_ready_future(3).then([&](int v) { hits += v; });
  EXPECT_TRUE(f.get().has_value());
  EXPECT_EQ(hits.load(), 3);
}

TEST(Future, ThenReturningResultFlattens) {
  Future<int> ok = make_ready_future(2).then([](int v) -> Result<int> { return v + 1; });
  EXPECT_EQ(*ok.get(), 3);
  Future<int> bad = make_ready_future(2).then([](int) -> Result<int> { return Error(Errc::kernel_fault, "trap"); });
  Result<int> r = bad.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kernel_fault);
}

TEST(Future, ThenReturningFutureFlattens) {
  Promise<int> inner;
  Future<int> innerf = inner.future();
  Promise<int> outer;
  Future<int> f = outer.future().then([&](int v) {
    EXPECT_EQ(v, 1);
    return std::move(innerf);
  });
  outer.set_value(1);
  EXPECT_FALSE(f.is_ready());  // waits for the inner future too
  inner.set_value(10);
  EXPECT_EQ(*f.get(), 10);
}

TEST(Future, ThenReturningEmptyFutureIsAnError) {
  Future<int> f = make_ready_future(1).then([](int) { return Future<int>(); });
  Result<int> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

TEST(Future, ThenOnReadyFutureRunsInline) {
  auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  Future<int> f = make_ready_future(1).then([&](int v) {
    ran_on = std::this_thread::get_id();
    return v;
  });
  EXPECT_TRUE(f.is_ready());
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(*f.get(), 1);
}

TEST(Future, ThenOnEmptyFutureIsAnError) {
  Future<int> empty;
  Result<int> r = std::move(empty).then([](int v) { return v; }).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

TEST(Future, ExceptionInContinuationIsInternal) {
  Future<int> f = make_ready_future(1).then([](int) -> int { throw std::runtime_error("boom"); });
  Result<int> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::internal);
  EXPECT_NE(r.error().message().find("boom"), std::string::npos);
}

TEST(Future, ChainAcrossThreads) {
  Promise<int> p;
  Future<int> f = p.future()
                      .then([](int v) { return v + 1; })
                      .then([](int v) -> Result<int> { return v * 10; })
                      .then([](Result<int> r) { return *r + 2; });
  std::thread setter([&] { p.set_value(4); });
  EXPECT_EQ(*f.get(), 52);
  setter.join();
}

TEST(Future, ContinuationRunsOnCompletingThread) {
  Promise<int> p;
  std::thread::id ran_on;
  auto f = p.future().then([&](int) { ran_on = std::this_thread::get_id(); });
  std::thread::id setter_id;
  std::thread setter([&] {
    setter_id = std::this_thread::get_id();
    p.set_value(0);
  });
  setter.join();
  ASSERT_TRUE(f.get().has_value());
  EXPECT_EQ(ran_on, setter_id);
}

TEST(Future, WaitForTimesOutOnUnsetPromise) {
  Promise<int> p;
  auto f = p.future();
  EXPECT_FALSE(f.wait_for(5ms));
  EXPECT_FALSE(f.is_ready());
  p.set_value(1);
  EXPECT_TRUE(f.wait_for(5ms));
}

TEST(WhenAll, Vector) {
  std::vector<Promise<int>> ps(3);
  std::vector<Future<int>> fs;
  for (auto& p : ps) fs.push_back(p.future());
  auto all = when_all(std::move(fs));
  ps[2].set_value(2);
  ps[0].set_value(0);
  EXPECT_FALSE(all.is_ready());
  ps[1].set_error(Error(Errc::busy, "one failed"));
  Result<std::vector<Result<int>>> r = all.get();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(*(*r)[0], 0);
  ASSERT_FALSE((*r)[1]);
  EXPECT_EQ((*r)[1].error().code(), Errc::busy);
  EXPECT_EQ(*(*r)[2], 2);
}

TEST(WhenAll, EmptyVectorIsReady) {
  auto all = when_all(std::vector<Future<int>>{});
  ASSERT_TRUE(all.is_ready());
  auto r = all.get();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

TEST(WhenAll, EmptyFutureInVectorReportsError) {
  std::vector<Future<int>> fs;
  fs.push_back(make_ready_future(1));
  fs.emplace_back();
  auto r = when_all(std::move(fs)).get();
  ASSERT_TRUE(r);
  EXPECT_EQ(*(*r)[0], 1);
  ASSERT_FALSE((*r)[1]);
  EXPECT_EQ((*r)[1].error().code(), Errc::invalid_argument);
}

TEST(WhenAll, Variadic) {
  Promise<int> a;
  Promise<std::string> b;
  Promise<void> c;
  auto all = when_all(a.future(), b.future(), c.future());
  std::thread t([&] {
    b.set_value("b");
    c.set_error(Error(Errc::io, "c failed"));
    a.set_value(1);
  });
  auto r = all.get();
  t.join();
  ASSERT_TRUE(r);
  auto& [ra, rb, rc] = *r;
  EXPECT_EQ(*ra, 1);
  EXPECT_EQ(*rb, "b");
  ASSERT_FALSE(rc);
  EXPECT_EQ(rc.error().code(), Errc::io);
}

TEST(WhenAll, VariadicEmpty) {
  auto r = when_all().get();
  EXPECT_TRUE(r);
}

TEST(WhenAny, WinnerIndexAndAllHandedBack) {
  std::vector<Promise<int>> ps(4);
  std::vector<Future<int>> fs;
  for (auto& p : ps) fs.push_back(p.future());
  auto any = when_any(std::move(fs));
  EXPECT_FALSE(any.is_ready());
  ps[2].set_value(22);
  auto r = any.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->index, 2u);
  ASSERT_EQ(r->futures.size(), 4u);
  EXPECT_TRUE(r->futures[2].is_ready());
  EXPECT_EQ(*r->futures[2].get(), 22);
  // The losers are still live futures.
  ps[0].set_value(0);
  ps[3].set_value(3);
  EXPECT_EQ(*r->futures[0].get(), 0);
  EXPECT_EQ(*r->futures[3].get(), 3);
  EXPECT_FALSE(r->futures[1].is_ready());
}

TEST(WhenAny, AlreadyReadyInput) {
  std::vector<Future<int>> fs;
  Promise<int> never;
  fs.push_back(never.future());
  fs.push_back(make_ready_future(9));
  auto r = when_any(std::move(fs)).get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->index, 1u);
  EXPECT_EQ(*r->futures[1].get(), 9);
}

TEST(WhenAny, EmptyListIsAnError) {
  auto r = when_any(std::vector<Future<int>>{}).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

TEST(WhenAny, RacingCompletionsPickExactlyOneWinner) {
  for (int round = 0; round < 200; ++round) {
    std::vector<Promise<int>> ps(3);
    std::vector<Future<int>> fs;
    for (auto& p : ps) fs.push_back(p.future());
    std::vector<std::thread> setters;
    for (int i = 0; i < 3; ++i) setters.emplace_back([&, i] { ps[i].set_value(i); });
    auto r = when_any(std::move(fs)).get();
    for (auto& t : setters) t.join();
    ASSERT_TRUE(r);
    ASSERT_LT(r->index, 3u);
    EXPECT_EQ(*r->futures[r->index].get(), static_cast<int>(r->index));
  }
}

// Threads complete promises while other threads attach continuations to the same futures; each
// continuation must run exactly once, whichever side gets there first.
TEST(FutureStress, ConcurrentSetAndThen) {
  constexpr int n = 10000;
  std::vector<Promise<int>> promises(n);
  std::vector<Future<int>> futures;
  futures.reserve(n);
  for (auto& p : promises) futures.push_back(p.future());
  std::vector<Future<int>> chained(n);
  auto runs = std::make_unique<std::atomic<int>[]>(n);
  std::atomic<int> total{0};

  auto setter = [&](int from) {
    for (int i = from; i < n; i += 2) promises[i].set_value(i);
  };
  auto attacher = [&](int from) {
    for (int i = from; i < n; i += 2) {
      chained[i] = std::move(futures[i]).then([&, i](int v) {
        runs[i].fetch_add(1);
        total.fetch_add(1);
        return v * 2;
      });
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(setter, 0);
  threads.emplace_back(attacher, 0);
  threads.emplace_back(setter, 1);
  threads.emplace_back(attacher, 1);
  for (auto& t : threads) t.join();

  for (int i = 0; i < n; ++i) {
    Result<int> r = chained[i].get();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(*r, 2 * i);
    EXPECT_EQ(runs[i].load(), 1) << i;
  }
  EXPECT_EQ(total.load(), n);
}

// A gate the test completes by hand. Like a real one, it delivers notify() on a thread of its
// own, never on the caller's stack.
class FakeGate final : public detail::Gate {
 public:
  explicit FakeGate(std::vector<std::thread>& threads, std::mutex& threads_m)
      : threads_(threads), threads_m_(threads_m) {}

  void complete(Status s) {
    std::vector<detail::UniqueFunction<void(Status)>> waiting;
    {
      std::lock_guard lock(m_);
      outcome_ = s;
      waiting.swap(pending_);
    }
    cv_.notify_all();
    for (auto& done : waiting) deliver(std::move(done), s);
  }
  int notify_calls() const { return notify_calls_.load(); }

  std::optional<Status> poll() override {
    std::lock_guard lock(m_);
    return outcome_;
  }
  Status wait() override {
    std::unique_lock lock(m_);
    ++waiters_;
    cv_.wait(lock, [&] { return outcome_.has_value(); });
    return *outcome_;
  }
  // Threads that have called wait() (and are parked in it until complete()).
  int waiters() const {
    std::lock_guard lock(m_);
    return waiters_;
  }
  void notify(detail::UniqueFunction<void(Status)> done) override {
    notify_calls_.fetch_add(1);
    std::optional<Status> now;
    {
      std::lock_guard lock(m_);
      if (!outcome_) {
        pending_.push_back(std::move(done));
        return;
      }
      now = outcome_;
    }
    deliver(std::move(done), std::move(*now));
  }

 private:
  void deliver(detail::UniqueFunction<void(Status)> done, Status s) {
    std::lock_guard lock(threads_m_);
    threads_.emplace_back([done = std::move(done), s = std::move(s)]() mutable { done(std::move(s)); });
  }

  std::vector<std::thread>& threads_;
  std::mutex& threads_m_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::optional<Status> outcome_;
  int waiters_ = 0;
  std::vector<detail::UniqueFunction<void(Status)>> pending_;
  std::atomic<int> notify_calls_{0};
};

class GatedFuture : public ::testing::Test {
 protected:
  void TearDown() override { join_all(); }
  void join_all() {
    std::vector<std::thread> ts;
    {
      std::lock_guard lock(threads_m_);
      ts.swap(threads_);
    }
    for (auto& t : ts) t.join();
  }
  std::shared_ptr<FakeGate> make_gate() { return std::make_shared<FakeGate>(threads_, threads_m_); }

  std::mutex threads_m_;
  std::vector<std::thread> threads_;
};

TEST_F(GatedFuture, ValueOnlyWhenGateSucceeds) {
  auto gate = make_gate();
  Future<int> f = make_gated_future(gate, 42);
  EXPECT_FALSE(f.is_ready());  // polls the gate
  EXPECT_FALSE(f.wait_for(2ms));
  gate->complete(Status());
  EXPECT_TRUE(f.is_ready());
  EXPECT_EQ(*f.get(), 42);
  EXPECT_EQ(gate->notify_calls(), 0);  // nobody asked for a callback
}

TEST_F(GatedFuture, ErrorWhenGateFails) {
  auto gate = make_gate();
  Future<std::string> f = make_gated_future(gate, std::string("payload"));
  gate->complete(Error(Errc::kernel_fault, "illegal address"));
  Result<std::string> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kernel_fault);
}

TEST_F(GatedFuture, GetBlocksOnTheGate) {
  auto gate = make_gate();
  Future<void> f = make_gated_future(gate);
  std::thread completer([&] {
    while (gate->waiters() == 0) std::this_thread::yield();  // get() is parked on the gate
    gate->complete(Status());
  });
  EXPECT_TRUE(f.get().has_value());
  completer.join();
}

TEST_F(GatedFuture, ThenNotifiesExactlyOnceAndRunsOffTheCallersStack) {
  auto gate = make_gate();
  Future<int> f = make_gated_future(gate, 1);
  std::thread::id ran_on;
  Future<int> g = std::move(f).then([&](int v) {
    ran_on = std::this_thread::get_id();
    return v + 1;
  });
  EXPECT_EQ(gate->notify_calls(), 1);
  EXPECT_FALSE(g.is_ready());
  gate->complete(Status());
  EXPECT_EQ(*g.get(), 2);
  EXPECT_EQ(gate->notify_calls(), 1);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST_F(GatedFuture, OneNotifyPerStateWhateverTheWaiters) {
  auto gate = make_gate();
  Future<int> shared_state = make_gated_future(gate, 7);
  std::atomic<int> hooks{0};
  shared_state.on_ready([&] { hooks.fetch_add(1); });
  shared_state.on_ready([&] { hooks.fetch_add(1); });
  EXPECT_EQ(gate->notify_calls(), 1);
  gate->complete(Status());
  EXPECT_EQ(*shared_state.get(), 7);
  join_all();  // the hooks may still be running on the gate's delivery thread
  EXPECT_EQ(hooks.load(), 2);
}

TEST_F(GatedFuture, WhenAllOverGatedFutures) {
  auto gate = make_gate();
  std::vector<Future<int>> fs;
  fs.push_back(make_gated_future(gate, 1));
  fs.push_back(make_gated_future(gate, 2));
  auto all = when_all(std::move(fs));
  EXPECT_EQ(gate->notify_calls(), 2);  // one per gated state
  gate->complete(Status());
  auto r = all.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(*(*r)[0], 1);
  EXPECT_EQ(*(*r)[1], 2);
}

TEST_F(GatedFuture, ThenAfterGateFinishedStillDelivers) {
  auto gate = make_gate();
  gate->complete(Status());
  Future<int> f = make_gated_future(gate, 5);
  // Not yet marked ready (nobody polled), so then() goes through notify, which fires at once.
  Future<int> g = std::move(f).then([](int v) { return v * 3; });
  EXPECT_EQ(*g.get(), 15);
  EXPECT_EQ(gate->notify_calls(), 1);
}

}  // namespace
