// SPDX-License-Identifier: MIT
#include "hetex/core/device.hpp"

#include <charconv>
#include <cstdio>
#include <ostream>

#include "hetex/core/backend.hpp"

namespace hetex {

std::string_view to_string(DeviceKind kind) noexcept {
  switch (kind) {
    case DeviceKind::cpu: return "cpu";
    case DeviceKind::cuda: return "cuda";
    case DeviceKind::sim: return "sim";
    case DeviceKind::vulkan: return "vulkan";
    case DeviceKind::remote: return "remote";
  }
  return "unknown";
}

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
  if (kind == DeviceKind::cpu) return "cpu";
  std::string s(hetex::to_string(kind));
  s += ':';
  s += std::to_string(index);
  return s;
}

std::ostream& operator<<(std::ostream& os, const DeviceId& id) { return os << id.to_string(); }

Result<DeviceId> DeviceId::parse(std::string_view text) {
  if (text == "cpu") return DeviceId::cpu();
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    const auto prefix = text.substr(0, colon);
    const auto digits = text.substr(colon + 1);
    int index = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    const bool number = ec == std::errc() && end == digits.data() + digits.size() && index >= 0 && !digits.empty();
    if (number && prefix == "gpu") return DeviceId::cuda(index);
    for (auto kind : {DeviceKind::cuda, DeviceKind::sim, DeviceKind::vulkan, DeviceKind::remote})
      if (number && prefix == hetex::to_string(kind)) return DeviceId{kind, index};
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
  d.id_ = {backend->kind(), backend->info().index};
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
  if (gpu_) return gpu_->describe();
  char buf[256];
  std::snprintf(buf, sizeof buf, "cpu (%s, %u threads)", cpu_ ? cpu_->model.c_str() : "unknown",
                cpu_ ? cpu_->logical_cores : 0u);
  return buf;
}

}  // namespace hetex
