// SPDX-License-Identifier: MIT
#include "hetex/exec/executor.hpp"

#include "exec/parallel_chunks.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>

namespace hetex::detail {
namespace {
using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

ExecReport report_for(JobBase& job, DeviceId device, Clock::time_point t0, Clock::time_point t1) {
  ExecReport r;
  r.stats.operation = job.op().name;
  r.stats.policy = device.to_string();
  r.stats.items = job.size();
  r.stats.total_seconds = seconds(t1 - t0);
  if (job.size()) {
    r.stats.devices.push_back({device, job.size(), 1, seconds(t1 - t0), 0});
    r.stats.chunks.push_back({device, 0, job.size(), ChunkRecord::Outcome::done, false, false, Errc::internal, t0, t1});
  }
  return r;
}
}  // namespace

ExecReport execute_on_cpu(JobBase& job) {
  const auto t0 = Clock::now();
  std::mutex m;
  std::vector<RangeError> fails;
  parallel_chunks(0, job.size(), job.op().options.cpu_grain, [&](std::size_t from, std::size_t to) {
    auto st = job.run_cpu(from, to);
    if (!st) {
      std::lock_guard lock(m);
      fails.push_back({from, to, std::move(st).error()});
    }
  });
  auto r = report_for(job, DeviceId::cpu(), t0, Clock::now());
  std::sort(fails.begin(), fails.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  for (const auto& f : fails) r.stats.failed_items += f.end - f.begin;
  if (!fails.empty()) r.stats.devices.front().items -= r.stats.failed_items;
  r.errors = std::move(fails);
  return r;
}

Result<ExecReport> execute_on_gpu(JobBase& job, GpuLane& lane) {
  const auto t0 = Clock::now();
  if (job.size()) {
    if (auto st = job.run_gpu(lane, 0, job.size()); !st) return std::move(st).error();
  }
  auto r = report_for(job, lane.device().id(), t0, Clock::now());
  const auto ph = lane.take_phases();
  r.stats.h2d_seconds = ph.h2d;
  r.stats.compute_seconds = ph.compute;
  r.stats.d2h_seconds = ph.d2h;
  return r;
}

}  // namespace hetex::detail
