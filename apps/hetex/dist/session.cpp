// SPDX-License-Identifier: MIT
#include "dist/session.hpp"
#include "hetex/core/file.hpp"

#include <openssl/sha.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

namespace hetex::cli {

bool under_mpi() { return dist::Comm::launched_by_mpi(); }

void add_dist_options(CLI::App& cmd, DistArgs& a, bool text_output) {
  cmd.add_option("--journal", a.journal,
                 "Record each finished chunk in FILE; a run with the same FILE does only what is missing "
                 "(resume after a rank died or the job was stopped)")
      ->type_name("FILE");
  if (text_output)
    cmd.add_option("--output", a.output,
                   "Write the output to FILE instead of standard output, in whole lines as chunks finish (under "
                   "mpirun standard output passes through the launcher, which may cut the last line when it "
                   "aborts a job)")
        ->type_name("FILE");
  cmd.add_option("--trace", a.trace, "Write a Chrome trace of the job to FILE (MPI: a row per rank and device)")
      ->type_name("FILE");
  cmd.add_option("--rank-timeout", a.rank_timeout,
                 "Under MPI: a rank silent this long (or holding a chunk far past its expected time) has hung, "
                 "and the job ends naming it")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd.add_option("--chunk-seconds", a.chunk_seconds, "Under MPI: the target run time of one chunk on a rank")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.001, 600.0))
      ->capture_default_str();
}

bool use_dist(const DistArgs& a) { return under_mpi() || !a.journal.empty() || !a.output.empty(); }

namespace dist_cmd {

Status write_output(int fd, std::string_view text, const dist::ChunkSource* source) {
  // Under a launcher standard output is a pipe or a pseudo-terminal that the launcher reads,
  // and stops reading once it ends the job: a write must never block this rank past a stop, and
  // what it wrote should be whole lines. So anything but a regular file gets whole lines in
  // pieces of at most PIPE_BUF bytes (atomic on a pipe; a longer line is the one exception),
  // each when the descriptor can take it; a regular file gets everything at once.
  struct stat st {};
  const bool pipe = ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
  while (!text.empty()) {
    std::size_t n = text.size();
    if (pipe && n > PIPE_BUF) {
      const auto nl = text.rfind('\n', PIPE_BUF - 1);
      n = nl == std::string_view::npos ? PIPE_BUF : nl + 1;
    }
    if (pipe) {
      pollfd pfd{fd, POLLOUT, 0};
      const int ready = ::poll(&pfd, 1, 100);
      if (dist::stop_requested()) return Error(Errc::cancelled, "the output stopped: the job is being stopped");
      if (ready == 0 && source) source->keepalive();  // a reader that paused (| less) is no hang
      if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
    }
    const ssize_t w = ::write(fd, text.data(), n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error(Errc::io, std::string("cannot write the output: ") + std::strerror(errno));
    }
    text.remove_prefix(static_cast<std::size_t>(w));
  }
  return {};
}

Result<std::size_t> read_some(int fd, std::uint8_t* p, std::size_t n, const dist::ChunkSource* source,
                              const std::string& name) {
  for (;;) {
    if (source) {
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, 200);
      if (ready == 0) {
        source->keepalive();
        continue;
      }
      if (ready < 0 && errno == EINTR) continue;
    }
    const ssize_t r = ::read(fd, p, n);
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno == EINTR) continue;
    return Error(Errc::io, name + ": read error: " + std::strerror(errno));
  }
}

std::string file_identity(const std::string& path) {
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::unique_ptr<Session> Session::open(const char* command, const Common& common, const DistArgs& args) {
  std::unique_ptr<Session> s(new Session);
  s->command_ = command;
  s->args_ = args;
  if (dist::Comm::launched_by_mpi()) {
    auto c = dist::Comm::init();
    if (!c) {
      std::fprintf(stderr, "hetex %s: %s\n", command, c.error().describe().c_str());
      return nullptr;
    }
    s->comm_ = std::move(*c);
  }
  dist::install_stop_handler();
  // Every rank sets up; if any cannot, all stop here (each failure was printed by its rank).
  std::string failure;
  if (common.metrics_port >= 0 || !args.trace.empty()) {
    if (!args.trace.empty()) s->trace_ = std::make_shared<metrics::TraceRecorder>();
    auto& registry = metrics::Registry::global();
    auto sched_metrics = metrics::SchedulerMetrics::create(registry, s->trace_);
    auto observer = dist::RankObserver::create(s->comm_, registry, s->trace_);
    if (!sched_metrics || !observer) {
      failure = (!sched_metrics ? sched_metrics.error() : observer.error()).describe();
    } else {
      s->observer_ = *observer;
      auto sched = make_scheduler(common.device, *sched_metrics, s->comm_.is_root());
      if (sched)
        s->sched_ = std::move(*sched);
      else
        failure = sched.error().describe();
    }
    if (failure.empty() && common.metrics_port >= 0) {
      auto server = s->observer_->serve(static_cast<std::uint16_t>(common.metrics_port));
      if (!server) {
        failure = server.error().describe();
      } else {
        s->server_.emplace(std::move(*server));
        std::fprintf(stderr, "hetex %s: rank %d metrics at http://%s:%u/metrics%s\n", command, s->comm_.rank(),
                     s->server_->bind_address().c_str(), unsigned(s->server_->port()),
                     s->comm_.is_root() && s->comm_.size() > 1 ? " (every rank: /metrics/all)" : "");
      }
    }
  } else {
    auto sched = make_scheduler(common.device, nullptr, s->comm_.is_root());
    if (sched)
      s->sched_ = std::move(*sched);
    else
      failure = sched.error().describe();
  }
  s->device_ = common.device;
  if (failure.empty() && s->comm_.is_root() && !args.output.empty()) {
    // The output grows in FILE.partial and becomes FILE only once complete: a job that stops
    // leaves an earlier FILE as it was, never a file of that name that looks complete.
    const std::string partial = args.output + ".partial";
    s->output_fd_ = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->output_fd_ < 0) failure = partial + ": cannot create: " + std::strerror(errno);
  }
  if (!failure.empty())
    std::fprintf(stderr, "hetex %s: %s: %s\n", command, s->comm_.describe(s->comm_.rank()).c_str(), failure.c_str());
  auto ok = s->comm_.all(failure.empty());
  if (!ok || !*ok) return nullptr;
  return s;
}

Session::~Session() {
  if (server_) server_->stop();
  if (output_fd_ >= 0) ::close(output_fd_);
}

Status Session::emit(std::string_view text, const dist::ChunkSource* source) {
  auto st = write_output(output_fd_ >= 0 ? output_fd_ : STDOUT_FILENO, text, source);
  if (!st && output_fd_ >= 0) return st.error().with_context(args_.output);
  return st;
}

dist::JobOptions Session::job_options(std::string fingerprint, double probe_cost, double min_cost,
                                      double max_cost) const {
  dist::JobOptions o;
  o.chunk_seconds = args_.chunk_seconds;
  o.probe_cost = probe_cost;
  o.min_cost = min_cost;
  o.max_cost = max_cost;
  o.timeout = std::chrono::milliseconds(static_cast<long long>(args_.rank_timeout * 1000));
  o.heartbeat = std::min(std::chrono::milliseconds(1000), o.timeout / 4);
  if (comm_.is_root()) o.journal = args_.journal;
  o.fingerprint = command_ + "|" + std::move(fingerprint);
  o.observer = observer_;
  return o;
}

void Session::summarize(const dist::JobReport& r, const char* units) const {
  if (!comm_.is_root()) return;
  if (comm_.size() > 1) {
    double total = 0;
    for (const auto& rank : r.ranks) total += rank.cost;
    std::string shares;
    for (const auto& rank : r.ranks) {
      char b[64];
      std::snprintf(b, sizeof b, " %.1f%% (%zu chunks)", total > 0 ? 100 * rank.cost / total : 0.0, rank.chunks);
      shares += (shares.empty() ? "" : ",") + std::string(" ") + comm_.describe(rank.rank) + b;
    }
    say("shares:" + shares);
  }
  if (r.journal_chunks)
    say("journal " + args_.journal + ": " + std::to_string(r.journal_chunks) + " chunks (" +
        std::to_string(r.journal_units) + " " + units + ") were done already; " + std::to_string(r.chunks) +
        " chunks (" + std::to_string(r.units) + " " + units + ") computed now");
}

void Session::say(const std::string& text) const {
  if (comm_.is_root()) std::fprintf(stderr, "hetex %s: %s\n", command_.c_str(), text.c_str());
}

bool Session::everyone_sees(const std::string& identity) const {
  // Compared by digest: a listing of many files need not travel whole. HETEX_DIST_READ=root
  // (read on rank 0) makes rank 0 read every input for all, shared or not.
  const char* read = std::getenv("HETEX_DIST_READ");
  const bool root_reads = comm_.is_root() && read && std::string_view(read) == "root";
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(identity.data()), identity.size(), d);
  const std::string mine = root_reads ? std::string() : std::string(reinterpret_cast<const char*>(d), sizeof d);
  auto root = comm_.broadcast(mine);
  if (!root) return false;
  auto all = comm_.all(!identity.empty() && !root->empty() && *root == mine);
  return all && *all;
}

void Session::conclude(const Result<dist::JobReport>& r) {
  if (r && output_fd_ >= 0) {
    const std::string partial = args_.output + ".partial";
    const bool closed = ::close(output_fd_) == 0;
    output_fd_ = -1;
    if (!closed || ::rename(partial.c_str(), args_.output.c_str()) != 0)
      say("cannot put the output in place: " + partial + " holds it (" + std::strerror(errno) + ")");
  }
  if (r) {
    if (comm_.is_root() && !args_.trace.empty() && observer_) {
      if (auto st = write_file_atomic(args_.trace, observer_->merged_trace_json()); !st)
        say("cannot write the trace: " + st.error().describe());
    }
    return;
  }
  const Error& e = r.error();
  const bool stopping = dist::stop_requested();
  // A job refused before it began (a journal of another job) is bad usage: status 2.
  const int status = e.code() == Errc::invalid_argument ? 2 : 3;
  if (comm_.is_root()) {
    say(e.message());
    const std::string output = args_.output.empty() ? "the output" : args_.output + ".partial";
    if (status == 3 && !args_.journal.empty())
      say(output + " so far is complete; the journal " + args_.journal +
          " holds every chunk finished: run the same command with --journal " + args_.journal + " to do only the rest");
    else if (status == 3)
      say(output + " so far is complete; no journal was kept (--journal FILE makes a run resumable)");
    std::fflush(stderr);
    // The launcher is already ending the job (SIGTERM): leave before it kills. Otherwise end it,
    // a hung rank included.
    if (stopping) std::_Exit(status);
    comm_.abort(status);
  }
  if (stopping) {
    // Rank 0 is naming the ranks that gave no notice: a rank that left now would make the
    // launcher kill everything before it could. The launcher's SIGKILL ends this wait.
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::_Exit(3);
  }
  if (e.code() == Errc::cancelled) {
    // Rank 0 said the job failed: it reports why and ends the job; leaving first would have the
    // launcher kill rank 0 before it could.
    std::this_thread::sleep_for(std::chrono::seconds(30));
    std::_Exit(3);
  }
  std::fprintf(stderr, "hetex %s: %s: %s\n", command_.c_str(), comm_.describe(comm_.rank()).c_str(),
               e.message().c_str());
  std::fflush(stderr);
  comm_.abort(status);
}

}  // namespace dist_cmd
}  // namespace hetex::cli
