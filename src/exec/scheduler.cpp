#include "hetex/exec/scheduler.hpp"

#include "exec/parallel_chunks.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace hetex {

using Clock = std::chrono::steady_clock;

std::string_view to_string(DeviceState s) noexcept {
  switch (s) {
    case DeviceState::healthy: return "healthy";
    case DeviceState::suspended: return "suspended";
    case DeviceState::probing: return "probing";
    case DeviceState::retired: return "retired";
  }
  return "unknown";
}

std::string_view to_string(ChunkRecord::Outcome o) noexcept {
  switch (o) {
    case ChunkRecord::Outcome::done: return "done";
    case ChunkRecord::Outcome::failed_retried: return "failed, retried smaller";
    case ChunkRecord::Outcome::failed_fell_back: return "failed, redone on the CPU";
    case ChunkRecord::Outcome::failed: return "failed";
  }
  return "unknown";
}

namespace {

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Slot {
  DeviceId id;
  bool is_cpu = false;
  Device device;
  std::unique_ptr<GpuLane> lane;  // every device but the CPU
  // A GPU's host work (staging copies, packing) while it shares a batch with the CPU runs in
  // here, on the split_cores_per_gpu cores the split arena leaves it. Left in TBB's default
  // arena, it competed with the CPU's share for the same workers, and TBB split them by demand:
  // both ran at ~55% of their speed alone. A high-priority arena of every core did no better:
  // TBB pulled the CPU's workers into it for each short parallel loop of the feed.
  // [0] for pageable data, [1] for pinned (see Impl::split_arena).
  std::unique_ptr<tbb::task_arena> feed_arena[2];
  std::thread worker;
  std::condition_variable cv;
  // Guarded by Scheduler::Impl::m:
  std::deque<std::shared_ptr<struct JobState>> queue;
  double backlog = 0;
  DeviceState state = DeviceState::healthy;
  Clock::time_point reopen_at;
  std::chrono::milliseconds backoff{0};
  DeviceSnapshot totals;
};

struct JobState {
  struct Part {
    std::size_t slot = 0;
    std::size_t lo = 0, hi = 0;  // own share not yet taken; thieves take from hi
    std::size_t min_piece = 1;   // fewest items worth taking when stealing
    double rate = 1;             // predicted items per second, for stealing decisions
    double predicted = 0;        // predicted seconds of the share, added to the slot's backlog
    // The CPU beside GPUs: every thread of the split arena takes pieces by itself (see process).
    bool takers = false;
    // A GPU in a split: each piece is half of what is left of its share (see take).
    bool halving = false;
  };

  std::shared_ptr<detail::JobBase> job;
  std::string cost_key;  // the operation (and cost class) the model files this batch under
  Residency residency = Residency::host;  // ... and where its data lives
  bool reprobe = false;  // a split run to re-measure splitting after splits had stopped paying
  Promise<ExecReport> promise;
  Clock::time_point submitted;
  bool split = false;
  bool beside_speeds = false;  // the split's shares came from speeds measured in earlier splits
  // The CPU and at least one GPU share this batch: each runs its host work on its own cores
  // (split_arena, Slot::feed_arena).
  bool cpu_beside_gpus = false;
  std::optional<std::size_t> probe_slot;

  std::mutex m;  // guards everything below
  std::vector<Part> parts;
  std::size_t unfinished = 0;
  ExecStats stats;
  std::vector<RangeError> errors;
  std::map<DeviceId, DeviceUsage> usage;
  std::optional<Clock::time_point> first_start;
};

struct Piece {
  std::size_t begin, end;
  bool stolen;
};

}  // namespace

struct Scheduler::Impl {
  SchedulerOptions options;
  Runtime runtime;
  CostModel model;
  AdaptiveRouter adaptive;
  SplitRouter splitter;
  FaultInjector faults;
  std::optional<std::filesystem::path> calibration_file;
  std::vector<std::unique_ptr<Slot>> slots;  // the CPU first
  // CPU work that shares a batch with GPUs runs here, leaving cores free: a GPU fed from host
  // memory needs them for its staging copies, and starving it costs more than the cores give.
  // [0] for pageable data (split_cores_per_gpu), [1] for pinned (split_cores_per_gpu_pinned).
  std::unique_ptr<tbb::task_arena> split_arena[2];
  static int cores_kind(const JobState& job) { return job.residency == Residency::pinned ? 1 : 0; }
  tbb::task_arena* split_arena_of(const JobState& job) const { return split_arena[cores_kind(job)].get(); }
  int split_threads(const JobState& job) const {
    auto* a = split_arena_of(job);
    return a ? a->max_concurrency() : 1;
  }

  mutable std::mutex m;
  std::condition_variable admit_cv;
  std::size_t admitted = 0;
  bool stopping = false;

  Impl(SchedulerOptions o, Runtime rt, FaultPlan plan) : options(std::move(o)), runtime(std::move(rt)), faults(plan) {}

  // Whether a batch's data is page-locked (a GPU DMAs it directly) or pageable (staged by host
  // copies first): asked of a real GPU, a pointer query of about a microsecond, so only for
  // batches big enough for staging to matter.
  static constexpr std::size_t kResidencyCheckItems = 4096;
  Residency residency_of(const detail::JobBase& job) const {
    if (job.size() < kResidencyCheckItems || !job.op().has_gpu) return Residency::host;
    const void* data = job.host_data();
    if (!data) return Residency::host;
    for (const auto& s : slots)
      if (s->lane) return s->lane->device().backend_ptr()->is_pinned(data) ? Residency::pinned : Residency::host;
    return Residency::host;
  }

  CostModel::Key key(const JobState& job, const Slot& s) const { return CostModel::Key::alone(job.cost_key, s.id, job.residency); }
  // How a job's part on `s` is predicted: the device's curve alone, times how much slower it ran
  // beside the others in a split planned from such speeds.
  // (The model's cached curve: planning reads it for every part of every batch.)
  struct PartModel {
    std::shared_ptr<const CostCurve> curve;
    double slowdown = 1;
    bool empty() const { return curve->empty(); }
    double predict(std::size_t x) const { return curve->predict(x) * slowdown; }
  };
  PartModel part_model(const JobState& job, const Slot& s) const {
    PartModel pm{model.lookup(key(job, s), 0).curve};
    if (job.beside_speeds)
      if (auto r = model.ratio(CostModel::Key::beside(job.cost_key, s.id, job.residency))) pm.slowdown = r->value;
    return pm;
  }

  // --- device state (circuit breaker); all under m -------------------------------------------
  void set_state(Slot& s, DeviceState st) {
    if (s.state == st) return;
    s.state = st;
    if (options.observer) options.observer->on_device_state(s.id, st);
  }
  bool routable(Slot& s, JobState& job, std::size_t index) {
    if (s.is_cpu) return true;
    if (!s.device.healthy()) set_state(s, DeviceState::retired);
    switch (s.state) {
      case DeviceState::healthy: return true;
      case DeviceState::retired:
      case DeviceState::probing: return false;
      case DeviceState::suspended:
        if (Clock::now() < s.reopen_at || job.probe_slot) return false;
        set_state(s, DeviceState::probing);
        job.probe_slot = index;
        return true;
    }
    return false;
  }
  bool may_attempt(std::size_t index, const JobState& job) {
    std::lock_guard lock(m);
    auto& s = *slots[index];
    if (!s.device.healthy()) set_state(s, DeviceState::retired);
    return s.state == DeviceState::healthy || (s.state == DeviceState::probing && job.probe_slot == index);
  }
  void trip(std::size_t index) {
    std::lock_guard lock(m);
    auto& s = *slots[index];
    ++s.totals.faults;
    if (!s.device.healthy()) {
      set_state(s, DeviceState::retired);
      return;
    }
    s.backoff = s.state == DeviceState::healthy ? options.breaker_backoff
                                                : std::min(s.backoff * 2, options.breaker_max_backoff);
    s.reopen_at = Clock::now() + s.backoff;
    set_state(s, DeviceState::suspended);
  }
  void succeeded(std::size_t index) {
    std::lock_guard lock(m);
    auto& s = *slots[index];
    if (s.state == DeviceState::probing) {
      s.backoff = std::chrono::milliseconds(0);
      set_state(s, DeviceState::healthy);
    }
  }

  // --- recording ------------------------------------------------------------------------------
  void note_start(JobState& job, DeviceId device, Clock::time_point t) {
    std::lock_guard lock(job.m);
    if (!job.first_start) job.first_start = t;
    auto [it, first] = job.usage.try_emplace(device);
    if (first) {
      it->second.device = device;
      it->second.queue_wait_seconds = seconds(t - job.submitted);
    }
  }
  // busy: add the chunk's time to its device's busy time (not for chunks that run concurrently
  // on one device: their caller adds the wall time they spanned).
  void record(JobState& job, ChunkRecord rec, std::optional<Error> error = std::nullopt, bool busy = true) {
    {
      std::lock_guard lock(job.m);
      auto& u = job.usage[rec.device];
      u.device = rec.device;
      ++u.chunks;
      if (busy) u.busy_seconds += seconds(rec.finish - rec.start);
      if (rec.outcome == ChunkRecord::Outcome::done) u.items += rec.items();
      if (rec.outcome == ChunkRecord::Outcome::done && rec.fallback) job.stats.fallback_items += rec.items();
      if (error) job.errors.push_back({rec.begin, rec.end, *error});
      job.stats.chunks.push_back(rec);
    }
    if (options.observer) options.observer->on_chunk(job.job->op().name, rec);
  }

  // --- running pieces -------------------------------------------------------------------------
  // serial: on this thread alone (one of the CPU's takers), else over the cores.
  void run_cpu(JobState& job, std::size_t b, std::size_t e, bool fallback, bool stolen, bool serial = false) {
    auto& op = *job.job;
    const auto t0 = Clock::now();
    note_start(job, DeviceId::cpu(), t0);
    std::mutex fm;
    std::vector<RangeError> fails;
    auto chunk = [&](std::size_t from, std::size_t to) {
      auto st = op.run_cpu(from, to);
      if (!st) {
        std::lock_guard lock(fm);
        fails.push_back({from, to, std::move(st).error()});
      }
    };
    const std::size_t grain = op.op().options.cpu_grain;
    if (serial) {
      for (std::size_t from = b; from < e; from += grain) chunk(from, std::min(e, from + grain));
    } else {
      detail::parallel_chunks(b, e, grain, chunk, job.cpu_beside_gpus && !fallback ? split_arena_of(job) : nullptr);
    }
    const auto t1 = Clock::now();
    std::sort(fails.begin(), fails.end(), [](const auto& x, const auto& y) { return x.begin < y.begin; });
    // One record per run of successes or failures, so the records tile [b, e) exactly.
    std::size_t at = b;
    auto rec = [&](std::size_t from, std::size_t to, ChunkRecord::Outcome o, Errc code) {
      ChunkRecord r{DeviceId::cpu(), from, to, o, fallback, stolen, code, t0, t1};
      return r;
    };
    for (auto& f : fails) {
      if (f.begin > at) record(job, rec(at, f.begin, ChunkRecord::Outcome::done, Errc::internal), std::nullopt, !serial);
      record(job, rec(f.begin, f.end, ChunkRecord::Outcome::failed, f.error.code()), f.error, !serial);
      at = f.end;
    }
    if (at < e) record(job, rec(at, e, ChunkRecord::Outcome::done, Errc::internal), std::nullopt, !serial);
    // Fallback runs share the cores with the CPU's own work, a taker's piece is one thread's, and
    // a piece of a split runs beside other devices: their times would mislead the model of the
    // CPU alone.
    if (fails.empty() && !fallback && !serial && job.parts.size() == 1)
      model.record(key(job, *slots[0]), e - b, seconds(t1 - t0));
  }

  void run_gpu(JobState& job, std::size_t index, std::size_t b, std::size_t e, bool stolen, int depth = 0) {
    auto& slot = *slots[index];
    if (!may_attempt(index, job)) {
      run_cpu(job, b, e, true, stolen);
      return;
    }
    const auto draw = faults.draw();
    const auto t0 = Clock::now();
    note_start(job, slot.id, t0);
    Status st;
    using F = FaultInjector::Fault;
    if (draw.fault == F::out_of_memory) {
      st = Error(Errc::out_of_memory, "injected out-of-memory on " + slot.id.to_string());
    } else if (draw.fault == F::device_lost) {
      st = Error(Errc::device_lost, "injected device loss on " + slot.id.to_string());
    } else {
      if (draw.delay.count()) std::this_thread::sleep_for(draw.delay);
      detail::in_arena(job.cpu_beside_gpus ? slot.feed_arena[cores_kind(job)].get() : nullptr,
                       [&] { st = job.job->run_gpu(*slot.lane, b, e); });
      if (st && draw.fault == F::kernel_fault) {
        job.job->scribble(b, e);
        st = Error(Errc::kernel_fault, "injected kernel fault on " + slot.id.to_string());
      }
    }
    const auto t1 = Clock::now();
    if (slot.lane) {
      const auto ph = slot.lane->take_phases();
      std::lock_guard lock(job.m);
      job.stats.h2d_seconds += ph.h2d;
      job.stats.compute_seconds += ph.compute;
      job.stats.d2h_seconds += ph.d2h;
    }
    if (st) {
      record(job, {slot.id, b, e, ChunkRecord::Outcome::done, false, stolen, Errc::internal, t0, t1});
      // A piece of a split ran beside other devices: not the device's speed alone (that run is
      // measured as a whole, in complete()).
      if (job.parts.size() == 1) model.record(key(job, slot), e - b, seconds(t1 - t0));
      succeeded(index);
      return;
    }
    const Errc code = st.error().code();
    {
      std::lock_guard lock(job.m);
      job.stats.faults.push_back(code);
    }
    // Out of memory: the device is fine, the piece too big. Halve a few times, then the CPU.
    if (code == Errc::out_of_memory && depth < 4 && e - b >= 2) {
      {
        std::lock_guard lock(m);
        ++slot.totals.faults;
      }
      record(job, {slot.id, b, e, ChunkRecord::Outcome::failed_retried, false, stolen, code, t0, t1});
      const std::size_t mid = b + (e - b) / 2;
      run_gpu(job, index, b, mid, stolen, depth + 1);
      run_gpu(job, index, mid, e, stolen, depth + 1);
      return;
    }
    if (code == Errc::kernel_fault || code == Errc::device_lost) {
      trip(index);
    } else {
      std::lock_guard lock(m);
      ++slot.totals.faults;
    }
    record(job, {slot.id, b, e, ChunkRecord::Outcome::failed_fell_back, false, stolen, code, t0, t1});
    run_cpu(job, b, e, true, stolen);
  }

  std::optional<Piece> take(JobState& job, std::size_t p) {
    std::lock_guard lock(job.m);
    auto& me = job.parts[p];
    if (me.lo < me.hi) {
      // A taker's pieces shrink with what is left of the share (guided): large while there is
      // much, a grain at the end, so no thread works on alone for long while the others have
      // finished. With fixed pieces of 1/56 of the share, the CPU's threads were idle for 15-20%
      // of its part of a split (1 KiB messages).
      // A GPU's piece cannot be stolen once it runs: its last one is a tail the CPU cannot help
      // with. With four equal pieces, the CPU often finished 1.3 ms before the GPU (a quarter
      // of its share of a 9 ms split, 1 KiB messages) with nothing left to steal. Halving what
      // is left keeps the last pieces small, and extra calls cost little: the GPU's queue
      // stays full between them (gaps of ~10 us).
      const std::size_t rem = me.hi - me.lo;
      const std::size_t len = me.takers    ? std::max(me.min_piece, rem / (2 * static_cast<std::size_t>(split_threads(job))))
                              : me.halving ? std::max(me.min_piece, (rem + 1) / 2)
                                           : rem;
      const std::size_t b = me.lo, e = std::min(me.hi, me.lo + len);
      me.lo = e;
      return Piece{b, e, false};
    }
    if (!job.split) return std::nullopt;
    // Steal from the share predicted to finish last, as much as makes both finish together.
    std::size_t victim = job.parts.size();
    double longest = 0;
    for (std::size_t i = 0; i < job.parts.size(); ++i) {
      const auto& v = job.parts[i];
      if (i == p || v.lo >= v.hi) continue;
      const double t = (v.hi - v.lo) / v.rate;
      if (t > longest) {
        longest = t;
        victim = i;
      }
    }
    if (victim == job.parts.size()) return std::nullopt;
    auto& v = job.parts[victim];
    const std::size_t rem = v.hi - v.lo;
    // As much as makes thief and owner finish together. A taker steals as one of the CPU's
    // threads, which all steal alike: its part of what the whole CPU and the owner, together,
    // would finish at once. (Each taking the whole CPU's part, they took far more together; each
    // taking a part sized as if it stole alone, their pieces outlasted the owner's by ~0.3 ms.)
    const double rate = me.takers ? me.rate / split_threads(job) : me.rate;
    std::size_t x = static_cast<std::size_t>(rem * (rate / (me.rate + v.rate)));
    x = std::min(rem, std::max(x, me.min_piece));
    if (x / rate >= longest) return std::nullopt;  // the owner would finish it sooner
    v.hi -= x;
    return Piece{v.hi, v.hi + x, true};
  }

  void process(const std::shared_ptr<JobState>& job, std::size_t index) {
    std::size_t p = 0;
    while (job->parts[p].slot != index) ++p;
    auto& slot = *slots[index];
    if (job->parts[p].takers) {
      // Beside GPUs, every thread of the split arena takes pieces (its own share first, then
      // stolen ones) and runs them by itself. A parallel loop per piece made all threads wait at
      // each piece's end for its slowest chunk: a tenth of the CPU's time with 1 KiB messages.
      const auto t0 = Clock::now();
      detail::on_threads(
          split_threads(*job),
          [&] {
            while (auto piece = take(*job, p)) {
              run_cpu(*job, piece->begin, piece->end, false, piece->stolen, true);
              // Between pieces, a GPU's feeding thread woken on this core's run queue gets it
              // now rather than after this thread's time slice (milliseconds): with every core
              // hashing, such waits made the GPU idle and run a split at half its speed.
              std::this_thread::yield();
            }
          },
          *split_arena_of(*job));
      std::lock_guard lock(job->m);
      if (auto it = job->usage.find(DeviceId::cpu()); it != job->usage.end()) it->second.busy_seconds += seconds(Clock::now() - t0);
    } else {
      while (auto piece = take(*job, p)) {
        if (slot.is_cpu)
          run_cpu(*job, piece->begin, piece->end, false, piece->stolen);
        else
          run_gpu(*job, index, piece->begin, piece->end, piece->stolen);
      }
    }
    bool last;
    {
      std::lock_guard lock(job->m);
      last = --job->unfinished == 0;
    }
    {
      std::lock_guard lock(m);
      slot.backlog = std::max(0.0, slot.backlog - job->parts[p].predicted);
      // A probe that never reached the device (its share was stolen): probe again next batch.
      if (job->probe_slot == index && slot.state == DeviceState::probing) {
        slot.reopen_at = Clock::now();
        set_state(slot, DeviceState::suspended);
      }
    }
    if (last) complete(*job);
  }

  void complete(JobState& job) {
    ExecReport report;
    {
      std::lock_guard lock(job.m);
      auto& st = job.stats;
      st.items = job.job->size();
      for (auto& [name, u] : job.usage)
        if (u.chunks) st.devices.push_back(u);
      // (By id: the CPU first, then the other devices; job.usage is a map, so already in order.)
      std::sort(job.errors.begin(), job.errors.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
      for (const auto& e : job.errors) st.failed_items += e.end - e.begin;
      const auto now = Clock::now();
      st.total_seconds = seconds(now - job.submitted);
      st.queue_wait_seconds = job.first_start ? seconds(*job.first_start - job.submitted) : 0;
      // How much slower each device ran beside the others than alone, for the shares of the next
      // splits; and, once shares come from those ratios, what the split as a whole achieved
      // (route_split compares it with the best device alone). Contention for cores and memory
      // bandwidth, which no device's own curve shows, is in both. A re-probe's measurements
      // replace the earlier ones: a burst of disturbed splits had stopped splitting, and the
      // window's median would have kept it stopped after a re-probe found the devices well.
      if (job.split && job.parts.size() > 1 && st.faults.empty() && job.errors.empty() && job.first_start) {
        for (const auto& [name, u] : job.usage) {
          const auto alone = model.lookup(CostModel::Key::alone(job.cost_key, name, job.residency), u.items).curve;
          const double predicted = alone->empty() ? 0 : alone->predict(u.items);
          if (u.items && u.busy_seconds > 0 && predicted > 0)
            model.record_ratio(CostModel::Key::beside(job.cost_key, name, job.residency), u.busy_seconds / predicted,
                               job.reprobe);
        }
        // (Planned from the speeds alone, a re-probe is not quite the split that runs once
        // splitting pays; left out, though, the window that had stopped splits kept them stopped.)
        const auto split_key = CostModel::Key::split(job.cost_key, job.residency);
        if (job.reprobe)
          model.record_afresh(split_key, st.items, seconds(now - *job.first_start));
        else if (job.beside_speeds)
          model.record(split_key, st.items, seconds(now - *job.first_start));
      }
      report.stats = std::move(st);
      report.errors = std::move(job.errors);
    }
    {
      std::lock_guard lock(m);
      for (const auto& u : report.stats.devices) {
        for (auto& s : slots) {
          if (s->id != u.device) continue;
          s->totals.items += u.items;
          s->totals.chunks += u.chunks;
          s->totals.busy_seconds += u.busy_seconds;
        }
      }
      slots[0]->totals.fallback_items += report.stats.fallback_items;
    }
    if (options.observer) options.observer->on_batch(report.stats);
    {
      // Reported under the lock, so the last report is the current depth; and before the result
      // is delivered, so whoever sees the result sees the batch gone from the queue.
      std::lock_guard lock(m);
      --admitted;
      if (options.observer) options.observer->on_queue_depth(admitted);
    }
    admit_cv.notify_all();
    job.promise.set_value(std::move(report));
  }

  void worker(std::size_t index) {
    auto& slot = *slots[index];
    for (;;) {
      std::shared_ptr<JobState> job;
      {
        std::unique_lock lock(m);
        slot.cv.wait(lock, [&] { return stopping || !slot.queue.empty(); });
        if (slot.queue.empty()) return;
        job = std::move(slot.queue.front());
        slot.queue.pop_front();
      }
      process(job, index);
    }
  }

  // --- planning (under m) ---------------------------------------------------------------------
  RoutePlan plan(JobState& job, std::vector<std::size_t>& cand_slots, std::vector<Candidate>& cands) {
    const auto& op = job.job->op();
    const std::size_t n = job.job->size();
    for (std::size_t i = 0; i < slots.size(); ++i) {
      auto& s = *slots[i];
      if (!op.runs_on(s.id.kind)) continue;
      if (!routable(s, job, i)) continue;
      cand_slots.push_back(i);
      cands.push_back({s.id, s.backlog});
    }
    struct Visitor {
      Impl& self;
      JobState& job;
      const std::vector<Candidate>& c;
      std::size_t n;
      RoutePlan operator()(const ThresholdPolicy& p) { return route_threshold(p, c, n); }
      RoutePlan operator()(const AdaptivePolicy& p) {
        return self.adaptive.route(p, self.model, job.cost_key, job.residency, c, n);
      }
      RoutePlan operator()(const SplitPolicy&) {
        std::vector<std::size_t> mins;
        for (const auto& x : c) mins.push_back(x.device.is_cpu() ? job.job->op().options.cpu_grain : job.job->op().options.gpu_min_chunk);
        job.split = true;
        return self.splitter.route(self.model, job.cost_key, job.residency, c, mins, n);
      }
      RoutePlan operator()(const PinnedPolicy& p) {
        for (std::size_t i = 0; i < c.size(); ++i)
          if (c[i].device == p.device) return RoutePlan{{{i, 0, n}}, false, Route{RouteReason::pinned, p.device, {}, n, 0}};
        return RoutePlan{{{0, 0, n}}, false, Route{RouteReason::pinned_unusable, p.device, c[0].device, n, 0}};
      }
    };
    return std::visit(Visitor{*this, job, cands, n}, options.policy);
  }

  // inline_cpu: the caller will wait for the batch anyway (run()), so a batch planned for the CPU
  // alone runs on the caller's thread, saving two thread hand-offs (tens of microseconds).
  Future<ExecReport> submit(std::shared_ptr<detail::JobBase> job_base, bool inline_cpu) {
    auto job = std::make_shared<JobState>();
    job->job = std::move(job_base);
    job->cost_key = job->job->cost_key();
    job->residency = residency_of(*job->job);
    job->submitted = Clock::now();
    job->stats.operation = job->job->op().name;
    job->stats.policy = policy_name(options.policy);
    auto fut = job->promise.future();
    const std::size_t n = job->job->size();
    if (n == 0) {
      ExecReport r;
      r.stats = std::move(job->stats);
      job->promise.set_value(std::move(r));
      return fut;
    }
    bool run_here = false;
    {
      std::unique_lock lock(m);
      if (stopping) return make_error_future<ExecReport>(Error(Errc::cancelled, "the scheduler is shutting down"));
      if (admitted >= options.queue_capacity) {
        if (options.when_full == WhenFull::fail_busy)
          return make_error_future<ExecReport>(Error(Errc::busy, "scheduler queue is full (" + std::to_string(admitted) +
                                                                     " batches admitted); try again later"));
        admit_cv.wait(lock, [&] { return stopping || admitted < options.queue_capacity; });
        if (stopping) return make_error_future<ExecReport>(Error(Errc::cancelled, "the scheduler is shutting down"));
      }
      ++admitted;
      if (options.observer) options.observer->on_queue_depth(admitted);
      std::vector<std::size_t> cand_slots;
      std::vector<Candidate> cands;
      RoutePlan rp = plan(*job, cand_slots, cands);
      job->beside_speeds = job->split && rp.beside_speeds;
      job->reprobe = rp.reprobe;
      job->stats.route = rp.route;
      const auto& opt = job->job->op().options;
      // Every candidate of a split takes part (a device with no share may still steal); otherwise
      // only the chosen device.
      std::vector<std::size_t> parts_of(cands.size(), SIZE_MAX);
      // A CPU piece beside GPUs should give every thread of the split arena a task at least.
      const std::size_t cpu_piece = opt.cpu_grain * static_cast<std::size_t>(split_threads(*job));
      auto add_part = [&](std::size_t ci) {
        if (parts_of[ci] != SIZE_MAX) return;
        auto& s = *slots[cand_slots[ci]];
        JobState::Part part;
        part.slot = cand_slots[ci];
        part.min_piece = s.is_cpu ? cpu_piece : opt.gpu_min_chunk;
        parts_of[ci] = job->parts.size();
        job->parts.push_back(part);
      };
      for (const auto& sh : rp.shares) {
        add_part(sh.candidate);
        auto& part = job->parts[parts_of[sh.candidate]];
        part.lo = sh.begin;
        part.hi = sh.end;
      }
      // A device the split gave nothing may still steal, but only when one stolen piece could
      // finish well before the planned finish: a GPU whose fixed cost exceeds the whole batch's
      // time on the CPU would only add hand-offs (and keep a small batch off the caller's thread).
      // A batch calibrating one device runs there alone: stolen pieces would leave it unmeasured
      // at this size, and calibration would never end.
      if (job->split && rp.shares.size() > 1) {
        double finish = 0;
        for (const auto& sh : rp.shares) {
          const auto pm = part_model(*job, *slots[cand_slots[sh.candidate]]);
          finish = std::max(finish, pm.empty() ? 0.0 : pm.predict(sh.end - sh.begin));
        }
        for (std::size_t ci = 0; ci < cands.size(); ++ci) {
          if (parts_of[ci] != SIZE_MAX) continue;
          auto& s = *slots[cand_slots[ci]];
          const auto pm = part_model(*job, s);
          const std::size_t piece = s.is_cpu ? cpu_piece : opt.gpu_min_chunk;
          if (rp.exploring || pm.empty() || finish == 0 || pm.predict(std::min(piece, n)) < finish / 2) add_part(ci);
        }
      }
      if (job->split) {
        bool cpu = false, gpu = false;
        for (const auto& part : job->parts) (slots[part.slot]->is_cpu ? cpu : gpu) = true;
        job->cpu_beside_gpus = cpu && gpu;
      }
      // Pieces are for stealing between devices; a device alone takes its batch in one go.
      const bool pieces = job->split && job->parts.size() > 1 && std::get<SplitPolicy>(options.policy).pieces;
      for (auto& part : job->parts) {
        auto& s = *slots[part.slot];
        const std::size_t share = part.hi - part.lo;
        // A piece being run cannot be stolen, so the last one is the tail every other device
        // waits for: pieces shrink as a share runs out (see take). Beside GPUs the CPU's threads
        // take pieces by themselves, none smaller than the grain.
        if (s.is_cpu && job->cpu_beside_gpus && pieces) {
          part.takers = true;
          part.min_piece = opt.cpu_grain;
        }
        part.halving = !s.is_cpu && pieces;
        const auto pm = part_model(*job, s);
        part.predicted = pm.empty() ? 0 : pm.predict(share);
        const std::size_t ref = std::max<std::size_t>(share, part.min_piece);
        const double t = pm.empty() ? 0 : pm.predict(ref);
        part.rate = t > 0 ? ref / t : 1.0;
      }
      // A suspended device offered as a probe that the policy then did not choose goes back to
      // waiting, so the next batch may probe it; left "probing" it would never be routed again.
      if (job->probe_slot && std::none_of(job->parts.begin(), job->parts.end(),
                                          [&](const JobState::Part& p) { return p.slot == *job->probe_slot; })) {
        auto& s = *slots[*job->probe_slot];
        s.reopen_at = Clock::now();
        set_state(s, DeviceState::suspended);
        job->probe_slot.reset();
      }
      job->unfinished = job->parts.size();
      run_here = inline_cpu && job->parts.size() == 1 && slots[job->parts[0].slot]->is_cpu;
      for (auto& part : job->parts) {
        auto& s = *slots[part.slot];
        s.backlog += part.predicted;
        if (run_here) continue;
        s.queue.push_back(job);
        s.cv.notify_one();
      }
    }
    if (run_here) process(job, job->parts[0].slot);
    return fut;
  }

  void shutdown() {
    {
      std::unique_lock lock(m);
      stopping = true;
      admit_cv.notify_all();
      admit_cv.wait(lock, [&] { return admitted == 0; });
      for (auto& s : slots) s->cv.notify_all();
    }
    for (auto& s : slots)
      if (s->worker.joinable()) s->worker.join();
  }
};

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Scheduler::~Scheduler() {
  if (!impl_) return;
  impl_->shutdown();
  if (auto st = save_calibration(); !st) std::fprintf(stderr, "hetex: %s\n", st.error().describe().c_str());
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(const Runtime& runtime, SchedulerOptions options) {
  FaultPlan plan;
  if (options.faults) {
    plan = *options.faults;
  } else {
    plan = HETEX_TRY(FaultPlan::from_env());
  }
  if (options.queue_capacity == 0) return Error(Errc::invalid_argument, "scheduler queue_capacity must be at least 1");
  // The devices: the CPU, the runtime's healthy GPUs, then the simulated ones.
  std::vector<Device> devices{runtime.cpu()};
  std::vector<std::string> descriptions{runtime.cpu().describe()};  // what the calibration file is for
  if (options.use_gpus) {
    for (const auto& g : runtime.gpus()) {
      if (!g.healthy()) continue;
      devices.push_back(g);
      descriptions.push_back(g.describe());
    }
  }
  for (std::size_t i = 0; i < options.simulated_gpus.size(); ++i)
    devices.push_back(HETEX_TRY(make_simulated_gpu(static_cast<int>(i), options.simulated_gpus[i])));
  auto impl = std::make_unique<Impl>(options, runtime, plan);

  for (const auto& d : devices) {
    auto s = std::make_unique<Slot>();
    s->id = d.id();
    s->is_cpu = d.is_cpu();
    s->device = d;
    if (!d.is_cpu()) {
      auto lane = GpuLane::create(d);
      if (!lane) {
        std::fprintf(stderr, "hetex: scheduler leaves out %s: %s\n", d.id().to_string().c_str(),
                     lane.error().describe().c_str());
        continue;
      }
      s->lane = std::move(*lane);
    }
    s->totals.device = s->id;
    impl->slots.push_back(std::move(s));
  }
  if (const auto* pin = std::get_if<PinnedPolicy>(&options.policy)) {
    bool found = false;
    for (const auto& s : impl->slots) found |= s->id == pin->device;
    if (!found)
      return Error(Errc::unavailable, "pinned policy names " + pin->device.to_string() + ", which this scheduler does not have");
  }

  impl->calibration_file = options.calibration_file ? *options.calibration_file
                                                    : default_calibration_file(machine_key(descriptions));
  if (impl->calibration_file && impl->calibration_file->empty()) impl->calibration_file.reset();
  if (impl->calibration_file) {
    if (auto st = impl->model.load(*impl->calibration_file); !st)
      std::fprintf(stderr, "hetex: %s\n", st.error().describe().c_str());
  }
  if (impl->slots.size() > 1) {
    const int cores = tbb::this_task_arena::max_concurrency();
    const int gpus = static_cast<int>(impl->slots.size() - 1);
    const int per_gpu[2] = {std::max(0, options.split_cores_per_gpu), std::max(0, options.split_cores_per_gpu_pinned)};
    for (int k = 0; k < 2; ++k) {
      impl->split_arena[k] = std::make_unique<tbb::task_arena>(std::max(1, cores - per_gpu[k] * gpus));
      for (auto& s : impl->slots)
        if (!s->is_cpu) s->feed_arena[k] = std::make_unique<tbb::task_arena>(std::max(1, per_gpu[k]));
    }
  }
  if (options.observer)
    for (auto& s : impl->slots) options.observer->on_device_state(s->id, s->state);
  for (std::size_t i = 0; i < impl->slots.size(); ++i)
    impl->slots[i]->worker = std::thread([p = impl.get(), i] { p->worker(i); });
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

Future<ExecReport> Scheduler::submit_job(std::shared_ptr<detail::JobBase> job, bool inline_cpu) {
  return impl_->submit(std::move(job), inline_cpu);
}

std::vector<DeviceSnapshot> Scheduler::devices() const {
  std::lock_guard lock(impl_->m);
  std::vector<DeviceSnapshot> out;
  for (auto& s : impl_->slots) {
    if (!s->device.healthy() && s->state != DeviceState::retired) impl_->set_state(*s, DeviceState::retired);
    auto snap = s->totals;
    snap.state = s->state;
    snap.backlog_seconds = s->backlog;
    out.push_back(std::move(snap));
  }
  return out;
}

const Runtime& Scheduler::runtime() const noexcept { return impl_->runtime; }

std::string Scheduler::policy() const { return policy_name(impl_->options.policy); }

std::size_t Scheduler::queue_depth() const {
  std::lock_guard lock(impl_->m);
  return impl_->admitted;
}

CostModel& Scheduler::cost_model() { return impl_->model; }

Status Scheduler::save_calibration() const {
  if (!impl_->calibration_file) return {};
  return impl_->model.save(*impl_->calibration_file);
}

bool Scheduler::has_gpu() const {
  std::lock_guard lock(impl_->m);
  for (auto& s : impl_->slots)
    if (!s->is_cpu && s->state != DeviceState::retired && s->device.healthy()) return true;
  return false;
}

}  // namespace hetex
