// SPDX-License-Identifier: MIT
#pragma once
// One Vulkan logical device: its queues (a compute queue, and transfer queues where the device
// has a transfer-only family), their timeline semaphores, the memory types the backend uses,
// recycled command contexts, a completion monitor, and caches of kernels and per-device tables.
//
// Ownership: Buffers, Kernels and gates made for callers hold a shared_ptr<Device>, so the
// device outlives them; what the device caches itself (kernels, tables) it destroys in its
// destructor, after waiting for the device to go idle.
#include <vulkan/vulkan.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/core/gate.hpp"
#include "hetex/core/unique_function.hpp"
#include "vulkan/handle.hpp"
#include "vulkan/info.hpp"
#include "vulkan/instance.hpp"

namespace hetex::vulkan {

class Device;
class Kernel;
class TimelineGate;
struct KernelSpec;

// Work submitted to a queue up to `value` of its timeline semaphore is done once the semaphore
// reaches `value`.
struct TimelinePoint {
  VkSemaphore semaphore = VK_NULL_HANDLE;
  std::uint64_t value = 0;
  explicit operator bool() const noexcept { return semaphore != VK_NULL_HANDLE; }
};

enum class QueueRole : std::uint8_t { compute, upload, download };

// One VkQueue with its timeline: every submission signals the next value. Submissions are
// serialized (Vulkan wants a queue externally synchronized).
class Queue {
 public:
  std::uint32_t family() const noexcept { return family_; }
  // Submits `cb`, which first waits for `waits` (all of them, at every stage), and signals the
  // next value of this queue's timeline.
  Result<TimelinePoint> submit(VkCommandBuffer cb, std::span<const TimelinePoint> waits);

 private:
  friend class Device;
  Device* device_ = nullptr;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::uint32_t family_ = 0;
  UniqueSemaphore timeline_;
  std::mutex m_;
  std::uint64_t last_ = 0;
};

enum class MemoryUse : std::uint8_t {
  device,    // device-local; kernels read and write it
  upload,    // host-visible, written by the host, read by copies (write-combined is fine)
  readback,  // host-visible and cached, written by copies, read by the host
};
std::string_view to_string(MemoryUse use) noexcept;

struct MemoryType {
  std::uint32_t index = 0;
  std::uint32_t heap = 0;
  bool host_visible = false;
  bool coherent = false;
};

// A command buffer and the descriptor pools of its dispatches; recycled once its work is done.
struct CommandContext {
  std::uint32_t family = 0;
  UniqueCommandPool pool;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  std::vector<UniqueDescriptorPool> descriptors;
  TimelinePoint done;
};

struct DeviceOptions {
  // Copies go to a transfer-only queue where the device has one. Off: everything on the compute
  // queue (how a device without a transfer family runs anyway).
  bool transfer_queue = true;
};

class Device : public std::enable_shared_from_this<Device> {
 public:
  static Result<std::shared_ptr<Device>> open(std::shared_ptr<Instance> instance, std::uint32_t index,
                                              DeviceOptions options = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const PhysicalDeviceInfo& info() const noexcept { return info_; }
  const Instance& instance() const noexcept { return *instance_; }
  VkDevice handle() const noexcept { return device_; }
  VkPhysicalDevice physical() const noexcept { return physical_; }
  // "vulkan:0"
  std::string name() const { return "vulkan:" + std::to_string(info_.index); }

  // A fault (VK_ERROR_DEVICE_LOST) retires the device: every later call fails with device_lost.
  bool healthy() const noexcept { return healthy_.load(); }
  Status check_healthy() const;
  // The error for a failed call; VK_ERROR_DEVICE_LOST retires the device.
  Error fail(VkResult r, std::string_view what);
  Status check(VkResult r, std::string_view what) {
    if (r == VK_SUCCESS) return {};
    return fail(r, what);
  }

  Queue& queue(QueueRole role) noexcept { return *roles_[static_cast<int>(role)]; }
  // Whether copies run on a queue of their own (then buffers are shared between two families).
  bool separate_transfer() const noexcept { return separate_transfer_; }
  std::span<const std::uint32_t> families() const noexcept { return families_; }

  Result<MemoryType> memory_type(MemoryUse use, std::uint32_t type_bits) const;
  // Heap accounting: the backend refuses an allocation that would take a heap past its size
  // (out_of_memory) instead of asking the driver for it.
  Status reserve_heap(std::uint32_t heap, std::uint64_t bytes, std::string_view what);
  void release_heap(std::uint32_t heap, std::uint64_t bytes) noexcept;
  std::uint64_t heap_used(std::uint32_t heap) const noexcept;

  // Whether `point` has been reached: nullopt while not, the outcome once it has.
  std::optional<Status> poll(const TimelinePoint& point);
  // Blocks until `point` is reached (or the device is lost).
  Status wait(const TimelinePoint& point);
  // Calls done(status) once `gate` opens, from this device's monitor thread.
  void watch(std::shared_ptr<TimelineGate> gate, detail::UniqueFunction<void(Status)> done);

  Result<std::unique_ptr<CommandContext>> acquire_context(std::uint32_t family);
  // Takes back a submitted context; it is reused once its `done` point is reached.
  void recycle(std::unique_ptr<CommandContext> ctx);

  // A kernel built from `spec` and kept for the life of the device.
  Result<const Kernel*> kernel(const KernelSpec& spec);
  // A per-device object (a table, a workspace) made once by `make` and kept for the device's life.
  template <class T, class Make>
  Result<T*> resource(const std::string& key, Make&& make) {
    std::lock_guard lock(resources_m_);
    if (auto it = resources_.find(key); it != resources_.end()) return static_cast<T*>(it->second.get());
    Result<std::shared_ptr<T>> made = make();
    if (!made) return std::move(made).error();
    T* raw = made->get();
    resources_.emplace(key, std::move(*made));
    return raw;
  }

 private:
  struct Monitor;
  Device() = default;
  Status init(DeviceOptions options);
  Status create_queue(Queue& q, std::uint32_t family, std::uint32_t index);

  std::shared_ptr<Instance> instance_;
  PhysicalDeviceInfo info_;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties memory_{};
  std::vector<std::unique_ptr<Queue>> queues_;
  Queue* roles_[3] = {nullptr, nullptr, nullptr};
  bool separate_transfer_ = false;
  std::vector<std::uint32_t> families_;

  std::atomic<bool> healthy_{true};
  mutable std::mutex fault_m_;
  std::string fault_;

  std::unique_ptr<std::atomic<std::uint64_t>[]> heap_used_;

  std::mutex contexts_m_;
  std::vector<std::unique_ptr<CommandContext>> in_flight_, idle_;

  std::shared_ptr<Monitor> monitor_;

  std::mutex kernels_m_;
  std::map<std::string, std::unique_ptr<Kernel>> kernels_;
  std::mutex resources_m_;
  std::map<std::string, std::shared_ptr<void>> resources_;
};

// A gate that opens when the device reaches a timeline point: device work as a hetex Future
// (make_gated_future) or a Gate for whoever tracks in-flight work.
class TimelineGate final : public detail::Gate, public std::enable_shared_from_this<TimelineGate> {
 public:
  TimelineGate(std::shared_ptr<Device> device, TimelinePoint point) : device_(std::move(device)), point_(point) {}
  std::optional<Status> poll() override { return device_->poll(point_); }
  Status wait() override { return device_->wait(point_); }
  void notify(detail::UniqueFunction<void(Status)> done) override {
    device_->watch(shared_from_this(), std::move(done));
  }
  const TimelinePoint& point() const noexcept { return point_; }

 private:
  std::shared_ptr<Device> device_;
  TimelinePoint point_;
};

inline detail::GatePtr make_gate(std::shared_ptr<Device> device, TimelinePoint point) {
  return std::make_shared<TimelineGate>(std::move(device), point);
}

}  // namespace hetex::vulkan
