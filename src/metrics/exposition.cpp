// SPDX-License-Identifier: MIT
// The registry as Prometheus text (exposition format 0.0.4) and as JSON.

#include <charconv>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "metrics/family.hpp"

namespace hetex::metrics {

namespace {

using detail::FamilyData;

// One child's values, read once so that both formats write a consistent set: _count is the
// +Inf bucket rather than a separate counter that could disagree with it mid-update.
struct Sample {
  const std::vector<std::string>* label_values;
  double value = 0;                    // counter, gauge; histogram _sum
  std::vector<std::uint64_t> buckets;  // histogram: cumulative, last = +Inf = _count
};

template <class F>
void for_each_family(const detail::RegistryState& state, F&& f) {
  std::shared_lock lock(state.mu);
  for (const auto& [name, family] : state.families) {
    std::vector<Sample> samples;
    {
      std::shared_lock family_lock(family->mu);
      samples.reserve(family->children.size());
      for (const auto& [values, child] : family->children) {
        Sample s{&values, 0, {}};
        if (auto* c = std::get_if<std::unique_ptr<detail::CounterCell>>(&child)) {
          s.value = static_cast<double>((*c)->whole.load(std::memory_order_relaxed)) +
                    (*c)->fraction.load(std::memory_order_relaxed);
        } else if (auto* g = std::get_if<std::unique_ptr<detail::GaugeCell>>(&child)) {
          s.value = (*g)->value.load(std::memory_order_relaxed);
        } else {
          const auto& h = *std::get<std::unique_ptr<detail::HistogramCell>>(child);
          s.buckets.resize(h.bounds->size() + 1);
          std::uint64_t running = 0;
          for (std::size_t i = 0; i < s.buckets.size(); ++i)
            s.buckets[i] = running += h.counts[i].load(std::memory_order_relaxed);
          s.value = h.sum.load(std::memory_order_relaxed);
        }
        samples.push_back(std::move(s));
      }
    }
    f(*family, samples);
  }
}

// Go's strconv.ParseFloat (what Prometheus and promtool parse with) reads the shortest
// round-trip form std::to_chars writes; only the non-finite values need their Prometheus names.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::string format_value(double v) {
  std::string s;
  append_value(s, v);
  return s;
}

void append_escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
}

// {a="x",b="y"} plus an optional trailing le="..." for histogram buckets; nothing when empty.
void append_labels(std::string& out, const FamilyData& f, const std::vector<std::string>& values,
                   const std::string* le = nullptr) {
  if (values.empty() && !le) return;
  out += '{';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += f.label_names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (le) {
    if (!values.empty()) out += ',';
    out += "le=\"" + *le + "\"";
  }
  out += '}';
}

void append_line(std::string& out, const FamilyData& f, std::string_view suffix, const std::vector<std::string>& values,
                 const std::string* le, const std::string& value) {
  out += f.name;
  out += suffix;
  append_labels(out, f, values, le);
  out += ' ';
  out += value;
  out += '\n';
}

nlohmann::json json_value(double v) {
  if (std::isfinite(v)) return v;
  return format_value(v);
}

}  // namespace

std::string Registry::prometheus_text() const {
  std::string out;
  for_each_family(*state_, [&](const FamilyData& f, const std::vector<Sample>& samples) {
    if (samples.empty()) return;
    if (!f.help.empty()) {
      out += "# HELP " + f.name + " ";
      append_escaped(out, f.help, false);
      out += '\n';
    }
    out += "# TYPE " + f.name + " " + std::string(to_string(f.type)) + "\n";
    for (const Sample& s : samples) {
      if (f.type != MetricType::histogram) {
        append_line(out, f, "", *s.label_values, nullptr, format_value(s.value));
        continue;
      }
      for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        const std::string le = i < f.bounds.size() ? format_value(f.bounds[i]) : "+Inf";
        append_line(out, f, "_bucket", *s.label_values, &le, std::to_string(s.buckets[i]));
      }
      append_line(out, f, "_sum", *s.label_values, nullptr, format_value(s.value));
      append_line(out, f, "_count", *s.label_values, nullptr, std::to_string(s.buckets.back()));
    }
  });
  return out;
}

std::string Registry::json_snapshot() const {
  auto metrics = nlohmann::json::array();
  for_each_family(*state_, [&](const FamilyData& f, const std::vector<Sample>& samples) {
    auto js = nlohmann::json::array();
    for (const Sample& s : samples) {
      auto labels = nlohmann::json::object();
      for (std::size_t i = 0; i < f.label_names.size(); ++i) labels[f.label_names[i]] = (*s.label_values)[i];
      nlohmann::json j = {{"labels", std::move(labels)}};
      if (f.type != MetricType::histogram) {
        j["value"] = json_value(s.value);
      } else {
        auto buckets = nlohmann::json::array();
        for (std::size_t i = 0; i < s.buckets.size(); ++i)
          buckets.push_back({{"le", i < f.bounds.size() ? nlohmann::json(f.bounds[i]) : nlohmann::json("+Inf")},
                             {"count", s.buckets[i]}});
        j["count"] = s.buckets.back();
        j["sum"] = json_value(s.value);
        j["buckets"] = std::move(buckets);
      }
      js.push_back(std::move(j));
    }
    metrics.push_back({{"name", f.name},
                       {"help", f.help},
                       {"type", std::string(to_string(f.type))},
                       {"label_names", f.label_names},
                       {"samples", std::move(js)}});
  });
  nlohmann::json doc = {{"metrics", std::move(metrics)}};
  // Label values and help are checked for UTF-8 at registration; replace is a backstop, never a throw.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hetex::metrics
