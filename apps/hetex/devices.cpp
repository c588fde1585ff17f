#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hetex/core/runtime.hpp"

namespace hetex::cli {

Result<std::unique_ptr<Scheduler>> make_scheduler(const std::string& device) {
  auto rt = HETEX_TRY(Runtime::create());
  SchedulerOptions o;
  if (device == "cpu") {
    o.policy = PinnedPolicy{"cpu"};
  } else if (device == "gpu") {
    if (!rt.has_gpu()) return Error(Errc::unavailable, "--device gpu: " + rt.gpu_unavailable_reason());
    o.policy = PinnedPolicy{rt.gpus().front().id().to_string()};
  } else if (device != "auto") {
    return Error(Errc::invalid_argument, "--device must be cpu, gpu or auto, not '" + device + "'");
  }
  return Scheduler::create(rt, o);
}

void add_devices(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("devices", "List the CPU and GPUs hetex can use");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON instead of text");
  cmd->footer("Example:\n  hetex devices --json");
  cmd->callback([json, &status] {
    auto rt = Runtime::create({.announce_cpu_only = false});
    if (!rt) {
      std::fprintf(stderr, "hetex devices: %s\n", rt.error().describe().c_str());
      status = 2;
      return;
    }
    if (*json) {
      nlohmann::json out;
      const auto* c = rt->cpu().cpu_info();
      out["cpu"] = {{"model", c->model}, {"logical_cores", c->logical_cores}, {"simd", c->simd}};
      out["gpus"] = nlohmann::json::array();
      for (const auto& g : rt->gpus()) {
        const auto* i = g.gpu_info();
        out["gpus"].push_back({{"id", g.id().to_string()},
                               {"name", i->name},
                               {"memory_bytes", i->total_memory},
                               {"multiprocessors", i->multiprocessors},
                               {"compute_capability", std::to_string(i->compute_major) + "." + std::to_string(i->compute_minor)}});
      }
      if (!rt->has_gpu()) out["gpu_unavailable_reason"] = rt->gpu_unavailable_reason();
      std::printf("%s\n", out.dump(2).c_str());
      return;
    }
    for (const auto& d : rt->devices()) std::printf("%s\n", d.describe().c_str());
    if (const auto* c = rt->cpu().cpu_info(); c && !c->simd.empty()) {
      std::string simd;
      for (const auto& s : c->simd) simd += (simd.empty() ? "" : " ") + s;
      std::printf("  cpu features: %s\n", simd.c_str());
    }
    if (!rt->has_gpu()) std::printf("no GPU: %s\n", rt->gpu_unavailable_reason().c_str());
  });
}

}  // namespace hetex::cli
