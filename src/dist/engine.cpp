// SPDX-License-Identifier: MIT
// The engine of a distributed job: rank 0's loop (make chunks, hand them out, gather results in
// order, watch for silent ranks) and every other rank's loop (run chunks, send results, beat).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <thread>

#include "dist/faults.hpp"
#include "dist/runner.hpp"
#include "dist/sizing.hpp"
#include "dist/wire.hpp"
#include "hetex/dist/job.hpp"
#include "hetex/dist/journal.hpp"

namespace hetex::dist {

namespace {

using Clock = std::chrono::steady_clock;
using detail::BusyRate;
using detail::chunk_cost;
using detail::ChunkRunner;
using detail::Header;
using detail::Kind;
using detail::Message;
using detail::SizingState;
using detail::Wire;

std::atomic<bool> g_stop{false};
// The handler installed before ours (the application's own Ctrl-C handling, say): it still runs.
struct sigaction g_previous {};

extern "C" void on_stop_signal(int sig) {
  g_stop.store(true, std::memory_order_relaxed);
  const auto previous = g_previous.sa_handler;
  if (!(g_previous.sa_flags & SA_SIGINFO) && previous != SIG_DFL && previous != SIG_IGN && previous != on_stop_signal)
    previous(sig);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
std::string fmt_seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", s);
  return b;
}
std::string range_text(Range r) {
  char b[64];
  std::snprintf(b, sizeof b, "[%llu, %llu)", static_cast<unsigned long long>(r.begin),
                static_cast<unsigned long long>(r.end));
  return b;
}

// Waits a little when a loop had nothing to do: briefly after recent activity, longer when idle,
// so a waiting rank costs next to no CPU and a busy one sees a message within a fraction of a
// millisecond. A chunk of this rank that finishes ends the wait at once. While a payload is on
// its way out it only yields: a transport that copies through shared memory moves a message
// only while the sender calls into MPI.
class Idle {
 public:
  void active() { idle_rounds_ = 0; }
  void wait(bool sending = false) {
    ++idle_rounds_;
    if (idle_rounds_ < 16 || sending)
      std::this_thread::yield();
    else
      waker_.wait_for(std::chrono::microseconds(idle_rounds_ < 256 ? 100 : 500));
  }
  detail::Waker& waker() { return waker_; }

 private:
  unsigned idle_rounds_ = 0;
  detail::Waker waker_;
};

// A fault says this rank stops dead: no messages, no work, until the launcher kills it.
[[noreturn]] void hang_forever() {
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void apply_arrival_faults(const detail::RankFaults& f, std::size_t arrived) {
  if (f.kill_at && static_cast<int>(arrived) == f.kill_at) ::raise(SIGKILL);
  if (f.hang_at && static_cast<int>(arrived) == f.hang_at) hang_forever();
}

// ------------------------------------------------------------------------------------------
// Rank 0.

class Root {
 public:
  Root(const Comm& comm, ChunkSource& source, ChunkWorker& worker, const JobOptions& o, detail::RankFaults faults)
      : comm_(comm), source_(source), o_(o), faults_(faults), peers_(static_cast<std::size_t>(comm.size())) {
    const int threads = o.root_computes ? o.depth : 0;
    if (threads > 0) runner_.emplace(worker, threads, faults.speed, idle_.waker());
    window_ = o.window ? o.window : static_cast<std::size_t>(4 * std::max(1, o.depth) * comm.size());
    total_cost_ = source.total_cost();
    probe_ = std::max(o.min_cost, o.probe_cost > 0 ? o.probe_cost : o.min_cost);
    for (int r = 0; r < comm.size(); ++r) {
      auto& p = peers_[static_cast<std::size_t>(r)];
      p.report.rank = r;
      p.report.host = comm.host(r);
      p.heard = p.sent = Clock::now();
    }
    if (comm.uses_mpi())
      wire_.emplace(
          comm, [] { return g_stop.load(std::memory_order_relaxed); }, o.timeout);
  }

  Result<JobReport> run() {
    const auto t0 = Clock::now();
    // While the source waits for input, rank 0 keeps beating and taking messages (results are
    // recorded and journalled; nothing is delivered from inside the source).
    source_.set_keepalive([this] {
      if (!keepalive_error_) return;
      if (auto st = poll_all(); !st)
        keepalive_error_ = std::move(st);
      else if (auto b = beat(); !b)
        keepalive_error_ = std::move(b);
    });
    Status st = open_journal();
    if (st) st = loop();
    source_.set_keepalive(nullptr);
    if (st && !keepalive_error_) st = std::move(keepalive_error_);
    if (!st) {
      if (journal_) (void)journal_->sync();
      if (!g_stop.load()) tell_workers(Kind::abort);  // when stopping, the launcher ends them
      // This rank's own chunks write their results into the caller's output in place: they end
      // before run returns, stopping or not (the queued ones never start).
      runner_.reset();
      return std::move(st).error();
    }
    if (journal_) HETEX_TRY_VOID(journal_->sync());
    HETEX_TRY_VOID(finish_workers());
    report_.seconds = seconds(Clock::now() - t0);
    for (auto& p : peers_) report_.ranks.push_back(p.report);
    return report_;
  }

 private:
  struct Outstanding {
    std::uint64_t id;
    Range range;
    double cost;
    Clock::time_point sent;
    double expected;  // seconds, from the rank's rate (0: not yet known)
    std::size_t input_bytes;
  };
  struct Peer {
    std::vector<Outstanding> inflight;
    BusyRate rate;
    double last_cost = 0;
    Clock::time_point heard, sent;
    bool stopping = false, final_seen = false;
    RankReport report;
  };
  struct Ready {
    Range range;
    std::vector<std::uint8_t> result;
  };

  Status open_journal() {
    if (o_.journal.empty()) return {};
    std::vector<Journal::Record> records;
    journal_.emplace(HETEX_TRY(Journal::open(o_.journal, o_.fingerprint, records)));
    for (auto& r : records) journaled_[r.range.begin] = std::move(r);
    return {};
  }

  // Ranks that can take a chunk now, rank 0 last: the others' chunks need a message first.
  // `passed`: ranks that took nothing in this round.
  int free_rank(const std::vector<bool>& passed) {
    const int n = comm_.size();
    for (int k = 1; k <= n; ++k) {
      const int r = (rr_ + k) % n;
      if ((r == 0 && !runner_) || passed[static_cast<std::size_t>(r)]) continue;
      if (static_cast<int>(peers_[r].inflight.size()) < o_.depth) {
        rr_ = r;
        return r;
      }
    }
    return -1;
  }

  double size_for(const Peer& p) const {
    SizingState st;
    st.rate = p.rate.rate();
    st.last_cost = p.last_cost;
    st.held = held_cost(p);
    st.total_known = total_cost_ > 0;
    st.left = std::max(0.0, total_cost_ - cost_made_);
    for (const auto& q : peers_) st.in_flight += held_cost(q);
    st.job_rate = known_job_rate();
    st.ranks = active_ranks();
    return chunk_cost(o_, probe_, st);
  }
  static double held_cost(const Peer& p) {
    double sum = 0;
    for (const auto& c : p.inflight) sum += c.cost;
    return sum;
  }
  // The sum of the computing ranks' measured rates; 0 while any is unknown.
  double known_job_rate() const {
    double sum = 0;
    for (std::size_t r = runner_ ? 0 : 1; r < peers_.size(); ++r) {
      if (!(peers_[r].rate.rate() > 0)) return 0;
      sum += peers_[r].rate.rate();
    }
    return sum;
  }
  int active_ranks() const { return runner_ ? comm_.size() : std::max(1, comm_.size() - 1); }

  // Chunks the journal already holds, from the source's position on, are ready at once.
  Status take_journaled() {
    for (;;) {
      const auto pos = source_.position();
      auto it = journaled_.find(pos);
      if (it == journaled_.end()) {
        auto after = journaled_.upper_bound(pos);
        if (after != journaled_.begin()) {
          auto before = std::prev(after);
          if (before->second.range.begin < pos && before->second.range.end > pos)
            return Error(Errc::invalid_argument, "journal " + o_.journal.string() + ": its chunk " +
                                                     range_text(before->second.range) +
                                                     " does not line up with this run's input");
        }
        return {};
      }
      auto rec = std::move(it->second);
      journaled_.erase(it);
      HETEX_TRY_VOID(source_.skip(rec.range.end));
      ++report_.journal_chunks;
      report_.journal_cost += rec.cost;
      report_.journal_units += rec.range.end - rec.range.begin;
      cost_made_ += rec.cost;
      ready_[next_id_++] = Ready{rec.range, std::move(rec.result)};
    }
  }

  Status assign() {
    std::vector<bool> passed(peers_.size(), false);
    while (!exhausted_ && next_id_ - deliver_id_ < window_ && !g_stop.load(std::memory_order_relaxed)) {
      HETEX_TRY_VOID(take_journaled());
      const int r = free_rank(passed);
      if (r < 0) break;
      auto& p = peers_[static_cast<std::size_t>(r)];
      const auto next_journaled = journaled_.upper_bound(source_.position());
      const std::uint64_t limit = next_journaled == journaled_.end() ? ~std::uint64_t{0} : next_journaled->first;
      const double want = size_for(p);
      if (!(want > 0)) {  // it would outlast the job: another rank takes the work
        passed[static_cast<std::size_t>(r)] = true;
        continue;
      }
      auto payload = std::make_shared<ChunkPayload>();
      double cost = 0;
      auto chunk = HETEX_TRY(source_.next(want, limit, r == 0, *payload, cost));
      if (!keepalive_error_) return std::move(keepalive_error_);
      if (!chunk) {
        exhausted_ = true;
        if (!journaled_.empty())
          return Error(Errc::invalid_argument,
                       "journal " + o_.journal.string() + " holds chunks past the end of this input");
        break;
      }
      const std::uint64_t id = next_id_++;
      cost_made_ += cost;
      p.last_cost = cost;
      const auto now = Clock::now();
      const double expected = p.rate.rate() > 0 ? cost / p.rate.rate() : 0;
      const std::size_t bytes = payload->size();
      p.rate.assigned(p.inflight.size(), now);
      p.inflight.push_back({id, *chunk, cost, now, expected, bytes});
      if (r == 0) {
        apply_arrival_faults(faults_, ++root_arrivals_);
        runner_->push({id, *chunk, cost, detail::Payload(std::move(*payload).flatten())});
      } else {
        Header h{Kind::assign, 0, id, chunk->begin, chunk->end, cost, 0, 0};
        HETEX_TRY_VOID(wire_->post(r, h, std::shared_ptr<const ChunkPayload>(std::move(payload))));
        p.sent = now;
      }
    }
    return {};
  }

  Status record(int r, std::uint64_t id, double worker_seconds, std::vector<std::uint8_t> result) {
    auto& p = peers_[static_cast<std::size_t>(r)];
    auto it = std::find_if(p.inflight.begin(), p.inflight.end(), [&](const Outstanding& o) { return o.id == id; });
    if (it == p.inflight.end())
      return Error(Errc::internal,
                   comm_.describe(r) + " returned chunk " + std::to_string(id) + ", which it was not given");
    const auto now = Clock::now();
    p.rate.finished(it->cost, now);
    p.report.chunks++;
    p.report.cost += it->cost;
    p.report.rate = p.rate.rate();
    report_.chunks++;
    report_.units += it->range.end - it->range.begin;
    if (o_.observer)
      o_.observer->on_chunk_done(r, it->range, it->cost, seconds(now - it->sent), it->input_bytes, result.size());
    (void)worker_seconds;
    if (journal_) HETEX_TRY_VOID(journal_->append(it->range, it->cost, result));
    ready_[id] = Ready{it->range, std::move(result)};
    p.inflight.erase(it);
    return {};
  }

  Status deliver() {
    for (auto it = ready_.find(deliver_id_); it != ready_.end(); it = ready_.find(deliver_id_)) {
      HETEX_TRY_VOID(source_.deliver(it->second.range, it->second.result));
      ready_.erase(it);
      ++deliver_id_;
    }
    return {};
  }

  Status handle(Message m) {
    const int r = m.source;
    auto& p = peers_[static_cast<std::size_t>(r)];
    p.heard = Clock::now();
    if (o_.observer) o_.observer->on_heard(r);
    const auto& h = m.header;
    auto text = [&] {
      auto b = m.payload.bytes();
      return std::string(reinterpret_cast<const char*>(b.data()), b.size());
    };
    switch (h.kind) {
      case Kind::result:
        if (h.status != 0)
          return Error(Errc::unavailable,
                       comm_.describe(r) + ": chunk " + range_text({h.begin, h.end}) + " failed: " + text());
        return record(r, h.id, h.seconds, {m.payload.bytes().begin(), m.payload.bytes().end()});
      case Kind::heartbeat: return {};
      case Kind::snapshot:
        if (o_.observer) o_.observer->on_peer_snapshot(r, text());
        return {};
      case Kind::stopping: p.stopping = true; return {};
      case Kind::failed: return Error(Errc::unavailable, comm_.describe(r) + " cannot go on: " + text());
      case Kind::final:
        p.final_seen = true;
        if (o_.observer) o_.observer->on_peer_final(r, text());
        return {};
      default:
        return Error(Errc::internal,
                     comm_.describe(r) + " sent an unexpected " + detail::to_string(h.kind) + " message");
    }
  }

  Status poll_all() {
    if (!wire_) return {};
    HETEX_TRY_VOID(wire_->progress());
    // Everything waiting: a rank whose messages were left queued could be taken for silent.
    while (auto m = HETEX_TRY(wire_->poll())) {
      idle_.active();
      HETEX_TRY_VOID(handle(std::move(*m)));
    }
    return {};
  }

  Status poll_local() {
    if (!runner_) return {};
    while (auto d = runner_->pop()) {
      idle_.active();
      if (o_.observer) o_.observer->on_chunk_run(d->range, d->cost, d->start, d->finish);
      if (!d->result)
        return Error(d->result.error().code(),
                     comm_.describe(0) + ": chunk " + range_text(d->range) + " failed: " + d->result.error().message());
      peers_[0].heard = Clock::now();
      HETEX_TRY_VOID(record(0, d->id, seconds(d->finish - d->start), std::move(*d->result)));
    }
    return {};
  }

  // A rank silent for the timeout, or holding a chunk far past its expected time, has hung.
  Status watch() {
    const auto now = Clock::now();
    const double timeout = seconds(o_.timeout);
    for (int r = 0; r < comm_.size(); ++r) {
      auto& p = peers_[static_cast<std::size_t>(r)];
      if (r != 0 && seconds(now - p.heard) > timeout)
        return Error(Errc::unavailable, comm_.describe(r) + " sent nothing for " + fmt_seconds(seconds(now - p.heard)) +
                                            held(p) + ": it hung or its host is unreachable");
      for (const auto& c : p.inflight) {
        const double age = seconds(now - c.sent);
        if (age > timeout + 10 * c.expected)
          return Error(Errc::unavailable, comm_.describe(r) + " has held chunk " + range_text(c.range) + " for " +
                                              fmt_seconds(age) + " (expected " + fmt_seconds(c.expected) +
                                              "): it hung");
      }
    }
    return {};
  }
  static std::string held(const Peer& p) {
    if (p.inflight.empty()) return "";
    std::string s = " while holding chunk" + std::string(p.inflight.size() > 1 ? "s " : " ");
    for (std::size_t i = 0; i < p.inflight.size(); ++i) s += (i ? ", " : "") + range_text(p.inflight[i].range);
    return s;
  }

  Status beat() {
    if (!wire_) return {};
    const auto now = Clock::now();
    for (int r = 1; r < comm_.size(); ++r) {
      auto& p = peers_[static_cast<std::size_t>(r)];
      if (now - p.sent >= o_.heartbeat) {
        HETEX_TRY_VOID(wire_->post(r, Header{Kind::heartbeat}));
        p.sent = now;
      }
    }
    return {};
  }

  bool done() const {
    if (!exhausted_ || !ready_.empty()) return false;
    for (const auto& p : peers_)
      if (!p.inflight.empty()) return false;
    return true;
  }

  Status step() {
    HETEX_TRY_VOID(assign());
    HETEX_TRY_VOID(poll_all());
    HETEX_TRY_VOID(poll_local());
    HETEX_TRY_VOID(deliver());
    HETEX_TRY_VOID(watch());
    return beat();
  }

  Status loop() {
    while (!done()) {
      if (g_stop.load(std::memory_order_relaxed)) return stopped();
      // An error while the launcher stops the job (a receive cut short by a rank's death) is
      // part of the stopping.
      if (auto st = step(); !st) return g_stop.load() ? stopped() : st;
      if (!done()) idle_.wait(wire_ && wire_->sending());
    }
    return {};
  }

  // The launcher is stopping the job. Results that still arrive are kept (journal, output in
  // order) while every rank's notice is awaited briefly; ranks without one are the dead.
  Status stopped() {
    // The launcher kills about a second after its SIGTERM: wait a quarter of that for notices.
    const auto until = Clock::now() + std::chrono::milliseconds(250);
    auto all_noticed = [&] {
      for (int r = 1; r < comm_.size(); ++r)
        if (!peers_[static_cast<std::size_t>(r)].stopping) return false;
      return true;
    };
    while (Clock::now() < until && !all_noticed()) {
      if (!poll_all() || !poll_local()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)poll_local();
    (void)deliver();
    std::string silent;
    for (int r = 1; r < comm_.size(); ++r)
      if (!peers_[static_cast<std::size_t>(r)].stopping) silent += (silent.empty() ? "" : ", ") + comm_.describe(r);
    if (silent.empty())
      return Error(Errc::cancelled,
                   "the MPI launcher is stopping the job (it was interrupted, or a rank failed "
                   "outside hetex); every rank answered");
    return Error(Errc::cancelled,
                 "the MPI launcher is stopping the job; " + silent + " gave no notice: it died or was killed");
  }

  void tell_workers(Kind k) {
    if (!wire_) return;
    for (int r = 1; r < comm_.size(); ++r) (void)wire_->post(r, Header{k});
    const auto until = Clock::now() + std::chrono::milliseconds(100);
    while (wire_->pending() && Clock::now() < until && wire_->progress()) std::this_thread::yield();
  }

  // Every worker sends its final text after `stop`; wait for them (up to the timeout).
  Status finish_workers() {
    if (!wire_) return {};
    for (int r = 1; r < comm_.size(); ++r) HETEX_TRY_VOID(wire_->post(r, Header{Kind::stop}));
    const auto start = Clock::now();
    for (;;) {
      bool all = true;
      for (int r = 1; r < comm_.size(); ++r) all = all && peers_[static_cast<std::size_t>(r)].final_seen;
      if (all && !wire_->pending()) return {};
      if (g_stop.load(std::memory_order_relaxed)) return stopped();
      HETEX_TRY_VOID(poll_all());
      if (Clock::now() - start > o_.timeout) {
        for (int r = 1; r < comm_.size(); ++r)
          if (!peers_[static_cast<std::size_t>(r)].final_seen)
            return Error(Errc::unavailable, comm_.describe(r) + " did not answer the end of the job within " +
                                                fmt_seconds(seconds(o_.timeout)));
      }
      idle_.wait();
    }
  }

  Idle idle_;  // first: the chunk runner wakes it until the runner is gone
  const Comm& comm_;
  ChunkSource& source_;
  const JobOptions& o_;
  detail::RankFaults faults_;
  std::vector<Peer> peers_;
  std::optional<ChunkRunner> runner_;
  std::optional<Wire> wire_;
  std::optional<Journal> journal_;
  std::map<std::uint64_t, Journal::Record> journaled_;  // by begin
  std::map<std::uint64_t, Ready> ready_;                // by chunk id
  std::uint64_t next_id_ = 0, deliver_id_ = 0;
  std::size_t window_ = 0, root_arrivals_ = 0;
  double total_cost_ = 0, cost_made_ = 0, probe_ = 1;
  bool exhausted_ = false;
  int rr_ = 0;
  Status keepalive_error_;
  JobReport report_;
};

// ------------------------------------------------------------------------------------------
// Ranks other than 0.

class WorkerRank {
 public:
  WorkerRank(const Comm& comm, ChunkWorker& worker, const JobOptions& o, detail::RankFaults faults)
      : comm_(comm),
        o_(o),
        faults_(faults),
        wire_(
            comm, [] { return g_stop.load(std::memory_order_relaxed); }, o.timeout),
        runner_(worker, o.depth, faults.speed, idle_.waker()) {
    report_.rank = comm.rank();
    report_.host = comm.host(comm.rank());
  }

  Result<JobReport> run() {
    Status st = loop();
    if (!st) {
      // Best effort: rank 0 should hear why (it may be gone, or be the reason).
      auto why = std::make_shared<std::vector<std::uint8_t>>();
      const auto& msg = st.error().message();
      why->assign(msg.begin(), msg.end());
      if (st.error().code() == Errc::cancelled && g_stop.load()) {
        (void)wire_.post(0, Header{Kind::stopping});
      } else if (!aborted_) {
        (void)wire_.post(0, Header{Kind::failed}, why);
      }
      const auto until = Clock::now() + std::chrono::milliseconds(200);
      while (wire_.pending() && Clock::now() < until && wire_.progress()) std::this_thread::yield();
      return std::move(st).error();
    }
    JobReport r;
    r.ranks.push_back(report_);
    r.chunks = report_.chunks;
    return r;
  }

 private:
  Status loop() {
    auto heard = Clock::now(), sent = heard, snap = heard;
    bool stop = false;
    for (;;) {
      if (g_stop.load(std::memory_order_relaxed)) return Error(Errc::cancelled, "the MPI launcher is stopping the job");
      bool active = false;
      HETEX_TRY_VOID(wire_.progress());
      while (auto m = HETEX_TRY(wire_.poll(0))) {
        active = true;
        heard = Clock::now();
        switch (m->header.kind) {
          case Kind::assign:
            apply_arrival_faults(faults_, ++arrivals_);
            runner_.push({m->header.id, {m->header.begin, m->header.end}, m->header.cost, std::move(m->payload)});
            break;
          case Kind::heartbeat: break;
          case Kind::stop: stop = true; break;
          case Kind::abort: aborted_ = true; return Error(Errc::cancelled, "rank 0 ended the job after an error");
          default:
            return Error(Errc::internal,
                         std::string("rank 0 sent an unexpected ") + detail::to_string(m->header.kind) + " message");
        }
      }
      while (auto d = runner_.pop()) {
        active = true;
        Header h{Kind::result, 0, d->id, d->range.begin, d->range.end, d->cost, seconds(d->finish - d->start), 0};
        std::shared_ptr<std::vector<std::uint8_t>> body;
        if (d->result) {
          body = std::make_shared<std::vector<std::uint8_t>>(std::move(*d->result));
          report_.chunks++;
          report_.cost += d->cost;
        } else {
          h.status = 1;
          const auto& msg = d->result.error().message();
          body = std::make_shared<std::vector<std::uint8_t>>(msg.begin(), msg.end());
        }
        if (o_.observer) o_.observer->on_chunk_run(d->range, d->cost, d->start, d->finish);
        HETEX_TRY_VOID(wire_.post(0, h, std::move(body)));
        sent = Clock::now();
      }
      const auto now = Clock::now();
      if (stop && runner_.busy() == 0) {
        auto text = std::make_shared<std::vector<std::uint8_t>>();
        if (o_.observer) {
          auto t = o_.observer->final_text();
          text->assign(t.begin(), t.end());
        }
        HETEX_TRY_VOID(wire_.post(0, Header{Kind::final}, std::move(text)));
        while (wire_.pending()) {
          HETEX_TRY_VOID(wire_.progress());
          if (Clock::now() - now > o_.timeout)
            return Error(Errc::unavailable,
                         "rank 0 did not take this rank's last message within " + fmt_seconds(seconds(o_.timeout)));
          std::this_thread::yield();
        }
        return {};
      }
      if (now - sent >= o_.heartbeat) {
        HETEX_TRY_VOID(wire_.post(0, Header{Kind::heartbeat}));
        sent = now;
      }
      if (o_.observer && now - snap >= o_.heartbeat) {
        snap = now;
        auto s = o_.observer->snapshot();
        if (!s.empty())
          HETEX_TRY_VOID(
              wire_.post(0, Header{Kind::snapshot}, std::make_shared<std::vector<std::uint8_t>>(s.begin(), s.end())));
      }
      if (now - heard > o_.timeout)
        return Error(Errc::unavailable, comm_.describe(0) + " sent nothing for " + fmt_seconds(seconds(now - heard)) +
                                            ": it hung or its host is unreachable");
      if (active)
        idle_.active();
      else
        idle_.wait(wire_.sending());
    }
  }

  Idle idle_;  // first: the chunk runner wakes it until the runner is gone
  const Comm& comm_;
  const JobOptions& o_;
  detail::RankFaults faults_;
  Wire wire_;
  ChunkRunner runner_;
  RankReport report_;
  std::size_t arrivals_ = 0;
  bool aborted_ = false;
};

}  // namespace

void install_stop_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, &g_previous);
}
void request_stop() noexcept { g_stop.store(true); }
bool stop_requested() noexcept { return g_stop.load(); }

Result<JobReport> run_job(const Comm& comm, ChunkSource* source, ChunkWorker& worker, const JobOptions& options) {
  if (options.depth < 1) return Error(Errc::invalid_argument, "JobOptions::depth must be at least 1");
  if (!(options.chunk_seconds > 0) || !(options.min_cost > 0) || options.max_cost < options.min_cost ||
      options.growth < 1)
    return Error(Errc::invalid_argument,
                 "JobOptions: chunk_seconds and min_cost must be positive, max_cost >= min_cost, growth >= 1");
  if (comm.is_root() && !source) return Error(Errc::invalid_argument, "run_job: rank 0 needs a ChunkSource");
  if (comm.is_root() && comm.size() == 1 && !options.root_computes)
    return Error(Errc::invalid_argument, "run_job: one rank that does not compute cannot finish a job");
  auto faults = HETEX_TRY(detail::faults_for(comm.rank()));
  auto finish = [](auto engine, Result<JobReport> r) {
    // Stopping: the process is about to end, within the second the launcher allows. A worker rank's
    // chunks still running (their results go to messages), and sends under way, are left as they
    // are rather than waited for.
    if (!r && g_stop.load()) engine.release();
    return r;
  };
  if (comm.is_root()) {
    auto root = std::make_unique<Root>(comm, *source, worker, options, faults);
    auto r = root->run();
    return finish(std::move(root), std::move(r));
  }
  auto w = std::make_unique<WorkerRank>(comm, worker, options, faults);
  auto r = w->run();
  return finish(std::move(w), std::move(r));
}

}  // namespace hetex::dist
