// SPDX-License-Identifier: MIT
// The bench report reader (report_from_json): anything parses to a report or an error naming
// the field; a report that parsed renders and round-trips through JSON.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hetex/metrics/report.hpp"

using namespace hetex::metrics;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = report_from_json(std::string(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  (void)render_table(*r);
  (void)render_html(*r);
  (void)find_crossover(r->workloads.empty() ? Workload{} : r->workloads.front());
  auto back = report_from_json(report_to_json(*r));
  if (!back) {
    std::fprintf(stderr, "fuzz_bench_json: a report does not read back: %s\n", back.error().describe().c_str());
    std::abort();
  }
  return 0;
}
