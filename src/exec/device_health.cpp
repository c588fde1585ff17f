// SPDX-License-Identifier: MIT
// Device health as the engine sees it: each slot's circuit breaker, and retirement by the
// backend. All under the engine's lock, so a batch's planning sees one consistent state.
#include "exec/engine.hpp"

namespace hetex::detail {

bool SchedulerEngine::check_retired(Slot& s) {
  if (s.device.healthy()) return false;
  s.breaker.retire();
  return true;
}

bool SchedulerEngine::routable(std::size_t i, JobState& job) {
  auto& s = *slots[i];
  if (s.is_cpu()) return true;
  if (check_retired(s)) return false;
  switch (s.breaker.admit(!job.probe_slot)) {
    case CircuitBreaker::Admit::no: return false;
    case CircuitBreaker::Admit::yes: return true;
    case CircuitBreaker::Admit::as_probe: job.probe_slot = i; return true;
  }
  return false;
}

bool SchedulerEngine::may_attempt(std::size_t i, const JobState& job) {
  std::lock_guard lock(m);
  auto& s = *slots[i];
  if (check_retired(s)) return false;
  return s.breaker.may_attempt(job.probe_slot == i);
}

void SchedulerEngine::trip(std::size_t i) {
  std::lock_guard lock(m);
  auto& s = *slots[i];
  ++s.totals.faults;
  if (!check_retired(s)) s.breaker.fault();
}

void SchedulerEngine::succeeded(std::size_t i) {
  std::lock_guard lock(m);
  slots[i]->breaker.success();
}

}  // namespace hetex::detail
