// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// BenchReport: what `hetex bench` measured, and its renderings: JSON (every figure and the
/// machine), Markdown (the benchmark page in docs/), a terminal table (the design notes' table: one row per workload at
/// its table size, one column per device, with speedups), and a self-contained HTML page with SVG charts (throughput
/// against batch size per workload, CPU / GPU / hybrid lines, the CPU/GPU crossover marked; a timeline of one hybrid
/// run showing what each device did).
///
/// @code
/// metrics::BenchReport r;              // filled by the benchmark driver
/// std::cout << metrics::render_table(r);
/// hetex::write_file_atomic("bench.html", metrics::render_html(r));
/// auto back = metrics::report_from_json(metrics::report_to_json(r));   // round-trips
/// @endcode

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::metrics {

/// One GPU of the machine a report was measured on.
struct GpuDescription {
  std::string name;                   ///< "NVIDIA H200"
  std::string id;                     ///< "cuda:0"
  std::uint64_t memory_bytes = 0;     ///< total device memory
  int multiprocessors = 0;            ///< streaming multiprocessors (SMs)
  std::string compute_capability;     ///< "9.0"
  double h2d_gbps = 0, d2h_gbps = 0;  ///< measured, pinned memory; 0 when not measured
};

/// The machine a report was measured on.
struct MachineDescription {
  std::string cpu_model;          ///< as /proc/cpuinfo names it
  int cpu_cores = 0;              ///< hardware threads hetex uses
  std::vector<std::string> simd;  ///< "avx2", "avx512f", "sha_ni", ...
  std::vector<GpuDescription> gpus;
  std::string os;             ///< uname -srm
  std::string hetex_version;  ///< the hetex that measured it
};

/// One line of a chart / one column of the table.
enum class SeriesKind { cpu, gpu, hybrid, comparator };

/// One measured batch size of a series.
struct Point {
  std::uint64_t size = 0;  ///< items in the batch
  double seconds = 0;      ///< per batch (median of the repetitions)
  double per_second = 0;   ///< items per second = size / seconds
};

/// One way of running a workload (a device, a policy or a comparator), over the batch sizes.
struct Series {
  std::string id;     ///< "cpu_1", "cpu_all", "gpu0", "adaptive", "split", "openssl"
  std::string label;  ///< "CPU 1 thread", "NVIDIA H200 (cuda:0)", "OpenSSL, 16 threads"
  SeriesKind kind = SeriesKind::cpu;
  std::vector<Point> points;  ///< ascending size; a size may be missing from a series
};

/// One workload of a report: every series measured on it.
struct Workload {
  std::string id;     ///< "vector_add", "sha256", "ed25519", "pipeline", "image"
  std::string title;  ///< "SHA-256, 64-byte messages"
  std::string unit;   ///< what one item is: "floats", "messages", "signatures", "pixels"
  std::string where;  ///< "host memory to host memory", "device-resident"
  std::vector<Series> series;
  std::uint64_t table_size = 0;            ///< the batch size shown in the summary table
  std::optional<std::uint64_t> crossover;  ///< smallest measured size where the best GPU beats the best CPU series
  std::vector<std::string> notes;          ///< "GPU columns skipped: no CUDA GPU", "verified against OpenSSL"
};

/// One hybrid run, device by device (the chart under the workloads).
struct TimelineEvent {
  std::string track;  ///< "cpu", "cuda:0"
  std::string label;  ///< "sha256 2^20 items"
  double start_us = 0, duration_us = 0;
  std::uint64_t items = 0;
};

/// The device-by-device timeline of one hybrid run.
struct Timeline {
  std::string title;  ///< "Split: SHA-256, 16M messages"
  std::vector<TimelineEvent> events;
};

/// What `hetex bench` measured (see the file's description); saved as JSON, rendered as a table,
/// HTML or Markdown.
struct BenchReport {
  std::string suite;        ///< "quick" | "full"
  std::string started_utc;  ///< ISO 8601
  double duration_s = 0;
  MachineDescription machine;
  std::vector<std::string> skipped;  ///< one line each: what was skipped and why
  std::vector<Workload> workloads;
  std::optional<Timeline> timeline;
};

/// The smallest size at which the fastest gpu-kind series beats the fastest cpu-kind series and
/// keeps beating it at every larger measured size; nullopt when never (or no GPU series).
std::optional<std::uint64_t> find_crossover(const Workload& w);

std::string report_to_json(const BenchReport& r);               ///< pretty-printed
Result<BenchReport> report_from_json(const std::string& json);  ///< invalid_argument naming the field
std::string render_table(const BenchReport& r);                 ///< plain text, fits 100 columns
std::string render_html(const BenchReport& r);                  ///< one file, no external resources
std::string render_markdown(const BenchReport& r);              ///< tables for docs/benchmarks.md

}  // namespace hetex::metrics
