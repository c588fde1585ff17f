// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Registry: named metric families, exposed as Prometheus text (format 0.0.4) or JSON.
///
/// @code
/// metrics::Registry& reg = metrics::Registry::global();
/// auto items = reg.counter_family("hetex_items_total", "Items completed", {"device", "op"});
/// if (!items) return items.error();
/// metrics::Counter c = items->with({"cuda:0", "sha256"}).value();  // look up once...
/// c.inc(n);                                                          // ...update lock-free
/// @endcode
///
/// A family has a name, help text, a type and label names fixed at registration; each tuple of
/// label values is one child (one time series). Registering a name again with the same definition
/// (type, help, label names, buckets) returns the existing family; anything else is an
/// invalid_argument error, as are names outside the Prometheus data model
/// (metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]* not starting with "__").
/// Lookups (registration, with()) take locks; updates through a handle never do.

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/metrics/metric.hpp"

namespace hetex::metrics {

enum class MetricType : std::uint8_t { counter, gauge, histogram };  ///< a family's type, as Prometheus names it
std::string_view to_string(MetricType type) noexcept;                ///< "counter", "gauge", "histogram"

namespace detail {
struct FamilyData;
struct RegistryState;
}  // namespace detail

/// A handle to a family of Counter, Gauge or Histogram; valid for its registry's life.
template <class Metric>
class Family {
 public:
  /// The child for these label values, created on first use. Values are any UTF-8 text; their
  /// number must match the family's label names.
  Result<Metric> with(std::initializer_list<std::string_view> values) const;
  /// As above; Errc::invalid_argument when the number of values is wrong.
  Result<Metric> with(std::span<const std::string> values) const;

  const std::string& name() const noexcept;                      ///< the family's metric name
  const std::vector<std::string>& label_names() const noexcept;  ///< fixed at registration

 private:
  friend class Registry;
  explicit Family(detail::FamilyData* data) noexcept : data_(data) {}
  detail::FamilyData* data_;
};

using CounterFamily = Family<Counter>;      ///< a family of counters
using GaugeFamily = Family<Gauge>;          ///< a family of gauges
using HistogramFamily = Family<Histogram>;  ///< a family of histograms

/// Label name/value pairs for the one-call forms below, in the family's label-name order.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// Named metric families (see the file's description). Thread-safe; handles into it stay valid for
/// its whole life.
class Registry {
 public:
  Registry();
  ~Registry();
  /// Handles point into the registry: it neither copies nor moves.
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// The process-wide registry; never destroyed, so handles stay valid during static destruction.
  static Registry& global();

  /// Registers (or finds) a family; Errc::invalid_argument for a bad name or label name, or a name
  /// already registered with another definition.
  Result<CounterFamily> counter_family(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names = {});
  Result<GaugeFamily> gauge_family(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names = {});
  /// buckets: finite upper bounds, strictly increasing (a trailing +Inf is accepted and implied
  /// anyway); may be empty, leaving only +Inf. Histograms may not use the label name "le".
  Result<HistogramFamily> histogram_family(std::string_view name, std::string_view help, std::vector<double> buckets,
                                           std::vector<std::string> label_names = {});

  /// Register (or find) the family whose label names are those of `labels`, and return the child
  /// for their values: reg.counter("hetex_batches_total", "Batches run", {{"device", "cpu"}}).
  Result<Counter> counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Result<Gauge> gauge(std::string_view name, std::string_view help, const Labels& labels = {});  ///< as counter()
  Result<Histogram> histogram(std::string_view name, std::string_view help, std::vector<double> buckets,
                              const Labels& labels = {});

  /// Text exposition format 0.0.4: families sorted by name, children by label values; labelled
  /// families with no child yet are left out. Non-finite values read +Inf, -Inf, NaN.
  std::string prometheus_text() const;
  /// {"metrics":[{"name","help","type","label_names":[...],"samples":[...]}]}; a counter or gauge
  /// sample is {"labels":{...},"value":v}, a histogram one {"labels","count","sum","buckets":
  /// [{"le":b,"count":cumulative},...,{"le":"+Inf","count":n}]}. JSON has no NaN or infinity:
  /// non-finite values are the strings "NaN", "+Inf", "-Inf".
  std::string json_snapshot() const;

 private:
  Result<detail::FamilyData*> define(MetricType type, std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names, std::vector<double> buckets);
  std::unique_ptr<detail::RegistryState> state_;
};

}  // namespace hetex::metrics
