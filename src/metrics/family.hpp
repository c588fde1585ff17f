// SPDX-License-Identifier: MIT
#pragma once
// Registry internals shared by registration (registry.cpp) and the exposition formats
// (exposition.cpp).

#include <algorithm>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hetex/metrics/registry.hpp"

namespace hetex::metrics::detail {

// Orders label-value tuples, and lets a span of string_views find a stored vector<string>
// without building one: with() on an existing child allocates nothing.
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
      return std::string_view(x) < std::string_view(y);
    });
  }
};

using Child = std::variant<std::unique_ptr<CounterCell>, std::unique_ptr<GaugeCell>, std::unique_ptr<HistogramCell>>;

struct FamilyData {
  MetricType type;
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms only; HistogramCells point here

  mutable std::shared_mutex mu;  // guards children (the map, not the cells' atomics)
  std::map<std::vector<std::string>, Child, LabelValuesLess> children;
};

struct RegistryState {
  mutable std::shared_mutex mu;  // guards both maps
  std::map<std::string, std::unique_ptr<detail::FamilyData>, std::less<>> families;
  // Every sample name a family writes (a histogram writes name_bucket, name_sum, name_count) ->
  // the family, so that two families can never write the same series name.
  std::map<std::string, std::string, std::less<>> sample_names;
};

}  // namespace hetex::metrics::detail
