// SPDX-License-Identifier: MIT
// The terminal rendering of a BenchReport: the machine, a summary with one row per workload at
// its table size, then one block per workload (its series differ) with time, throughput and
// speedup against one CPU thread, and the skipped lines. Every line fits 100 columns.
#include <cmath>
#include <sstream>

#include "hetex/metrics/report.hpp"
#include "metrics/report_format.hpp"

namespace hetex::metrics {
namespace {

constexpr std::size_t kWidth = 100;

// Columns, counted in code points (µ, × and — are one column, several bytes).
std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Report strings come from devices and users: no control characters in a table cell.
std::string clean(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

std::string truncate(std::string s, std::size_t width) {
  if (columns(s) <= width) return s;
  std::size_t cols = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (cols == width - 1) break;
      ++cols;
    }
  }
  s.resize(i);
  return s + "…";
}

std::string left(std::string s, std::size_t width) {
  s = truncate(clean(s), width);
  return s + std::string(width - columns(s), ' ');
}
std::string right(std::string s, std::size_t width) {
  s = truncate(clean(s), width);
  return std::string(width - columns(s), ' ') + s;
}

// Word-wraps `text` after `first` (which starts every first line), continuation lines indented
// to line up under the text.
void wrapped(std::ostream& out, const std::string& first, std::string_view text) {
  const std::string indent(columns(first), ' ');
  std::string line = first;
  bool empty = true;
  std::istringstream words{clean(text)};
  for (std::string word; words >> word;) {
    word = truncate(word, kWidth - indent.size());
    if (!empty && columns(line) + 1 + columns(word) > kWidth) {
      out << line << '\n';
      line = indent;
      empty = true;
    }
    line += (empty ? "" : " ") + word;
    empty = false;
  }
  out << line << '\n';
}

std::string rate_at(const detail::Best& b) { return b.point ? detail::format_rate(b.point->per_second) : "—"; }

void machine(std::ostream& out, const BenchReport& r) {
  std::string head = "hetex bench";
  if (!r.suite.empty()) head += ", " + r.suite + " suite";
  if (!r.started_utc.empty()) head += ", started " + r.started_utc;
  if (std::isfinite(r.duration_s) && r.duration_s > 0) head += ", took " + detail::format_duration(r.duration_s);
  wrapped(out, "", head);
  const auto& m = r.machine;
  std::string cpu = (m.cpu_model.empty() ? std::string("unknown CPU") : m.cpu_model) + " × " +
                    std::to_string(m.cpu_cores) + " threads";
  if (!m.simd.empty()) {
    cpu += " (";
    for (std::size_t i = 0; i < m.simd.size(); ++i) cpu += (i ? ", " : "") + m.simd[i];
    cpu += ")";
  }
  wrapped(out, "CPU    ", cpu);
  if (m.gpus.empty()) wrapped(out, "GPU    ", "none");
  for (std::size_t i = 0; i < m.gpus.size(); ++i) {
    const auto& g = m.gpus[i];
    char mem[32];
    std::snprintf(mem, sizeof mem, "%.0f GiB", static_cast<double>(g.memory_bytes) / (1ull << 30));
    std::string line = g.name + " (" + g.id + "): " + mem + ", " + std::to_string(g.multiprocessors) +
                       " SMs, compute " + g.compute_capability;
    char bw[64];
    if (g.h2d_gbps > 0 || g.d2h_gbps > 0) {
      std::snprintf(bw, sizeof bw, ", H2D %.1f GB/s, D2H %.1f GB/s", g.h2d_gbps, g.d2h_gbps);
      line += bw;
    }
    wrapped(out, "GPU " + std::to_string(i) + (i < 10 ? "  " : " "), line);
  }
  if (!m.os.empty() || !m.hetex_version.empty())
    wrapped(out, "OS     ", m.os + (m.hetex_version.empty() ? "" : ", hetex " + m.hetex_version));
}

void summary(std::ostream& out, const BenchReport& r) {
  out << "\nThroughput at each workload's table size (items per second)\n";
  out << left("workload", 36) << right("size", 6) << right("1 thread", 11) << right("best CPU", 11)
      << right("best GPU", 11) << right("best hybrid", 13) << right("crossover", 11) << '\n';
  for (const auto& w : r.workloads) {
    const auto* one = detail::baseline(w);
    const Point* p1 = one ? detail::point_at(*one, w.table_size) : nullptr;
    const auto cross = detail::crossover_of(w);
    out << left(w.title.empty() ? w.id : w.title, 36) << right(detail::format_count(w.table_size), 6)
        << right(p1 ? detail::format_rate(p1->per_second) : "—", 11)
        << right(rate_at(detail::best_at(w, SeriesKind::cpu, w.table_size)), 11)
        << right(rate_at(detail::best_at(w, SeriesKind::gpu, w.table_size)), 11)
        << right(rate_at(detail::best_at(w, SeriesKind::hybrid, w.table_size)), 13)
        << right(cross ? detail::format_count(*cross) : "—", 11) << '\n';
  }
}

void block(std::ostream& out, const Workload& w) {
  out << '\n';
  wrapped(out, "", (w.title.empty() ? w.id : w.title) + (w.where.empty() ? "" : " — " + w.where));
  const std::string unit = w.unit.empty() ? "items" : w.unit;
  out << "  " << left("at " + detail::format_count(w.table_size) + " " + unit, 40) << left("kind", 11)
      << right("batch time", 11) << right(unit + "/s", 16) << right("vs 1 thread", 14) << '\n';
  const auto* one = detail::baseline(w);
  const Point* base = one ? detail::point_at(*one, w.table_size) : nullptr;
  for (const auto& s : w.series) {
    const Point* p = detail::point_at(s, w.table_size);
    std::string speedup = "—";
    if (p && base) speedup = detail::format_speedup(p->per_second / base->per_second);
    out << "  " << left(s.label.empty() ? s.id : s.label, 40) << left(std::string(detail::kind_name(s.kind)), 11)
        << right(p ? detail::format_seconds(p->seconds) : "—", 11)
        << right(p ? detail::format_rate(p->per_second) : "—", 16) << right(speedup, 14) << '\n';
  }
  if (w.series.empty()) out << "  (no series measured)\n";
  wrapped(out, "  crossover: ", detail::crossover_sentence(w, unit));
  for (const auto& n : w.notes) wrapped(out, "  note: ", n);
}

}  // namespace

std::string render_table(const BenchReport& r) {
  std::ostringstream out;
  machine(out, r);
  if (r.workloads.empty())
    out << "\nNo workloads were measured.\n";
  else
    summary(out, r);
  for (const auto& w : r.workloads) block(out, w);
  if (!r.skipped.empty()) {
    out << "\nSkipped:\n";
    for (const auto& s : r.skipped) wrapped(out, "  - ", s);
  }
  return out.str();
}

}  // namespace hetex::metrics
