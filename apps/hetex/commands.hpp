// SPDX-License-Identifier: MIT
#pragma once
// The hetex command line: one function per command; each returns the process exit status.
//   0  success
//   1  some input could not be processed (named on stderr); the rest was
//   2  bad usage or a failure before any input was processed

#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hetex/exec/scheduler.hpp"
#include "hetex/metrics/scheduler_metrics.hpp"
#include "hetex/metrics/server.hpp"

namespace hetex::cli {

struct Common {
  std::string device = "auto";  // cpu | gpu | auto
  int metrics_port = -1;        // --metrics-port; -1: no metrics server
};

// A scheduler for --device: cpu pins to the CPU, gpu to the first GPU (an error without one),
// auto lets the adaptive policy choose. announce_cpu_only: say on stderr when there is no GPU.
Result<std::unique_ptr<Scheduler>> make_scheduler(const std::string& device,
                                                  std::shared_ptr<SchedulerObserver> observer = nullptr,
                                                  bool announce_cpu_only = true);

// --metrics-port for long-running commands: Prometheus /metrics on 127.0.0.1 while they run.
void add_metrics_option(CLI::App& cmd, Common& common);
struct MetricsEndpoint {
  std::shared_ptr<metrics::SchedulerMetrics> observer;  // null when no port was asked for
  std::optional<metrics::MetricsServer> server;
};
// Starts the server when common.metrics_port was given; pass its observer to the scheduler.
Result<MetricsEndpoint> serve_metrics(const Common& common);
// Says where the server is, on stderr; once the scheduler exists, so that every family,
// the device gauges included, is there from the first scrape.
void announce_metrics(const MetricsEndpoint& m, const char* command);

struct Bandwidth {
  double h2d_gbps = 0, d2h_gbps = 0;
};
// Pinned host <-> device copy bandwidth, about 100 ms in all: what a batch's transfers can reach.
Result<Bandwidth> measure_bandwidth(const Device& gpu);

// What `hetex devices` prints: as text, and as JSON (--json).
struct DeviceListing {
  std::string text;
  nlohmann::json json;
};
Result<DeviceListing> describe_devices(bool skip_bandwidth);

void add_devices(CLI::App& app, int& status);
void add_sha256(CLI::App& app, Common& common, int& status);
void add_verify(CLI::App& app, Common& common, int& status);
void add_bench(CLI::App& app, Common& common, int& status);
void add_image(CLI::App& app, Common& common, int& status);
void add_report(CLI::App& app, int& status);
void add_ledger(CLI::App& app, Common& common, int& status);

}  // namespace hetex::cli
