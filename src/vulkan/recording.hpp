// SPDX-License-Identifier: MIT
#pragma once
// Recording work for one queue: copies, dispatches and the barriers between them, submitted as
// one command buffer that signals the queue's timeline. Dependencies between queues go through
// the timeline points a submission waits for; inside one command buffer, through barrier().
#include <vulkan/vulkan.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>

#include "hetex/core/error.hpp"
#include "vulkan/device.hpp"

namespace hetex::vulkan {

class Buffer;
class Kernel;

// Who touches memory on either side of a barrier.
enum class Access : std::uint8_t { transfer, compute, host };

// A storage-buffer binding: `bytes` from `offset` (offset a multiple of the device's storage
// alignment), or everything from offset to the end with kWhole (up to the device's largest
// binding, maxStorageBufferRange).
struct Binding {
  static constexpr std::uint64_t kWhole = VK_WHOLE_SIZE;
  const Buffer* buffer = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t bytes = kWhole;
};

class Recording {
 public:
  static Result<Recording> begin(Device& device, QueueRole role);
  Recording(Recording&&) noexcept = default;
  Recording& operator=(Recording&&) noexcept = default;
  // An unsubmitted recording is dropped; its command buffer is reused.
  ~Recording();

  void copy(const Buffer& src, std::uint64_t src_offset, const Buffer& dst, std::uint64_t dst_offset,
            std::uint64_t bytes);
  // Fills with a 32-bit pattern; offset and bytes multiples of 4.
  void fill(const Buffer& dst, std::uint64_t offset, std::uint64_t bytes, std::uint32_t word);
  // Makes the writes of earlier `from` work visible to later `to` work (and orders the two).
  void barrier(Access from, Access to);
  // Binds `bindings` (as many as the kernel has, in order) and the push constants (exactly the
  // kernel's push_bytes), and dispatches groups x * y * z.
  Status dispatch(const Kernel& kernel, std::span<const Binding> bindings, const void* push, std::size_t push_bytes,
                  std::uint32_t x, std::uint32_t y = 1, std::uint32_t z = 1);
  Status dispatch(const Kernel& kernel, std::initializer_list<Binding> bindings, const void* push,
                  std::size_t push_bytes, std::uint32_t x, std::uint32_t y = 1, std::uint32_t z = 1) {
    return dispatch(kernel, std::span<const Binding>(bindings.begin(), bindings.size()), push, push_bytes, x, y, z);
  }
  template <class Push>
  Status dispatch(const Kernel& kernel, std::initializer_list<Binding> bindings, const Push& push, std::uint32_t x,
                  std::uint32_t y = 1, std::uint32_t z = 1) {
    return dispatch(kernel, bindings, &push, sizeof(Push), x, y, z);
  }

  // Ends the command buffer and submits it after `waits`. The recording is spent either way.
  Result<TimelinePoint> submit(std::span<const TimelinePoint> waits = {});
  Queue& queue() const noexcept { return *queue_; }

 private:
  Recording() = default;
  Result<VkDescriptorSet> allocate_set(VkDescriptorSetLayout layout);
  Device* device_ = nullptr;
  Queue* queue_ = nullptr;
  std::unique_ptr<CommandContext> ctx_;
};

}  // namespace hetex::vulkan
