#pragma once
// Routing decisions, as pure functions of what the scheduler knows (device backlogs, the cost
// model), so they can be tested without running anything.

#include <cstddef>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/exec/cost_model.hpp"
#include "hetex/exec/route.hpp"

namespace hetex {

// The GPU when one is usable and the batch has at least min_gpu_items (the design notes' rule).
struct ThresholdPolicy {
  std::size_t min_gpu_items = 1u << 16;
};
// The device that finishes the batch first, from measured cost plus what is already queued there
// (earliest finish time). Explores each device at each size until calibrated; afterwards re-tries
// the runner-up every probe_interval decisions if it is predicted within probe_ratio of the best,
// so a device that got faster is noticed without paying much for it.
struct AdaptivePolicy {
  std::size_t probe_interval = 64;
  double probe_ratio = 2.0;
};
// The batch split over the CPU and every usable GPU so that all are predicted to finish together;
// idle devices then steal from the tails of the others.
struct SplitPolicy {
  // Devices take their shares in pieces that the others may steal while unstarted: each GPU half
  // of what is left of its share at a time, each CPU thread a guided part of the CPU's. false:
  // each device takes its whole share in one go (nothing left to steal).
  bool pieces = true;
};
// Always the named device: the CPU-only / GPU-only baselines.
struct PinnedPolicy {
  DeviceId device;
};
using Policy = std::variant<ThresholdPolicy, AdaptivePolicy, SplitPolicy, PinnedPolicy>;
std::string policy_name(const Policy& p);

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

// Equal-finish split of n items. min_share[i] is the fewest items worth giving candidate i;
// smaller shares are folded into the others. Until every candidate is calibrated at n's size (as
// Adaptive explores), the least measured one takes the whole batch. A split predicted to finish no
// sooner than kSplitWorthIt of the best device alone, less kSplitHandoffSeconds, becomes that
// device alone. So does one whose measured split runs at this size (kSplitCostDevice, recorded
// by the scheduler, Measured::split) were slower than that device alone: devices that share cores and memory
// bandwidth slow each other down, which no per-device curve predicts. Once every device has run
// in a split, shares follow its time alone times how much slower it ran there (the median ratio
// of its Measured::beside entry, also recorded by the scheduler). Such speeds keep a batch from
// being split only once measured in kCalibrated splits: a cold first split must not stop all.
// reprobe: plan the split even where measured splits say it will not pay.
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
