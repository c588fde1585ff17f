// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The ledger pipeline: a transactions file in, committed blocks out.
///
/// @code
/// parse -> verify -> hash -> execute -> commit
/// @endcode
///
/// Each stage is a thread, joined to the next by a bounded Channel (queue_blocks blocks), so a slow
/// stage holds back the ones before it (backpressure) and every stage works on a different block:
/// block n + 1 is verified (on the GPU, when there is one) and hashed while block n executes.
/// @code
/// parse    reads block_size lines, parses them on every core
/// verify   Ed25519 signatures on the hybrid scheduler (GPU with CPU fallback)
/// hash     transaction ids and the Merkle root (SHA-256 on the scheduler), and the executor's
///          index of the block's keys
/// execute  the parallel executor (Block-STM) against the in-memory state, which it then updates;
///          builds the header (parent = the previous block's hash)
/// commit   hands the block to the sink (the RocksDB store: one atomic batch)
/// @endcode
///
/// A bad line stops the run with an error naming its line: the blocks before it are committed,
/// nothing of its block is. When resuming (tip.height > 0), the input's block tip.height is read
/// and hashed again, and its Merkle root must equal the committed one: that the input is the one
/// the database was built from is checked, not assumed.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "hetex/core/error.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/ledger/metrics.hpp"
#include "hetex/ledger/store.hpp"
#include "hetex/ledger/transfer.hpp"

namespace hetex::ledger {

/// How run_pipeline cuts, executes and reports blocks.
struct PipelineOptions {
  std::size_t block_size = 10'000;                ///< transactions per block (the store's block size)
  unsigned executor_threads = 0;                  ///< 0: every hardware thread
  stm::Path executor_path = stm::Path::measured;  ///< stm::ExecutorOptions::path
  double min_parallelism = 2.0;                   ///< stm::ExecutorOptions
  std::size_t queue_blocks = 2;                   ///< capacity of each channel between stages
  std::shared_ptr<LedgerMetrics> metrics{};       ///< may be null
  /// After each block's commit, in height order (on the commit stage's thread).
  std::function<void(const CommittedBlock&)> on_commit{};
};

/// What one run of the pipeline did.
struct RunSummary {
  std::uint64_t first_height = 0, last_height = 0;  ///< blocks committed by this run (none: 0, 0)
  std::size_t blocks = 0, transactions = 0;
  std::array<std::size_t, kTxStatusCount> by_status{};
  double seconds = 0;                           ///< wall time of the whole run
  std::array<double, kStages> stage_seconds{};  ///< busy time of each stage
  stm::ExecutionStats execution;                ///< counts summed over blocks (the paths: sequential_blocks)
  /// Blocks the executor ran in order on one thread (measured cheaper, or too little
  /// parallelism); the others ran in parallel.
  std::size_t sequential_blocks = 0;
  /// Where the scheduler ran the stages' batches: operation -> device -> items, and the items a
  /// GPU failed that the CPU redid.
  std::map<std::string, std::map<std::string, std::size_t>> device_items;
  std::size_t fallback_items = 0;
};

/// Runs the transactions of `input` from block tip.height + 1 on, against `state` (the accounts
/// as of the tip), committing each block to `sink`. On error, blocks before the failing one are
/// committed and `state` may hold the effects of blocks executed but not yet committed: reload it
/// from the store before using it again.
Result<RunSummary> run_pipeline(Scheduler& sched, const std::filesystem::path& input, AccountState& state,
                                const Tip& tip, BlockSink& sink, const PipelineOptions& options = {});

}  // namespace hetex::ledger
