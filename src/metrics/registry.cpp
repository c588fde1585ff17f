// SPDX-License-Identifier: MIT
#include "hetex/metrics/registry.hpp"

#include <cmath>
#include <mutex>

#include "metrics/family.hpp"

namespace hetex::metrics {

std::string_view to_string(MetricType type) noexcept {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

namespace {

using detail::FamilyData;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_metric_name(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == '_' || s[0] == ':')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == ':'; });
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || !(is_alpha(s[0]) || s[0] == '_') || s.starts_with("__")) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// Prometheus rejects a scrape holding invalid UTF-8, so it is refused at the door instead.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else
      return false;
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Error invalid(std::string message) { return Error(Errc::invalid_argument, std::move(message)); }

std::string quoted(std::string_view s) {
  std::string out;  // not "\"" + s + "\"", which trips a GCC 12 -Wrestrict false positive
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out = "{";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quoted(v[i]);
  return out + "}";
}

Status check_labels(MetricType type, std::string_view metric, const std::vector<std::string>& labels) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i]))
      return invalid("metric " + quoted(metric) + ": label name " + quoted(labels[i]) +
                     " is invalid (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with \"__\")");
    if (type == MetricType::histogram && labels[i] == "le")
      return invalid("histogram " + quoted(metric) + ": the label name \"le\" is reserved for buckets");
    for (std::size_t j = 0; j < i; ++j)
      if (labels[j] == labels[i])
        return invalid("metric " + quoted(metric) + ": label " + quoted(labels[i]) + " given twice");
  }
  return {};
}

Result<std::vector<double>> normalize_buckets(std::string_view metric, std::vector<double> b) {
  if (!b.empty() && b.back() == HUGE_VAL) b.pop_back();
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b[i]))
      return invalid("histogram " + quoted(metric) + ": bucket bound " + std::to_string(i) +
                     " is not finite (only a last +Inf is allowed, and implied anyway)");
    if (i > 0 && !(b[i] > b[i - 1]))
      return invalid("histogram " + quoted(metric) + ": bucket bounds must increase strictly, but bound " +
                     std::to_string(i) + " (" + std::to_string(b[i]) + ") follows " + std::to_string(b[i - 1]));
  }
  return b;
}

std::vector<std::string> sample_names_of(MetricType type, const std::string& name) {
  if (type == MetricType::histogram) return {name + "_bucket", name + "_sum", name + "_count"};
  return {name};
}

detail::Child make_cell(FamilyData& f) {
  switch (f.type) {
    case MetricType::counter: return std::make_unique<detail::CounterCell>();
    case MetricType::gauge: return std::make_unique<detail::GaugeCell>();
    case MetricType::histogram: break;
  }
  return std::make_unique<detail::HistogramCell>(&f.bounds);
}

template <class Values>
Result<void*> find_or_add_child(FamilyData& f, const Values& values) {
  if (values.size() != f.label_names.size())
    return invalid("metric " + quoted(f.name) + " has labels " + join(f.label_names) + " but " +
                   std::to_string(values.size()) + " label values were given");
  auto cell_of = [](const detail::Child& c) { return std::visit([](const auto& p) -> void* { return p.get(); }, c); };
  {
    std::shared_lock lock(f.mu);
    if (auto it = f.children.find(values); it != f.children.end()) return cell_of(it->second);
  }
  for (const auto& v : values)
    if (!valid_utf8(v)) return invalid("metric " + quoted(f.name) + ": a label value is not valid UTF-8");
  std::unique_lock lock(f.mu);
  auto it = f.children.find(values);
  if (it == f.children.end())
    it = f.children.emplace(std::vector<std::string>(values.begin(), values.end()), make_cell(f)).first;
  return cell_of(it->second);
}

template <class Metric>
struct CellOf;
template <>
struct CellOf<Counter> {
  using type = detail::CounterCell;
};
template <>
struct CellOf<Gauge> {
  using type = detail::GaugeCell;
};
template <>
struct CellOf<Histogram> {
  using type = detail::HistogramCell;
};

}  // namespace

template <class Metric>
Result<Metric> Family<Metric>::with(std::initializer_list<std::string_view> values) const {
  void* cell = HETEX_TRY(find_or_add_child(*data_, std::span<const std::string_view>(values.begin(), values.size())));
  return Metric(static_cast<typename CellOf<Metric>::type*>(cell));
}
template <class Metric>
Result<Metric> Family<Metric>::with(std::span<const std::string> values) const {
  void* cell = HETEX_TRY(find_or_add_child(*data_, values));
  return Metric(static_cast<typename CellOf<Metric>::type*>(cell));
}
template <class Metric>
const std::string& Family<Metric>::name() const noexcept {
  return data_->name;
}
template <class Metric>
const std::vector<std::string>& Family<Metric>::label_names() const noexcept {
  return data_->label_names;
}
template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Registry() : state_(std::make_unique<detail::RegistryState>()) {}
Registry::~Registry() = default;

Registry& Registry::global() {
  static Registry* const instance = new Registry();  // leaked on purpose: see the header
  return *instance;
}

Result<detail::FamilyData*> Registry::define(MetricType type, std::string_view name, std::string_view help,
                                             std::vector<std::string> label_names, std::vector<double> buckets) {
  if (!valid_metric_name(name))
    return invalid("metric name " + quoted(name) + " is invalid (want [a-zA-Z_:][a-zA-Z0-9_:]*)");
  if (!valid_utf8(help)) return invalid("metric " + quoted(name) + ": help text is not valid UTF-8");
  HETEX_TRY_VOID(check_labels(type, name, label_names));
  if (type == MetricType::histogram) buckets = HETEX_TRY(normalize_buckets(name, std::move(buckets)));

  std::unique_lock lock(state_->mu);
  if (auto it = state_->families.find(name); it != state_->families.end()) {
    const FamilyData& f = *it->second;
    std::string what;
    if (f.type != type)
      what = "as a " + std::string(to_string(f.type));
    else if (f.label_names != label_names)
      what = "with labels " + join(f.label_names);
    else if (f.help != help)
      what = "with help " + quoted(f.help);
    else if (f.bounds != buckets)
      what = "with other buckets";
    if (!what.empty())
      return invalid("metric " + quoted(name) + " is already registered " + what + "; a name has one definition");
    return it->second.get();
  }
  auto samples = sample_names_of(type, std::string(name));
  for (const auto& s : samples)
    if (auto it = state_->sample_names.find(s); it != state_->sample_names.end())
      return invalid("metric " + quoted(name) + " would write series " + quoted(s) + ", which metric " +
                     quoted(it->second) + " already writes");

  auto f = std::make_unique<FamilyData>();
  f->type = type;
  f->name = std::string(name);
  f->help = std::string(help);
  f->label_names = std::move(label_names);
  f->bounds = std::move(buckets);
  // Without labels there is one series; it exists (at zero) from the start, as scrapers expect.
  if (f->label_names.empty()) f->children.emplace(std::vector<std::string>{}, make_cell(*f));
  for (auto& s : samples) state_->sample_names.emplace(std::move(s), f->name);
  return state_->families.emplace(f->name, std::move(f)).first->second.get();
}

Result<CounterFamily> Registry::counter_family(std::string_view name, std::string_view help,
                                               std::vector<std::string> label_names) {
  return CounterFamily(HETEX_TRY(define(MetricType::counter, name, help, std::move(label_names), {})));
}
Result<GaugeFamily> Registry::gauge_family(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names) {
  return GaugeFamily(HETEX_TRY(define(MetricType::gauge, name, help, std::move(label_names), {})));
}
Result<HistogramFamily> Registry::histogram_family(std::string_view name, std::string_view help,
                                                   std::vector<double> buckets, std::vector<std::string> label_names) {
  return HistogramFamily(
      HETEX_TRY(define(MetricType::histogram, name, help, std::move(label_names), std::move(buckets))));
}

namespace {
std::vector<std::string> names_of(const Labels& labels) {
  std::vector<std::string> out;
  for (const auto& [k, v] : labels) out.push_back(k);
  return out;
}
std::vector<std::string> values_of(const Labels& labels) {
  std::vector<std::string> out;
  for (const auto& [k, v] : labels) out.push_back(v);
  return out;
}
}  // namespace

Result<Counter> Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  auto family = HETEX_TRY(counter_family(name, help, names_of(labels)));
  return family.with(values_of(labels));
}
Result<Gauge> Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  auto family = HETEX_TRY(gauge_family(name, help, names_of(labels)));
  return family.with(values_of(labels));
}
Result<Histogram> Registry::histogram(std::string_view name, std::string_view help, std::vector<double> buckets,
                                      const Labels& labels) {
  auto family = HETEX_TRY(histogram_family(name, help, std::move(buckets), names_of(labels)));
  return family.with(values_of(labels));
}

}  // namespace hetex::metrics
