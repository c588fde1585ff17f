// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Metrics and the trace of a distributed job.
///
/// Every rank serves its own /metrics: the whole registry (the scheduler's families and the
/// job's hetex_dist_* ones) with a rank="N" label on every sample, so that the series of ranks on
/// one host never collide. Rank 0 also serves /metrics/all: its own and the latest snapshot of
/// every other rank (sent with the heartbeats), merged into one exposition. The job's Chrome
/// trace has one process per rank ("rank 2 (host node7)") and in it one row per device (the
/// scheduler's chunk events) and a row "job" for the chunks the rank ran.
///
/// Families (all with a rank label): hetex_dist_chunks_total and hetex_dist_cost_total (chunks
/// this rank ran and their cost units), hetex_dist_chunk_seconds (histogram), and on rank 0
/// hetex_dist_results_total{from}, hetex_dist_bytes_total{from,direction} (chunk input sent to
/// and results received from each rank), hetex_dist_last_heard_seconds{from}.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hetex/dist/comm.hpp"
#include "hetex/dist/job.hpp"
#include "hetex/metrics/registry.hpp"
#include "hetex/metrics/server.hpp"
#include "hetex/metrics/trace.hpp"

namespace hetex::dist {

/// Adds label="value" to every sample line of a Prometheus text exposition.
std::string with_label(const std::string& exposition, const std::string& label, const std::string& value);
/// Merges expositions into one: each family once (its HELP and TYPE), with every input's samples.
std::string merge_expositions(const std::vector<std::string>& expositions);

/// A rank's metrics and trace of a distributed job (see the file's description), as the engine's
/// JobObserver. Thread-safe.
class RankObserver final : public JobObserver {
 public:
  /// `trace` may be null (no trace). The registry must outlive the observer.
  static Result<std::shared_ptr<RankObserver>> create(const Comm& comm, metrics::Registry& registry,
                                                      std::shared_ptr<metrics::TraceRecorder> trace);

  void on_chunk_run(Range, double cost, std::chrono::steady_clock::time_point start,
                    std::chrono::steady_clock::time_point finish) override;
  void on_chunk_done(int rank, Range, double cost, double seconds, std::size_t input_bytes,
                     std::size_t result_bytes) override;
  void on_heard(int rank) override;
  std::string snapshot() override;
  void on_peer_snapshot(int rank, std::string text) override;
  std::string final_text() override;
  void on_peer_final(int rank, std::string text) override;

  /// This rank's registry, rank-labelled.
  std::string rank_text() const;
  /// Rank 0: its own text merged with the latest snapshot of every other rank.
  std::string aggregate_text() const;
  /// Rank 0, after the job: every rank's trace in one Chrome trace (ranks without one are left
  /// out). Elsewhere: this rank's alone.
  std::string merged_trace_json() const;

  /// Serves /metrics (and on rank 0 /metrics/all) on `port` + this rank's index among the ranks
  /// of its host, so ranks sharing a host do not collide; port 0: any free port.
  Result<metrics::MetricsServer> serve(std::uint16_t port, std::string bind = "127.0.0.1");

 private:
  struct Families;
  RankObserver(const Comm& comm, metrics::Registry& registry, std::shared_ptr<metrics::TraceRecorder> trace,
               std::shared_ptr<Families> f);
  std::string trace_payload() const;

  Comm comm_;
  metrics::Registry& registry_;
  std::shared_ptr<metrics::TraceRecorder> trace_;
  std::shared_ptr<Families> f_;
  mutable std::mutex m_;
  std::map<int, std::string> peer_metrics_;
  std::map<int, std::string> peer_traces_;
};

}  // namespace hetex::dist
