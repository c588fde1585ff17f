// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// One job across every rank: the engine under hetex::dist::run and the distributed CLI.
///
/// Rank 0 cuts the job into chunks, ranges [begin, end) of a coordinate of the job's choosing
/// (item index, byte offset, file index), and hands them to ranks as they finish the ones they
/// hold: a rank keeps `depth` chunks in flight, so its next input is there when it finishes one.
/// Each chunk is sized to take about `chunk_seconds` on the rank it goes to, from that rank's
/// measured throughput (the first is a small probe; sizes then grow with what is measured, at
/// most `growth` times per chunk, and shrink as the job's end nears so that every rank finishes
/// at about the same time). Results come back to rank 0, which hands them to the job in
/// coordinate order. Rank 0 also computes.
///
/// Every rank runs its chunks on threads of its own (ChunkWorker::run, typically one scheduler
/// batch each); only the thread that called run_job talks to other ranks.
///
/// Faults. A rank that stops answering (no message for `timeout`) or holds a chunk far past its
/// expected time ends the job with an error naming the rank and its host. With a journal, every
/// result is appended to it as it arrives, so a run that ended early (a rank died or hung, the
/// launcher stopped the job) resumes: a second run with the same journal delivers the recorded
/// chunks from it and computes only the rest. See docs/design/distributed.md.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/dist/bytes.hpp"
#include "hetex/dist/comm.hpp"

namespace hetex::dist {

/// Items [begin, end) of a job's input, in its coordinates.
struct Range {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  friend bool operator==(const Range&, const Range&) = default;
};

/// Rank 0's side of a job: where chunks come from and where results go.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// Where the next chunk begins.
  virtual std::uint64_t position() const = 0;
  /// The total cost of the job if known up front (0: unknown, e.g. a stream).
  virtual double total_cost() const { return 0; }
  /// The next chunk: it begins at position(), costs about `cost` (at least one item) and ends
  /// at or before `limit`; nullopt when the input is exhausted. Its input goes to `payload` (spans
  /// of input that outlives the job may be spliced in rather than copied) and its cost (in the
  /// units of `cost`) to `actual_cost`. A chunk `for_root` runs on rank 0, which may read the
  /// input in place: its payload may then stay empty.
  virtual Result<std::optional<Range>> next(double cost, std::uint64_t limit, bool for_root, ChunkPayload& payload,
                                            double& actual_cost) = 0;
  /// The chunks [position(), to) are already done (in the journal): continue from `to`.
  virtual Status skip(std::uint64_t to) = 0;
  /// A chunk's result, in coordinate order, exactly once per chunk.
  virtual Status deliver(Range range, std::span<const std::uint8_t> result) = 0;

  /// Set by the engine. A source that waits for its input (a slow pipe) inside next() or skip()
  /// calls keepalive() at least every few hundred milliseconds: rank 0 then goes on answering the
  /// other ranks, which would otherwise take its silence for a hang.
  void set_keepalive(std::function<void()> f) { keepalive_ = std::move(f); }
  /// Tells the engine that the source is still alive (see set_keepalive).
  void keepalive() const {
    if (keepalive_) keepalive_();
  }

 private:
  std::function<void()> keepalive_;
};

/// Every rank's side: runs one chunk. Called from the rank's chunk threads, several chunks at
/// once (at most `depth`), with the payload ChunkSource::next made for it. The result goes back
/// to rank 0 as bytes.
class ChunkWorker {
 public:
  virtual ~ChunkWorker() = default;
  /// The chunk's result as bytes; an error fails the job (per-item errors belong in the result).
  virtual Result<std::vector<std::uint8_t>> run(Range range, std::span<const std::uint8_t> payload) = 0;
};

/// What the engine reports as it goes (for metrics and traces). Called on the thread that called
/// run_job. `rank` is the rank that ran the chunk.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  /// A chunk this rank ran: when it started and finished here, its cost and bytes.
  virtual void on_chunk_run(Range, double /*cost*/, std::chrono::steady_clock::time_point /*start*/,
                            std::chrono::steady_clock::time_point /*finish*/) {}
  /// Rank 0: a chunk's result arrived from `rank`.
  virtual void on_chunk_done(int /*rank*/, Range, double /*cost*/, double /*seconds since sent*/,
                             std::size_t /*input bytes*/, std::size_t /*result bytes*/) {}
  /// Rank 0: a message from `rank` (any kind) arrived.
  virtual void on_heard(int /*rank*/) {}
  /// Called about once per heartbeat; a worker may return text to piggyback to rank 0 (its
  /// metrics), which rank 0 then passes to on_peer_snapshot.
  virtual std::string snapshot() { return {}; }
  virtual void on_peer_snapshot(int /*rank*/, std::string /*text*/) {}  ///< rank 0: a worker's snapshot() text arrived
  /// At the end of a job: text each worker sends to rank 0 (its trace), passed to on_peer_final.
  virtual std::string final_text() { return {}; }
  virtual void on_peer_final(int /*rank*/, std::string /*text*/) {}  ///< rank 0: a worker's final_text() arrived
};

/// How run_job sizes chunks, detects dead ranks and journals results.
struct JobOptions {
  double chunk_seconds = 0.5;                 ///< target run time of a chunk on the rank it goes to
  double probe_cost = 0;                      ///< the first chunk of each rank; 0: the source's min_cost
  double min_cost = 1;                        ///< no chunk smaller (except the input's last)
  double max_cost = 1e18;                     ///< no chunk larger
  double growth = 8;                          ///< a rank's next chunk is at most this many times its last
  int depth = 2;                              ///< chunks in flight per rank
  std::size_t window = 0;                     ///< chunks made and not yet delivered; 0: 4 * depth * ranks
  bool root_computes = true;                  ///< rank 0 runs chunks too
  std::chrono::milliseconds heartbeat{1000};  ///< how often idle ranks say they are alive
  std::chrono::milliseconds timeout{60'000};  ///< silence (or a stuck chunk) that ends the job
  std::filesystem::path journal;              ///< empty: none
  std::string fingerprint;                    ///< what the journal must match to resume
  std::shared_ptr<JobObserver> observer;      ///< may be null
};

/// What one rank did in a job.
struct RankReport {
  int rank = 0;
  std::string host;        ///< its processor name
  std::size_t chunks = 0;  ///< chunks it computed
  double cost = 0;         ///< cost units this rank computed
  double rate = 0;         ///< its last measured throughput, cost units per second
};

/// What run_job did: per rank, and the chunks computed or taken from the journal.
struct JobReport {
  std::vector<RankReport> ranks;    ///< rank 0: every rank; others: their own only
  std::size_t chunks = 0;           ///< chunks computed in this run
  std::uint64_t units = 0;          ///< the coordinate length they cover
  std::size_t journal_chunks = 0;   ///< chunks delivered from the journal
  double journal_cost = 0;          ///< ...and their cost, when known (0 otherwise)
  std::uint64_t journal_units = 0;  ///< the coordinate length they cover
  double seconds = 0;               ///< wall time of run_job
};

/// Runs a job; every rank of `comm` calls it. `source` is rank 0's (null elsewhere). Returns
/// when every chunk is delivered (rank 0) or rank 0 says the job is over (others).
///
/// An error on rank 0 names what failed: a chunk that failed on a rank, a rank that hung, a
/// journal that belongs to another job. Ranks that are still reachable are told to stop and
/// return an error too; a rank that hung is not reachable, so after an error the caller should
/// end the job with comm.abort() (the CLI does) rather than finalise.
Result<JobReport> run_job(const Comm& comm, ChunkSource* source, ChunkWorker& worker, const JobOptions& options);

/// The launcher is stopping the job (SIGTERM under mpirun: a rank died, or mpirun was
/// interrupted). run_job then stops at once: rank 0 writes nothing more, waits briefly for every
/// rank's "stopping" notice and returns an error naming the ranks that gave none (those died);
/// workers send their notice and return. Installed by install_stop_handler(), which keeps
/// calling a SIGTERM handler installed before it (an application's own); tests may call
/// request_stop() directly.
void install_stop_handler();
void request_stop() noexcept;    ///< what the stop handler does: makes run_job stop
bool stop_requested() noexcept;  ///< a stop was requested

}  // namespace hetex::dist
