// SPDX-License-Identifier: MIT
#include "exec/routing.hpp"

#include <algorithm>
#include <memory>
#include <numeric>
#include <utility>

namespace hetex {
namespace {

RoutePlan whole_batch_to(std::size_t candidate, std::size_t n, Route route, bool exploring = false) {
  RoutePlan p;
  p.shares.push_back({candidate, 0, n});
  p.route = route;
  p.exploring = exploring;
  return p;
}

Route route_of(RouteReason reason, DeviceId device, std::size_t n) { return Route{reason, device, {}, n, 0}; }

// --- calibration (docs/design/scheduler.md, "Calibration") ----------------------------------

// A lower bound on the time `key` takes at n, from the two largest sizes it is calibrated at
// below n: the line through them (its fixed cost plus its time per item at the margin), once its
// time per item has stopped falling with size (the two agree within kSaturated). None while it
// is still falling (fixed costs dominate: a GPU on small batches), or with fewer than two.
std::optional<double> least_seconds(const CostModel& model, const CostModel::Key& key, std::size_t n) {
  std::optional<std::pair<double, double>> larger;  // (size, seconds)
  for (int b = CostModel::bucket_of(n) - 1; b >= 0; --b) {
    const std::size_t m = std::size_t(1) << b;
    const auto look = model.lookup(key, m);
    if (!look.calibrated) continue;
    const double size = static_cast<double>(m), t = look.curve->predict(m);
    if (!larger) {
      larger = {size, t};
      continue;
    }
    const auto [big, big_t] = *larger;
    const double per_item = big_t / big;
    if (per_item < kSaturated * (t / size)) return std::nullopt;  // still falling
    const double margin = std::min(per_item, (big_t - t) / (big - size));
    if (!(margin > 0)) return std::nullopt;
    return big_t + margin * (static_cast<double>(n) - big);
  }
  return std::nullopt;
}

// Whether candidate i can skip being measured alone at n: it would take at least kFarSlower times
// as long as another candidate already measured at n.
bool hopeless(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
              std::size_t i, std::size_t n) {
  const auto least = least_seconds(model, CostModel::Key::alone(op, c[i].device, where), n);
  if (!least) return false;
  for (std::size_t j = 0; j < c.size(); ++j) {
    if (j == i) continue;
    const auto other = model.lookup(CostModel::Key::alone(op, c[j].device, where), n);
    if (other.calibrated && *least >= kFarSlower * other.curve->predict(n)) return true;
  }
  return false;
}

// Each candidate's cost alone at n, as the model has it.
std::vector<CostModel::Lookup> lookups(const CostModel& model, const std::string& op, Residency where,
                                       std::span<const Candidate> c, std::size_t n) {
  std::vector<CostModel::Lookup> looks;
  looks.reserve(c.size());
  for (const auto& x : c) looks.push_back(model.lookup(CostModel::Key::alone(op, x.device, where), n));
  return looks;
}

// The candidate to measure alone at n next, if any (`looks`: lookups() at n). One whose
// measurement here has begun goes on (runs back to back); otherwise the one predicted fastest here
// (one with nothing measured counts as fastest; ties in candidate order), so that the others can
// be compared with a measurement and skipped when hopeless.
std::optional<std::size_t> to_calibrate(const CostModel& model, const std::string& op, Residency where,
                                        std::span<const Candidate> c, std::size_t n,
                                        std::span<const CostModel::Lookup> looks) {
  std::optional<std::size_t> pick;
  double pick_seconds = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const auto& look = looks[i];
    if (look.calibrated || hopeless(model, op, where, c, i, n)) continue;
    if (look.samples > 0) return i;
    const double predicted = look.curve->predict(n);
    if (!pick || predicted < pick_seconds) {
      pick = i;
      pick_seconds = predicted;
    }
  }
  return pick;
}

// --- route_split's steps -------------------------------------------------------------------

// Calibrate first, as Adaptive does.
std::optional<RoutePlan> calibrate_first(const CostModel& model, const std::string& op, Residency where,
                                         std::span<const Candidate> c, std::size_t n) {
  if (c.size() < 2) return std::nullopt;
  if (auto i = to_calibrate(model, op, where, c, n, lookups(model, op, where, c, n)))
    return whole_batch_to(*i, n, route_of(RouteReason::calibrating, c[*i].device, n), true);
  return std::nullopt;
}

// What the planner predicts for each candidate: its curve alone (as the model caches it: routing
// reads them on every batch, no copies), times how much slower it ran beside the others once
// every candidate has been measured in splits.
struct SplitSpeeds {
  std::vector<std::shared_ptr<const CostCurve>> curves;
  std::vector<std::size_t> known;  // candidates with a curve
  std::vector<double> slowdown;
  bool corrected = false;  // slowdowns from measured splits apply
  bool trusted = false;    // ... and each was measured in kCalibrated splits or more

  // A candidate without a curve is assumed as fast as the average of the others (all alike when
  // none is known).
  double predict(std::size_t i, std::size_t x) const {
    if (!curves[i]->empty()) return curves[i]->predict(x);
    if (known.empty()) return static_cast<double>(x);
    double sum = 0;
    for (auto k : known) sum += curves[k]->predict(x);
    return sum / known.size();
  }
  double share_time(std::size_t i, std::size_t x) const { return predict(i, x) * slowdown[i]; }
};

SplitSpeeds split_speeds(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
                         std::size_t n, bool reprobe) {
  SplitSpeeds s;
  s.slowdown.assign(c.size(), 1.0);
  // A re-probe plans from the speeds alone, as the first split did, to measure them afresh.
  s.corrected = c.size() > 1 && !reprobe;
  s.trusted = s.corrected;
  for (std::size_t i = 0; i < c.size(); ++i) {
    s.curves.push_back(model.lookup(CostModel::Key::alone(op, c[i].device, where), n).curve);
    if (!s.curves.back()->empty()) s.known.push_back(i);
    if (!s.corrected) continue;
    const auto r = model.ratio(CostModel::Key::beside(op, c[i].device, where));
    s.corrected = r.has_value();
    s.trusted = s.corrected && s.trusted && r->samples >= CostModel::kCalibrated;
    if (r) s.slowdown[i] = r->value;
  }
  if (!s.corrected) std::fill(s.slowdown.begin(), s.slowdown.end(), 1.0);
  return s;
}

struct BestAlone {
  std::size_t device = 0;
  double seconds = 0;
  // No split finishes before all devices sharing the work in proportion to their speed alone.
  double ideal_split_seconds = 0;
};

BestAlone best_alone(std::span<const Candidate> c, const SplitSpeeds& s, std::size_t n) {
  BestAlone b;
  double rate_sum = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const double alone = c[i].backlog_seconds + s.predict(i, n);
    if (i == 0 || alone < b.seconds) {
      b.device = i;
      b.seconds = alone;
    }
    rate_sum += alone > 0 ? 1.0 / alone : 0.0;
  }
  b.ideal_split_seconds = rate_sum > 0 ? 1.0 / rate_sum : 0.0;
  return b;
}

// Whether a split finishing at `seconds` saves too little over the best device alone.
bool saves_too_little(double seconds, const BestAlone& best) {
  return seconds > kSplitWorthIt * best.seconds - kSplitHandoffSeconds;
}

// Items candidate i finishes by time t (after its backlog): predictions rise with size, so bisect.
std::size_t items_by(const SplitSpeeds& s, std::span<const Candidate> c, std::size_t i, double t, std::size_t n) {
  const double budget = t - c[i].backlog_seconds;
  if (budget < s.share_time(i, 1)) return 0;
  if (s.share_time(i, n) <= budget) return n;
  std::size_t lo = 1, hi = n;
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (s.share_time(i, mid) <= budget ? lo : hi) = mid;
  }
  return lo;
}

// Shares of n that all finish at the same time. A share smaller than its candidate's min_share
// is not worth the call: that candidate is left out and the others planned again.
std::vector<std::size_t> equal_finish_shares(const SplitSpeeds& s, std::span<const Candidate> c,
                                             std::span<const std::size_t> min_share, std::size_t n) {
  std::vector<bool> excluded(c.size(), false);
  std::vector<std::size_t> x(c.size(), 0);
  for (int round = 0; round < static_cast<int>(c.size()); ++round) {
    double lo = 0, hi = 0;
    bool any = false;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (excluded[i]) continue;
      const double alone = c[i].backlog_seconds + s.share_time(i, n);
      hi = any ? std::min(hi, alone) : alone;
      any = true;
    }
    auto total_by = [&](double t) {
      std::size_t sum = 0;
      for (std::size_t i = 0; i < c.size(); ++i)
        if (!excluded[i]) sum += items_by(s, c, i, t, n);
      return sum;
    };
    for (int it = 0; it < 48 && hi - lo > 1e-9 * hi; ++it) {
      const double mid = (lo + hi) / 2;
      (total_by(mid) >= n ? hi : lo) = mid;
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      x[i] = excluded[i] ? 0 : items_by(s, c, i, hi, n);
      total += x[i];
    }
    // Trim the overshoot of the discrete bisection, or hand out what rounding left over.
    if (total > n) {
      std::size_t assigned = 0;
      for (std::size_t i = 0; i < c.size(); ++i) {
        x[i] = static_cast<std::size_t>(static_cast<double>(x[i]) * n / total);
        assigned += x[i];
      }
      total = assigned;
    }
    const std::size_t largest = std::max_element(x.begin(), x.end()) - x.begin();
    x[largest] += n - total;
    bool dropped = false;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!excluded[i] && x[i] > 0 && x[i] < min_share[i] && x[i] < n) {
        excluded[i] = true;
        dropped = true;
      }
    }
    if (!dropped) break;
  }
  return x;
}

// Whether the planned split should run, or the best device take the batch alone: when the split
// is predicted to save too little (from trusted speeds beside each other), or when splits
// measured at this size were slower than that device alone. gated: a verdict from measured
// splits, which a re-probe may revise.
struct Gate {
  RouteReason reason = RouteReason::none;
  bool gated = false;
};

Gate gate_split(const CostModel& model, const std::string& op, Residency where, const SplitSpeeds& s,
                std::span<const Candidate> c, std::span<const std::size_t> x, const BestAlone& best, std::size_t n) {
  double split_finish = 0;
  for (std::size_t i = 0; i < c.size(); ++i)
    if (x[i]) split_finish = std::max(split_finish, c[i].backlog_seconds + s.share_time(i, x[i]));
  // Predicted from speeds beside each other measured too few times to trust, a split that seems
  // not to pay runs anyway, to measure them again.
  if (saves_too_little(split_finish, best) && (!s.corrected || s.trusted))
    return {RouteReason::split_saves_too_little, s.corrected};
  const auto look = model.lookup(CostModel::Key::split(op, where), n);
  if (look.samples >= CostModel::kCalibrated && look.curve->predict(n) >= best.seconds)
    return {RouteReason::measured_splits_slower, true};
  return {};
}

}  // namespace

std::string policy_name(const Policy& p) {
  struct {
    std::string operator()(const ThresholdPolicy&) const { return "threshold"; }
    std::string operator()(const AdaptivePolicy&) const { return "adaptive"; }
    std::string operator()(const SplitPolicy&) const { return "split"; }
    std::string operator()(const PinnedPolicy& x) const { return "pinned:" + x.device.to_string(); }
  } v;
  return std::visit(v, p);
}

RoutePlan route_threshold(const ThresholdPolicy& p, std::span<const Candidate> c, std::size_t n) {
  std::size_t best = c.size();
  for (std::size_t i = 0; i < c.size(); ++i)
    if (!c[i].device.is_cpu() && (best == c.size() || c[i].backlog_seconds < c[best].backlog_seconds)) best = i;
  if (best != c.size() && n >= p.min_gpu_items)
    return whole_batch_to(best, n, Route{RouteReason::above_threshold, c[best].device, {}, n, p.min_gpu_items});
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c[i].device.is_cpu())
      return whole_batch_to(
          i, n, route_of(best == c.size() ? RouteReason::no_gpu : RouteReason::below_threshold, c[i].device, n));
  return whole_batch_to(best, n, route_of(RouteReason::no_cpu, c[best].device, n));
}

// Calibration measures one device at a time, its runs back to back (docs/design/scheduler.md).
RoutePlan AdaptiveRouter::route(const AdaptivePolicy& p, const CostModel& model, const std::string& op, Residency where,
                                std::span<const Candidate> c, std::size_t n) {
  if (c.size() == 1) return whole_batch_to(0, n, route_of(RouteReason::only_device, c[0].device, n));
  const auto looks = lookups(model, op, where, c, n);
  if (auto explore = to_calibrate(model, op, where, c, n, looks))
    return whole_batch_to(*explore, n, route_of(RouteReason::calibrating, c[*explore].device, n), true);
  std::vector<double> alone(c.size()), finish(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    alone[i] = looks[i].curve->predict(n);
    finish[i] = c[i].backlog_seconds + alone[i];
  }

  const std::size_t best = std::min_element(finish.begin(), finish.end()) - finish.begin();
  std::size_t count;
  {
    std::lock_guard lock(m_);
    count = ++decisions_[{op, CostModel::bucket_of(n)}];
  }
  if (p.probe_interval && count % p.probe_interval == 0) {
    std::size_t second = c.size();
    for (std::size_t i = 0; i < c.size(); ++i)
      if (i != best && (second == c.size() || alone[i] < alone[second])) second = i;
    if (alone[second] <= p.probe_ratio * alone[best])
      return whole_batch_to(second, n, route_of(RouteReason::reprobing, c[second].device, n), true);
  }
  return whole_batch_to(best, n, route_of(RouteReason::earliest_finish, c[best].device, n));
}

RoutePlan route_split(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
                      std::span<const std::size_t> min_share, std::size_t n, bool reprobe) {
  RoutePlan plan;
  if (c.empty() || n == 0) return plan;
  if (auto calibrating = calibrate_first(model, op, where, c, n)) return std::move(*calibrating);

  const SplitSpeeds speeds = split_speeds(model, op, where, c, n, reprobe);
  plan.exploring = speeds.known.size() < c.size();
  plan.beside_speeds = speeds.corrected;
  const BestAlone best = best_alone(c, speeds, n);
  // When even the ideal split saves too little (small batches), skip the planning: routing a
  // batch of microseconds must cost far less than that.
  if (c.size() > 1 && !plan.exploring && best.ideal_split_seconds > 0 &&
      saves_too_little(best.ideal_split_seconds, best)) {
    auto whole =
        whole_batch_to(best.device, n, route_of(RouteReason::split_saves_too_little, c[best.device].device, n));
    whole.beside_speeds = speeds.corrected;
    return whole;
  }

  std::vector<std::size_t> x = equal_finish_shares(speeds, c, min_share, n);
  if (!plan.exploring && x[best.device] < n && !reprobe) {
    const Gate gate = gate_split(model, op, where, speeds, c, x, best, n);
    if (gate.reason != RouteReason::none) {
      plan.route = route_of(gate.reason, c[best.device].device, n);
      plan.gated = gate.gated;
      std::fill(x.begin(), x.end(), 0);
      x[best.device] = n;
    }
  }

  std::size_t at = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (x[i] == 0) continue;
    plan.shares.push_back({i, at, at + x[i]});
    at += x[i];
  }
  plan.reprobe = reprobe && !plan.exploring && plan.shares.size() > 1;
  if (plan.route.reason == RouteReason::none)
    plan.route = route_of(plan.exploring ? RouteReason::split_assumed_speeds
                          : plan.reprobe ? RouteReason::split_reprobe
                                         : RouteReason::equal_finish_split,
                          {}, n);
  return plan;
}

RoutePlan SplitRouter::route(const CostModel& model, const std::string& op, Residency where,
                             std::span<const Candidate> c, std::span<const std::size_t> min_share, std::size_t n) {
  RoutePlan plan = route_split(model, op, where, c, min_share, n);
  if (plan.exploring || c.size() < 2) return plan;
  bool due = false;
  {
    std::lock_guard lock(m_);
    auto& pace = pace_[{op, where, CostModel::bucket_of(n)}];
    if (!plan.gated) {
      pace = Pace{};  // splitting pays again: re-check soon if it stops
    } else if (++pace.gated >= pace.interval) {
      pace.gated = 0;
      pace.interval = std::min(pace.interval * 2, kSplitReprobeLast);
      due = true;
    }
  }
  return due ? route_split(model, op, where, c, min_share, n, true) : plan;
}

}  // namespace hetex
