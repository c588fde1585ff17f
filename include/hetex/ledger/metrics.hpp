// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The pipeline's Prometheus metrics and trace. Families (all prefixed hetex_ledger_):
/// @code
/// stage_seconds{stage}        histogram: time a stage spent on one block
/// stage_items_total{stage}    transactions through each stage
/// queue_depth{stage}          blocks waiting in front of each stage (sampled as each block goes in)
/// transactions_total{status}  committed transactions by receipt status
/// blocks_total, height        blocks committed, and the tip's height
/// executions_total, reexecutions_total, validations_total, aborts_total, dependencies_total
///                             the parallel executor's work (Block-STM)
/// sequential_blocks_total     blocks the executor ran on one thread (too little parallelism)
/// @endcode
/// Stages: parse, verify, hash, execute, commit. With a TraceRecorder, each stage's work on each
/// block is an event on its own track ("ledger parse", ...), so the overlap of blocks shows.

#include <array>
#include <chrono>
#include <memory>
#include <string_view>

#include "hetex/core/error.hpp"
#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/types.hpp"
#include "hetex/metrics/registry.hpp"
#include "hetex/metrics/trace.hpp"

namespace hetex::ledger {

enum class Stage : std::uint8_t { parse, verify, hash, execute, commit };
inline constexpr std::size_t kStages = 5;
std::string_view to_string(Stage s) noexcept;

/// The ledger pipeline's Prometheus metrics and trace (see the file's description). Thread-safe;
/// the registry must outlive it.
class LedgerMetrics {
 public:
  static Result<std::shared_ptr<LedgerMetrics>> create(metrics::Registry& registry = metrics::Registry::global(),
                                                       std::shared_ptr<metrics::TraceRecorder> trace = nullptr);

  /// One stage's work on one block of `items` transactions.
  void stage_done(Stage s, std::uint64_t height, std::size_t items, std::chrono::steady_clock::time_point start,
                  std::chrono::steady_clock::time_point end);
  void queue_depth(Stage s, std::size_t blocks);    ///< blocks waiting before stage s
  void executed(const stm::ExecutionStats& stats);  ///< one block's execution statistics
  /// A block committed, with its transactions counted by status.
  void committed(const BlockHeader& header, const std::array<std::size_t, kTxStatusCount>& by_status);

  /// The trace given to create(), or null.
  const std::shared_ptr<metrics::TraceRecorder>& trace() const noexcept { return trace_; }

 private:
  LedgerMetrics() = default;
  struct PerStage {
    metrics::Histogram seconds;
    metrics::Counter items;
    metrics::Gauge depth;
  };
  std::array<std::optional<PerStage>, kStages> stages_;
  std::array<std::optional<metrics::Counter>, kTxStatusCount> txs_;
  std::optional<metrics::Counter> blocks_, executions_, reexecutions_, validations_, aborts_, dependencies_,
      sequential_;
  std::optional<metrics::Gauge> height_;
  std::shared_ptr<metrics::TraceRecorder> trace_;
};

}  // namespace hetex::ledger
