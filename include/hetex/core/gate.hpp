// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A Gate is device work the host must observe: a recorded CUDA event, say. Futures become ready
/// through gates, and buffers shared between host and device track their in-flight users with
/// them. Backends implement it; nothing here needs a device toolkit.

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "hetex/core/error.hpp"
#include "hetex/core/unique_function.hpp"

namespace hetex::detail {

class Gate {
 public:
  virtual ~Gate() = default;
  // nullopt while the work is still running; the work's outcome once it is done.
  virtual std::optional<Status> poll() = 0;
  // Blocks until the work is done: spins briefly (as a stream synchronize does), then sleeps.
  virtual Status wait() = 0;
  // Calls done(status) exactly once when the work is done, from a hetex-owned thread: never
  // on the caller's stack and never on a driver callback thread (which may not call the driver).
  virtual void notify(UniqueFunction<void(Status)> done) = 0;
};

using GatePtr = std::shared_ptr<Gate>;

// The first phases of every backend's wait(): polls back to back for 20 µs (a launch's round
// trip is a few microseconds, and a yield between polls adds its own latency to the wake-up),
// then polls yielding the core until 1.5 ms. A waiter the driver puts to sleep wakes tens to
// hundreds of microseconds late, so only waits longer than that sleep (the backend's own way,
// once this returns nullopt). docs/design/backends.md, "Gates".
template <class Poll>
std::optional<Status> poll_before_sleeping(Poll&& poll) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  do {
    if (auto s = poll()) return s;
  } while (Clock::now() < start + std::chrono::microseconds(20));
  do {
    if (auto s = poll()) return s;
    std::this_thread::yield();
  } while (Clock::now() < start + std::chrono::microseconds(1500));
  return std::nullopt;
}

}  // namespace hetex::detail
