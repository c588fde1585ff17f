// SPDX-License-Identifier: MIT
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "dist_cli.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/core/backend.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/memory/buffer.hpp"

namespace hetex::cli {

Result<std::unique_ptr<Scheduler>> make_scheduler(const std::string& device,
                                                  std::shared_ptr<SchedulerObserver> observer, bool announce_cpu_only) {
  auto rt = HETEX_TRY(Runtime::create({.announce_cpu_only = announce_cpu_only}));
  SchedulerOptions o;
  o.observer = std::move(observer);
  if (device == "cpu") {
    o.policy = PinnedPolicy{DeviceId::cpu()};
  } else if (device == "gpu") {
    if (!rt.has_gpu()) return Error(Errc::unavailable, "--device gpu: " + rt.gpu_unavailable_reason());
    o.policy = PinnedPolicy{rt.gpus().front().id()};
  } else if (device != "auto") {
    return Error(Errc::invalid_argument, "--device must be cpu, gpu or auto, not '" + device + "'");
  }
  return Scheduler::create(rt, o);
}

namespace {

// Seconds per copy of `src` to `dst`, over copies repeated for about `budget`.
template <class Src, class Dst>
Result<double> time_copies(Stream& s, Src src, Dst dst, std::chrono::milliseconds budget) {
  HETEX_TRY_VOID(s.copy(src, dst).get());  // warm-up: first-touch and mapping costs stay out
  const auto start = std::chrono::steady_clock::now();
  int copies = 0;
  std::chrono::duration<double> took{};
  do {
    HETEX_TRY_VOID(s.copy(src, dst).get());
    ++copies;
    took = std::chrono::steady_clock::now() - start;
  } while (took < budget && copies < 1000);
  return took.count() / copies;
}

}  // namespace

Result<Bandwidth> measure_bandwidth(const Device& gpu) {
  constexpr std::size_t kBytes = std::size_t(32) << 20;
  auto host = HETEX_TRY(PinnedBuffer<std::uint8_t>::allocate(kBytes));
  auto device = HETEX_TRY(DeviceBuffer<std::uint8_t>::allocate(gpu, kBytes));
  auto stream = HETEX_TRY(Stream::create(gpu));
  std::fill(host.span().begin(), host.span().end(), std::uint8_t{0x5a});
  const auto budget = std::chrono::milliseconds(40);
  const double up = HETEX_TRY(time_copies(stream, host.read(), device.write(), budget));
  const double down = HETEX_TRY(time_copies(stream, device.read(), host.write(), budget));
  return Bandwidth{kBytes / up / 1e9, kBytes / down / 1e9};
}

namespace {

std::string gib(std::size_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", double(bytes) / double(1ull << 30));
  return b;
}

}  // namespace

Result<DeviceListing> describe_devices(bool skip_bandwidth) {
  auto rt = HETEX_TRY(Runtime::create({.announce_cpu_only = false}));
  DeviceListing listing;
  auto& out = listing.json;
  std::string& text = listing.text;
  auto print = [&text](const char* format, auto... args) {
    char line[512];
    std::snprintf(line, sizeof line, format, args...);
    text += line;
  };
  const CpuInfo& c = *rt.cpu().cpu_info();
  out["cpu"] = {
      {"model", c.model}, {"logical_cores", c.logical_cores}, {"physical_cores", c.physical_cores}, {"simd", c.simd}};
  out["gpus"] = nlohmann::json::array();
  std::string simd;
  for (const auto& f : c.simd) simd += (simd.empty() ? "" : " ") + f;
  print("cpu     %s\n", c.model.c_str());
  print("  cores     %u logical", c.logical_cores);
  if (c.physical_cores) print(", %u physical", c.physical_cores);
  print("\n  features  %s\n", simd.empty() ? "(none detected)" : simd.c_str());
  for (const auto& g : rt.gpus()) {
    if (g.kind() != DeviceKind::cuda) continue;  // listed below, with their backends' details
    const GpuInfo& i = *g.gpu_info();
    auto mem = g.memory_info();
    std::optional<Bandwidth> bw;
    std::string bw_error;
    if (!skip_bandwidth) {
      auto m = measure_bandwidth(g);
      if (m)
        bw = *m;
      else
        bw_error = m.error().describe();
    }
    const std::string cc = std::to_string(i.compute_major) + "." + std::to_string(i.compute_minor);
    nlohmann::json j = {{"id", g.id().to_string()},
                        {"name", i.name},
                        {"pci_bus_id", i.pci_bus_id},
                        {"memory_bytes", i.total_memory},
                        {"multiprocessors", i.multiprocessors},
                        {"compute_capability", cc},
                        {"copy_engines", i.async_engines}};
    if (mem) j["free_memory_bytes"] = mem->free;
    if (bw) j["h2d_gbps"] = bw->h2d_gbps, j["d2h_gbps"] = bw->d2h_gbps;
    if (!bw_error.empty()) j["bandwidth_error"] = bw_error;
    out["gpus"].push_back(j);
    print("%-7s %s (PCI %s)\n", g.id().to_string().c_str(), i.name.c_str(), i.pci_bus_id.c_str());
    print("  memory    %s", gib(i.total_memory).c_str());
    if (mem) print(", %s free", gib(mem->free).c_str());
    print("\n  compute   %d SMs, compute capability %s, %d copy engines\n", i.multiprocessors, cc.c_str(),
          i.async_engines);
    if (bw)
      print("  copies    host->device %.1f GB/s, device->host %.1f GB/s (pinned memory, measured)\n", bw->h2d_gbps,
            bw->d2h_gbps);
    else if (!bw_error.empty())
      print("  copies    not measured: %s\n", bw_error.c_str());
  }
  if (!rt.has_gpu()) {
    out["gpu_unavailable_reason"] = rt.gpu_unavailable_reason();
    print("no GPU in use: %s\n", rt.gpu_unavailable_reason().c_str());
  }
  // Every device of the other backends (Vulkan), in use or not, with what its backend tells.
  out["other_devices"] = nlohmann::json::array();
  for (auto* backend : detail::backends()) {
    if (backend->kind() == DeviceKind::cuda) continue;
    for (const auto& g : backend->discover().devices) {
      const DeviceId id{g->kind(), g->info().index};
      const bool in_use = static_cast<bool>(rt.device(id));
      const std::string unused = g->unused_by_default();
      const std::string use = in_use ? "in use" : unused.empty() ? "not in use (HETEX_DEVICES)" : unused;
      nlohmann::json j = {{"id", id.to_string()},
                          {"name", g->info().name},
                          {"in_use", in_use},
                          {"software", g->software()},
                          {"memory_bytes", g->info().total_memory}};
      if (!in_use) j["unused_reason"] = use;
      print("%-9s %s\n  use       %s\n", id.to_string().c_str(), g->info().name.c_str(), use.c_str());
      for (const auto& [key, value] : g->details()) {
        j[key] = value;
        print("  %-9s %s\n", key.c_str(), value.c_str());
      }
      out["other_devices"].push_back(j);
    }
  }
  return listing;
}

void add_devices(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("devices", "List the CPU and GPUs hetex can use, with measured copy bandwidth");
  auto json = std::make_shared<bool>(false);
  auto skip_bandwidth = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of text");
  cmd->add_flag("--skip-bandwidth", *skip_bandwidth, "Do not measure host<->GPU copy bandwidth (about 0.1 s per GPU)");
  cmd->footer(
      "Shows the CPU (model, cores, SIMD features), each CUDA GPU (memory, SMs, compute capability,\n"
      "pinned host->device and device->host bandwidth, measured now) and each Vulkan device (vendor,\n"
      "type, memory, limits; software ones such as lavapipe run only when asked for, with\n"
      "HETEX_DEVICES=vulkan:N). HETEX_DEVICES restricts the GPUs in use.\n"
      "Examples:\n  hetex devices\n  hetex devices --json | jq '.gpus[].h2d_gbps'\n  HETEX_DEVICES=cpu hetex devices");
  cmd->callback([json, skip_bandwidth, &status] {
    if (under_mpi()) {
      status = dist_devices(*json, *skip_bandwidth);
      return;
    }
    auto listing = describe_devices(*skip_bandwidth);
    if (!listing) {
      std::fprintf(stderr, "hetex devices: %s\n", listing.error().describe().c_str());
      status = 2;
      return;
    }
    std::fputs(*json ? (listing->json.dump(2) + "\n").c_str() : listing->text.c_str(), stdout);
  });
}

}  // namespace hetex::cli
