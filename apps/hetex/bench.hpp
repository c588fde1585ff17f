// SPDX-License-Identifier: MIT
#pragma once
// `hetex bench`: the pieces shared by the driver (bench.cpp) and the workloads (bench_*.cpp).
//
// A workload is a Plan: sizes to sweep, inputs prepared once for the largest size, and columns.
// A column runs one batch of n items and can check the last run's results; the driver times it.
// Columns are hetex itself on each device (CPU 1 thread, CPU all cores, each GPU, the adaptive
// and split schedulers) and the libraries people use today, measured in the same run.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hetex/core/runtime.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/metrics/report.hpp"

namespace hetex::cli::bench {

struct Settings {
  bool full = false;
  double min_time = 0.1;            // seconds of repetitions per point, at least 3 of them
  double max_batch_seconds = 0.3;   // a column stops growing once one batch takes longer
  bool gpus = true;                 // --device cpu turns the GPU columns off
  std::size_t max_size = SIZE_MAX;  // --max-size: no batch larger (the smallest size always runs)
};

struct Column {
  std::string id, label;
  metrics::SeriesKind kind = metrics::SeriesKind::cpu;
  std::function<Status(std::size_t n)> run;
  std::function<void(std::size_t n)> poison;   // before a checked run: scribble over the outputs
  std::function<Status(std::size_t n)> check;  // the last run's outputs are right
  bool calibrate = false;                      // runs a few untimed batches per size first (adaptive and split learn)
};

// One batch of n items through a scheduler (for the timeline of a hybrid run).
using ScheduledRun = std::function<Status(Scheduler&, std::size_t n)>;

struct Plan {
  metrics::Workload meta;
  std::vector<std::size_t> sizes;  // ascending
  std::vector<Column> columns;
  ScheduledRun scheduled;
};

// The schedulers every workload shares (one per policy, so calibration carries across sizes).
struct Devices {
  Runtime runtime;
  std::unique_ptr<Scheduler> cpu, adaptive, split;
  std::vector<std::unique_ptr<Scheduler>> gpus;  // pinned to cuda:0, cuda:1, ...
  std::vector<std::string> gpu_labels;           // "NVIDIA H200 (cuda:0)"
};

// Sizes lo, lo*factor, ... up to hi, with `extra` (a table size) merged in; none above
// s.max_size except lo.
std::vector<std::size_t> sweep(const Settings& s, std::size_t lo, std::size_t hi, std::size_t factor,
                               std::size_t extra);

// Throws nothing; an error means the run's results were wrong or a device failed.
Status check_report(const Result<ExecReport>& r);

// One batch of n items through hetex on one CPU thread, and through a scheduler.
struct HetexRunner {
  std::function<Status(std::size_t n)> cpu1;
  ScheduledRun scheduled;
};
void add_hetex_columns(Plan& plan, Devices& d, const Settings& s, const HetexRunner& r,
                       std::function<void(std::size_t)> poison, std::function<Status(std::size_t)> check);

// The hetex columns for `op` over in(n) -> out(n): CPU 1 thread, CPU all cores, each GPU,
// adaptive and split; plan.scheduled becomes the scheduler run (for the timeline). `op` must
// outlive the plan (the ops:: operations are static).
template <class In, class Out, class InFn, class OutFn>
void add_hetex_columns(Plan& plan, Devices& d, const Settings& s, const Operation<In, Out>& op, InFn in, OutFn out,
                       std::function<void(std::size_t)> poison, std::function<Status(std::size_t)> check) {
  HetexRunner r{
      .cpu1 = [&op, in, out](std::size_t n) { return check_report(CpuExecutor{}.execute(op, in(n), out(n))); },
      .scheduled = [&op, in, out](Scheduler& sc, std::size_t n) { return check_report(sc.run(op, in(n), out(n))); }};
  plan.scheduled = r.scheduled;
  add_hetex_columns(plan, d, s, r, std::move(poison), std::move(check));
}

Plan vector_add_plan(Devices& d, const Settings& s);
Plan sha256_plan(Devices& d, const Settings& s);
Plan ed25519_plan(Devices& d, const Settings& s);
Plan pipeline_plan(Devices& d, const Settings& s);
Plan image_plan(Devices& d, const Settings& s);

}  // namespace hetex::cli::bench
