// SPDX-License-Identifier: MIT
// What the async layer costs over the raw mechanisms it wraps. Pairs to compare:
//   BM_CpuQueue_SubmitGet      vs BM_RawTbb_TaskGroup         one empty task, submit + wait
//   BM_CpuQueue_Batch1000      vs BM_RawTbb_TaskGroupBatch1000 1000 empty tasks, then wait all
//   BM_Task_AwaitPingPong      vs BM_StdPromise_PingPong      resume latency across threads
//   BM_Future_GetPingPong      vs BM_StdPromise_PingPong      blocking get(), hetex vs std
//   BM_Future_ThenChain/N      vs BM_Direct_CallChain/N       N chained continuations

#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "hetex/async/cpu_queue.hpp"
#include "hetex/async/future.hpp"
#include "hetex/async/task.hpp"

using namespace hetex;

namespace {

void BM_CpuQueue_SubmitGet(benchmark::State& state) {
  CpuQueue q;
  for (auto _ : state) {
    Result<int> r = q.submit([] { return 1; }).get();
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CpuQueue_SubmitGet)->UseRealTime();

// The same work through TBB directly. The waiting thread joins in and runs the task itself,
// which a Future::get() does not do; the gap is partly that hand-off.
void BM_RawTbb_TaskGroup(benchmark::State& state) {
  tbb::task_arena arena;
  tbb::task_group group;
  for (auto _ : state) {
    int out = 0;
    arena.execute([&] {
      group.run([&] { out = 1; });
      group.wait();
    });
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_RawTbb_TaskGroup)->UseRealTime();

// A raw arena.enqueue round trip with a condition-variable wait: the same hand-off CpuQueue
// makes, without futures.
void BM_RawTbb_EnqueueWait(benchmark::State& state) {
  tbb::task_arena arena;  // enqueue-only, as CpuQueue: its workers run the tasks
  std::mutex m;
  std::condition_variable cv;
  for (auto _ : state) {
    bool done = false;
    arena.enqueue([&] {
      std::lock_guard lock(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
  }
}
BENCHMARK(BM_RawTbb_EnqueueWait)->UseRealTime();

constexpr int kBatch = 1000;

void BM_CpuQueue_Batch1000(benchmark::State& state) {
  CpuQueue q;
  std::atomic<int> sink{0};
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) q.post([&] { sink.fetch_add(1, std::memory_order_relaxed); });
    q.wait_idle();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_CpuQueue_Batch1000)->UseRealTime();

void BM_CpuQueue_Batch1000Futures(benchmark::State& state) {
  CpuQueue q;
  std::vector<Future<int>> fs;
  fs.reserve(kBatch);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) fs.push_back(q.submit([i] { return i; }));
    for (auto& f : fs) benchmark::DoNotOptimize(f.get());
    fs.clear();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_CpuQueue_Batch1000Futures)->UseRealTime();

void BM_RawTbb_TaskGroupBatch1000(benchmark::State& state) {
  tbb::task_arena arena;
  tbb::task_group group;
  std::atomic<int> sink{0};
  for (auto _ : state) {
    arena.execute([&] {
      for (int i = 0; i < kBatch; ++i) group.run([&] { sink.fetch_add(1, std::memory_order_relaxed); });
      group.wait();
    });
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_RawTbb_TaskGroupBatch1000)->UseRealTime();

// Resume latency. Each round hands a request to a partner thread (a condition-variable wake-up),
// which completes a promise. A Task awaiting the future continues inline on the partner, then
// sends its next request to the other partner; a thread blocked in get() must be woken again.
// So a Task round costs one wake-up, a blocking round two: the saving co_await exists for.
class Partner {
 public:
  Partner() : thread_([this] { loop(); }) {}
  ~Partner() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void send(detail::UniqueFunction<void()> job) {
    {
      std::lock_guard lock(m_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      detail::UniqueFunction<void()> job;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<detail::UniqueFunction<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

constexpr int kRounds = 1000;

Task<void> ping_pong(Partner& a, Partner& b) {
  for (int i = 0; i < kRounds; ++i) {
    Promise<int> p;
    Future<int> f = p.future();
    (i % 2 ? a : b).send([p = std::move(p)]() mutable { p.set_value(1); });
    Result<int> r = co_await std::move(f);  // resumes on the partner that set it
    benchmark::DoNotOptimize(r);
  }
}

void BM_Task_AwaitPingPong(benchmark::State& state) {
  Partner a, b;
  for (auto _ : state) (void)ping_pong(a, b).get();
  state.SetItemsProcessed(state.iterations() * kRounds);
}
BENCHMARK(BM_Task_AwaitPingPong)->UseRealTime();

void BM_Future_GetPingPong(benchmark::State& state) {
  Partner a;
  for (auto _ : state) {
    for (int i = 0; i < kRounds; ++i) {
      Promise<int> p;
      Future<int> f = p.future();
      a.send([p = std::move(p)]() mutable { p.set_value(1); });
      benchmark::DoNotOptimize(f.get());
    }
  }
  state.SetItemsProcessed(state.iterations() * kRounds);
}
BENCHMARK(BM_Future_GetPingPong)->UseRealTime();

void BM_StdPromise_PingPong(benchmark::State& state) {
  Partner a;
  for (auto _ : state) {
    for (int i = 0; i < kRounds; ++i) {
      std::promise<int> p;
      std::future<int> f = p.get_future();
      a.send([p = std::move(p)]() mutable { p.set_value(1); });
      benchmark::DoNotOptimize(f.get());
    }
  }
  state.SetItemsProcessed(state.iterations() * kRounds);
}
BENCHMARK(BM_StdPromise_PingPong)->UseRealTime();

void BM_Future_ThenChain(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Promise<int> p;
    Future<int> f = p.future();
    for (int i = 0; i < n; ++i) f = std::move(f).then([](int v) { return v + 1; });
    p.set_value(0);
    benchmark::DoNotOptimize(f.get());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Future_ThenChain)->Arg(1)->Arg(16);

void BM_Direct_CallChain(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
      v += 1;
      benchmark::DoNotOptimize(v);
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Direct_CallChain)->Arg(1)->Arg(16);

}  // namespace

BENCHMARK_MAIN();
