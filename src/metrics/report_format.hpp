// SPDX-License-Identifier: MIT
#pragma once
// Number formatting and series helpers shared by the table and the HTML renderings of a
// BenchReport (private to the library).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hetex/metrics/report.hpp"

namespace hetex::metrics::detail {

// A measurement worth drawing: positive, finite size, time and throughput.
bool usable(const Point& p);

// 1234567 -> "1.23 M/s": three significant digits, SI prefixes (K M G T), "/s" appended.
std::string format_rate(double per_second);
// 0.0000461 -> "46.1 µs": three significant digits, ns/µs/ms/s.
std::string format_seconds(double seconds);
// A run's length: "6 min 53 s" from a minute up, else as format_seconds.
std::string format_duration(double seconds);
// Batch sizes: whole binary multiples stay exact ("16K", "1M", "4G"); others are written out
// when short ("1000") or with three significant digits ("12.3K").
std::string format_count(std::uint64_t n);
// ×31.2, ×4.20, ×0.51, ×0.071, ×312; ×<0.001 below that
std::string format_speedup(double ratio);

// The usable point of s at exactly `size`, if any.
const Point* point_at(const Series& s, std::uint64_t size);
// The fastest usable point among series of `kind` at `size` (with its series), if any.
struct Best {
  const Series* series = nullptr;
  const Point* point = nullptr;
};
Best best_at(const Workload& w, SeriesKind kind, std::uint64_t size);
// The "cpu_1" series, the baseline of every speedup.
const Series* baseline(const Workload& w);

std::string_view kind_name(SeriesKind k);
// Crossover as stored, else computed; the renderings show this one.
std::optional<std::uint64_t> crossover_of(const Workload& w);
// "the GPU beats every CPU series from 64K items up", or "none measured".
std::string crossover_sentence(const Workload& w, const std::string& unit);

}  // namespace hetex::metrics::detail
