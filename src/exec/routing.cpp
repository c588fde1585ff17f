#include "hetex/exec/routing.hpp"

#include <algorithm>
#include <memory>
#include <numeric>

namespace hetex {
namespace {

RoutePlan whole_batch_to(std::size_t candidate, std::size_t n, std::string reason, bool exploring = false) {
  RoutePlan p;
  p.shares.push_back({candidate, 0, n});
  p.reason = std::move(reason);
  p.exploring = exploring;
  return p;
}

std::string size_label(std::size_t n) { return std::to_string(n) + " items"; }

}  // namespace

std::string policy_name(const Policy& p) {
  struct {
    std::string operator()(const ThresholdPolicy&) const { return "threshold"; }
    std::string operator()(const AdaptivePolicy&) const { return "adaptive"; }
    std::string operator()(const SplitPolicy&) const { return "split"; }
    std::string operator()(const PinnedPolicy& x) const { return "pinned:" + x.device; }
  } v;
  return std::visit(v, p);
}

RoutePlan route_threshold(const ThresholdPolicy& p, std::span<const Candidate> c, std::size_t n) {
  std::size_t best = c.size();
  for (std::size_t i = 0; i < c.size(); ++i)
    if (!c[i].is_cpu && (best == c.size() || c[i].backlog_seconds < c[best].backlog_seconds)) best = i;
  if (best != c.size() && n >= p.min_gpu_items)
    return whole_batch_to(best, n, size_label(n) + " >= threshold " + std::to_string(p.min_gpu_items));
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c[i].is_cpu)
      return whole_batch_to(i, n, best == c.size() ? "no usable GPU" : size_label(n) + " below threshold");
  return whole_batch_to(best, n, "no CPU candidate");
}

// Exploration measures one device at a time, its runs back to back: a CPU measured right after
// a GPU run finds TBB's workers asleep and pays their wake-up (tens of microseconds), which made
// alternating calibration send batches of ~20 us to a GPU three times slower. The median of a
// device's three runs then drops the first, cold one; when they disagree, it runs until its
// window is full (CostModel::kSettledSpread), so two disturbed runs are outvoted too.
RoutePlan AdaptiveRouter::route(const AdaptivePolicy& p, const CostModel& model, const std::string& op,
                                Residency where, std::span<const Candidate> c, std::size_t n) {
  if (c.size() == 1) return whole_batch_to(0, n, "only " + c[0].name + " is usable");
  // Calibrate first: every device at this size, one device after the other (see above).
  std::size_t explore = c.size();
  std::vector<double> alone(c.size()), finish(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    const auto look = model.lookup({op, c[i].name, where}, n);
    if (explore == c.size() && !look.calibrated) explore = i;
    alone[i] = look.curve->predict(n);
    finish[i] = c[i].backlog_seconds + alone[i];
  }
  if (explore != c.size())
    return whole_batch_to(explore, n, "calibrating " + c[explore].name + " at " + size_label(n), true);

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
      return whole_batch_to(second, n, "re-probing " + c[second].name + " at " + size_label(n), true);
  }
  return whole_batch_to(best, n, "earliest finish on " + c[best].name);
}

RoutePlan route_split(const CostModel& model, const std::string& op, Residency where, std::span<const Candidate> c,
                      std::span<const std::size_t> min_share, std::size_t n, bool reprobe) {
  RoutePlan plan;
  if (c.empty() || n == 0) return plan;
  // Calibrate first, as Adaptive does: each device runs batches of this size alone until it is
  // measured there. Extrapolating a device's curve from other sizes is what let a split send
  // whole batches to the wrong device; its time alone at this size also decides below whether a
  // split pays at all.
  if (c.size() > 1) {
    std::size_t explore = c.size();
    for (std::size_t i = 0; i < c.size() && explore == c.size(); ++i)
      if (!model.calibrated({op, c[i].name, where}, n)) explore = i;
    if (explore != c.size())
      return whole_batch_to(explore, n, "calibrating " + c[explore].name + " at " + size_label(n), true);
  }
  // The curves as the model caches them (routing reads them on every batch; no copies).
  std::vector<std::shared_ptr<const CostCurve>> curves;
  std::vector<std::size_t> known;
  // Beside each other devices go slower than alone (fewer cores for the CPU; shared memory
  // bandwidth; staging copies): once every device has been measured in a split, shares follow
  // its time alone times how much slower it ran there (its kBesideSuffix ratio).
  // (A re-probe plans from the speeds alone, as the first split did, to measure them afresh.)
  std::vector<double> slowdown(c.size(), 1.0);
  bool corrected = c.size() > 1 && !reprobe;
  // Measured in enough splits that one cold or disturbed run does not decide (the median of
  // kCalibrated or more): only then may those speeds keep a batch from being split.
  bool trusted = corrected;
  for (std::size_t i = 0; i < c.size(); ++i) {
    curves.push_back(model.lookup({op, c[i].name, where}, n).curve);
    if (!curves.back()->empty()) known.push_back(i);
    if (!corrected) continue;
    const auto r = model.ratio({op, c[i].name + std::string(kBesideSuffix), where});
    corrected = r.has_value();
    trusted = corrected && trusted && r->samples >= CostModel::kCalibrated;
    if (r) slowdown[i] = r->value;
  }
  if (!corrected) std::fill(slowdown.begin(), slowdown.end(), 1.0);
  auto predict = [&](std::size_t i, std::size_t x) {
    if (!curves[i]->empty()) return curves[i]->predict(x);
    if (known.empty()) return static_cast<double>(x);  // all alike
    double sum = 0;
    for (auto k : known) sum += curves[k]->predict(x);
    return sum / known.size();
  };
  auto share_time = [&](std::size_t i, std::size_t x) { return predict(i, x) * slowdown[i]; };
  plan.exploring = known.size() < c.size();
  plan.beside_speeds = corrected;

  // The best device alone. No split can finish before all devices sharing the work in
  // proportion to their speed alone; when even that saves too little (small batches), skip the
  // planning: routing a batch of microseconds must cost far less than that.
  std::size_t best = 0;
  double alone_best = 0, rate_sum = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const double alone = c[i].backlog_seconds + predict(i, n);
    if (i == 0 || alone < alone_best) {
      best = i;
      alone_best = alone;
    }
    rate_sum += alone > 0 ? 1.0 / alone : 0.0;
  }
  if (c.size() > 1 && !plan.exploring && rate_sum > 0 &&
      1.0 / rate_sum > kSplitWorthIt * alone_best - kSplitHandoffSeconds) {
    auto whole = whole_batch_to(best, n, "all on " + c[best].name + ": a split would save too little");
    whole.beside_speeds = corrected;
    return whole;
  }
  // Items candidate i finishes by time t (after its backlog): predictions rise with size, so bisect.
  auto items_by = [&](std::size_t i, double t) -> std::size_t {
    const double budget = t - c[i].backlog_seconds;
    if (budget < share_time(i, 1)) return 0;
    if (share_time(i, n) <= budget) return n;
    std::size_t lo = 1, hi = n;
    while (hi - lo > 1) {
      const std::size_t mid = lo + (hi - lo) / 2;
      (share_time(i, mid) <= budget ? lo : hi) = mid;
    }
    return lo;
  };

  std::vector<bool> excluded(c.size(), false);
  std::vector<std::size_t> x(c.size(), 0);
  for (int round = 0; round < static_cast<int>(c.size()); ++round) {
    double lo = 0, hi = 0;
    bool any = false;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (excluded[i]) continue;
      const double alone = c[i].backlog_seconds + share_time(i, n);
      hi = any ? std::min(hi, alone) : alone;
      any = true;
    }
    auto total_by = [&](double t) {
      std::size_t s = 0;
      for (std::size_t i = 0; i < c.size(); ++i)
        if (!excluded[i]) s += items_by(i, t);
      return s;
    };
    for (int it = 0; it < 48 && hi - lo > 1e-9 * hi; ++it) {
      const double mid = (lo + hi) / 2;
      (total_by(mid) >= n ? hi : lo) = mid;
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      x[i] = excluded[i] ? 0 : items_by(i, hi);
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
    // A share too small to be worth the call goes to the others; plan again without that device.
    bool dropped = false;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (!excluded[i] && x[i] > 0 && x[i] < min_share[i] && x[i] < n) {
        excluded[i] = true;
        dropped = true;
      }
    }
    if (!dropped) break;
  }

  // A split costs hand-offs, pieces and contention for memory bandwidth that no per-device curve
  // shows; when it would save little over the best device alone, that device takes it all.
  double split_finish = 0;
  for (std::size_t i = 0; i < c.size(); ++i)
    if (x[i]) split_finish = std::max(split_finish, c[i].backlog_seconds + share_time(i, x[i]));
  if (!plan.exploring && x[best] < n && !reprobe) {
    const CostModel::Key split_key{op, std::string(kSplitCostDevice), where};
    // Predicted from speeds beside each other measured too few times to trust, a split that
    // seems not to pay runs anyway, to measure them again.
    // Either verdict from measured splits (not from the speeds alone) is one a re-probe may
    // revise: gated.
    if (split_finish > kSplitWorthIt * alone_best - kSplitHandoffSeconds && (!corrected || trusted)) {
      plan.reason = "all on " + c[best].name + ": a split would save too little";
      plan.gated = corrected;
    } else if (const auto look = model.lookup(split_key, n); look.samples >= CostModel::kCalibrated &&
                                                             look.curve->predict(n) >= alone_best) {
      plan.reason = "all on " + c[best].name + ": measured splits at this size were slower";
      plan.gated = true;
    }
    if (!plan.reason.empty()) {
      std::fill(x.begin(), x.end(), 0);
      x[best] = n;
    }
  }

  std::size_t at = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (x[i] == 0) continue;
    plan.shares.push_back({i, at, at + x[i]});
    at += x[i];
  }
  plan.reprobe = reprobe && !plan.exploring && plan.shares.size() > 1;
  if (plan.reason.empty())
    plan.reason = plan.exploring ? "split with assumed speeds for uncalibrated devices"
                  : plan.reprobe ? "equal-finish split, re-probing after splits stopped paying"
                                 : "equal-finish split";
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
