// SPDX-License-Identifier: MIT
#pragma once
// Routing decisions, as pure functions of what the scheduler knows (device backlogs, the cost
// model), so they can be tested without running anything. The rules and their reasons:
// docs/design/scheduler.md, "Planning".

#include <cstddef>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/exec/cost_model.hpp"
#include "hetex/exec/policy.hpp"
#include "hetex/exec/route.hpp"

namespace hetex {

// A device the batch may go to (usable now). The CPU, when present, comes first.
struct Candidate {
  DeviceId device;
  double backlog_seconds = 0;  // predicted time of work already queued there
};

struct Share {
  std::size_t candidate = 0;  // index into the candidates
  std::size_t begin = 0, end = 0;
};

struct RoutePlan {
  std::vector<Share> shares;
  bool exploring = false;
  Route route;
  bool beside_speeds = false;  // a split's shares follow speeds measured in earlier splits
  // The split planner kept the batch on one device because measured splits did not pay.
  bool gated = false;
  // A split run anyway, to measure splitting again (the machine's load or the data may have
  // changed since splits stopped paying): its measurements must all be recorded.
  bool reprobe = false;
};

// A split is used only when its predicted finish beats the best device alone by a margin: this
// fraction of that device's time, less a fixed cost for the hand-offs between devices.
inline constexpr double kSplitWorthIt = 0.95;
inline constexpr double kSplitHandoffSeconds = 50e-6;

// Calibration skips a device whose time per item has stopped falling with size (its two largest
// calibrated sizes below agree within kSaturated) and which, extrapolated from them, would take
// at least kFarSlower times as long as a device measured at the batch's size. At that ratio even a
// split would not pay for its share: it would save under 1 / kFarSlower, the 5% of kSplitWorthIt.
inline constexpr double kSaturated = 0.8;
inline constexpr double kFarSlower = 20;

RoutePlan route_threshold(const ThresholdPolicy& p, std::span<const Candidate> c, std::size_t n);

// Keeps the per-(operation, size bucket) decision counts that pace the re-probes.
class AdaptiveRouter {
 public:
  RoutePlan route(const AdaptivePolicy& p, const CostModel& model, const std::string& op, Residency where,
                  std::span<const Candidate> c, std::size_t n);

 private:
  std::mutex m_;
  std::map<std::pair<std::string, int>, std::size_t> decisions_;
};

// Equal-finish split of n items, in named steps (routing.cpp): calibrate first; the speeds
// (alone, times the Measured::beside slowdowns once every device has them); the best device
// alone; equal-finish shares, leaving out a device whose share is below its min_share; the gate
// that keeps the batch on the best device when a split saves too little (kSplitWorthIt,
// kSplitHandoffSeconds) or measured splits (Measured::split) were slower.
// reprobe: plan the split from the speeds alone, even where measured splits say it will not pay.
RoutePlan route_split(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
                      std::span<const std::size_t> min_share, std::size_t n, bool reprobe = false);

// route_split, re-probing a gated split now and then: after kSplitReprobeFirst gated batches of
// an (operation, size bucket), then after twice as many each time the re-probe confirms the gate
// (up to kSplitReprobeLast), so a split that never pays costs ever less to re-check.
class SplitRouter {
 public:
  static constexpr std::size_t kSplitReprobeFirst = 4, kSplitReprobeLast = 1024;
  RoutePlan route(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
                  std::span<const std::size_t> min_share, std::size_t n);

 private:
  struct Pace {
    std::size_t gated = 0;
    std::size_t interval = kSplitReprobeFirst;
  };
  std::mutex m_;
  std::map<std::tuple<std::string, Residency, int>, Pace> pace_;
};

}  // namespace hetex
