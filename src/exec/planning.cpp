// SPDX-License-Identifier: MIT
// Planning: where a batch goes. The routable devices become candidates, the policy routes the
// batch over them, and the route becomes the job's parts (docs/design/scheduler.md, "Planning").
#include <algorithm>

#include "exec/engine.hpp"

namespace hetex::detail {

// Whether a batch's data is page-locked (a device DMAs it directly) or pageable (staged by host
// copies first): asked of a device, a pointer query of about a microsecond, so only for batches
// big enough for staging to matter.
Residency SchedulerEngine::residency_of(const JobBase& job) const {
  constexpr std::size_t kResidencyCheckItems = 4096;
  if (job.size() < kResidencyCheckItems || !job.op().has_gpu) return Residency::host;
  const void* data = job.host_data();
  if (!data) return Residency::host;
  for (const auto& s : slots)
    if (s->lane) return s->device.backend()->is_pinned(data) ? Residency::pinned : Residency::host;
  return Residency::host;
}

// How a job's part on `s` is predicted: the device's curve alone, times how much slower it ran
// beside the others in a split planned from such speeds. (The model's cached curve: planning
// reads it for every part of every batch.)
SchedulerEngine::PartModel SchedulerEngine::part_model(const JobState& job, const Slot& s) const {
  PartModel pm{model.lookup(CostModel::Key::alone(job.cost_key, s.id, job.residency), 0).curve};
  if (job.beside_speeds)
    if (auto r = model.ratio(CostModel::Key::beside(job.cost_key, s.id, job.residency))) pm.slowdown = r->value;
  return pm;
}

RoutePlan SchedulerEngine::route(JobState& job, std::vector<std::size_t>& cand_slots, std::vector<Candidate>& cands) {
  const auto& op = job.job->op();
  const std::size_t n = job.job->size();
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& s = *slots[i];
    if (!op.runs_on(s.id.kind) || !routable(i, job)) continue;
    cand_slots.push_back(i);
    cands.push_back({s.id, s.backlog});
  }
  struct Visitor {
    SchedulerEngine& self;
    JobState& job;
    const std::vector<Candidate>& c;
    std::size_t n;
    RoutePlan operator()(const ThresholdPolicy& p) { return route_threshold(p, c, n); }
    RoutePlan operator()(const AdaptivePolicy& p) {
      return self.adaptive.route(p, self.model, job.cost_key, job.residency, c, n);
    }
    RoutePlan operator()(const SplitPolicy&) {
      std::vector<std::size_t> mins;
      const auto& o = job.job->op().options;
      for (const auto& x : c) mins.push_back(x.device.is_cpu() ? o.cpu_grain : o.gpu_min_chunk);
      job.split = true;
      return self.splitter.route(self.model, job.cost_key, job.residency, c, mins, n);
    }
    RoutePlan operator()(const PinnedPolicy& p) {
      for (std::size_t i = 0; i < c.size(); ++i)
        if (c[i].device == p.device)
          return RoutePlan{{{i, 0, n}}, false, Route{RouteReason::pinned, p.device, {}, n, 0}};
      return RoutePlan{{{0, 0, n}}, false, Route{RouteReason::pinned_unusable, p.device, c[0].device, n, 0}};
    }
  };
  return std::visit(Visitor{*this, job, cands, n}, options.policy);
}

void SchedulerEngine::make_parts(JobState& job, const RoutePlan& rp, std::span<const std::size_t> cand_slots) {
  const auto& opt = job.job->op().options;
  const std::size_t n = job.job->size();
  // Every candidate of a split takes part (a device with no share may still steal); otherwise
  // only the chosen device.
  std::vector<std::size_t> parts_of(cand_slots.size(), SIZE_MAX);
  // A CPU piece beside devices should give every thread of the split arena a task at least.
  const std::size_t cpu_piece = opt.cpu_grain * static_cast<std::size_t>(split_threads(job));
  auto add_part = [&](std::size_t ci) {
    if (parts_of[ci] != SIZE_MAX) return;
    JobState::Part part;
    part.slot = cand_slots[ci];
    part.min_piece = slots[part.slot]->is_cpu() ? cpu_piece : opt.gpu_min_chunk;
    parts_of[ci] = job.parts.size();
    job.parts.push_back(part);
  };
  for (const auto& sh : rp.shares) {
    add_part(sh.candidate);
    auto& part = job.parts[parts_of[sh.candidate]];
    part.lo = sh.begin;
    part.hi = sh.end;
  }
  // A device the split gave nothing may still steal, but only when one stolen piece could finish
  // well before the planned finish; none while a batch calibrates a device (docs: "Stealing").
  if (job.split && rp.shares.size() > 1) {
    double finish = 0;
    for (const auto& sh : rp.shares) {
      const auto pm = part_model(job, *slots[cand_slots[sh.candidate]]);
      finish = std::max(finish, pm.empty() ? 0.0 : pm.predict(sh.end - sh.begin));
    }
    for (std::size_t ci = 0; ci < cand_slots.size(); ++ci) {
      if (parts_of[ci] != SIZE_MAX) continue;
      auto& s = *slots[cand_slots[ci]];
      const auto pm = part_model(job, s);
      const std::size_t piece = s.is_cpu() ? cpu_piece : opt.gpu_min_chunk;
      if (rp.exploring || pm.empty() || finish == 0 || pm.predict(std::min(piece, n)) < finish / 2) add_part(ci);
    }
  }
  if (job.split) {
    bool cpu = false, gpu = false;
    for (const auto& part : job.parts) (slots[part.slot]->is_cpu() ? cpu : gpu) = true;
    job.cpu_beside_gpus = cpu && gpu;
  }
  // Pieces are for stealing between devices; a device alone takes its batch in one go.
  const bool pieces = job.split && job.parts.size() > 1 && std::get<SplitPolicy>(options.policy).pieces;
  for (auto& part : job.parts) {
    auto& s = *slots[part.slot];
    const std::size_t share = part.hi - part.lo;
    // A piece being run cannot be stolen, so pieces shrink as a share runs out (see take).
    // Beside devices the CPU's threads take pieces by themselves, none smaller than the grain.
    if (s.is_cpu() && job.cpu_beside_gpus && pieces) {
      part.takers = true;
      part.min_piece = opt.cpu_grain;
    }
    part.halving = !s.is_cpu() && pieces;
    const auto pm = part_model(job, s);
    part.predicted = pm.empty() ? 0 : pm.predict(share);
    const std::size_t ref = std::max<std::size_t>(share, part.min_piece);
    const double t = pm.empty() ? 0 : pm.predict(ref);
    part.rate = t > 0 ? ref / t : 1.0;
  }
  // A suspended device offered as a probe that the policy then did not choose goes back to
  // waiting, so the next batch may probe it; left "probing" it would never be routed again.
  if (job.probe_slot && std::none_of(job.parts.begin(), job.parts.end(),
                                     [&](const JobState::Part& p) { return p.slot == *job.probe_slot; })) {
    slots[*job.probe_slot]->breaker.release_probe();
    job.probe_slot.reset();
  }
}

}  // namespace hetex::detail
