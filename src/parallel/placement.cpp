// SPDX-License-Identifier: MIT
// Where a pipeline terminal runs: the GPU of a device source, or the device the scheduler's cost
// model predicts faster for a host source of this size.

#include <functional>
#include <map>
#include <string>

#include "hetex/core/backend.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"
#include "exec/routing.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/parallel/pipeline.hpp"

namespace hetex::detail {
namespace {

// The CPU, then each CUDA GPU of the scheduler that is healthy now (a pipeline's device code is
// CUDA's).
std::vector<Device> usable_devices(const Scheduler& scheduler) {
  const Runtime& rt = scheduler.runtime();
  std::vector<Device> devices{rt.cpu()};
  for (const auto& snap : scheduler.devices()) {
    if (snap.device.kind != DeviceKind::cuda || snap.state != DeviceState::healthy) continue;
    if (auto dev = rt.device(snap.device); dev && dev->healthy()) devices.push_back(*dev);
  }
  return devices;
}

}  // namespace

Result<Device> pipeline_gpu(int index) {
  const auto& found = discover_gpus();
  if (index < 0 || index >= static_cast<int>(found.devices.size()))
    return Error(Errc::invalid_argument,
                 "pipeline: the source's memory is on no usable GPU (device index " + std::to_string(index) + ")");
  auto& gpu = found.devices[static_cast<std::size_t>(index)];
  if (!gpu->healthy())
    return Error(Errc::device_lost, "pipeline: cuda:" + std::to_string(index) + " was retired after a fault");
  return Device::gpu(gpu);
}

std::string pipeline_key(const char* type_name, const char* terminal) {
  // Mangled names of lambdas are long; the hash is stable for a given binary.
  return std::string("pipeline.") + terminal + "." +
         std::to_string(std::hash<std::string_view>{}(type_name) % 1000000007u);
}

Device pipeline_choose(Scheduler& scheduler, const std::string& key, std::size_t n, bool gpu_possible) {
  if (!gpu_possible) return scheduler.runtime().cpu();
  CostModel& model = scheduler.cost_model();
  struct Candidate {
    Device device;
    CostModel::Lookup cost;
  };
  std::vector<Candidate> candidates;
  for (const auto& d : usable_devices(scheduler))
    candidates.push_back({d, model.lookup(CostModel::Key::alone(key, d.id(), Residency::host), n)});
  // Until every device is calibrated at this size, the first one that is not, its runs back to
  // back (as the scheduler explores); then the fastest.
  for (auto& c : candidates)
    if (!c.cost.calibrated) return c.device;
  const Candidate* pick = &candidates.front();
  for (auto& c : candidates)
    if (c.cost.curve->predict(n) < pick->cost.curve->predict(n)) pick = &c;
  return pick->device;
}

PipelineSplit pipeline_split(Scheduler& scheduler, const std::string& key, std::size_t n) {
  PipelineSplit out;
  if (scheduler.policy() != "split" || n == 0) return out;
  const std::vector<Device> devices = usable_devices(scheduler);
  std::vector<Candidate> candidates;
  std::vector<std::size_t> min_share;
  for (const auto& d : devices) {
    candidates.push_back({d.id(), 0});
    // One CPU pass or one GPU call must be worth its start: a few TBB tasks; a kernel launch and
    // its copies.
    min_share.push_back(d.is_cpu() ? kCpuGrain : std::size_t(1) << 20);
  }
  const RoutePlan plan = route_split(scheduler.cost_model(), key, Residency::host, candidates, min_share, n);
  for (const auto& sh : plan.shares) out.shares.push_back({devices[sh.candidate], sh.begin, sh.end});
  out.beside_speeds = plan.beside_speeds;
  return out;
}

void pipeline_record_split(Scheduler& scheduler, const std::string& key, const PipelineSplit& plan,
                           std::span<const double> part_seconds, double total_seconds) {
  auto& model = scheduler.cost_model();
  for (std::size_t i = 0; i < plan.shares.size(); ++i) {
    const DeviceId device = plan.shares[i].device.id();
    const std::size_t items = plan.shares[i].end - plan.shares[i].begin;
    const auto alone = model.lookup(CostModel::Key::alone(key, device, Residency::host), items).curve;
    if (!alone->empty() && alone->predict(items) > 0)
      model.record_ratio(CostModel::Key::beside(key, device, Residency::host), part_seconds[i] / alone->predict(items));
  }
  if (plan.beside_speeds) {
    const std::size_t n = plan.shares.back().end - plan.shares.front().begin;
    model.record(CostModel::Key::split(key, Residency::host), n, total_seconds);
  }
}

void pipeline_record(Scheduler& scheduler, const std::string& key, const Device& device, std::size_t n,
                     double seconds) {
  scheduler.cost_model().record(CostModel::Key::alone(key, device.id(), Residency::host), n, seconds);
}

Error pipeline_no_gpu_path(const Device& gpu, bool compiled_by_nvcc) {
  if (!compiled_by_nvcc)
    return Error(Errc::unavailable, "pipeline: asked to run on " + gpu.id().to_string() +
                                        ", but this pipeline was compiled without nvcc, so it has no GPU code; "
                                        "compile the file that builds it as CUDA (.cu) or run it on the CPU");
  return Error(Errc::invalid_argument,
               "pipeline: asked to run on " + gpu.id().to_string() +
                   ", but one of its functions is host-only; write them as [] __host__ __device__ (...) lambdas");
}

Result<Stream*> pipeline_stream(const Device& gpu) {
  if (!gpu.is_gpu()) return Error(Errc::invalid_argument, "pipeline_stream: " + gpu.id().to_string() + " is not a GPU");
  // One per thread and GPU: pipelines on different threads do not serialize on one stream.
  thread_local std::map<int, Stream> streams;
  auto it = streams.find(gpu.id().index);
  if (it == streams.end()) {
    auto s = Stream::create(gpu);
    if (!s) return std::move(s).error().with_context("creating the pipeline stream of " + gpu.id().to_string());
    it = streams.emplace(gpu.id().index, std::move(*s)).first;
  }
  return &it->second;
}

}  // namespace hetex::detail
