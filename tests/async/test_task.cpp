// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hetex/async/channel.hpp"
#include "hetex/async/cpu_queue.hpp"
#include "hetex/async/task.hpp"

using namespace hetex;

namespace {

// Counts live instances, to show coroutine frames (and their locals) are destroyed.
struct Tracked {
  static inline std::atomic<int> live{0};
  Tracked() { live.fetch_add(1); }
  Tracked(const Tracked&) { live.fetch_add(1); }
  ~Tracked() { live.fetch_sub(1); }
};

Task<int> add_one(Future<int> f) {
  Tracked local;
  Result<int> r = co_await std::move(f);
  if (!r) co_return r.error();
  co_return *r + 1;
}

TEST(Task, CompletesSynchronouslyWithoutSuspending) {
  auto t = []() -> Task<int> { co_return 5; }();
  EXPECT_TRUE(t.is_ready());
  EXPECT_EQ(*t.get(), 5);
}

TEST(Task, AwaitReadyFuture) {
  Task<int> t = add_one(make_ready_future(1));
  EXPECT_TRUE(t.is_ready());
  EXPECT_EQ(*t.get(), 2);
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(Task, AwaitFutureCompletedLaterFromAnotherThread) {
  Promise<int> p;
  Task<int> t = add_one(p.future());
  EXPECT_FALSE(t.is_ready());  // suspended, no thread parked
  EXPECT_EQ(Tracked::live.load(), 1);
  std::thread setter([&] { p.set_value(41); });
  EXPECT_EQ(*t.get(), 42);
  setter.join();
  EXPECT_EQ(Tracked::live.load(), 0);  // the frame is gone before the result is published
}

TEST(Task, ResumesOnTheCompletingThread) {
  Promise<void> p;
  std::thread::id resumed_on;
  auto t = [](Future<void> f, std::thread::id& where) -> Task<void> {
    (void)co_await std::move(f);
    where = std::this_thread::get_id();
  }(p.future(), resumed_on);
  std::thread::id setter_id;
  std::thread setter([&] {
    setter_id = std::this_thread::get_id();
    p.set_value();
  });
  setter.join();
  EXPECT_TRUE(t.get().has_value());
  EXPECT_EQ(resumed_on, setter_id);
}

TEST(Task, AwaitErroringFutureGivesErrorResult) {
  Promise<int> p;
  auto t = [](Future<int> f) -> Task<Errc> {
    Result<int> r = co_await std::move(f);
    if (r) co_return Error(Errc::internal, "expected an error");
    co_return r.error().code();
  }(p.future());
  p.set_error(Error(Errc::device_lost, "gone"));
  EXPECT_EQ(*t.get(), Errc::device_lost);
}

TEST(Task, ErrorFromAwaitedFuturePropagates) {
  Task<int> t = add_one(make_error_future<int>(Error(Errc::kernel_fault, "trap")));
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::kernel_fault);
}

TEST(Task, DroppedPromiseResumesWithCancelled) {
  Task<int> t = [] {
    Promise<int> p;
    return add_one(p.future());
  }();
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled);
}

TEST(Task, AwaitEmptyFutureIsAnError) {
  Task<int> t = add_one(Future<int>());
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

Task<int> outer(Future<int> f) {
  Result<int> a = co_await add_one(std::move(f));
  if (!a) co_return a.error();
  Result<int> b = co_await add_one(make_ready_future(*a));
  if (!b) co_return b.error();
  co_return *b * 10;
}

TEST(Task, NestedTasks) {
  Promise<int> p;
  Task<int> t = outer(p.future());
  EXPECT_FALSE(t.is_ready());
  std::thread setter([&] { p.set_value(1); });
  EXPECT_EQ(*t.get(), 30);
  setter.join();
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(Task, NestedTaskErrorPropagates) {
  Task<int> t = outer(make_error_future<int>(Error(Errc::io, "read")));
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
}

TEST(Task, CoReturnErrorAndResult) {
  auto err = []() -> Task<std::string> { co_return Error(Errc::compile_error, "log"); }();
  Result<std::string> r = err.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::compile_error);
  EXPECT_EQ(r.error().message(), "log");
  auto res = []() -> Task<std::string> { co_return Result<std::string>("ok"); }();
  EXPECT_EQ(*res.get(), "ok");
}

TEST(Task, VoidTaskFailsThroughFail) {
  Promise<void> p;
  auto t = [](Future<void> f) -> Task<void> {
    Tracked local;
    Status s = co_await std::move(f);
    if (!s) co_await fail(s.error().with_context("stage 2"));
    ADD_FAILURE() << "fail() must not return";
  }(p.future());
  p.set_error(Error(Errc::busy, "queue full"));
  Status s = t.get();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::busy);
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(Task, VoidTaskSucceedsByFallingOffTheEnd) {
  int hits = 0;
  auto t = [](int& h) -> Task<void> {
    ++h;
    co_return;
  }(hits);
  EXPECT_TRUE(t.get().has_value());
  EXPECT_EQ(hits, 1);
}

TEST(Task, ExceptionBecomesInternal) {
  auto t = []() -> Task<int> {
    Tracked local;
    throw std::runtime_error("oops");
    co_return 1;
  }();
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::internal);
  EXPECT_NE(r.error().message().find("oops"), std::string::npos);
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(Task, ExceptionAfterSuspensionBecomesInternal) {
  Promise<int> p;
  auto t = [](Future<int> f) -> Task<int> {
    Result<int> r = co_await std::move(f);
    co_return r.value();  // throws BadResultAccess on the error
  }(p.future());
  p.set_error(Error(Errc::io, "x"));
  Result<int> r = t.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::internal);
}

TEST(Task, ConvertsToFuture) {
  Promise<int> p;
  Future<int> f = add_one(p.future());  // implicit conversion
  Future<int> g = add_one(make_ready_future(5)).future();
  p.set_value(1);
  EXPECT_EQ(*std::move(f).then([](int v) { return v * 2; }).get(), 4);
  EXPECT_EQ(*g.get(), 6);
}

TEST(Task, DroppedTaskStillRunsToCompletion) {
  Promise<int> p;
  std::atomic<int> finished{0};
  {
    auto t = [](Future<int> f, std::atomic<int>& done) -> Task<void> {
      (void)co_await std::move(f);
      done.fetch_add(1);
    }(p.future(), finished);
  }
  p.set_value(0);
  EXPECT_EQ(finished.load(), 1);
}

TEST(Task, ManyConcurrentTasksResumedFromQueueThreads) {
  constexpr int n = 1000;
  std::vector<Promise<int>> promises(n);
  CpuQueue q(4);  // declared after the promises, so that its destructor waits before they go
  std::vector<Task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(outer(promises[i].future()));
  for (int i = 0; i < n; ++i) q.post([&promises, i] { promises[i].set_value(i); });
  for (int i = 0; i < n; ++i) {
    Result<int> r = tasks[i].get();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(*r, (i + 2) * 10);
  }
  q.wait_idle();
  EXPECT_EQ(Tracked::live.load(), 0);
}

TEST(Task, ResumeOnMovesToTheQueue) {
  CpuQueue q(2);
  auto caller = std::this_thread::get_id();
  auto t = [](CpuQueue& queue) -> Task<std::thread::id> {
    co_await resume_on(queue);
    co_return std::this_thread::get_id();
  }(q);
  Result<std::thread::id> r = t.get();
  ASSERT_TRUE(r);
  EXPECT_NE(*r, caller);
}

TEST(Task, PipelineOverChannelWithReceiveAsync) {
  Channel<int> ch(4);
  auto consumer = [](Channel<int>& in) -> Task<long> {
    long sum = 0;
    for (;;) {
      Result<std::optional<int>> item = co_await in.receive_async();
      if (!item) co_return item.error();
      if (!item->has_value()) break;
      sum += **item;
    }
    co_return sum;
  }(ch);
  std::thread producer([&] {
    for (int i = 1; i <= 100; ++i) ASSERT_TRUE(ch.send(int(i)));
    ch.close();
  });
  EXPECT_EQ(*consumer.get(), 5050);
  producer.join();
}

}  // namespace
