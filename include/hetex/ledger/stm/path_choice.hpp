// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// stm::PathChoice: which of stm::Executor's paths runs the next block, from what each has cost
/// on recent blocks. Scheduling by declared dependencies wins when declarations are exact and
/// leave parallelism; optimistic execution (Block-STM) wins when declared writes often do not
/// happen (it waits only for writes that did); running the block in order on one thread wins
/// when transactions are so cheap, or conflict so much, that any hand-off between cores costs
/// more than it saves. None of this can be told from the block alone, so every path is measured.
///
/// The rule: each path's cost is its seconds per transaction, an exponentially weighted mean
/// over the blocks it ran (weight kWeight for the newest). A path never measured runs next (in
/// the order scheduled, parallel, in order). Otherwise the cheapest path runs, except for a probe
/// of a dearer one now and then, so that its figure follows a changing workload or machine. A
/// dearer path is probed probe_every * max(1, dearer / cheapest - 1) choices after it last ran
/// (at most 16 * probe_every): what probes cost beyond the cheapest path stays within
/// 1 / probe_every of the run per dearer path however far apart the paths are, and paths close
/// to each other are compared often.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace hetex::ledger::stm {

/// Which path runs a block (stm::ExecutorOptions::path; stm::ExecutionStats::path says which ran).
enum class Path : std::uint8_t {
  measured,   ///< per block, the one measured cheapest on recent blocks (stm::PathChoice)
  scheduled,  ///< every core; a transaction starts once the lower writers of its declared keys have finished
  parallel,   ///< every core, optimistic (Block-STM): execute, validate, re-execute what read stale values
  in_order,   ///< one thread, in block order
};

/// The executor's per-block choice between its paths (see the file's description). Not
/// thread-safe: one executor, one block at a time.
class PathChoice {
 public:
  static constexpr double kWeight = 0.5;  ///< of the newest block in a path's mean cost
  /// The paths it chooses between, in the order they are first measured.
  static constexpr std::array<Path, 3> kPaths = {Path::scheduled, Path::parallel, Path::in_order};

  /// probe_every >= 2: the fewest choices between two probes of a dearer path.
  explicit PathChoice(unsigned probe_every = 16) : probe_every_(probe_every < 2 ? 2 : probe_every) {}

  /// The path measured cheapest so far (ties: the earlier in kPaths); Path::measured while any
  /// path is unmeasured.
  Path cheapest() const {
    const std::size_t p = cheapest_index();
    return p < kPaths.size() ? kPaths[p] : Path::measured;
  }

  /// The path for the next block (never Path::measured). Counts as one choice.
  Path next() {
    for (std::size_t p = 0; p < kPaths.size(); ++p)
      if (!measured_[p]) return ran(p);
    const std::size_t cheapest = cheapest_index();
    const double most = 16.0 * probe_every_;
    std::size_t due = cheapest;
    for (std::size_t p = 0; p < kPaths.size(); ++p) {
      if (p == cheapest) continue;
      const double ratio = cost_[cheapest] > 0 ? cost_[p] / cost_[cheapest] : 0;
      const double apart = ratio > 0 ? std::min(most, probe_every_ * std::max(1.0, ratio - 1)) : most;
      if (++since_[p] >= apart && due == cheapest) due = p;
    }
    return ran(due);
  }
  /// What a block of `transactions` cost on one path, in seconds. Blocks without transactions,
  /// costs that are not a finite number of seconds, and Path::measured say nothing and are ignored.
  void record(Path path, std::size_t transactions, double seconds) {
    const std::size_t p = index(path);
    if (p == kPaths.size() || transactions == 0 || !std::isfinite(seconds) || seconds < 0) return;
    const double per_tx = seconds / static_cast<double>(transactions);
    cost_[p] = measured_[p] ? cost_[p] + kWeight * (per_tx - cost_[p]) : per_tx;
    measured_[p] = true;
  }
  /// A path's mean seconds per transaction; negative before it has been measured.
  double seconds_per_transaction(Path path) const {
    const std::size_t p = index(path);
    return p < kPaths.size() && measured_[p] ? cost_[p] : -1.0;
  }

 private:
  std::size_t cheapest_index() const {
    std::size_t cheapest = 0;
    for (std::size_t p = 0; p < kPaths.size(); ++p) {
      if (!measured_[p]) return kPaths.size();
      if (cost_[p] < cost_[cheapest]) cheapest = p;
    }
    return cheapest;
  }
  static std::size_t index(Path path) {
    return static_cast<std::size_t>(std::find(kPaths.begin(), kPaths.end(), path) - kPaths.begin());
  }
  Path ran(std::size_t p) {
    since_[p] = 0;
    return kPaths[p];
  }

  unsigned probe_every_;
  std::array<std::uint64_t, 3> since_{};  ///< choices since each path last ran
  std::array<double, 3> cost_{};
  std::array<bool, 3> measured_{};
};

}  // namespace hetex::ledger::stm
