// SPDX-License-Identifier: MIT
#pragma once
// A rank's chunk threads: chunks pushed by the engine's thread run on them, results are popped
// back by it. The engine's thread never blocks on a chunk.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "dist/wire.hpp"
#include "hetex/dist/job.hpp"

namespace hetex::dist::detail {

// Wakes a waiting engine thread early: a chunk finished (an MPI message cannot wake it: those it
// polls for).
class Waker {
 public:
  void notify() {
    {
      std::lock_guard lock(m_);
      flag_ = true;
    }
    cv_.notify_one();
  }
  template <class Duration>
  void wait_for(Duration d) {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, d, [&] { return flag_; });
    flag_ = false;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool flag_ = false;
};

class ChunkRunner {
 public:
  using Clock = std::chrono::steady_clock;
  struct Task {
    std::uint64_t id = 0;
    Range range;
    double cost = 0;
    Payload payload;  // empty: rank 0 reads its own input
  };
  struct Done {
    std::uint64_t id = 0;
    Range range;
    double cost = 0;
    std::size_t input_bytes = 0;
    Result<std::vector<std::uint8_t>> result{std::vector<std::uint8_t>{}};
    Clock::time_point start, finish;
  };

  // `speed` < 1 holds each chunk 1/speed as long as it ran (an injected slow rank). `waker` is
  // notified whenever a chunk is done.
  ChunkRunner(ChunkWorker& worker, int threads, double speed, Waker& waker);
  ~ChunkRunner();  // waits for the chunks already started
  ChunkRunner(const ChunkRunner&) = delete;
  ChunkRunner& operator=(const ChunkRunner&) = delete;

  void push(Task t);
  std::optional<Done> pop();
  std::size_t busy() const;  // chunks queued or running, or done and not yet popped

 private:
  void loop();
  ChunkWorker& worker_;
  double speed_;
  Waker& waker_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::deque<Done> done_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  Clock::time_point slow_until_{};
  std::vector<std::thread> threads_;
};

}  // namespace hetex::dist::detail
