// SPDX-License-Identifier: MIT
#include "hetex/metrics/metric.hpp"

#include <cmath>
#include <string>

namespace hetex::metrics {

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= cell_->bounds->size(); ++i) n += cell_->counts[i].load(std::memory_order_relaxed);
  return n;
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(cell_->bounds->size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = running += cell_->counts[i].load(std::memory_order_relaxed);
  return out;
}

namespace {
Error invalid(std::string message) { return Error(Errc::invalid_argument, std::move(message)); }

// Rounding can make neighbours equal (a factor or width tiny against the start) and large
// arguments can overflow; a histogram needs finite, strictly increasing bounds.
Result<std::vector<double>> checked(std::vector<double> b, const char* what) {
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i])) return invalid(std::string(what) + ": the bounds overflow to infinity");
    if (i > 0 && !(b[i] > b[i - 1]))
      return invalid(std::string(what) + ": the step is too small to keep the bounds apart at this precision");
  }
  return b;
}
}  // namespace

Result<std::vector<double>> exponential_buckets(double start, double factor, std::size_t count) {
  if (count == 0) return invalid("exponential_buckets: count must be at least 1");
  if (!(start > 0) || !std::isfinite(start)) return invalid("exponential_buckets: start must be finite and > 0");
  if (!(factor > 1) || !std::isfinite(factor)) return invalid("exponential_buckets: factor must be finite and > 1");
  std::vector<double> b(count);
  // Each bound from the start (not from its predecessor) so that rounding does not accumulate.
  for (std::size_t i = 0; i < count; ++i) b[i] = start * std::pow(factor, static_cast<double>(i));
  return checked(std::move(b), "exponential_buckets");
}

Result<std::vector<double>> exponential_buckets_range(double min, double max, std::size_t count) {
  if (count < 2) return invalid("exponential_buckets_range: count must be at least 2");
  if (!(min > 0) || !std::isfinite(min) || !(max > min) || !std::isfinite(max))
    return invalid("exponential_buckets_range: want 0 < min < max, both finite");
  std::vector<double> b(count);
  const double log_min = std::log(min), step = (std::log(max) - log_min) / static_cast<double>(count - 1);
  for (std::size_t i = 0; i < count; ++i) b[i] = std::exp(log_min + step * static_cast<double>(i));
  b.front() = min;  // exactly the bounds asked for, not exp(log(x))
  b.back() = max;
  return checked(std::move(b), "exponential_buckets_range");
}

Result<std::vector<double>> linear_buckets(double start, double width, std::size_t count) {
  if (count == 0) return invalid("linear_buckets: count must be at least 1");
  if (!std::isfinite(start) || !(width > 0) || !std::isfinite(width))
    return invalid("linear_buckets: start must be finite and width finite and > 0");
  std::vector<double> b(count);
  for (std::size_t i = 0; i < count; ++i) b[i] = start + width * static_cast<double>(i);
  return checked(std::move(b), "linear_buckets");
}

std::vector<double> latency_buckets_seconds() {
  return {1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3,
          5e-3, 1e-2, 2e-2, 5e-2, 0.1,  0.2,  0.5,  1.0,  2.0,  5.0,  10.0};
}

}  // namespace hetex::metrics
