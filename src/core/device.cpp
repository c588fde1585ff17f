#include "hetex/core/device.hpp"

#include <charconv>
#include <cstdio>

#include "hetex/core/backend.hpp"

namespace hetex {

std::string_view to_string(DeviceKind kind) noexcept { return kind == DeviceKind::cpu ? "cpu" : "cuda"; }

std::string_view to_string(MemoryKind kind) noexcept {
  switch (kind) {
    case MemoryKind::host: return "host";
    case MemoryKind::pinned: return "pinned";
    case MemoryKind::mapped: return "mapped";
    case MemoryKind::managed: return "managed";
    case MemoryKind::device: return "device";
  }
  return "unknown";
}

std::string DeviceId::to_string() const {
  return kind == DeviceKind::cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Result<DeviceId> DeviceId::parse(std::string_view text) {
  if (text == "cpu") return DeviceId{DeviceKind::cpu, 0};
  for (std::string_view prefix : {"cuda:", "gpu:"}) {
    if (text.substr(0, prefix.size()) == prefix) {
      auto digits = text.substr(prefix.size());
      int index = -1;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (ec == std::errc() && end == digits.data() + digits.size() && index >= 0 && !digits.empty())
        return DeviceId{DeviceKind::cuda, index};
    }
  }
  std::string msg = "'";
  msg.append(text).append("' is not a device: use 'cpu' or 'cuda:N' (N = 0, 1, ...)");
  return Error(Errc::invalid_argument, std::move(msg));
}

Device Device::cpu(std::shared_ptr<const CpuInfo> info) {
  Device d;
  d.id_ = {DeviceKind::cpu, 0};
  d.cpu_ = std::move(info);
  return d;
}

Device Device::gpu(std::shared_ptr<detail::GpuDevice> backend) {
  Device d;
  d.id_ = {DeviceKind::cuda, backend->info().index};
  d.gpu_ = std::move(backend);
  return d;
}

const GpuInfo* Device::gpu_info() const { return gpu_ ? &gpu_->info() : nullptr; }

std::string Device::name() const { return gpu_ ? gpu_->info().name : (cpu_ ? cpu_->model : "cpu"); }

bool Device::healthy() const { return gpu_ ? gpu_->healthy() : true; }

Result<MemoryInfo> Device::memory_info() const {
  if (gpu_) return gpu_->memory_info();
  return Error(Errc::unavailable, "memory_info() is for GPUs; the CPU uses host memory");
}

std::string Device::describe() const {
  char buf[256];
  if (gpu_) {
    const auto& g = gpu_->info();
    std::snprintf(buf, sizeof buf, "%s (%s, %d SMs, %.1f GiB, sm_%d%d)", id_.to_string().c_str(), g.name.c_str(),
                  g.multiprocessors, double(g.total_memory) / double(1ull << 30), g.compute_major, g.compute_minor);
  } else {
    std::snprintf(buf, sizeof buf, "cpu (%s, %u threads)", cpu_ ? cpu_->model.c_str() : "unknown",
                  cpu_ ? cpu_->logical_cores : 0u);
  }
  return buf;
}

}  // namespace hetex
