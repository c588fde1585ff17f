// SPDX-License-Identifier: MIT
// The Markdown rendering of a BenchReport, for docs/benchmarks.md: the machine, a summary table
// (one row per workload at its table size), then per workload every series at that size beside
// the comparators measured in the same run, and what was skipped.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "hetex/metrics/report.hpp"
#include "metrics/report_format.hpp"

namespace hetex::metrics {
namespace {

// Report strings come from devices and users: one line, and no '|' to break a table row.
std::string cell(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string rate_at(const detail::Best& b) { return b.point ? detail::format_rate(b.point->per_second) : "—"; }
std::string title_of(const Workload& w) { return cell(w.title.empty() ? w.id : w.title); }

void machine(std::ostream& out, const BenchReport& r) {
  const auto& m = r.machine;
  out << "| | |\n|---|---|\n";
  std::string cpu = (m.cpu_model.empty() ? std::string("unknown CPU") : m.cpu_model) + ", " +
                    std::to_string(m.cpu_cores) + " threads";
  if (!m.simd.empty()) {
    cpu += " (";
    for (std::size_t i = 0; i < m.simd.size(); ++i) cpu += (i ? ", " : "") + m.simd[i];
    cpu += ")";
  }
  out << "| CPU | " << cell(cpu) << " |\n";
  if (m.gpus.empty()) out << "| GPU | none |\n";
  for (const auto& g : m.gpus) {
    char line[160];
    std::snprintf(line, sizeof line, "%.0f GiB, %d SMs, compute %s", static_cast<double>(g.memory_bytes) / (1ull << 30),
                  g.multiprocessors, g.compute_capability.c_str());
    std::string text = g.name + " (" + g.id + "): " + line;
    if (g.h2d_gbps > 0 || g.d2h_gbps > 0) {
      char bw[80];
      std::snprintf(bw, sizeof bw, "; pinned H2D %.1f GB/s, D2H %.1f GB/s", g.h2d_gbps, g.d2h_gbps);
      text += bw;
    }
    out << "| GPU | " << cell(text) << " |\n";
  }
  if (!m.os.empty()) out << "| OS | " << cell(m.os) << " |\n";
  if (!m.hetex_version.empty()) out << "| hetex | " << cell(m.hetex_version) << " |\n";
  std::string run = r.suite.empty() ? std::string("—") : r.suite + " suite";
  if (!r.started_utc.empty()) run += ", started " + r.started_utc;
  if (std::isfinite(r.duration_s) && r.duration_s > 0) run += ", took " + detail::format_duration(r.duration_s);
  out << "| run | " << cell(run) << " |\n";
}

void summary(std::ostream& out, const BenchReport& r) {
  out << "\n## Summary\n\nItems per second at each workload's table size.\n\n"
         "| workload | size | 1 thread | best CPU | best GPU | best hybrid | best comparator | crossover |\n"
         "|---|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& w : r.workloads) {
    const auto* one = detail::baseline(w);
    const Point* p1 = one ? detail::point_at(*one, w.table_size) : nullptr;
    const auto cross = detail::crossover_of(w);
    out << "| " << title_of(w) << " | " << detail::format_count(w.table_size) << " | "
        << (p1 ? detail::format_rate(p1->per_second) : "—") << " | "
        << rate_at(detail::best_at(w, SeriesKind::cpu, w.table_size)) << " | "
        << rate_at(detail::best_at(w, SeriesKind::gpu, w.table_size)) << " | "
        << rate_at(detail::best_at(w, SeriesKind::hybrid, w.table_size)) << " | "
        << rate_at(detail::best_at(w, SeriesKind::comparator, w.table_size)) << " | "
        << (cross ? detail::format_count(*cross) : "—") << " |\n";
  }
}

void block(std::ostream& out, const Workload& w) {
  const std::string unit = w.unit.empty() ? "items" : cell(w.unit);
  out << "\n### " << title_of(w) << "\n\n";
  if (!w.where.empty()) out << cell(w.where) << "; ";
  out << "batches of " << detail::format_count(w.table_size) << " " << unit << ".\n\n";
  out << "| series | kind | batch time | " << unit << "/s | vs 1 thread |\n|---|---|--:|--:|--:|\n";
  const auto* one = detail::baseline(w);
  const Point* base = one ? detail::point_at(*one, w.table_size) : nullptr;
  for (const auto& s : w.series) {
    const Point* p = detail::point_at(s, w.table_size);
    std::string speedup = "—";
    if (p && base) speedup = detail::format_speedup(p->per_second / base->per_second);
    out << "| " << cell(s.label.empty() ? s.id : s.label) << " | " << detail::kind_name(s.kind) << " | "
        << (p ? detail::format_seconds(p->seconds) : "—") << " | " << (p ? detail::format_rate(p->per_second) : "—")
        << " | " << speedup << " |\n";
  }
  if (w.series.empty()) out << "| (no series measured) | | | | |\n";
  out << '\n';
  out << "- Crossover: " << detail::crossover_sentence(w, unit) << ".\n";
  for (const auto& n : w.notes) out << "- " << cell(n) << "\n";
}

}  // namespace

std::string render_markdown(const BenchReport& r) {
  std::ostringstream out;
  machine(out, r);
  if (r.workloads.empty())
    out << "\nNo workloads were measured.\n";
  else
    summary(out, r);
  if (!r.workloads.empty()) out << "\n## Workloads\n";
  for (const auto& w : r.workloads) block(out, w);
  if (!r.skipped.empty()) {
    out << "\n## Skipped\n\n";
    for (const auto& s : r.skipped) out << "- " << cell(s) << "\n";
  }
  return out.str();
}

}  // namespace hetex::metrics
