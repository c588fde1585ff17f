// SPDX-License-Identifier: MIT
// Feedback: what each run is recorded as (the batch's chunks and per-device usage, the observer)
// and what it teaches the cost model (docs/design/scheduler.md, "Feedback").
#include <algorithm>

#include "exec/engine.hpp"

namespace hetex::detail {

void SchedulerEngine::note_start(JobState& job, DeviceId device, Clock::time_point t) {
  std::lock_guard lock(job.m);
  if (!job.first_start) job.first_start = t;
  auto [it, first] = job.usage.try_emplace(device);
  if (first) {
    it->second.device = device;
    it->second.queue_wait_seconds = seconds(t - job.submitted);
  }
}

// Not busy for chunks that run concurrently on one device: their caller adds the wall time they
// spanned.
void SchedulerEngine::record(JobState& job, ChunkRecord rec, std::optional<Error> error, bool busy) {
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

// A piece of a split ran beside other devices: not the device's speed alone (the split is
// measured as a whole, in complete()).
void SchedulerEngine::learn_alone(const JobState& job, const Slot& s, std::size_t items, double secs) {
  if (job.parts.size() == 1) model.record(CostModel::Key::alone(job.cost_key, s.id, job.residency), items, secs);
}

void SchedulerEngine::complete(JobState& job) {
  ExecReport report;
  {
    std::lock_guard lock(job.m);
    auto& st = job.stats;
    st.items = job.job->size();
    // By id: the CPU first, then the other devices (usage is ordered so).
    for (auto& [id, u] : job.usage)
      if (u.chunks) st.devices.push_back(u);
    std::sort(job.errors.begin(), job.errors.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
    for (const auto& e : job.errors) st.failed_items += e.end - e.begin;
    const auto now = Clock::now();
    st.total_seconds = seconds(now - job.submitted);
    st.queue_wait_seconds = job.first_start ? seconds(*job.first_start - job.submitted) : 0;
    // A clean split teaches how much slower each device ran beside the others than alone and,
    // once shares come from those ratios, what the split as a whole achieved. A re-probe's
    // measurements replace the earlier ones.
    if (job.split && job.parts.size() > 1 && st.faults.empty() && job.errors.empty() && job.first_start) {
      for (const auto& [id, u] : job.usage) {
        const auto alone = model.lookup(CostModel::Key::alone(job.cost_key, id, job.residency), u.items).curve;
        const double predicted = alone->empty() ? 0 : alone->predict(u.items);
        if (u.items && u.busy_seconds > 0 && predicted > 0)
          model.record_ratio(CostModel::Key::beside(job.cost_key, id, job.residency), u.busy_seconds / predicted,
                             job.reprobe);
      }
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
    for (const auto& u : report.stats.devices)
      for (auto& s : slots)
        if (s->id == u.device) {
          s->totals.items += u.items;
          s->totals.chunks += u.chunks;
          s->totals.busy_seconds += u.busy_seconds;
        }
    slots[0]->totals.fallback_items += report.stats.fallback_items;
  }
  if (options.observer) options.observer->on_batch(report.stats);
  admission.leave();
  job.promise.set_value(std::move(report));
}

}  // namespace hetex::detail
