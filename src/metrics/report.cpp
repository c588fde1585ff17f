// SPDX-License-Identifier: MIT
// What the BenchReport renderings share: number formatting, best-of-kind look-ups, the
// CPU/GPU crossover and writing a rendering to a file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "metrics/report_format.hpp"

namespace hetex::metrics {
namespace detail {

bool usable(const Point& p) {
  return p.size > 0 && std::isfinite(p.per_second) && p.per_second > 0 && std::isfinite(p.seconds) && p.seconds >= 0;
}

namespace {

std::string printf_string(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Three significant digits: 1.23, 12.3, 123.
std::string three_digits(double v) {
  if (v < 9.995) return printf_string("%.2f", v);
  if (v < 99.95) return printf_string("%.1f", v);
  return printf_string("%.0f", v);
}

}  // namespace

std::string format_rate(double v) {
  if (!std::isfinite(v) || v < 0) return "—";
  static constexpr const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  std::size_t i = 0;
  // 999.6 must become "1.00 K", not "1000": bump on the rounded value.
  while (i + 1 < std::size(prefixes) && v >= 999.5) {
    v /= 1000;
    ++i;
  }
  return three_digits(v) + " " + prefixes[i] + "/s";
}

std::string format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "—";
  if (s == 0) return "0 s";
  if (s < 999.5e-9) return three_digits(s * 1e9) + " ns";
  if (s < 999.5e-6) return three_digits(s * 1e6) + " µs";
  if (s < 999.5e-3) return three_digits(s * 1e3) + " ms";
  return three_digits(s) + " s";
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 60) return format_seconds(s);
  const auto whole = std::llround(s);
  return std::to_string(whole / 60) + " min " + std::to_string(whole % 60) + " s";
}

std::string format_count(std::uint64_t n) {
  static constexpr struct {
    unsigned shift;
    const char* suffix;
  } binary[] = {{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}};
  for (const auto& b : binary) {
    const std::uint64_t unit = std::uint64_t{1} << b.shift;
    if (n >= unit && n % unit == 0) return std::to_string(n >> b.shift) + b.suffix;
  }
  if (n < 10000) return std::to_string(n);
  std::string rate = format_rate(static_cast<double>(n));  // "12.3 K/s"
  rate.resize(rate.size() - 2);                            // drop "/s"
  rate.erase(rate.find(' '), 1);
  return rate;
}

std::string format_speedup(double r) {
  if (!std::isfinite(r) || r <= 0) return "—";
  if (r < 0.001) return "×<0.001";
  if (r < 0.995) return "×" + printf_string("%.2g", r);  // ×0.52, ×0.071
  return "×" + three_digits(r);
}

const Point* point_at(const Series& s, std::uint64_t size) {
  for (const auto& p : s.points)
    if (p.size == size && usable(p)) return &p;
  return nullptr;
}

Best best_at(const Workload& w, SeriesKind kind, std::uint64_t size) {
  Best best;
  for (const auto& s : w.series) {
    if (s.kind != kind) continue;
    const Point* p = point_at(s, size);
    if (p && (!best.point || p->per_second > best.point->per_second)) best = {&s, p};
  }
  return best;
}

const Series* baseline(const Workload& w) {
  for (const auto& s : w.series)
    if (s.id == "cpu_1") return &s;
  return nullptr;
}

std::string_view kind_name(SeriesKind k) {
  switch (k) {
    case SeriesKind::cpu: return "cpu";
    case SeriesKind::gpu: return "gpu";
    case SeriesKind::hybrid: return "hybrid";
    case SeriesKind::comparator: return "comparator";
  }
  return "cpu";
}

std::optional<std::uint64_t> crossover_of(const Workload& w) { return w.crossover ? w.crossover : find_crossover(w); }

std::string crossover_sentence(const Workload& w, const std::string& unit) {
  const auto cross = crossover_of(w);
  if (!cross) return "none measured";
  return "the GPU beats every CPU series from " + format_count(*cross) + " " + unit + " up";
}

}  // namespace detail

std::optional<std::uint64_t> find_crossover(const Workload& w) {
  // Only sizes where both a CPU and a GPU series measured something can decide.
  std::set<std::uint64_t> sizes;
  for (const auto& s : w.series)
    if (s.kind == SeriesKind::gpu)
      for (const auto& p : s.points)
        if (detail::usable(p)) sizes.insert(p.size);
  std::optional<std::uint64_t> crossover;
  for (auto it = sizes.rbegin(); it != sizes.rend(); ++it) {
    const auto cpu = detail::best_at(w, SeriesKind::cpu, *it);
    if (!cpu.point) continue;
    const auto gpu = detail::best_at(w, SeriesKind::gpu, *it);
    if (gpu.point->per_second <= cpu.point->per_second) break;
    crossover = *it;
  }
  return crossover;
}

}  // namespace hetex::metrics
