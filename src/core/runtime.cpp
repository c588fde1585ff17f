// SPDX-License-Identifier: MIT
#include "hetex/core/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "hetex/core/backend.hpp"

namespace hetex {
namespace {

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> items;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return items;
}

void announce_cpu_only_once(const std::string& reason) {
  static std::atomic<bool> said{false};
  if (said.exchange(true)) return;
  std::fprintf(stderr, "hetex: no GPU in use (%s); running on the CPU only.\n", reason.c_str());
}

const std::shared_ptr<const CpuInfo>& cpu_info() {
  static const auto info = std::make_shared<const CpuInfo>(detect_cpu());
  return info;
}

}  // namespace

Result<Runtime> Runtime::create(RuntimeOptions options) {
  std::string source = "RuntimeOptions::devices";
  if (!options.devices) {
    if (const char* env = std::getenv("HETEX_DEVICES")) {
      options.devices = env;
      source = "HETEX_DEVICES";
    }
  }
  // Every backend's devices, in the order of detail::backends(); why there are none.
  std::vector<std::shared_ptr<detail::GpuDevice>> found;
  std::string reason;
  // A list that names no device of a backend leaves it undiscovered: HETEX_DEVICES=cpu starts
  // no driver at all.
  auto named = [&](const detail::Backend& backend) {
    if (!options.devices) return true;
    const std::string_view kind = to_string(backend.kind());
    for (auto item : split_list(*options.devices))
      if (item == "gpu" || item.substr(0, item.find(':')) == kind || (item.rfind("gpu:", 0) == 0 && kind == "cuda"))
        return true;
    return false;
  };
  for (auto* backend : detail::backends()) {
    if (!named(*backend)) continue;
    const auto& d = backend->discover();
    found.insert(found.end(), d.devices.begin(), d.devices.end());
    if (d.devices.empty() && !d.reason.empty()) reason += (reason.empty() ? "" : "; ") + d.reason;
  }
  auto id_of = [](const detail::GpuDevice& g) { return DeviceId{g.kind(), g.info().index}; };
  auto state = std::make_shared<State>();
  state->devices.push_back(Device::cpu(cpu_info()));

  std::vector<std::shared_ptr<detail::GpuDevice>> wanted;
  bool listed_any = false;
  if (options.devices) {
    for (auto item : split_list(*options.devices)) {
      listed_any = true;
      if (item == "cpu") continue;
      if (item == "cuda" || item == "gpu" || item == "vulkan") {
        const std::size_t before = wanted.size();
        if (item == "vulkan") {
          // The hardware Vulkan devices; the software ones (lavapipe) when there is no other.
          for (int software = 0; software < 2 && wanted.size() == before; ++software)
            for (auto& g : found)
              if (g->kind() == DeviceKind::vulkan && g->software() == (software == 1)) wanted.push_back(g);
        } else {
          for (auto& g : found)
            if (item == "gpu" ? g->unused_by_default().empty() : g->kind() == DeviceKind::cuda) wanted.push_back(g);
        }
        if (wanted.size() == before)
          return Error(Errc::unavailable, source + "='" + *options.devices + "' asks for " +
                                              (item == "gpu" ? "GPUs" : std::string(item) + " devices") +
                                              ", but none is usable: " + (reason.empty() ? "none found" : reason));
        continue;
      }
      auto id = DeviceId::parse(item);
      if (!id) return Error(Errc::invalid_argument, source + ": " + id.error().message());
      auto it = std::find_if(found.begin(), found.end(), [&](const auto& g) { return id_of(*g) == *id; });
      if (it == found.end()) {
        int of_kind = 0;
        for (auto& g : found) of_kind += g->kind() == id->kind;
        const std::string kind(to_string(id->kind));
        std::string have = found.empty()
                               ? "no usable GPU: " + reason
                               : std::to_string(of_kind) + " " + kind + " device(s)" +
                                     (of_kind ? ": " + kind + ":0.." + kind + ":" + std::to_string(of_kind - 1) : "");
        return Error(Errc::invalid_argument,
                     source + " asks for " + id->to_string() + ", but this machine has " + have);
      }
      wanted.push_back(*it);
    }
    if (!listed_any)
      return Error(Errc::invalid_argument, source + " is empty; list devices such as 'cpu' or 'cuda:0,cpu'");
  } else {
    // Every device but those that are used only when asked for (a software Vulkan device, a GPU
    // another backend drives): their reasons say why when nothing else is left.
    for (auto& g : found) {
      if (auto why = g->unused_by_default(); why.empty())
        wanted.push_back(g);
      else
        reason += (reason.empty() ? "" : "; ") + id_of(*g).to_string() + " is " + why;
    }
  }
  std::sort(wanted.begin(), wanted.end(), [&](const auto& a, const auto& b) { return id_of(*a) < id_of(*b); });
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  for (auto& g : wanted) state->devices.push_back(Device::gpu(g));

  if (wanted.empty()) {
    state->gpu_reason = listed_any ? source + " restricts hetex to the CPU" : reason;
    if (options.announce_cpu_only && !listed_any) announce_cpu_only_once(reason);
  }
  return Runtime(std::move(state));
}

std::vector<Device> Runtime::gpus() const { return {state_->devices.begin() + 1, state_->devices.end()}; }

Result<Device> Runtime::device(DeviceId id) const {
  for (auto& d : state_->devices)
    if (d.id() == id) return d;
  if (!id.is_cpu() && !has_gpu())
    return Error(Errc::unavailable, id.to_string() + " is not available: " + state_->gpu_reason);
  return Error(Errc::invalid_argument, id.to_string() + " is not one of this runtime's devices");
}

Result<Device> Runtime::select(std::string_view spec) const {
  if (spec == "gpu") return select(SelectPolicy::first_gpu_or_cpu);
  if (spec == "auto") return select(SelectPolicy::most_free_memory);
  auto id = DeviceId::parse(spec);
  if (!id) return Error(Errc::invalid_argument, id.error().message() + ", 'gpu' or 'auto'");
  return device(*id);
}

Device Runtime::select(SelectPolicy policy) const {
  const Device* best = nullptr;
  std::size_t best_score = 0;
  for (auto& d : state_->devices) {
    if (!d.is_gpu() || !d.healthy()) continue;
    std::size_t score = 1;
    if (policy == SelectPolicy::most_free_memory) {
      auto m = d.memory_info();
      score = m ? m->free + 1 : 1;
    } else if (policy == SelectPolicy::most_multiprocessors) {
      score = static_cast<std::size_t>(d.gpu_info()->multiprocessors) + 1;
    }
    if (!best || score > best_score) {
      best = &d;
      best_score = score;
    }
    if (policy == SelectPolicy::first_gpu_or_cpu) break;
  }
  return best ? *best : cpu();
}

}  // namespace hetex
