// SPDX-License-Identifier: MIT
#pragma once
// Device health: one circuit breaker per device. A device that faults is suspended; after a
// back-off one batch may probe it; the probe's success closes the circuit, its failure doubles
// the back-off (up to a maximum). A device its backend retired is never routed to again.
// Time comes from an injected clock, so tests step it instead of sleeping.

#include <chrono>
#include <functional>
#include <mutex>

#include "hetex/exec/scheduler.hpp"

namespace hetex::detail {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  struct Options {
    std::chrono::milliseconds backoff{500};  // after the first fault
    std::chrono::milliseconds max_backoff{60'000};
  };
  enum class Admit : std::uint8_t { no, yes, as_probe };

  // on_change(state) is called, under the breaker's lock, whenever the state changes.
  CircuitBreaker(Options options, Now now, std::function<void(DeviceState)> on_change = {});

  DeviceState state() const;
  // Whether a batch may be routed here now. A suspended device whose back-off is over is offered
  // as the batch's probe (as_probe; it is then probing) when may_probe and no other batch probes it.
  Admit admit(bool may_probe);
  // Whether an attempt may run here now: healthy, or probing and this attempt is of the probe.
  bool may_attempt(bool of_probe) const;
  // A fault: suspended for the first back-off, or twice the last one while suspended or probing.
  void fault();
  // A success: a probing device is healthy again.
  void success();
  // The probe offered by admit() did not reach the device: suspended again, to be probed next.
  void release_probe();
  // The backend gave the device up: retired, for good.
  void retire();

 private:
  void set(DeviceState s);
  const Options options_;
  const Now now_;
  const std::function<void(DeviceState)> on_change_;
  mutable std::mutex m_;
  DeviceState state_ = DeviceState::healthy;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point reopen_at_{};
};

}  // namespace hetex::detail
