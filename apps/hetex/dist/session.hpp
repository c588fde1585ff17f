// SPDX-License-Identifier: MIT
#pragma once
// What every distributed command shares: the job's ranks, each rank's scheduler, metrics and
// trace, the journal options, rank 0's output, and how a failed job ends.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dist_cli.hpp"
#include "hetex/dist/comm.hpp"
#include "hetex/dist/job.hpp"
#include "hetex/dist/metrics.hpp"

namespace hetex::cli::dist_cmd {

class Session {
 public:
  // MPI under a launcher (one rank without MPI otherwise), this rank's scheduler for --device,
  // metrics (--metrics-port) and the trace (--trace). An error has been printed when it fails.
  static std::unique_ptr<Session> open(const char* command, const Common& common, const DistArgs& args);
  ~Session();

  const dist::Comm& comm() const noexcept { return comm_; }
  Scheduler& scheduler() noexcept { return *sched_; }
  bool is_root() const noexcept { return comm_.is_root(); }
  const std::string& device() const noexcept { return device_; }

  // Options for a job whose journal must match `fingerprint`.
  dist::JobOptions job_options(std::string fingerprint, double probe_cost, double min_cost, double max_cost) const;

  // The job's outcome: on success writes the trace (rank 0) and returns; on failure prints the
  // error (rank 0, or the rank that saw it) with what the journal holds, and ends the job with
  // exit status 3, never returning.
  void conclude(const Result<dist::JobReport>& r);

  // Rank 0, after a job: each rank's share (several ranks), and what the journal held.
  // `units` names the job's coordinate ("bytes of input", "files").
  void summarize(const dist::JobReport& r, const char* units) const;

  // Rank 0: the command's output (--output FILE, or standard output). While the output cannot
  // take more, `source` (the job) keeps the other ranks answered.
  Status emit(std::string_view text, const dist::ChunkSource* source);

  // Rank 0: a message on stderr, prefixed with the command's name.
  void say(const std::string& text) const;

  // True on every rank when every rank sees `identity` as rank 0 does (the same files, sizes
  // and times: a shared file system). Collective.
  bool everyone_sees(const std::string& identity) const;

 private:
  Session() = default;
  std::string command_;
  DistArgs args_;
  dist::Comm comm_ = dist::Comm::local();
  std::string device_;
  std::unique_ptr<Scheduler> sched_;
  std::shared_ptr<metrics::TraceRecorder> trace_;
  std::shared_ptr<dist::RankObserver> observer_;
  std::optional<metrics::MetricsServer> server_;
  int output_fd_ = -1;
};

// write(2) of all of `text` to `fd`. Rank 0's output goes out chunk by chunk, never through
// stdio's buffer; to anything but a regular file in whole lines of at most PIPE_BUF bytes, each
// when the descriptor can take it (calling source->keepalive() while it waits), giving up when
// the job is being stopped.
Status write_output(int fd, std::string_view text, const dist::ChunkSource* source);

// read(2) of up to `n` bytes (0 at the end of the input). When `source` is given and the input
// is slow to come (a pipe), it calls source->keepalive() while it waits.
Result<std::size_t> read_some(int fd, std::uint8_t* p, std::size_t n, const dist::ChunkSource* source,
                              const std::string& name);

// "size:mtime_ns" of a regular file, or "" for anything else (missing, a directory, a FIFO...).
std::string file_identity(const std::string& path);

}  // namespace hetex::cli::dist_cmd
