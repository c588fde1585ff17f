// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The three metric kinds as cheap handles. A handle points at a cell owned by its Registry and
/// stays valid for the registry's life; copying one is copying a pointer. Updates are lock-free
/// (relaxed atomics): take the handle once, outside the hot loop, then inc/set/observe freely from
/// any thread.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::metrics {

class Registry;

namespace detail {

// Whole increments (the common case: items, bytes, batches) go to an integer so that they stay
// exact and cost one fetch_add; fractional ones (seconds) to a double. Own cache line each, so
// that hot counters of different label sets do not share one.
struct alignas(64) CounterCell {
  std::atomic<std::uint64_t> whole{0};
  std::atomic<double> fraction{0.0};
};

struct alignas(64) GaugeCell {
  std::atomic<double> value{0.0};
};

struct alignas(64) HistogramCell {
  // Upper bounds of the finite buckets, strictly increasing; owned by the family, shared by
  // every child. counts has bounds->size() + 1 slots, the last one being +Inf. Counts are per
  // bucket (not cumulative) so that an observation touches one slot; the exposition sums them.
  explicit HistogramCell(const std::vector<double>* b)
      : bounds(b), counts(std::make_unique<std::atomic<std::uint64_t>[]>(b->size() + 1)) {}
  const std::vector<double>* bounds;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;
  std::atomic<double> sum{0.0};
};

}  // namespace detail

/// Monotonic. Negative, zero and NaN increments are ignored (a counter that goes down would read
/// as a reset to Prometheus' rate()); use a Gauge for values that fall.
class Counter {
 public:
  /// Adds v (> 0); lock-free, from any thread.
  void inc(double v = 1.0) noexcept {
    if (!(v > 0)) return;
    if (v < 0x1p63) {
      const auto n = static_cast<std::uint64_t>(v);
      if (static_cast<double>(n) == v) {
        cell_->whole.fetch_add(n, std::memory_order_relaxed);
        return;
      }
    }
    cell_->fraction.fetch_add(v, std::memory_order_relaxed);
  }
  /// The total so far.
  double value() const noexcept {
    return static_cast<double>(cell_->whole.load(std::memory_order_relaxed)) +
           cell_->fraction.load(std::memory_order_relaxed);
  }

 private:
  friend class Registry;
  template <class>
  friend class Family;
  explicit Counter(detail::CounterCell* cell) noexcept : cell_(cell) {}
  detail::CounterCell* cell_;
};

/// A value that goes up and down. Updates are lock-free, from any thread.
class Gauge {
 public:
  void set(double v) noexcept { cell_->value.store(v, std::memory_order_relaxed); }  ///< replaces the value
  void inc(double v = 1.0) noexcept { cell_->value.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) noexcept { cell_->value.fetch_sub(v, std::memory_order_relaxed); }  ///< subtracts v
  double value() const noexcept { return cell_->value.load(std::memory_order_relaxed); }

 private:
  friend class Registry;
  template <class>
  friend class Family;
  explicit Gauge(detail::GaugeCell* cell) noexcept : cell_(cell) {}
  detail::GaugeCell* cell_;
};

/// Buckets are cumulative in the exposition: bucket le=b counts observations <= b, +Inf counts
/// them all. NaN observations are ignored: one would turn _sum into NaN for good.
class Histogram {
 public:
  /// Counts v in the first bucket whose bound is >= v, and adds it to the sum; NaN is ignored.
  /// Lock-free, from any thread.
  void observe(double v) noexcept {
    if (v != v) return;
    const auto& b = *cell_->bounds;
    const auto i = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), v) - b.begin());
    cell_->counts[i].fetch_add(1, std::memory_order_relaxed);
    cell_->sum.fetch_add(v, std::memory_order_relaxed);
  }
  /// The buckets' upper bounds, without +Inf.
  const std::vector<double>& bounds() const noexcept { return *cell_->bounds; }
  /// Observations so far, and per-bucket cumulative counts (bounds().size() + 1 entries, the
  /// last one for +Inf). Not an atomic snapshot while other threads observe.
  std::uint64_t count() const noexcept;
  /// The sum of the observed values.
  double sum() const noexcept { return cell_->sum.load(std::memory_order_relaxed); }
  /// Per bucket, observations <= its bound, then the total (+Inf).
  std::vector<std::uint64_t> cumulative_counts() const;

 private:
  friend class Registry;
  template <class>
  friend class Family;
  explicit Histogram(detail::HistogramCell* cell) noexcept : cell_(cell) {}
  detail::HistogramCell* cell_;
};

/// Bucket helpers. Each checks its arguments (count >= 1, start > 0, factor > 1, width > 0,
/// finite results) and returns invalid_argument otherwise.
/// start, start*factor, ..., start*factor^(count-1)
Result<std::vector<double>> exponential_buckets(double start, double factor, std::size_t count);
/// count bounds from min to max inclusive, evenly spaced on a log scale
Result<std::vector<double>> exponential_buckets_range(double min, double max, std::size_t count);
/// start, start+width, ..., start+width*(count-1)
Result<std::vector<double>> linear_buckets(double start, double width, std::size_t count);
/// Latency in seconds, 1 µs to 10 s in 1-2-5 steps (22 buckets): exact decimal bounds that read
/// well in dashboards, fine enough for both a CPU hash call and a GPU batch.
std::vector<double> latency_buckets_seconds();

}  // namespace hetex::metrics
