// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hetex/async/cpu_queue.hpp"

using namespace hetex;
using namespace std::chrono_literals;

namespace {

TEST(CpuQueue, SubmitReturnsTheValue) {
  CpuQueue q(2);
  EXPECT_EQ(q.max_concurrency(), 2u);
  Future<int> f = q.submit([] { return 6 * 7; });
  EXPECT_EQ(*f.get(), 42);
}

TEST(CpuQueue, DefaultConcurrencyIsTheHardwareThreadsAvailable) {
  CpuQueue q;
  EXPECT_GE(q.max_concurrency(), 1u);
  EXPECT_LE(q.max_concurrency(), std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(*q.submit([] { return 1; }).get(), 1);
}

TEST(CpuQueue, SubmitVoid) {
  CpuQueue q(2);
  std::atomic<bool> ran{false};
  Future<void> f = q.submit([&] { ran = true; });
  EXPECT_TRUE(f.get().has_value());
  EXPECT_TRUE(ran.load());
}

TEST(CpuQueue, SubmitMoveOnlyResultAndCapture) {
  CpuQueue q(2);
  auto in = std::make_unique<int>(5);
  Future<std::unique_ptr<int>> f = q.submit([p = std::move(in)]() mutable {
    *p += 1;
    return std::move(p);
  });
  auto r = f.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 6);
}

TEST(CpuQueue, SubmitResultError) {
  CpuQueue q(2);
  Future<int> f = q.submit([]() -> Result<int> { return Error(Errc::out_of_memory, "too big"); });
  Result<int> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::out_of_memory);
  Future<void> g = q.submit([]() -> Status { return Error(Errc::io, "read failed"); });
  Status s = g.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::io);
}

TEST(CpuQueue, SubmitFutureFlattens) {
  CpuQueue q(2);
  Promise<int> p;
  Future<int> inner = p.future();
  Future<int> f = q.submit([&] { return std::move(inner); });
  p.set_value(3);
  EXPECT_EQ(*f.get(), 3);
}

TEST(CpuQueue, ExceptionBecomesInternal) {
  CpuQueue q(2);
  Future<int> f = q.submit([]() -> int { throw std::runtime_error("kaput"); });
  Result<int> r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::internal);
  EXPECT_NE(r.error().message().find("kaput"), std::string::npos);
  Future<void> g = q.submit([] { throw 17; });
  Status s = g.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::internal);
}

TEST(CpuQueue, WaitIdleCoversEveryTask) {
  CpuQueue q(2);
  std::atomic<int> done{0};
  for (int i = 0; i < 500; ++i) q.post([&] { done.fetch_add(1); });
  q.wait_idle();
  EXPECT_EQ(done.load(), 500);
  q.wait_idle();  // idle already: returns at once
}

TEST(CpuQueue, WaitIdleCoversTasksSubmittedByTasks) {
  CpuQueue q(2);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) {
    q.post([&] {
      q.post([&] { done.fetch_add(1); });
      done.fetch_add(1);
    });
  }
  q.wait_idle();
  EXPECT_EQ(done.load(), 100);
}

TEST(CpuQueue, DestructorWaitsForOutstandingTasks) {
  std::atomic<int> done{0};
  auto guards = std::make_shared<int>(0);
  {
    CpuQueue q(2);
    for (int i = 0; i < 200; ++i) {
      (void)q.submit([&done, g = guards] {
        std::this_thread::sleep_for(50us);
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 200);
  EXPECT_EQ(guards.use_count(), 1);  // every captured copy was destroyed too
}

TEST(CpuQueue, ManyTasksFromManyThreads) {
  CpuQueue q(4);
  constexpr int threads = 4, per_thread = 2000;
  std::vector<std::vector<Future<int>>> futures(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) futures[t].push_back(q.submit([v = t * per_thread + i] { return v; }));
    });
  }
  for (auto& t : ts) t.join();
  long long sum = 0;
  for (auto& fs : futures)
    for (auto& f : fs) {
      Result<int> r = f.get();
      ASSERT_TRUE(r);
      sum += *r;
    }
  constexpr long long n = threads * per_thread;
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

TEST(CpuQueue, ConcurrencyLimitHolds) {
  for (std::size_t limit : {1u, 2u}) {
    CpuQueue q(limit);
    std::atomic<int> running{0}, peak{0};
    for (int i = 0; i < 200; ++i) {
      q.post([&] {
        int now = running.fetch_add(1) + 1;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
        std::this_thread::sleep_for(20us);
        running.fetch_sub(1);
      });
    }
    q.wait_idle();
    EXPECT_GE(peak.load(), 1);
    EXPECT_LE(peak.load(), static_cast<int>(limit)) << "limit " << limit;
  }
}

TEST(CpuQueue, SharedIsOneInstance) {
  CpuQueue& a = CpuQueue::shared();
  CpuQueue& b = CpuQueue::shared();
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(*a.submit([] { return 1; }).get(), 1);
}

TEST(ThenOn, RunsTheContinuationOnTheQueue) {
  CpuQueue q(2);
  Promise<int> p;
  std::thread::id setter_id, ran_on;
  Future<int> f = then_on(q, p.future(), [&](int v) {
    ran_on = std::this_thread::get_id();
    return v + 1;
  });
  std::thread setter([&] {
    setter_id = std::this_thread::get_id();
    p.set_value(1);
  });
  setter.join();
  EXPECT_EQ(*f.get(), 2);
  EXPECT_NE(ran_on, setter_id);
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(ThenOn, ErrorsPassAndResultContinuationsSeeThem) {
  CpuQueue q(2);
  std::atomic<bool> ran{false};
  Future<int> skipped = then_on(q, make_error_future<int>(Error(Errc::busy, "x")), [&](int v) {
    ran = true;
    return v;
  });
  Result<int> r = skipped.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::busy);
  EXPECT_FALSE(ran.load());

  Future<std::string> seen =
      then_on(q, make_error_future<int>(Error(Errc::io, "y")), [](Result<int> r2) -> Result<std::string> {
        if (r2) return std::string("value");
        return std::string(to_string(r2.error().code()));
      });
  EXPECT_EQ(*seen.get(), std::string(to_string(Errc::io)));
}

TEST(ThenOn, VoidAndExceptions) {
  CpuQueue q(2);
  Future<int> f = then_on(q, make_ready_future(), [] { return 3; });
  EXPECT_EQ(*f.get(), 3);
  Future<void> g = then_on(q, make_ready_future(1), [](int) { throw std::logic_error("bad"); });
  Status s = g.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::internal);
}

}  // namespace
