// SPDX-License-Identifier: MIT
// Queues and completion gates of the simulated backend.
#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <queue>
#include <thread>
#include <vector>

#include "sim/sim_device.hpp"

namespace hetex::sim {
namespace {

// Delivers TimedGate notifications when their time comes, from one thread of its own (never on
// the caller's stack, as the Gate contract says).
class Timer {
 public:
  static Timer& instance() {
    // Leaked on purpose, with its thread: gates may be notified from static destructors.
    static Timer* t = new Timer;
    return *t;
  }
  void at(Clock::time_point when, detail::UniqueFunction<void(Status)> done) {
    {
      std::lock_guard lock(m_);
      queue_.push(Entry{when, seq_++, std::make_shared<detail::UniqueFunction<void(Status)>>(std::move(done))});
      if (!started_) {
        started_ = true;
        std::thread([this] { run(); }).detach();
      }
    }
    cv_.notify_one();
  }

 private:
  struct Entry {
    Clock::time_point when;
    std::uint64_t seq;
    std::shared_ptr<detail::UniqueFunction<void(Status)>> done;
    bool operator>(const Entry& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  void run() {
    std::unique_lock lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return !queue_.empty(); });
      const auto when = queue_.top().when;
      if (Clock::now() < when) {
        cv_.wait_until(lock, when);
        continue;
      }
      auto done = queue_.top().done;
      queue_.pop();
      lock.unlock();
      (*done)(Status{});
      lock.lock();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  bool started_ = false;
};

class SimStream final : public detail::StreamImpl, public detail::SimQueue {
 public:
  explicit SimStream(std::shared_ptr<SimDevice> dev) : dev_(std::move(dev)) {}

  Status copy(void* dst, const void* src, std::size_t bytes) override {
    HETEX_TRY_VOID(dev_->check_present());
    if (bytes) std::memmove(dst, src, bytes);
    return {};
  }
  Status fill_zero(void* dst, std::size_t bytes) override {
    HETEX_TRY_VOID(dev_->check_present());
    if (bytes) std::memset(dst, 0, bytes);
    return {};
  }
  Result<detail::GatePtr> launch_and_record(detail::UniqueFunction<void(NativeStream)>& launch) override {
    HETEX_TRY_VOID(dev_->check_present());
    std::lock_guard lock(m_);
    const auto start = Clock::now();
    charged_ = 0;
    launch(NativeStream(static_cast<void*>(static_cast<detail::SimQueue*>(this))));
    const auto& spec = dev_->spec();
    const auto modeled = start + std::chrono::duration_cast<Clock::duration>(spec.latency) +
                         std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(charged_) / spec.items_per_second));
    ready_ = std::max({ready_, modeled, Clock::now()});
    return detail::GatePtr(std::make_shared<TimedGate>(ready_));
  }
  Result<detail::GatePtr> record() override {
    HETEX_TRY_VOID(dev_->check_present());
    std::lock_guard lock(m_);
    return detail::GatePtr(std::make_shared<TimedGate>(ready_));
  }
  Status wait_for(const detail::GatePtr& gate) override {
    auto* timed = dynamic_cast<TimedGate*>(gate.get());
    if (!timed)
      return Error(Errc::invalid_argument, "a simulated queue can only wait for gates of the simulated backend");
    std::lock_guard lock(m_);
    ready_ = std::max(ready_, timed->at());
    return {};
  }
  Status synchronize() override {
    HETEX_TRY_VOID(dev_->check_present());
    Clock::time_point until;
    {
      std::lock_guard lock(m_);
      until = ready_;
    }
    std::this_thread::sleep_until(until);
    return {};
  }
  NativeStream native() override { return NativeStream(static_cast<void*>(static_cast<detail::SimQueue*>(this))); }
  int device_index() const override { return dev_->info().index; }

  void charge(std::size_t items) noexcept override { charged_ += items; }

 private:
  std::shared_ptr<SimDevice> dev_;
  std::mutex m_;
  Clock::time_point ready_{};  // when the work enqueued so far completes
  std::size_t charged_ = 0;    // items the running launch processed
};

}  // namespace

std::optional<Status> TimedGate::poll() {
  if (Clock::now() < at_) return std::nullopt;
  return Status{};
}

Status TimedGate::wait() {
  std::this_thread::sleep_until(at_);
  return {};
}

void TimedGate::notify(detail::UniqueFunction<void(Status)> done) { Timer::instance().at(at_, std::move(done)); }

Result<std::shared_ptr<detail::StreamImpl>> SimDevice::create_stream() {
  return std::shared_ptr<detail::StreamImpl>(std::make_shared<SimStream>(shared_from_this()));
}

}  // namespace hetex::sim
