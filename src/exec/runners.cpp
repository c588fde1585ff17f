// SPDX-License-Identifier: MIT
// Execution: running one piece of a batch on the CPU or on a device, and what happens when a
// device fails it (docs/design/scheduler.md, "Failover").
#include <algorithm>

#include "exec/engine.hpp"
#include "exec/parallel_chunks.hpp"

namespace hetex::detail {

void SchedulerEngine::run_cpu(JobState& job, std::size_t b, std::size_t e, bool fallback, bool stolen, bool serial) {
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
    parallel_chunks(b, e, grain, chunk, job.cpu_beside_gpus && !fallback ? split_arena_of(job) : nullptr);
  }
  const auto t1 = Clock::now();
  std::sort(fails.begin(), fails.end(), [](const auto& x, const auto& y) { return x.begin < y.begin; });
  // One record per run of successes or failures, so the records tile [b, e) exactly.
  std::size_t at = b;
  auto rec = [&](std::size_t from, std::size_t to, ChunkRecord::Outcome o, Errc code) {
    return ChunkRecord{DeviceId::cpu(), from, to, o, fallback, stolen, code, t0, t1};
  };
  for (auto& f : fails) {
    if (f.begin > at) record(job, rec(at, f.begin, ChunkRecord::Outcome::done, Errc::internal), std::nullopt, !serial);
    record(job, rec(f.begin, f.end, ChunkRecord::Outcome::failed, f.error.code()), f.error, !serial);
    at = f.end;
  }
  if (at < e) record(job, rec(at, e, ChunkRecord::Outcome::done, Errc::internal), std::nullopt, !serial);
  // Fallback runs share the cores with the CPU's own work and a taker's piece is one thread's:
  // their times would mislead the model of the CPU alone.
  if (fails.empty() && !fallback && !serial) learn_alone(job, *slots[0], e - b, seconds(t1 - t0));
}

void SchedulerEngine::run_device(JobState& job, std::size_t index, std::size_t b, std::size_t e, bool stolen,
                                 int depth) {
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
    in_arena(job.cpu_beside_gpus ? slot.feed_arena[cores_kind(job)].get() : nullptr,
             [&] { st = job.job->run_gpu(*slot.lane, b, e); });
    if (st && draw.fault == F::kernel_fault) {
      job.job->scribble(b, e);
      st = Error(Errc::kernel_fault, "injected kernel fault on " + slot.id.to_string());
    }
  }
  const auto t1 = Clock::now();
  {
    const auto ph = slot.lane->take_phases();
    std::lock_guard lock(job.m);
    job.stats.h2d_seconds += ph.h2d;
    job.stats.compute_seconds += ph.compute;
    job.stats.d2h_seconds += ph.d2h;
  }
  if (st) {
    record(job, {slot.id, b, e, ChunkRecord::Outcome::done, false, stolen, Errc::internal, t0, t1});
    learn_alone(job, slot, e - b, seconds(t1 - t0));
    succeeded(index);
    return;
  }
  const Errc code = st.error().code();
  {
    std::lock_guard lock(job.m);
    job.stats.faults.push_back(code);
  }
  switch (slot.device.backend()->classify(st.error())) {
    case FaultClass::too_big:
      // The device is fine, the piece too big: halve a few times, then the CPU.
      if (depth < 4 && e - b >= 2) {
        {
          std::lock_guard lock(m);
          ++slot.totals.faults;
        }
        record(job, {slot.id, b, e, ChunkRecord::Outcome::failed_retried, false, stolen, code, t0, t1});
        const std::size_t mid = b + (e - b) / 2;
        run_device(job, index, b, mid, stolen, depth + 1);
        run_device(job, index, mid, e, stolen, depth + 1);
        return;
      }
      [[fallthrough]];
    case FaultClass::work_failed: {
      std::lock_guard lock(m);
      ++slot.totals.faults;
      break;
    }
    case FaultClass::device_faulted:
    case FaultClass::device_retired: trip(index); break;
  }
  record(job, {slot.id, b, e, ChunkRecord::Outcome::failed_fell_back, false, stolen, code, t0, t1});
  run_cpu(job, b, e, true, stolen);
}

}  // namespace hetex::detail
