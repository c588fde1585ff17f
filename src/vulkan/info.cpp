// SPDX-License-Identifier: MIT
#include "vulkan/info.hpp"

#include <cstdio>

namespace hetex::vulkan {

std::string_view to_string(DeviceType t) noexcept {
  switch (t) {
    case DeviceType::discrete: return "discrete";
    case DeviceType::integrated: return "integrated";
    case DeviceType::virtual_gpu: return "virtual";
    case DeviceType::cpu: return "cpu";
    default: return "other";
  }
}

std::string vendor_name(std::uint32_t id) {
  switch (id) {
    case 0x10de: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case 0x106b: return "Apple";
    case 0x10005: return "Mesa";
    case 0x1ae0: return "Google";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "vendor 0x%x", id);
      return buf;
    }
  }
}

std::string PhysicalDeviceInfo::describe() const {
  char mem[32];
  std::snprintf(mem, sizeof mem, "%.1f GiB", double(device_local_bytes) / double(1ull << 30));
  std::string s = "vulkan:" + std::to_string(index) + " " + name + " (" + std::string(to_string(type)) + ", " + driver +
                  ", " + mem + ", subgroup " + std::to_string(subgroup_size) + (int64 ? ", int64" : ", no int64");
  if (multiprocessors) s += ", " + std::to_string(multiprocessors) + " SMs";
  if (transfer_family) s += ", transfer queue";
  s += ")";
  if (!usable) s += " unusable: " + unusable_reason;
  return s;
}

std::vector<std::uint32_t> default_selection(std::span<const PhysicalDeviceInfo> devices) {
  std::vector<std::uint32_t> gpus, cpus;
  for (const auto& d : devices) {
    if (!d.usable) continue;
    (d.is_cpu() ? cpus : gpus).push_back(d.index);
  }
  return gpus.empty() ? cpus : gpus;
}

}  // namespace hetex::vulkan
