// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Why a batch went where it did: a reason the program can compare, and its description in words.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hetex/core/device.hpp"

namespace hetex {

/// The rule that decided where a batch ran.
enum class RouteReason : std::uint8_t {
  none,                    ///< not routed: an executor ran the batch where it was told
  only_device,             ///< one device is usable
  above_threshold,         ///< Threshold: at least min_gpu_items, on a GPU
  below_threshold,         ///< Threshold: fewer items, on the CPU
  no_gpu,                  ///< Threshold: no usable GPU, on the CPU
  no_cpu,                  ///< Threshold: no CPU to fall back to, on a GPU
  calibrating,             ///< the device is measured at this size before routing trusts it
  reprobing,               ///< Adaptive: the runner-up, re-measured now and then
  earliest_finish,         ///< Adaptive: the device predicted to finish first
  split_saves_too_little,  ///< Split: a split would not save enough over the best device alone
  measured_splits_slower,  ///< Split: splits measured at this size were slower than that device
  split_assumed_speeds,    ///< Split: shares from assumed speeds for devices not yet measured
  split_reprobe,           ///< Split: a split run again to re-measure after splits stopped paying
  equal_finish_split,      ///< Split: shares that all finish together
  pinned,                  ///< Pinned: on the named device
  pinned_unusable,         ///< Pinned: the named device is not usable now, on another
};
/// The reason's name: "calibrating", "equal_finish_split", ...
std::string_view to_string(RouteReason reason) noexcept;

/// Where a batch was sent and the rule that decided it (ExecStats::route).
struct Route {
  RouteReason reason = RouteReason::none;  ///< the rule that decided
  DeviceId device;                         ///< the device the reason names (where the batch went, or was pinned to)
  DeviceId instead;                        ///< pinned_unusable: where the batch went instead
  std::size_t items = 0;                   ///< the batch's size
  std::size_t threshold = 0;               ///< above_threshold: the policy's threshold

  /// In words: "calibrating cuda:0 at 65536 items", "equal-finish split", "" for none.
  std::string describe() const;
  friend bool operator==(const Route&, const Route&) = default;
};

}  // namespace hetex
