// SPDX-License-Identifier: MIT
// Execution: each device's worker takes the parts queued for it, and a part is run piece by
// piece: its own share first, then pieces stolen from the share predicted to finish last
// (docs/design/scheduler.md, "Pieces and stealing").
#include <algorithm>

#include "exec/engine.hpp"
#include "exec/parallel_chunks.hpp"

namespace hetex::detail {

void SchedulerEngine::worker(std::size_t index) {
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

std::optional<Piece> SchedulerEngine::take(JobState& job, std::size_t p) {
  std::lock_guard lock(job.m);
  auto& me = job.parts[p];
  if (me.lo < me.hi) {
    // A taker's pieces shrink with what is left of the share (guided); a device's are half of
    // what is left, so its last ones, which cannot be stolen once they run, are small.
    const std::size_t rem = me.hi - me.lo;
    const std::size_t len = me.takers ? std::max(me.min_piece, rem / (2 * static_cast<std::size_t>(split_threads(job))))
                            : me.halving ? std::max(me.min_piece, (rem + 1) / 2)
                                         : rem;
    const std::size_t b = me.lo, e = std::min(me.hi, me.lo + len);
    me.lo = e;
    return Piece{b, e, false};
  }
  if (!job.split) return std::nullopt;
  // Steal from the share predicted to finish last.
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
  // threads, which all steal alike: its part of what the whole CPU and the owner would finish at
  // once.
  const double rate = me.takers ? me.rate / split_threads(job) : me.rate;
  std::size_t x = static_cast<std::size_t>(rem * (rate / (me.rate + v.rate)));
  x = std::min(rem, std::max(x, me.min_piece));
  if (x / rate >= longest) return std::nullopt;  // the owner would finish it sooner
  v.hi -= x;
  return Piece{v.hi, v.hi + x, true};
}

void SchedulerEngine::process(const std::shared_ptr<JobState>& job, std::size_t index) {
  std::size_t p = 0;
  while (job->parts[p].slot != index) ++p;
  auto& slot = *slots[index];
  if (job->parts[p].takers) {
    // Beside devices, every thread of the split arena takes pieces (its own share first, then
    // stolen ones) and runs them by itself.
    const auto t0 = Clock::now();
    on_threads(
        split_threads(*job),
        [&] {
          while (auto piece = take(*job, p)) {
            run_cpu(*job, piece->begin, piece->end, false, piece->stolen, true);
            // Between pieces, a device's feeding thread woken on this core gets it now rather
            // than after this thread's time slice.
            std::this_thread::yield();
          }
        },
        *split_arena_of(*job));
    std::lock_guard lock(job->m);
    if (auto it = job->usage.find(DeviceId::cpu()); it != job->usage.end())
      it->second.busy_seconds += seconds(Clock::now() - t0);
  } else {
    while (auto piece = take(*job, p)) {
      if (slot.is_cpu())
        run_cpu(*job, piece->begin, piece->end, false, piece->stolen);
      else
        run_device(*job, index, piece->begin, piece->end, piece->stolen);
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
    if (job->probe_slot == index) slot.breaker.release_probe();
  }
  if (last) complete(*job);
}

}  // namespace hetex::detail
