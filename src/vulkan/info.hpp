// SPDX-License-Identifier: MIT
#pragma once
// What hetex knows about one Vulkan physical device, in plain types (no Vulkan header), so that
// the layers above (and `hetex devices`) can show it; and which devices hetex uses by default.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hetex::vulkan {

enum class DeviceType : std::uint8_t { discrete, integrated, virtual_gpu, cpu, other };
std::string_view to_string(DeviceType t) noexcept;

struct MemoryHeap {
  std::uint64_t bytes = 0;
  bool device_local = false;
};

struct PhysicalDeviceInfo {
  std::uint32_t index = 0;  // in vkEnumeratePhysicalDevices order: vulkan:<index>
  std::string name;         // "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15.0.6, 256 bits)"
  std::string vendor;       // "NVIDIA", "AMD", "Intel", "Mesa", ... (from the vendor id)
  std::uint32_t vendor_id = 0, device_id = 0;
  DeviceType type = DeviceType::other;
  std::string driver;             // "NVIDIA 550.54", "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)"
  std::uint32_t api_version = 0;  // VK_MAKE_API_VERSION
  std::string uuid;               // deviceUUID as 32 hex digits (CUDA reports the same for its GPUs)

  std::vector<MemoryHeap> heaps;
  std::uint64_t device_local_bytes = 0;  // the largest device-local heap

  // Limits the backend sizes its work by.
  std::uint32_t max_workgroup_invocations = 0;
  std::uint32_t max_workgroup_size[3] = {0, 0, 0};
  std::uint32_t max_workgroup_count[3] = {0, 0, 0};
  std::uint32_t max_shared_memory = 0;
  std::uint64_t max_storage_buffer_range = 0;
  std::uint64_t max_allocation_bytes = 0;
  std::uint32_t max_push_constants = 0;
  std::uint32_t max_storage_buffers = 0;  // per stage
  std::uint64_t min_storage_offset_alignment = 0;
  std::uint32_t multiprocessors = 0;  // VK_NV_shader_sm_builtins; 0 when the driver does not say

  std::uint32_t subgroup_size = 0;
  bool subgroup_arithmetic = false, subgroup_ballot = false, subgroup_shuffle = false;
  bool int64 = false;     // shaderInt64
  bool int16 = false;     // shaderInt16
  bool int8 = false;      // shaderInt8
  bool storage8 = false;  // storageBuffer8BitAccess
  bool timeline_semaphores = false;

  std::uint32_t compute_family = 0, compute_queues = 0;
  std::optional<std::uint32_t> transfer_family;  // a transfer-only family (DMA engines)
  std::uint32_t transfer_queues = 0;

  // Vulkan 1.2, timeline semaphores and a compute queue: what the backend needs.
  bool usable = false;
  std::string unusable_reason;

  bool is_cpu() const noexcept { return type == DeviceType::cpu; }
  // "vulkan:0 NVIDIA H100 80GB HBM3 (discrete, NVIDIA 550.54, 79.6 GiB, subgroup 32, int64)"
  std::string describe() const;
};

// The devices hetex uses when nobody asks for particular ones: every usable device that is not
// a CPU implementation (lavapipe, SwiftShader); those only when no other usable device exists.
// They are correctness devices, not fast ones.
std::vector<std::uint32_t> default_selection(std::span<const PhysicalDeviceInfo> devices);

// "NVIDIA" for 0x10de, ...; "vendor 0x1234" for ids this build does not know.
std::string vendor_name(std::uint32_t vendor_id);

}  // namespace hetex::vulkan
