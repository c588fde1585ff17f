// SPDX-License-Identifier: MIT
// The HTML rendering of a BenchReport: one self-contained page (inline CSS and SVG, nothing
// loaded from anywhere) with the machine, a summary table, a throughput chart per workload
// (log-log: throughput against batch size, one line per series, the crossover marked), the
// timeline of one hybrid run as a Gantt chart, and what was skipped. Every string that came from
// the report is HTML-escaped; unusable points (zero, negative, NaN) are left out of the charts.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "hetex/metrics/report.hpp"
#include "metrics/report_format.hpp"

namespace hetex::metrics {
namespace {

using detail::format_count;
using detail::format_rate;
using detail::format_seconds;

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// SVG coordinates: one decimal is plenty.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string truncated(const std::string& s, std::size_t max_chars) {
  std::size_t total = 0;
  for (unsigned char c : s) total += (c & 0xC0) != 0x80;
  if (total <= max_chars || max_chars == 0) return s;
  std::size_t cols = 0, i = 0;
  for (; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cols++ == max_chars - 1) break;
  return s.substr(0, i) + "…";
}

// Series colours by kind: CPU blues, GPU greens, hybrid orange/red, comparators grey (dashed).
std::string colour(SeriesKind kind, std::size_t index) {
  static const std::vector<std::string> cpu = {"#1d4ed8", "#60a5fa", "#1e3a8a", "#93c5fd", "#3b82f6"};
  static const std::vector<std::string> gpu = {"#15803d", "#4ade80", "#166534", "#86efac", "#22c55e"};
  static const std::vector<std::string> hybrid = {"#ea580c", "#dc2626", "#f59e0b", "#9f1239", "#fb923c"};
  static const std::vector<std::string> grey = {"#6b7280", "#9ca3af", "#374151", "#4b5563", "#d1d5db"};
  const auto& palette = kind == SeriesKind::cpu      ? cpu
                        : kind == SeriesKind::gpu    ? gpu
                        : kind == SeriesKind::hybrid ? hybrid
                                                     : grey;
  return palette[index % palette.size()];
}

// Each series' colour, numbered within its kind in report order.
std::vector<std::string> colours(const Workload& w) {
  std::map<SeriesKind, std::size_t> seen;
  std::vector<std::string> out;
  for (const auto& s : w.series) out.push_back(colour(s.kind, seen[s.kind]++));
  return out;
}

std::string dash(SeriesKind k) { return k == SeriesKind::comparator ? " stroke-dasharray=\"6 4\"" : ""; }

// Axis label for a power of ten or a 2/5 multiple of one: "1 M", "20 K", "500".
std::string tick_rate(double v) {
  static constexpr const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  std::size_t i = 0;
  while (i + 1 < std::size(prefixes) && v >= 999.5) {
    v /= 1000;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%s%s", v, *prefixes[i] ? " " : "", prefixes[i]);
  return buf;
}

const char* kStyle = R"css(
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f3f4f6;--card:#fff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1060px;margin:0 auto;padding:28px 20px 48px}
h1{font-size:28px;margin:0 0 2px;letter-spacing:-.02em}
h2{font-size:19px;margin:0 0 4px}
.sub,.where{color:var(--muted);margin:0 0 14px}
section{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px 22px;
 margin:18px 0;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.machine{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:12px}
.machine div{border:1px solid var(--line);border-radius:10px;padding:10px 14px;background:#fafafa}
.machine b{display:block;font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.machine span{display:block;color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}
th:first-child,td:first-child,td.l,th.l{text-align:left}
td small{display:block;color:var(--muted);font-size:12px;white-space:nowrap}
th{white-space:nowrap}
tr:last-child td{border-bottom:none}
.sw{display:inline-block;width:18px;height:0;border-top:3px solid;vertical-align:middle;margin-right:8px}
.sw.dashed{border-top-style:dashed}
.tag{font-size:11px;padding:1px 7px;border-radius:9px;background:#eef2ff;color:#3730a3}
.tag.gpu{background:#dcfce7;color:#166534}.tag.hybrid{background:#ffedd5;color:#9a3412}
.tag.comparator{background:#f3f4f6;color:#374151}
.best{font-weight:600}
svg{display:block;width:100%;height:auto;margin:8px 0 12px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#374151}
.empty{color:var(--muted);font-style:italic}
ul.notes{margin:10px 0 0;padding-left:20px;color:#374151}
details{margin-top:10px}summary{cursor:pointer;color:var(--muted)}
footer{color:var(--muted);font-size:13px;text-align:center}
)css";

void header(std::ostream& o, const BenchReport& r) {
  o << "<h1>hetex bench</h1>\n<p class=\"sub\">";
  std::vector<std::string> bits;
  if (!r.suite.empty()) bits.push_back(esc(r.suite) + " suite");
  if (!r.started_utc.empty()) bits.push_back("started " + esc(r.started_utc));
  if (std::isfinite(r.duration_s) && r.duration_s > 0)
    bits.push_back("took " + esc(detail::format_duration(r.duration_s)));
  for (std::size_t i = 0; i < bits.size(); ++i) o << (i ? " · " : "") << bits[i];
  o << "</p>\n";
}

void machine(std::ostream& o, const MachineDescription& m) {
  o << "<section class=\"machine\">\n<div><b>CPU</b>" << esc(m.cpu_model.empty() ? "unknown" : m.cpu_model) << "<span>"
    << m.cpu_cores << " hardware threads";
  if (!m.simd.empty()) {
    o << " · ";
    for (std::size_t i = 0; i < m.simd.size(); ++i) o << (i ? ", " : "") << esc(m.simd[i]);
  }
  o << "</span></div>\n";
  if (m.gpus.empty()) o << "<div><b>GPU</b>none<span>CPU columns only</span></div>\n";
  for (const auto& g : m.gpus) {
    char mem[48];
    std::snprintf(mem, sizeof mem, "%.0f GiB", static_cast<double>(g.memory_bytes) / (1ull << 30));
    o << "<div><b>GPU " << esc(g.id) << "</b>" << esc(g.name) << "<span>" << mem << " · " << g.multiprocessors
      << " SMs · compute " << esc(g.compute_capability);
    if (g.h2d_gbps > 0 || g.d2h_gbps > 0) {
      char bw[80];
      std::snprintf(bw, sizeof bw, "<br>pinned H2D %.1f GB/s · D2H %.1f GB/s", g.h2d_gbps, g.d2h_gbps);
      o << bw;
    }
    o << "</span></div>\n";
  }
  o << "<div><b>System</b>" << esc(m.os.empty() ? "unknown" : m.os) << "<span>hetex "
    << esc(m.hetex_version.empty() ? "?" : m.hetex_version) << "</span></div>\n</section>\n";
}

// A table cell: the rate, and under it the speedup over one CPU thread.
std::string rate_cell(const Point* p, const Point* base, bool best = false) {
  if (!p) return "<td>—</td>";
  std::string cell = std::string("<td") + (best ? " class=\"best\"" : "") + ">" + esc(format_rate(p->per_second));
  if (base) cell += "<small>" + esc(detail::format_speedup(p->per_second / base->per_second)) + " vs 1 thread</small>";
  return cell + "</td>";
}

std::string anchor(std::size_t index) { return std::string("w").append(std::to_string(index)); }

void summary(std::ostream& o, const BenchReport& r) {
  o << "<section>\n<h2>Summary</h2>\n<p class=\"where\">Items per second at each workload's table size; "
       "under each figure, the speedup over one CPU thread.</p>\n<table>\n<tr><th>Workload</th><th>Batch</th>"
       "<th>1 thread</th><th>Best CPU</th><th>Best GPU</th><th>Best hybrid</th><th>Crossover</th></tr>\n";
  for (std::size_t i = 0; i < r.workloads.size(); ++i) {
    const auto& w = r.workloads[i];
    const auto* one = detail::baseline(w);
    const Point* base = one ? detail::point_at(*one, w.table_size) : nullptr;
    const auto cpu = detail::best_at(w, SeriesKind::cpu, w.table_size);
    const auto gpu = detail::best_at(w, SeriesKind::gpu, w.table_size);
    const auto hyb = detail::best_at(w, SeriesKind::hybrid, w.table_size);
    double top = 0;
    for (const auto* p : {cpu.point, gpu.point, hyb.point})
      if (p) top = std::max(top, p->per_second);
    const auto cross = detail::crossover_of(w);
    o << "<tr><td><a href=\"#" << anchor(i) << "\">" << esc(w.title.empty() ? w.id : w.title) << "</a><small>"
      << esc(w.where) << "</small></td><td>" << esc(format_count(w.table_size)) << "<small>" << esc(w.unit)
      << "</small></td>" << rate_cell(base, nullptr)
      << rate_cell(cpu.point, base, cpu.point && cpu.point->per_second == top)
      << rate_cell(gpu.point, base, gpu.point && gpu.point->per_second == top)
      << rate_cell(hyb.point, base, hyb.point && hyb.point->per_second == top) << "<td>"
      << (cross ? esc(format_count(*cross)) + "<small>" + esc(w.unit) + "</small>" : std::string("—"))
      << "</td></tr>\n";
  }
  o << "</table>\n</section>\n";
}

// Throughput against batch size, log-log, one line per series, the crossover marked.
void chart(std::ostream& o, const Workload& w) {
  std::vector<std::vector<const Point*>> pts(w.series.size());
  double ymin = INFINITY, ymax = 0;
  std::uint64_t xmin = UINT64_MAX, xmax = 0;
  std::size_t drawn = 0;
  for (std::size_t i = 0; i < w.series.size(); ++i) {
    for (const auto& p : w.series[i].points) {
      if (!detail::usable(p)) continue;
      pts[i].push_back(&p);
      ymin = std::min(ymin, p.per_second);
      ymax = std::max(ymax, p.per_second);
      xmin = std::min(xmin, p.size);
      xmax = std::max(xmax, p.size);
    }
    std::sort(pts[i].begin(), pts[i].end(), [](auto* a, auto* b) { return a->size < b->size; });
    drawn += !pts[i].empty();
  }
  if (drawn == 0) {
    o << "<p class=\"empty\">No measurements to chart.</p>\n";
    return;
  }
  const auto col = colours(w);

  // Log domains around the data with a little air, so no marker sits on the frame; a single
  // value gets a decade (y) or two doublings (x) around it.
  double ylo = std::log10(ymin), yhi = std::log10(ymax);
  if (yhi - ylo < 0.3) {
    const double mid = (ylo + yhi) / 2;
    ylo = mid - 0.5;
    yhi = mid + 0.5;
  } else {
    const double pad = 0.06 * (yhi - ylo);
    ylo -= pad;
    yhi += pad;
  }
  double xlo = std::log2(static_cast<double>(xmin)), xhi = std::log2(static_cast<double>(xmax));
  if (xhi - xlo < 1) {
    xlo -= 1;
    xhi += 1;
  } else {
    xlo -= 0.3;
    xhi += 0.3;
  }

  constexpr double W = 980, ml = 78, mt = 34, mr = 250, mb = 52, row = 22;
  const std::size_t legend_rows = drawn;
  const double H = std::max(380.0, mt + 16 + row * static_cast<double>(legend_rows) + mb);
  const double pw = W - ml - mr, ph = H - mt - mb;
  auto X = [&](double size) { return ml + (std::log2(size) - xlo) / (xhi - xlo) * pw; };
  auto Y = [&](double v) { return mt + ph - (std::log10(v) - ylo) / (yhi - ylo) * ph; };

  const std::string unit = w.unit.empty() ? "items" : w.unit;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << num(W) << " " << num(H)
    << "\" role=\"img\" aria-label=\"" << esc(w.title) << ": throughput against batch size\">\n";
  o << "<rect x=\"" << num(ml) << "\" y=\"" << num(mt) << "\" width=\"" << num(pw) << "\" height=\"" << num(ph)
    << "\" fill=\"#fcfcfd\" stroke=\"#d1d5db\"/>\n";

  // The region where the GPU stays ahead, shaded, under everything else.
  const auto cross = detail::crossover_of(w);
  if (cross && *cross >= xmin && *cross <= xmax) {
    const double cx = X(static_cast<double>(*cross));
    o << "<rect x=\"" << num(cx) << "\" y=\"" << num(mt) << "\" width=\"" << num(ml + pw - cx) << "\" height=\""
      << num(ph) << "\" fill=\"#16a34a\" fill-opacity=\"0.06\"/>\n";
  }

  // y grid: decades labelled; 2x and 5x faint, and labelled small when at most three decades show.
  const int d0 = static_cast<int>(std::floor(ylo)), d1 = static_cast<int>(std::ceil(yhi));
  const int decades_shown = static_cast<int>(std::floor(yhi)) - static_cast<int>(std::ceil(ylo)) + 1;
  const int ystep = decades_shown > 8 ? 2 : 1;
  for (int d = d0; d <= d1; ++d) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, d), lv = std::log10(v);
      if (lv < ylo || lv > yhi) continue;
      const bool decade = m == 1.0;
      if (!decade && decades_shown > 5) continue;
      o << "<line x1=\"" << num(ml) << "\" x2=\"" << num(ml + pw) << "\" y1=\"" << num(Y(v)) << "\" y2=\"" << num(Y(v))
        << "\" stroke=\"" << (decade ? "#e5e7eb" : "#f1f2f4") << "\"/>\n";
      if (decade ? (d % ystep == 0) : decades_shown <= 3)
        o << "<text x=\"" << num(ml - 8) << "\" y=\"" << num(Y(v) + 4) << "\" text-anchor=\"end\" "
          << (decade ? "font-size=\"12\"" : "font-size=\"10.5\" style=\"fill:#9ca3af\"") << ">" << esc(tick_rate(v))
          << "</text>\n";
    }
  }
  // x grid: powers of two, thinned to at most ~10 labels.
  const int k0 = static_cast<int>(std::ceil(xlo)), k1 = static_cast<int>(std::floor(xhi));
  const int xstep = std::max(1, (k1 - k0 + 10) / 10);
  for (int k = k0; k <= k1; ++k) {
    if (k < 0 || k > 62) continue;
    const double x = ml + (k - xlo) / (xhi - xlo) * pw;
    const bool labelled = (k - k0) % xstep == 0;
    o << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << num(mt) << "\" y2=\"" << num(mt + ph)
      << "\" stroke=\"" << (labelled ? "#e5e7eb" : "#f1f2f4") << "\"/>\n";
    if (labelled)
      o << "<text x=\"" << num(x) << "\" y=\"" << num(mt + ph + 18) << "\" font-size=\"12\" text-anchor=\"middle\">"
        << esc(format_count(std::uint64_t{1} << k)) << "<title>2^" << k << "</title></text>\n";
  }
  o << "<text x=\"" << num(ml + pw / 2) << "\" y=\"" << num(H - 10)
    << "\" font-size=\"13\" text-anchor=\"middle\">batch size (" << esc(unit) << ", log₂ scale)</text>\n";
  o << "<text transform=\"translate(18 " << num(mt + ph / 2) << ") rotate(-90)\" font-size=\"13\" "
    << "text-anchor=\"middle\">" << esc(unit) << " per second (log scale)</text>\n";

  if (cross && *cross >= xmin && *cross <= xmax) {
    const double cx = X(static_cast<double>(*cross));
    o << "<line x1=\"" << num(cx) << "\" x2=\"" << num(cx) << "\" y1=\"" << num(mt - 6) << "\" y2=\"" << num(mt + ph)
      << "\" stroke=\"#111827\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n";
    const bool right_side = cx < ml + pw * 0.7;
    o << "<text x=\"" << num(cx + (right_side ? 6 : -6)) << "\" y=\"" << num(mt - 10) << "\" font-size=\"12\" "
      << "font-weight=\"600\" text-anchor=\"" << (right_side ? "start" : "end") << "\">crossover: GPU ahead from "
      << esc(format_count(*cross)) << " " << esc(unit) << "</text>\n";
  }

  // Lines, then markers with tooltips, then the legend.
  std::size_t legend = 0;
  for (std::size_t i = 0; i < w.series.size(); ++i) {
    if (pts[i].empty()) continue;
    const auto& s = w.series[i];
    const std::string name = s.label.empty() ? s.id : s.label;
    o << "<g>\n<polyline fill=\"none\" stroke-opacity=\"0.9\" stroke=\"" << col[i]
      << "\" stroke-width=\"2.4\" stroke-linejoin=\"round\"" << dash(s.kind) << " points=\"";
    for (const auto* p : pts[i]) o << num(X(static_cast<double>(p->size))) << "," << num(Y(p->per_second)) << " ";
    o << "\"/>\n";
    for (const auto* p : pts[i])
      o << "<circle cx=\"" << num(X(static_cast<double>(p->size))) << "\" cy=\"" << num(Y(p->per_second))
        << "\" r=\"3.4\" fill=\"#fff\" stroke=\"" << col[i] << "\" stroke-width=\"2\"><title>" << esc(name) << " — "
        << esc(format_count(p->size)) << " " << esc(unit) << ": " << esc(format_rate(p->per_second)) << " ("
        << esc(format_seconds(p->seconds)) << " per batch)</title></circle>\n";
    const double ly = mt + 8 + row * static_cast<double>(legend++), lx = ml + pw + 18;
    o << "<line x1=\"" << num(lx) << "\" x2=\"" << num(lx + 26) << "\" y1=\"" << num(ly) << "\" y2=\"" << num(ly)
      << "\" stroke=\"" << col[i] << "\" stroke-width=\"2.4\"" << dash(s.kind) << "/>\n<circle cx=\"" << num(lx + 13)
      << "\" cy=\"" << num(ly) << "\" r=\"3.4\" fill=\"#fff\" stroke=\"" << col[i]
      << "\" stroke-width=\"2\"/>\n<text x=\"" << num(lx + 34) << "\" y=\"" << num(ly + 4) << "\" font-size=\"12.5\">"
      << esc(truncated(name, 30)) << "<title>" << esc(name) << "</title></text>\n</g>\n";
  }
  o << "</svg>\n";
}

// Series × the table size, then every measurement (folded).
void detail_tables(std::ostream& o, const Workload& w) {
  if (w.series.empty()) return;
  const auto col = colours(w);
  const auto* one = detail::baseline(w);
  const Point* base = one ? detail::point_at(*one, w.table_size) : nullptr;
  o << "<table>\n<tr><th>Series at " << esc(format_count(w.table_size)) << " " << esc(w.unit)
    << "</th><th class=\"l\">Kind</th><th>Batch time</th><th>Throughput</th><th>vs 1 thread</th></tr>\n";
  for (std::size_t i = 0; i < w.series.size(); ++i) {
    const auto& s = w.series[i];
    const Point* p = detail::point_at(s, w.table_size);
    const std::string kind(detail::kind_name(s.kind));
    o << "<tr><td><span class=\"sw" << (s.kind == SeriesKind::comparator ? " dashed" : "")
      << "\" style=\"border-color:" << col[i] << "\"></span>" << esc(s.label.empty() ? s.id : s.label)
      << "</td><td class=\"l\"><span class=\"tag " << kind << "\">" << kind << "</span></td><td>"
      << esc(p ? format_seconds(p->seconds) : "—") << "</td><td>" << esc(p ? format_rate(p->per_second) : "—")
      << "</td><td>" << esc(p && base ? detail::format_speedup(p->per_second / base->per_second) : "—")
      << "</td></tr>\n";
  }
  o << "</table>\n";

  std::set<std::uint64_t> sizes;
  for (const auto& s : w.series)
    for (const auto& p : s.points)
      if (detail::usable(p)) sizes.insert(p.size);
  if (sizes.empty()) return;
  o << "<details><summary>All measurements (" << esc(w.unit) << " per second)</summary>\n<table>\n<tr><th>Batch</th>";
  for (const auto& s : w.series) o << "<th>" << esc(s.id) << "</th>";
  o << "</tr>\n";
  for (auto size : sizes) {
    o << "<tr><td>" << esc(format_count(size)) << "</td>";
    for (const auto& s : w.series) {
      const Point* p = detail::point_at(s, size);
      o << "<td>" << esc(p ? format_rate(p->per_second) : "—") << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</table>\n</details>\n";
}

void workload(std::ostream& o, const Workload& w, std::size_t index) {
  o << "<section id=\"" << anchor(index) << "\">\n<h2>" << esc(w.title.empty() ? w.id : w.title) << "</h2>\n";
  std::string where = w.where;
  if (!w.unit.empty()) where += (where.empty() ? "" : " · ") + std::string("counted in ") + w.unit;
  if (!where.empty()) o << "<p class=\"where\">" << esc(where) << "</p>\n";
  chart(o, w);
  detail_tables(o, w);
  if (!w.notes.empty()) {
    o << "<ul class=\"notes\">\n";
    for (const auto& n : w.notes) o << "<li>" << esc(n) << "</li>\n";
    o << "</ul>\n";
  }
  o << "</section>\n";
}

// A step of 1, 2 or 5 × 10^k giving about `ticks` ticks over `span`.
double nice_step(double span, int ticks) {
  const double raw = span / ticks;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// Axis label in the unit that suits the whole span: "0", "0.2 ms", "12.5 ms", "250 µs".
std::string tick_time(double us, double span) {
  if (std::abs(us) < span * 1e-9) return "0";
  const double scale = span >= 1e6 ? 1e6 : span >= 1e3 ? 1e3 : 1;
  const char* unit = span >= 1e6 ? "s" : span >= 1e3 ? "ms" : "µs";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%g %s", us / scale, unit);
  return buf;
}

std::string track_colour(const std::string& track) {
  if (track.rfind("cpu", 0) == 0) return "#2563eb";
  if (track.rfind("cuda", 0) == 0 || track.rfind("gpu", 0) == 0) return "#16a34a";
  return "#ea580c";
}

void timeline(std::ostream& o, const Timeline& t) {
  o << "<section>\n<h2>" << esc(t.title.empty() ? "Timeline" : t.title) << "</h2>\n"
    << "<p class=\"where\">One hybrid run: what each device did, and when. Hover a bar for its details.</p>\n";
  std::vector<std::string> tracks;
  std::vector<const TimelineEvent*> events;
  double t0 = INFINITY, t1 = -INFINITY;
  for (const auto& e : t.events) {
    if (!std::isfinite(e.start_us) || !std::isfinite(e.duration_us) || e.duration_us < 0) continue;
    events.push_back(&e);
    if (std::find(tracks.begin(), tracks.end(), e.track) == tracks.end()) tracks.push_back(e.track);
    t0 = std::min(t0, e.start_us);
    t1 = std::max(t1, e.start_us + e.duration_us);
  }
  if (events.empty()) {
    o << "<p class=\"empty\">No events recorded.</p>\n</section>\n";
    return;
  }
  // Times from the run's start read from zero; times from some other origin (a clock's epoch)
  // are shown from the first event instead.
  if (t0 >= 0 && t0 <= 0.25 * (t1 - t0)) t0 = 0;
  if (t1 <= t0) t1 = t0 + 1;

  constexpr double W = 980, ml = 150, mr = 20, mt = 10, row = 40, bar = 24, mb = 44;
  const double H = mt + row * static_cast<double>(tracks.size()) + mb, pw = W - ml - mr;
  auto X = [&](double us) { return ml + (us - t0) / (t1 - t0) * pw; };
  auto track_row = [&](const std::string& tr) {
    return static_cast<double>(std::find(tracks.begin(), tracks.end(), tr) - tracks.begin());
  };

  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << num(W) << " " << num(H)
    << "\" role=\"img\" aria-label=\"timeline\">\n";
  const double step = nice_step(t1 - t0, 8);
  for (double v = t0; v <= t1 + step * 1e-9; v += step) {
    o << "<line x1=\"" << num(X(v)) << "\" x2=\"" << num(X(v)) << "\" y1=\"" << num(mt) << "\" y2=\"" << num(H - mb)
      << "\" stroke=\"#e5e7eb\"/>\n<text x=\"" << num(X(v)) << "\" y=\"" << num(H - mb + 18)
      << "\" font-size=\"12\" text-anchor=\"middle\">" << esc(tick_time(v - t0, t1 - t0)) << "</text>\n";
  }
  o << "<text x=\"" << num(ml + pw / 2) << "\" y=\"" << num(H - 6) << "\" font-size=\"13\" text-anchor=\"middle\">"
    << (t0 == 0 ? "time since the run started" : "time since the first event") << "</text>\n";

  for (std::size_t i = 0; i < tracks.size(); ++i) {
    // Busy time is the union of the track's events: overlapping ones count once.
    std::vector<std::pair<double, double>> spans;
    std::uint64_t items = 0;
    for (const auto* e : events)
      if (e->track == tracks[i]) {
        spans.emplace_back(e->start_us, e->start_us + e->duration_us);
        items += e->items;
      }
    std::sort(spans.begin(), spans.end());
    double busy = 0, covered = -INFINITY;
    for (auto [a, b] : spans) {
      if (b > covered) busy += b - std::max(a, covered);
      covered = std::max(covered, b);
    }
    const double y = mt + row * static_cast<double>(i);
    if (i % 2 == 1)
      o << "<rect x=\"0\" y=\"" << num(y) << "\" width=\"" << num(W) << "\" height=\"" << num(row)
        << "\" fill=\"#f9fafb\"/>\n";
    char util[32];
    std::snprintf(util, sizeof util, "%.0f%% busy", 100.0 * busy / (t1 - t0));
    o << "<text x=\"8\" y=\"" << num(y + 17) << "\" font-size=\"13\" font-weight=\"600\">"
      << esc(truncated(tracks[i], 18)) << "</text>\n<text x=\"8\" y=\"" << num(y + 32)
      << "\" font-size=\"11\" fill=\"#6b7280\">" << esc(format_count(items)) << " items · " << util << "</text>\n";
  }
  for (const auto* e : events) {
    const double x = X(e->start_us), w = std::max(1.0, X(e->start_us + e->duration_us) - x);
    const double y = mt + row * track_row(e->track) + (row - bar) / 2;
    o << "<g><rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w) << "\" height=\"" << num(bar)
      << "\" rx=\"3\" fill=\"" << track_colour(e->track) << "\" fill-opacity=\"0.85\" stroke=\"#fff\" "
      << "stroke-width=\"0.8\"><title>" << esc(e->label) << "\n"
      << esc(e->track) << " · " << e->items << " items\nstart " << esc(format_seconds((e->start_us - t0) * 1e-6))
      << ", took " << esc(format_seconds(e->duration_us * 1e-6)) << "</title></rect>";
    // A label only where it fits (about 6.5 px a character at this size).
    const std::size_t fits = static_cast<std::size_t>((w - 8) / 6.5);
    if (fits >= 6)
      o << "<text x=\"" << num(x + 4) << "\" y=\"" << num(y + bar / 2 + 4) << "\" font-size=\"11\" "
        << "style=\"fill:#fff\" pointer-events=\"none\">" << esc(truncated(e->label, fits)) << "</text>";
    o << "</g>\n";
  }
  o << "</svg>\n</section>\n";
}

}  // namespace

std::string render_html(const BenchReport& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>hetex bench"
    << (r.suite.empty() ? "" : " — " + esc(r.suite)) << "</title>\n<style>" << kStyle
    << "</style>\n</head>\n<body>\n<main>\n";
  header(o, r);
  machine(o, r.machine);
  if (r.workloads.empty())
    o << "<section><p class=\"empty\">No workloads were measured.</p></section>\n";
  else
    summary(o, r);
  for (std::size_t i = 0; i < r.workloads.size(); ++i) workload(o, r.workloads[i], i);
  if (r.timeline) timeline(o, *r.timeline);
  if (!r.skipped.empty()) {
    o << "<section>\n<h2>Skipped</h2>\n<ul class=\"notes\">\n";
    for (const auto& s : r.skipped) o << "<li>" << esc(s) << "</li>\n";
    o << "</ul>\n</section>\n";
  }
  o << "<footer>Generated by hetex " << esc(r.machine.hetex_version) << " · a single self-contained file</footer>\n"
    << "</main>\n</body>\n</html>\n";
  return o.str();
}

}  // namespace hetex::metrics
