// SPDX-License-Identifier: MIT
#include "hetex/exec/route.hpp"

namespace hetex {

std::string_view to_string(RouteReason reason) noexcept {
  switch (reason) {
    case RouteReason::none: return "none";
    case RouteReason::only_device: return "only_device";
    case RouteReason::above_threshold: return "above_threshold";
    case RouteReason::below_threshold: return "below_threshold";
    case RouteReason::no_gpu: return "no_gpu";
    case RouteReason::no_cpu: return "no_cpu";
    case RouteReason::calibrating: return "calibrating";
    case RouteReason::reprobing: return "reprobing";
    case RouteReason::earliest_finish: return "earliest_finish";
    case RouteReason::split_saves_too_little: return "split_saves_too_little";
    case RouteReason::measured_splits_slower: return "measured_splits_slower";
    case RouteReason::split_assumed_speeds: return "split_assumed_speeds";
    case RouteReason::split_reprobe: return "split_reprobe";
    case RouteReason::equal_finish_split: return "equal_finish_split";
    case RouteReason::pinned: return "pinned";
    case RouteReason::pinned_unusable: return "pinned_unusable";
  }
  return "unknown";
}

std::string Route::describe() const {
  const std::string dev = device.to_string();
  const std::string size = std::to_string(items) + " items";
  switch (reason) {
    case RouteReason::none: return {};
    case RouteReason::only_device: return "only " + dev + " is usable";
    case RouteReason::above_threshold: return size + " >= threshold " + std::to_string(threshold);
    case RouteReason::below_threshold: return size + " below threshold";
    case RouteReason::no_gpu: return "no usable GPU";
    case RouteReason::no_cpu: return "no CPU candidate";
    case RouteReason::calibrating: return "calibrating " + dev + " at " + size;
    case RouteReason::reprobing: return "re-probing " + dev + " at " + size;
    case RouteReason::earliest_finish: return "earliest finish on " + dev;
    case RouteReason::split_saves_too_little: return "all on " + dev + ": a split would save too little";
    case RouteReason::measured_splits_slower: return "all on " + dev + ": measured splits at this size were slower";
    case RouteReason::split_assumed_speeds: return "split with assumed speeds for uncalibrated devices";
    case RouteReason::split_reprobe: return "equal-finish split, re-probing after splits stopped paying";
    case RouteReason::equal_finish_split: return "equal-finish split";
    case RouteReason::pinned: return "pinned to " + dev;
    case RouteReason::pinned_unusable: return dev + " is not usable; on " + instead.to_string();
  }
  return {};
}

}  // namespace hetex
