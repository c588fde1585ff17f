// SPDX-License-Identifier: MIT
#pragma once
// Buffers: one VkBuffer with its own VkDeviceMemory. Device buffers are device-local; upload and
// readback buffers are host-visible and mapped for their whole life (the pinned-memory
// equivalent: the copy engines read and write them directly). Every buffer can be a storage
// buffer and the source and destination of copies; where copies run on a transfer queue of
// their own, buffers are shared between the two queue families (no ownership transfers).
// Sizes are rounded up to 256 bytes, so kernels may read whole 16-byte granules past the end.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <span>

#include "hetex/core/error.hpp"
#include "vulkan/device.hpp"
#include "vulkan/handle.hpp"

namespace hetex::vulkan {

class Buffer {
 public:
  // Keeps `device` alive. out_of_memory, without asking the driver, for more than the heap holds
  // (what is already allocated counted) or more than one allocation may be.
  static Result<Buffer> create(std::shared_ptr<Device> device, std::uint64_t bytes, MemoryUse use);
  // For objects the device itself keeps (Device::resource): does not keep the device alive.
  static Result<Buffer> create_owned(Device& device, std::uint64_t bytes, MemoryUse use);

  Buffer() = default;
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  ~Buffer();

  explicit operator bool() const noexcept { return static_cast<bool>(buffer_); }
  VkBuffer handle() const noexcept { return buffer_.get(); }
  std::uint64_t size() const noexcept { return size_; }          // as asked for
  std::uint64_t capacity() const noexcept { return capacity_; }  // as allocated
  MemoryUse use() const noexcept { return use_; }
  Device& device() const noexcept { return *device_; }

  // The mapped bytes of an upload or readback buffer (empty for device buffers).
  std::span<std::uint8_t> host() const noexcept { return {mapped_, mapped_ ? size_ : 0}; }
  // Makes host writes visible to the device / device writes visible to the host, where the
  // memory type is not coherent (no-ops where it is).
  Status flush(std::uint64_t offset, std::uint64_t bytes) const;
  Status invalidate(std::uint64_t offset, std::uint64_t bytes) const;

 private:
  static Result<Buffer> make(Device& device, std::uint64_t bytes, MemoryUse use);
  void release() noexcept;

  std::shared_ptr<Device> keep_;
  Device* device_ = nullptr;
  UniqueMemory memory_;
  UniqueBuffer buffer_;
  std::uint8_t* mapped_ = nullptr;
  std::uint64_t size_ = 0, capacity_ = 0, reserved_ = 0;
  std::uint32_t heap_ = 0;
  MemoryUse use_ = MemoryUse::device;
  bool coherent_ = true;
};

}  // namespace hetex::vulkan
