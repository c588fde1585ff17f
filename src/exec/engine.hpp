// SPDX-License-Identifier: MIT
#pragma once
// The scheduler's engine: its devices (slots) and batches in flight (jobs), and the named parts
// that act on them, each in a file of its own:
//   admission.cpp        the bounded queue of admitted batches
//   circuit_breaker.cpp  device health
//   planning.cpp         where a batch goes: candidates, the policy's route, the parts
//   pieces.cpp           execution: device workers, taking pieces of a part, stealing
//   runners.cpp          execution: running a piece on the CPU or on a device, and failover
//   feedback.cpp         what runs teach the cost model, and the batch's report
//   scheduler.cpp        Scheduler itself: creation, submission, the public queries
// The design and its reasons: docs/design/scheduler.md.

#include <tbb/task_arena.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "exec/admission.hpp"
#include "exec/circuit_breaker.hpp"
#include "exec/fault_injector.hpp"
#include "exec/routing.hpp"
#include "hetex/exec/scheduler.hpp"

namespace hetex::detail {

using Clock = std::chrono::steady_clock;
inline double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct JobState;

// One device the scheduler runs work on: the CPU, or a device of a backend with its lane.
struct Slot {
  Slot(Device d, CircuitBreaker::Options breaker_options, CircuitBreaker::Now now,
       std::function<void(DeviceState)> on_change)
      : id(d.id()), device(std::move(d)), breaker(breaker_options, std::move(now), std::move(on_change)) {}

  const DeviceId id;
  const Device device;
  std::unique_ptr<GpuLane> lane;  // every device but the CPU
  CircuitBreaker breaker;
  // A device's host work (staging copies, packing) while it shares a batch with the CPU runs in
  // here, on the cores the split arena leaves it. [0] for pageable data, [1] for pinned.
  std::unique_ptr<tbb::task_arena> feed_arena[2];
  std::thread worker;
  std::condition_variable cv;
  // Guarded by SchedulerEngine::m:
  std::deque<std::shared_ptr<JobState>> queue;
  double backlog = 0;  // predicted seconds of the parts queued here
  DeviceSnapshot totals;

  bool is_cpu() const noexcept { return id.is_cpu(); }
};

// A batch in flight.
struct JobState {
  // One device's part of a batch.
  struct Part {
    std::size_t slot = 0;
    std::size_t lo = 0, hi = 0;  // own share not yet taken; thieves take from hi
    std::size_t min_piece = 1;   // fewest items worth taking when stealing
    double rate = 1;             // predicted items per second, for stealing decisions
    double predicted = 0;        // predicted seconds of the share, added to the slot's backlog
    bool takers = false;         // the CPU beside devices: each thread of the split arena takes pieces
    bool halving = false;        // a device in a split: each piece is half of what is left of its share
  };

  std::shared_ptr<JobBase> job;
  std::string cost_key;                   // the operation (and cost class) the model files it under
  Residency residency = Residency::host;  // ... and where its data lives
  bool reprobe = false;                   // a split run to re-measure splitting after splits had stopped paying
  Promise<ExecReport> promise;
  Clock::time_point submitted;
  bool split = false;
  bool beside_speeds = false;             // the split's shares came from speeds measured in earlier splits
  bool cpu_beside_gpus = false;           // the CPU and at least one device share it (split arena, feed arenas)
  std::optional<std::size_t> probe_slot;  // the suspended device this batch probes

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

class SchedulerEngine {
 public:
  SchedulerEngine(SchedulerOptions o, Runtime rt, FaultPlan plan);

  SchedulerOptions options;
  Runtime runtime;
  CostModel model;
  AdaptiveRouter adaptive;
  SplitRouter splitter;
  FaultInjector faults;
  Admission admission;
  std::optional<std::filesystem::path> calibration_file;
  std::vector<std::unique_ptr<Slot>> slots;  // the CPU first
  // CPU work that shares a batch with devices runs here, leaving cores for their host work.
  // [0] for pageable data (split_cores_per_gpu), [1] for pinned (split_cores_per_gpu_pinned).
  std::unique_ptr<tbb::task_arena> split_arena[2];
  mutable std::mutex m;  // slots' queues, backlogs and totals; device health transitions
  bool stopping = false;

  static int cores_kind(const JobState& job) { return job.residency == Residency::pinned ? 1 : 0; }
  tbb::task_arena* split_arena_of(const JobState& job) const { return split_arena[cores_kind(job)].get(); }
  int split_threads(const JobState& job) const {
    auto* a = split_arena_of(job);
    return a ? a->max_concurrency() : 1;
  }

  // --- scheduler.cpp ---
  Future<ExecReport> submit(std::shared_ptr<JobBase> job_base, bool inline_cpu);
  void start_workers();
  void shutdown();

  // --- device health (circuit breaker), under m ---
  // Whether slot i may take part of `job` (a suspended device may be offered as its probe).
  bool routable(std::size_t i, JobState& job);
  bool may_attempt(std::size_t i, const JobState& job);
  void trip(std::size_t i);
  void succeeded(std::size_t i);
  // Retires a device its backend gave up; true when it is retired.
  bool check_retired(Slot& s);

  // --- planning.cpp, under m ---
  Residency residency_of(const JobBase& job) const;
  // The policy's plan over the routable slots (cand_slots[i] is candidate i's slot).
  RoutePlan route(JobState& job, std::vector<std::size_t>& cand_slots, std::vector<Candidate>& cands);
  // The job's parts from the plan: shares, devices that may steal, piece sizes, predictions.
  void make_parts(JobState& job, const RoutePlan& plan, std::span<const std::size_t> cand_slots);
  struct PartModel {
    std::shared_ptr<const CostCurve> curve;
    double slowdown = 1;
    bool empty() const { return curve->empty(); }
    double predict(std::size_t x) const { return curve->predict(x) * slowdown; }
  };
  PartModel part_model(const JobState& job, const Slot& s) const;

  // --- pieces.cpp ---
  void worker(std::size_t index);
  void process(const std::shared_ptr<JobState>& job, std::size_t index);
  std::optional<Piece> take(JobState& job, std::size_t part);

  // --- runners.cpp ---
  // serial: on this thread alone (one of the CPU's takers), else over the cores.
  void run_cpu(JobState& job, std::size_t b, std::size_t e, bool fallback, bool stolen, bool serial = false);
  void run_device(JobState& job, std::size_t index, std::size_t b, std::size_t e, bool stolen, int depth = 0);

  // --- feedback.cpp ---
  void note_start(JobState& job, DeviceId device, Clock::time_point t);
  // busy: add the chunk's time to its device's busy time.
  void record(JobState& job, ChunkRecord rec, std::optional<Error> error = std::nullopt, bool busy = true);
  // A run of [b, e) on slot s alone, for the model of that device alone.
  void learn_alone(const JobState& job, const Slot& s, std::size_t items, double seconds);
  void complete(JobState& job);
};

}  // namespace hetex::detail
