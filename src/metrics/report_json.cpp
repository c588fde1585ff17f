// SPDX-License-Identifier: MIT
// BenchReport <-> JSON. Keys are the C++ field names; enums are their names as strings; an empty
// optional is written as null and may also be absent. Reading is strict otherwise: a missing or
// mistyped field is an invalid_argument naming its path ("workloads[1].series[0].kind").
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "hetex/metrics/report.hpp"
#include "metrics/report_format.hpp"

namespace hetex::metrics {
namespace {

using nlohmann::json;

// Non-finite doubles have no JSON spelling; they are written as null and read back as NaN.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json to_json(const GpuDescription& g) {
  return {{"name", g.name},
          {"id", g.id},
          {"memory_bytes", g.memory_bytes},
          {"multiprocessors", g.multiprocessors},
          {"compute_capability", g.compute_capability},
          {"h2d_gbps", number(g.h2d_gbps)},
          {"d2h_gbps", number(g.d2h_gbps)}};
}

json to_json(const MachineDescription& m) {
  json gpus = json::array();
  for (const auto& g : m.gpus) gpus.push_back(to_json(g));
  return {{"cpu_model", m.cpu_model},
          {"cpu_cores", m.cpu_cores},
          {"simd", m.simd},
          {"gpus", std::move(gpus)},
          {"os", m.os},
          {"hetex_version", m.hetex_version}};
}

json to_json(const Series& s) {
  json points = json::array();
  for (const auto& p : s.points)
    points.push_back({{"size", p.size}, {"seconds", number(p.seconds)}, {"per_second", number(p.per_second)}});
  return {{"id", s.id}, {"label", s.label}, {"kind", detail::kind_name(s.kind)}, {"points", std::move(points)}};
}

json to_json(const Workload& w) {
  json series = json::array();
  for (const auto& s : w.series) series.push_back(to_json(s));
  return {{"id", w.id},
          {"title", w.title},
          {"unit", w.unit},
          {"where", w.where},
          {"series", std::move(series)},
          {"table_size", w.table_size},
          {"crossover", w.crossover ? json(*w.crossover) : json(nullptr)},
          {"notes", w.notes}};
}

json to_json(const Timeline& t) {
  json events = json::array();
  for (const auto& e : t.events)
    events.push_back({{"track", e.track},
                      {"label", e.label},
                      {"start_us", number(e.start_us)},
                      {"duration_us", number(e.duration_us)},
                      {"items", e.items}});
  return {{"title", t.title}, {"events", std::move(events)}};
}

// Reading: each Reader knows its path in the document, so an error can name the field.
struct FieldError {
  std::string message;
};

class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Reader at(const char* key) const {
    const std::string path = path_.empty() ? key : path_ + "." + key;
    if (!j_.is_object()) fail(path_.empty() ? "the document" : path_, "is not an object");
    auto it = j_.find(key);
    if (it == j_.end()) fail(path, "is missing");
    return {*it, path};
  }
  // Absent or null: nullopt.
  std::optional<Reader> optional(const char* key) const {
    if (!j_.is_object()) fail(path_.empty() ? "the document" : path_, "is not an object");
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return std::nullopt;
    return Reader(*it, path_.empty() ? key : path_ + "." + key);
  }

  template <class F>
  void each(F&& f) const {
    if (!j_.is_array()) fail(path_, "is not an array");
    for (std::size_t i = 0; i < j_.size(); ++i) f(Reader(j_[i], path_ + "[" + std::to_string(i) + "]"));
  }

  std::string string() const {
    if (!j_.is_string()) fail(path_, "is not a string");
    return j_.get<std::string>();
  }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    each([&](const Reader& r) { out.push_back(r.string()); });
    return out;
  }
  std::uint64_t u64() const {
    if (!j_.is_number_unsigned()) fail(path_, "is not a non-negative integer");
    return j_.get<std::uint64_t>();
  }
  int integer() const {
    if (!j_.is_number_integer()) fail(path_, "is not an integer");
    const auto v = j_.get<std::int64_t>();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) fail(path_, "is out of range");
    return static_cast<int>(v);
  }
  double real() const {
    if (j_.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!j_.is_number()) fail(path_, "is not a number");
    return j_.get<double>();
  }
  SeriesKind kind() const {
    const std::string s = string();
    for (SeriesKind k : {SeriesKind::cpu, SeriesKind::gpu, SeriesKind::hybrid, SeriesKind::comparator})
      if (s == detail::kind_name(k)) return k;
    fail(path_, "is \"" + s + "\", not one of cpu, gpu, hybrid, comparator");
  }

 private:
  [[noreturn]] static void fail(const std::string& path, const std::string& what) {
    throw FieldError{"bench report: " + path + " " + what};
  }
  const json& j_;
  std::string path_;
};

GpuDescription read_gpu(const Reader& r) {
  GpuDescription g;
  g.name = r.at("name").string();
  g.id = r.at("id").string();
  g.memory_bytes = r.at("memory_bytes").u64();
  g.multiprocessors = r.at("multiprocessors").integer();
  g.compute_capability = r.at("compute_capability").string();
  g.h2d_gbps = r.at("h2d_gbps").real();
  g.d2h_gbps = r.at("d2h_gbps").real();
  return g;
}

MachineDescription read_machine(const Reader& r) {
  MachineDescription m;
  m.cpu_model = r.at("cpu_model").string();
  m.cpu_cores = r.at("cpu_cores").integer();
  m.simd = r.at("simd").strings();
  r.at("gpus").each([&](const Reader& g) { m.gpus.push_back(read_gpu(g)); });
  m.os = r.at("os").string();
  m.hetex_version = r.at("hetex_version").string();
  return m;
}

Series read_series(const Reader& r) {
  Series s;
  s.id = r.at("id").string();
  s.label = r.at("label").string();
  s.kind = r.at("kind").kind();
  r.at("points").each([&](const Reader& p) {
    s.points.push_back({p.at("size").u64(), p.at("seconds").real(), p.at("per_second").real()});
  });
  return s;
}

Workload read_workload(const Reader& r) {
  Workload w;
  w.id = r.at("id").string();
  w.title = r.at("title").string();
  w.unit = r.at("unit").string();
  w.where = r.at("where").string();
  r.at("series").each([&](const Reader& s) { w.series.push_back(read_series(s)); });
  w.table_size = r.at("table_size").u64();
  if (auto c = r.optional("crossover")) w.crossover = c->u64();
  w.notes = r.at("notes").strings();
  return w;
}

Timeline read_timeline(const Reader& r) {
  Timeline t;
  t.title = r.at("title").string();
  r.at("events").each([&](const Reader& e) {
    t.events.push_back({e.at("track").string(), e.at("label").string(), e.at("start_us").real(),
                        e.at("duration_us").real(), e.at("items").u64()});
  });
  return t;
}

}  // namespace

std::string report_to_json(const BenchReport& r) {
  json workloads = json::array();
  for (const auto& w : r.workloads) workloads.push_back(to_json(w));
  json doc = {{"suite", r.suite},
              {"started_utc", r.started_utc},
              {"duration_s", number(r.duration_s)},
              {"machine", to_json(r.machine)},
              {"skipped", r.skipped},
              {"workloads", std::move(workloads)},
              {"timeline", r.timeline ? to_json(*r.timeline) : json(nullptr)}};
  // Invalid UTF-8 in a label (from a device name, say) must not make the whole report unwritable.
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<BenchReport> report_from_json(const std::string& text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    return Error(Errc::invalid_argument, std::string("bench report: not valid JSON: ") + e.what());
  }
  try {
    const Reader root(doc, "");
    BenchReport r;
    r.suite = root.at("suite").string();
    r.started_utc = root.at("started_utc").string();
    r.duration_s = root.at("duration_s").real();
    r.machine = read_machine(root.at("machine"));
    r.skipped = root.at("skipped").strings();
    root.at("workloads").each([&](const Reader& w) { r.workloads.push_back(read_workload(w)); });
    if (auto t = root.optional("timeline")) r.timeline = read_timeline(*t);
    return r;
  } catch (const FieldError& e) {
    return Error(Errc::invalid_argument, e.message);
  }
}

}  // namespace hetex::metrics
