// SPDX-License-Identifier: MIT
#pragma once
// Draws the faults of a FaultPlan, one per device attempt.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "hetex/exec/fault.hpp"

namespace hetex {

class FaultInjector {
 public:
  enum class Fault : std::uint8_t { none, out_of_memory, kernel_fault, device_lost };
  struct Draw {
    Fault fault = Fault::none;
    std::chrono::microseconds delay{0};
  };

  explicit FaultInjector(FaultPlan plan = {});
  bool active() const noexcept { return !plan_.empty(); }
  const FaultPlan& plan() const noexcept { return plan_; }
  Draw draw();  // thread-safe

 private:
  FaultPlan plan_;
  std::mutex m_;
  std::mt19937_64 rng_;
};

}  // namespace hetex
