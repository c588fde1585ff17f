// SPDX-License-Identifier: MIT
// Scheduler: creation (devices, lanes, arenas, calibration), submission (admission, planning,
// dispatch to the devices' workers) and the public queries. The parts: see exec/engine.hpp.
#include "hetex/exec/scheduler.hpp"

#include <cstdio>

#include "exec/engine.hpp"

namespace hetex {

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

namespace detail {

SchedulerEngine::SchedulerEngine(SchedulerOptions o, Runtime rt, FaultPlan plan)
    : options(std::move(o)),
      runtime(std::move(rt)),
      faults(plan),
      admission(options.queue_capacity, options.when_full, [obs = options.observer](std::size_t depth) {
        if (obs) obs->on_queue_depth(depth);
      }) {}

// inline_cpu: the caller will wait for the batch anyway (run()), so a batch planned for the CPU
// alone runs on the caller's thread, saving two thread hand-offs (tens of microseconds).
Future<ExecReport> SchedulerEngine::submit(std::shared_ptr<JobBase> job_base, bool inline_cpu) {
  auto job = std::make_shared<JobState>();
  job->job = std::move(job_base);
  job->cost_key = job->job->cost_key();
  job->residency = residency_of(*job->job);
  job->submitted = Clock::now();
  job->stats.operation = job->job->op().name;
  job->stats.policy = policy_name(options.policy);
  auto fut = job->promise.future();
  if (job->job->size() == 0) {
    ExecReport r;
    r.stats = std::move(job->stats);
    job->promise.set_value(std::move(r));
    return fut;
  }
  if (auto admitted = admission.enter(); !admitted) return make_error_future<ExecReport>(std::move(admitted).error());
  bool run_here = false;
  {
    std::lock_guard lock(m);
    std::vector<std::size_t> cand_slots;
    std::vector<Candidate> cands;
    const RoutePlan rp = route(*job, cand_slots, cands);
    job->beside_speeds = job->split && rp.beside_speeds;
    job->reprobe = rp.reprobe;
    job->stats.route = rp.route;
    make_parts(*job, rp, cand_slots);
    job->unfinished = job->parts.size();
    run_here = inline_cpu && job->parts.size() == 1 && slots[job->parts[0].slot]->is_cpu();
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

void SchedulerEngine::start_workers() {
  for (std::size_t i = 0; i < slots.size(); ++i) slots[i]->worker = std::thread([this, i] { worker(i); });
}

void SchedulerEngine::shutdown() {
  admission.close_and_drain();
  {
    std::lock_guard lock(m);
    stopping = true;
    for (auto& s : slots) s->cv.notify_all();
  }
  for (auto& s : slots)
    if (s->worker.joinable()) s->worker.join();
}

}  // namespace detail

Scheduler::Scheduler(std::unique_ptr<detail::SchedulerEngine> engine) : engine_(std::move(engine)) {}

Scheduler::~Scheduler() {
  if (!engine_) return;
  engine_->shutdown();
  if (auto st = save_calibration(); !st) std::fprintf(stderr, "hetex: %s\n", st.error().describe().c_str());
}

Result<std::unique_ptr<Scheduler>> Scheduler::create(const Runtime& runtime, SchedulerOptions options) {
  const FaultPlan plan = options.faults ? *options.faults : HETEX_TRY(FaultPlan::from_env());
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
  auto engine = std::make_unique<detail::SchedulerEngine>(options, runtime, plan);
  auto* e = engine.get();

  const detail::CircuitBreaker::Options breaker{options.breaker_backoff, options.breaker_max_backoff};
  const detail::CircuitBreaker::Now now =
      options.breaker_clock ? options.breaker_clock : detail::CircuitBreaker::Now(&detail::Clock::now);
  for (const auto& d : devices) {
    std::unique_ptr<GpuLane> lane;
    if (!d.is_cpu()) {
      auto l = GpuLane::create(d);
      if (!l) {
        std::fprintf(stderr, "hetex: scheduler leaves out %s: %s\n", d.id().to_string().c_str(),
                     l.error().describe().c_str());
        continue;
      }
      lane = std::move(*l);
    }
    auto on_change = [obs = options.observer, id = d.id()](DeviceState s) {
      if (obs) obs->on_device_state(id, s);
    };
    auto s = std::make_unique<detail::Slot>(d, breaker, now, on_change);
    s->lane = std::move(lane);
    s->totals.device = s->id;
    e->slots.push_back(std::move(s));
  }
  if (const auto* pin = std::get_if<PinnedPolicy>(&options.policy)) {
    const bool found =
        std::any_of(e->slots.begin(), e->slots.end(), [&](const auto& s) { return s->id == pin->device; });
    if (!found)
      return Error(Errc::unavailable,
                   "pinned policy names " + pin->device.to_string() + ", which this scheduler does not have");
  }

  e->calibration_file =
      options.calibration_file ? *options.calibration_file : default_calibration_file(machine_key(descriptions));
  if (e->calibration_file && e->calibration_file->empty()) e->calibration_file.reset();
  if (e->calibration_file)
    if (auto st = e->model.load(*e->calibration_file); !st)
      std::fprintf(stderr, "hetex: %s\n", st.error().describe().c_str());
  // The split arenas (docs/design/scheduler.md, "Cores in a split").
  if (e->slots.size() > 1) {
    const int cores = tbb::this_task_arena::max_concurrency();
    const int gpus = static_cast<int>(e->slots.size() - 1);
    const int per_gpu[2] = {std::max(0, options.split_cores_per_gpu), std::max(0, options.split_cores_per_gpu_pinned)};
    for (int k = 0; k < 2; ++k) {
      e->split_arena[k] = std::make_unique<tbb::task_arena>(std::max(1, cores - per_gpu[k] * gpus));
      for (auto& s : e->slots)
        if (!s->is_cpu()) s->feed_arena[k] = std::make_unique<tbb::task_arena>(std::max(1, per_gpu[k]));
    }
  }
  if (options.observer)
    for (auto& s : e->slots) options.observer->on_device_state(s->id, s->breaker.state());
  e->start_workers();
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(engine)));
}

Future<ExecReport> Scheduler::submit_job(std::shared_ptr<detail::JobBase> job, bool inline_cpu) {
  return engine_->submit(std::move(job), inline_cpu);
}

std::vector<DeviceSnapshot> Scheduler::devices() const {
  std::lock_guard lock(engine_->m);
  std::vector<DeviceSnapshot> out;
  for (auto& s : engine_->slots) {
    if (!s->is_cpu()) engine_->check_retired(*s);
    auto snap = s->totals;
    snap.state = s->breaker.state();
    snap.backlog_seconds = s->backlog;
    out.push_back(std::move(snap));
  }
  return out;
}

const Runtime& Scheduler::runtime() const noexcept { return engine_->runtime; }

std::string Scheduler::policy() const { return policy_name(engine_->options.policy); }

std::size_t Scheduler::queue_depth() const { return engine_->admission.depth(); }

CostModel& Scheduler::cost_model() { return engine_->model; }

Status Scheduler::save_calibration() const {
  if (!engine_->calibration_file) return {};
  return engine_->model.save(*engine_->calibration_file);
}

bool Scheduler::has_gpu() const {
  std::lock_guard lock(engine_->m);
  return std::any_of(engine_->slots.begin(), engine_->slots.end(), [](const auto& s) {
    return !s->is_cpu() && s->breaker.state() != DeviceState::retired && s->device.healthy();
  });
}

}  // namespace hetex
