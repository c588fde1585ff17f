// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Injected faults, so the fallback logic is exercised everywhere: on a machine without a GPU
/// (against simulated GPUs) and on the GPU machine (against the real CUDA executor, where an
/// injected fault is reported in place of the chunk's real outcome and leaves the device healthy).
/// SchedulerOptions::faults takes a plan; the scheduler draws from it for every device attempt.
///
/// HETEX_FAULTS="oom=0.01,kernel=0.005,lost=0.001,slow=0.05:2ms,seed=42" sets a plan from the
/// environment; probabilities are per GPU attempt.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "hetex/core/error.hpp"

namespace hetex {

/// Probabilities of injected faults per GPU attempt (see the file's description). A value type.
struct FaultPlan {
  double out_of_memory = 0;                    ///< the attempt fails with out_of_memory before running
  double kernel_fault = 0;                     ///< the attempt runs, scribbles its output, then fails with kernel_fault
  double device_lost = 0;                      ///< the attempt fails with device_lost before running
  double slow = 0;                             ///< the attempt is delayed by slow_delay
  std::chrono::microseconds slow_delay{2000};  ///< the delay of a slow attempt
  std::uint64_t seed = 0;                      ///< 0: seeded from the clock

  /// Injects nothing.
  bool empty() const noexcept { return out_of_memory == 0 && kernel_fault == 0 && device_lost == 0 && slow == 0; }
  /// The HETEX_FAULTS syntax ("oom=0.01,slow=0.05:2ms,seed=42"); Errc::invalid_argument naming the
  /// item that is malformed or out of range.
  static Result<FaultPlan> parse(std::string_view spec);
  /// From HETEX_FAULTS; an empty plan when unset, an error naming the variable when malformed.
  static Result<FaultPlan> from_env();
  std::string to_string() const;  ///< the plan in the syntax parse() reads
};

}  // namespace hetex
