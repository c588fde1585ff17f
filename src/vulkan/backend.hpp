// SPDX-License-Identifier: MIT
#pragma once
// The Vulkan backend behind hetex's backend interface (docs/design/backends.md): every usable
// Vulkan physical device is a GpuDevice `vulkan:N`, opened on first use.
//
// Vulkan memory has no host-comparable address, so each allocation gets one: device memory is a
// VkBuffer whose address is a reserved, inaccessible range of the host's address space (a
// dereference faults at once instead of touching other memory), pinned memory is a host-visible
// VkBuffer at its mapped address. A pointer anywhere inside either resolves to (buffer, offset);
// any other pointer is pageable host memory, which copies stage through host-visible buffers.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hetex/core/backend.hpp"
#include "vulkan/device.hpp"
#include "vulkan/memory.hpp"
#include "vulkan/recording.hpp"

namespace hetex::vulkan {

// What a pointer handed to the backend is.
struct Resolved {
  std::shared_ptr<Buffer> buffer;  // null: pageable host memory
  std::uint64_t offset = 0;
  std::uint64_t room = 0;  // bytes from offset to the end of the allocation
};

class GpuDevice final : public hetex::detail::GpuDevice, public std::enable_shared_from_this<GpuDevice> {
 public:
  GpuDevice(std::shared_ptr<Instance> instance, const PhysicalDeviceInfo& info, std::string unused_reason);
  ~GpuDevice() override;

  DeviceKind kind() const override { return DeviceKind::vulkan; }
  const GpuInfo& info() const override { return info_; }
  std::string describe() const override;
  bool healthy() const override;
  std::uint64_t generation() const override { return healthy() ? 0 : 1; }
  Result<MemoryInfo> memory_info() override;
  Result<void*> allocate(MemoryKind kind, std::size_t bytes) override;
  void deallocate(MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept override;
  Result<void*> device_pointer(void* mapped_host) override;
  bool is_pinned(const void* ptr) override;
  Result<std::shared_ptr<hetex::detail::StreamImpl>> create_stream() override;
  Result<std::shared_ptr<hetex::detail::DeviceMemPool>> create_mem_pool(std::size_t release_threshold) override;
  std::string unused_by_default() const override { return unused_reason_; }
  bool software() const override { return physical_.is_cpu(); }
  std::vector<std::pair<std::string, std::string>> details() const override;

  const PhysicalDeviceInfo& physical() const noexcept { return physical_; }
  // The logical device, opened on the first call.
  Result<Device*> open();
  Resolved resolve(const void* ptr);
  // Unregisters an allocation and hands its buffer back (null for an unknown pointer).
  std::shared_ptr<Buffer> take(void* ptr);

 private:
  Result<void*> place(std::shared_ptr<Buffer> buffer, MemoryKind kind);

  std::shared_ptr<Instance> instance_;
  PhysicalDeviceInfo physical_;
  GpuInfo info_;
  std::string unused_reason_;
  mutable std::mutex open_m_;
  std::shared_ptr<Device> device_;
  struct Region {
    std::uint64_t bytes = 0;
    std::shared_ptr<Buffer> buffer;
    MemoryKind kind = MemoryKind::device;
  };
  std::mutex regions_m_;
  std::map<std::uintptr_t, Region> regions_;  // by start address
};

// What a Vulkan queue's NativeStream points to, for code that launches its own work on a
// stream (launch_and_record): record into a Recording on the compute queue, then submit() it
// here, which keeps the stream's order. Every submission of the launch goes through submit().
struct NativeQueue {
  Device* device = nullptr;
  std::vector<TimelinePoint> after;  // what the next submission waits for
  TimelinePoint last;                // the launch's last submission
  Result<TimelinePoint> submit(Recording& rec);
};

// The Vulkan device behind a hetex device (unavailable when it is not one).
Result<Device*> device_of(const hetex::Device& device);

}  // namespace hetex::vulkan
