// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// stm::PathChoice: which of stm::Executor's two paths runs the next block, from what each has
/// cost on recent blocks. Optimistic parallel execution wins when transactions are expensive
/// and rarely conflict; running them in order on one thread wins when they are cheap (the
/// parallel path's bookkeeping per transaction then costs more than the transaction) or conflict
/// so much that they would be re-executed over and over. Neither can be told from the block
/// alone, so both are measured.
///
/// The rule: each path's cost is its seconds per transaction, an exponentially weighted mean
/// over the blocks it ran (weight kWeight for the newest). A path never measured runs next
/// (parallel first). Otherwise the cheaper path runs, except for a probe of the dearer one now
/// and then, so that its figure follows a changing workload or machine. Probes are
/// probe_every * max(1, dearer / cheaper - 1) choices apart (at most 16 * probe_every): what
/// they cost beyond the cheaper path stays within 1 / probe_every of the run however far apart
/// the paths are, and paths close to each other are compared often.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace hetex::ledger::stm {

/// The executor's per-block choice between its paths (see the file's description). Not
/// thread-safe: one executor, one block at a time.
class PathChoice {
 public:
  static constexpr double kWeight = 0.5;  ///< of the newest block in a path's mean cost

  /// probe_every >= 2: the fewest choices between two probes of the dearer path.
  explicit PathChoice(unsigned probe_every = 16) : probe_every_(probe_every < 2 ? 2 : probe_every) {}

  /// True: the next block runs the parallel path; false: in order. Counts as one choice.
  bool next_parallel() {
    if (!measured_[1]) return true;
    if (!measured_[0]) return false;
    const bool parallel_cheaper = cost_[1] <= cost_[0];
    const double cheaper = cost_[parallel_cheaper], dearer = cost_[!parallel_cheaper];
    const double most = 16.0 * probe_every_;
    const double apart = cheaper > 0 ? std::min(most, probe_every_ * std::max(1.0, dearer / cheaper - 1)) : most;
    if (++since_probe_ < apart) return parallel_cheaper;
    since_probe_ = 0;
    return !parallel_cheaper;
  }
  /// What a block of `transactions` cost on one path, in seconds. Blocks without transactions
  /// say nothing and are ignored.
  void record(bool parallel, std::size_t transactions, double seconds) {
    if (transactions == 0 || !(seconds >= 0)) return;
    const double per_tx = seconds / static_cast<double>(transactions);
    double& c = cost_[parallel];
    c = measured_[parallel] ? c + kWeight * (per_tx - c) : per_tx;
    measured_[parallel] = true;
  }
  /// A path's mean seconds per transaction; negative before it has been measured.
  double seconds_per_transaction(bool parallel) const { return measured_[parallel] ? cost_[parallel] : -1.0; }

 private:
  unsigned probe_every_;
  std::uint64_t since_probe_ = 0;  ///< choices since the last probe (or since both were measured)
  double cost_[2] = {0, 0};
  bool measured_[2] = {false, false};
};

}  // namespace hetex::ledger::stm
