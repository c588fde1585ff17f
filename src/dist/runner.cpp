// SPDX-License-Identifier: MIT
#include "dist/runner.hpp"

namespace hetex::dist::detail {

ChunkRunner::ChunkRunner(ChunkWorker& worker, int threads, double speed, Waker& waker)
    : worker_(worker), speed_(speed), waker_(waker) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { loop(); });
}

ChunkRunner::~ChunkRunner() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ChunkRunner::push(Task t) {
  {
    std::lock_guard lock(m_);
    queue_.push_back(std::move(t));
  }
  cv_.notify_one();
}

std::optional<ChunkRunner::Done> ChunkRunner::pop() {
  std::lock_guard lock(m_);
  if (done_.empty()) return std::nullopt;
  Done d = std::move(done_.front());
  done_.pop_front();
  return d;
}

std::size_t ChunkRunner::busy() const {
  std::lock_guard lock(m_);
  return queue_.size() + running_ + done_.size();
}

void ChunkRunner::loop() {
  for (;;) {
    Task t;
    {
      std::unique_lock lock(m_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      t = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    Done d{t.id, t.range, t.cost, t.payload.size(), std::vector<std::uint8_t>{}, Clock::now(), {}};
    try {
      d.result = worker_.run(t.range, t.payload.bytes());
    } catch (const std::exception& e) {
      d.result = Error(Errc::internal, std::string("a chunk threw: ") + e.what());
    }
    t.payload = {};  // the input's memory goes back to the pool before the result travels
    d.finish = Clock::now();
    if (speed_ < 1) {
      // The rank as a whole runs at speed_: the extra time is queued behind that of its other
      // chunks, not spent beside it.
      const auto extra = std::chrono::duration_cast<Clock::duration>((d.finish - d.start) * (1 / speed_ - 1));
      Clock::time_point release;
      {
        std::lock_guard lock(m_);
        release = slow_until_ = std::max(slow_until_, d.finish) + extra;
      }
      std::this_thread::sleep_until(release);
      d.finish = Clock::now();
    }
    {
      std::lock_guard lock(m_);
      --running_;
      done_.push_back(std::move(d));
    }
    waker_.notify();
  }
}

}  // namespace hetex::dist::detail
