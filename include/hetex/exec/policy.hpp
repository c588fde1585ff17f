// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Scheduling policies: how a Scheduler decides where each batch runs. The rules and their
/// reasons: docs/design/scheduler.md.

#include <cstddef>
#include <string>
#include <variant>

#include "hetex/core/device.hpp"

namespace hetex {

/// A GPU when one is usable and the batch has at least min_gpu_items; else the CPU.
struct ThresholdPolicy {
  std::size_t min_gpu_items = 1u << 16;  ///< smaller batches stay on the CPU
};
/// The device that finishes the batch first, from measured cost plus what is already queued there
/// (earliest finish time). Explores each device at each size until calibrated (except one already
/// far slower there, docs/design/scheduler.md "Calibration"); afterwards re-tries
/// the runner-up every probe_interval decisions if it is predicted within probe_ratio of the best,
/// so a device that got faster is noticed without paying much for it.
struct AdaptivePolicy {
  std::size_t probe_interval = 64;  ///< decisions between re-measurements of the runner-up
  double probe_ratio = 2.0;         ///< re-measure the runner-up only if predicted this close to the best
};
/// The batch split over the CPU and every usable GPU so that all are predicted to finish together;
/// idle devices then steal from the tails of the others.
struct SplitPolicy {
  /// Devices take their shares in pieces that the others may steal while unstarted: each GPU half
  /// of what is left of its share at a time, each CPU thread a guided part of the CPU's. false:
  /// each device takes its whole share in one go (nothing left to steal).
  bool pieces = true;
};
/// Always the named device: the CPU-only / GPU-only baselines.
struct PinnedPolicy {
  DeviceId device;  ///< the device every batch goes to
};
using Policy = std::variant<ThresholdPolicy, AdaptivePolicy, SplitPolicy, PinnedPolicy>;  ///< one of the policies above
/// "threshold", "adaptive", "split", "pinned:cuda:0"
std::string policy_name(const Policy& p);

}  // namespace hetex
