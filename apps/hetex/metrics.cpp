// SPDX-License-Identifier: MIT
// --metrics-port: the scheduler's Prometheus metrics (items, chunks, fallbacks, errors, batch
// and chunk latency, queue depth, device health) served on 127.0.0.1 while a command runs.
#include <cstdio>

#include "commands.hpp"

namespace hetex::cli {

void add_metrics_option(CLI::App& cmd, Common& common) {
  cmd.add_option("--metrics-port", common.metrics_port,
                 "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics while running (0: any free port; "
                 "the address is printed on stderr)")
      ->type_name("PORT")
      ->check(CLI::Range(0, 65535));
}

Result<MetricsEndpoint> serve_metrics(const Common& common) {
  MetricsEndpoint m;
  if (common.metrics_port < 0) return m;
  auto& registry = metrics::Registry::global();
  m.observer = HETEX_TRY(metrics::SchedulerMetrics::create(registry));
  m.server.emplace(HETEX_TRY(metrics::MetricsServer::start(registry, static_cast<std::uint16_t>(common.metrics_port))));
  return m;
}

void announce_metrics(const MetricsEndpoint& m, const char* command) {
  if (!m.server) return;
  std::fprintf(stderr, "hetex %s: metrics at http://%s:%u/metrics\n", command, m.server->bind_address().c_str(),
               unsigned(m.server->port()));
  std::fflush(stderr);
}

}  // namespace hetex::cli
