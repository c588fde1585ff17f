// SPDX-License-Identifier: MIT
#include "vulkan/device.hpp"

#include <algorithm>
#include <chrono>

#include "vulkan/error.hpp"
#include "vulkan/kernel.hpp"

namespace hetex::vulkan {

std::string_view to_string(MemoryUse use) noexcept {
  switch (use) {
    case MemoryUse::device: return "device";
    case MemoryUse::upload: return "upload";
    default: return "readback";
  }
}

// ---- Queue ---------------------------------------------------------------------------------

Result<TimelinePoint> Queue::submit(VkCommandBuffer cb, std::span<const TimelinePoint> waits) {
  HETEX_TRY_VOID(device_->check_healthy());
  std::vector<VkSemaphore> wait_sems;
  std::vector<std::uint64_t> wait_values;
  std::vector<VkPipelineStageFlags> stages;
  for (const auto& w : waits) {
    if (!w) continue;
    wait_sems.push_back(w.semaphore);
    wait_values.push_back(w.value);
    stages.push_back(VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
  }
  std::lock_guard lock(m_);
  const std::uint64_t value = last_ + 1;
  const VkSemaphore signal = timeline_.get();
  auto ts = vk_struct<VkTimelineSemaphoreSubmitInfo>(VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
  ts.waitSemaphoreValueCount = static_cast<std::uint32_t>(wait_values.size());
  ts.pWaitSemaphoreValues = wait_values.data();
  ts.signalSemaphoreValueCount = 1;
  ts.pSignalSemaphoreValues = &value;
  auto si = vk_struct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.pNext = &ts;
  si.waitSemaphoreCount = static_cast<std::uint32_t>(wait_sems.size());
  si.pWaitSemaphores = wait_sems.data();
  si.pWaitDstStageMask = stages.data();
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &signal;
  HETEX_TRY_VOID(device_->check(vkQueueSubmit(queue_, 1, &si, VK_NULL_HANDLE), "vkQueueSubmit"));
  last_ = value;
  return TimelinePoint{signal, value};
}

// ---- Monitor -------------------------------------------------------------------------------

// One thread per device delivers completions: it sleeps in vkWaitSemaphores on every watched
// point at once plus a host-signalled "wake" semaphore that a new watch bumps, so no thread spins
// and none is parked per future. State is shared with the thread: the device may be destroyed by
// the last completion callback, on this very thread.
struct Device::Monitor {
  struct Entry {
    std::shared_ptr<TimelineGate> gate;
    detail::UniqueFunction<void(Status)> done;
  };
  VkDevice device = VK_NULL_HANDLE;
  UniqueSemaphore wake;
  std::mutex m;
  std::condition_variable cv;
  std::deque<Entry> queue;
  std::uint64_t wake_value = 0;
  bool stop = false;
  std::thread thread;

  static void run(std::shared_ptr<Monitor> st) {
    std::vector<Entry> pending;
    for (;;) {
      std::uint64_t seen = 0;
      {
        std::unique_lock lock(st->m);
        st->cv.wait(lock, [&] { return st->stop || !st->queue.empty() || !pending.empty(); });
        if (st->stop) return;
        while (!st->queue.empty()) {
          pending.push_back(std::move(st->queue.front()));
          st->queue.pop_front();
        }
        seen = st->wake_value;
      }
      bool delivered = false;
      for (std::size_t i = 0; i < pending.size();) {
        std::optional<Status> s = pending[i].gate->poll();
        if (!s) {
          ++i;
          continue;
        }
        Entry e = std::move(pending[i]);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        e.done(std::move(*s));
        delivered = true;
      }  // the last entry may have taken the device with it: check before touching Vulkan
      {
        std::lock_guard lock(st->m);
        if (st->stop) return;
      }
      if (delivered || pending.empty()) continue;
      std::vector<VkSemaphore> sems;
      std::vector<std::uint64_t> values;
      for (const auto& e : pending) {
        const TimelinePoint& p = e.gate->point();
        auto it = std::find(sems.begin(), sems.end(), p.semaphore);
        if (it == sems.end()) {
          sems.push_back(p.semaphore);
          values.push_back(p.value);
        } else {
          auto& v = values[static_cast<std::size_t>(it - sems.begin())];
          v = std::min(v, p.value);
        }
      }
      sems.push_back(st->wake.get());
      values.push_back(seen + 1);
      auto wi = vk_struct<VkSemaphoreWaitInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO);
      wi.flags = VK_SEMAPHORE_WAIT_ANY_BIT;
      wi.semaphoreCount = static_cast<std::uint32_t>(sems.size());
      wi.pSemaphores = sems.data();
      wi.pValues = values.data();
      // A lost device returns an error here; the next sweep's poll() reports it to each entry.
      (void)vkWaitSemaphores(st->device, &wi, 1'000'000'000ull);
    }
  }
};

void Device::watch(std::shared_ptr<TimelineGate> gate, detail::UniqueFunction<void(Status)> done) {
  Monitor& mon = *monitor_;
  std::lock_guard lock(mon.m);
  if (!mon.thread.joinable()) mon.thread = std::thread(&Monitor::run, monitor_);
  mon.queue.push_back({std::move(gate), std::move(done)});
  ++mon.wake_value;
  auto si = vk_struct<VkSemaphoreSignalInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO);
  si.semaphore = mon.wake.get();
  si.value = mon.wake_value;
  (void)vkSignalSemaphore(device_, &si);  // at worst the thread notices at its next 1 s wake-up
  mon.cv.notify_one();
}

// ---- Device --------------------------------------------------------------------------------

Result<std::shared_ptr<Device>> Device::open(std::shared_ptr<Instance> instance, std::uint32_t index,
                                             DeviceOptions options) {
  if (!instance) return Error(Errc::invalid_argument, "vulkan::Device::open without an instance");
  if (index >= instance->devices().size())
    return Error(Errc::invalid_argument, "vulkan:" + std::to_string(index) + " does not exist (" +
                                             std::to_string(instance->devices().size()) + " Vulkan devices)");
  const PhysicalDeviceInfo& info = instance->devices()[index];
  if (!info.usable)
    return Error(Errc::unavailable, "vulkan:" + std::to_string(index) + " " + info.name + ": " + info.unusable_reason);
  std::shared_ptr<Device> d(new Device());
  d->instance_ = std::move(instance);
  d->info_ = info;
  d->physical_ = d->instance_->physical(index);
  HETEX_TRY_VOID(d->init(options));
  return d;
}

Status Device::create_queue(Queue& q, std::uint32_t family, std::uint32_t index) {
  q.device_ = this;
  q.family_ = family;
  vkGetDeviceQueue(device_, family, index, &q.queue_);
  auto type = vk_struct<VkSemaphoreTypeCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  type.initialValue = 0;
  auto ci = vk_struct<VkSemaphoreCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
  ci.pNext = &type;
  VkSemaphore s = VK_NULL_HANDLE;
  HETEX_TRY_VOID(check(vkCreateSemaphore(device_, &ci, nullptr, &s), "vkCreateSemaphore (timeline)"));
  q.timeline_ = UniqueSemaphore(device_, s);
  return {};
}

Status Device::init(DeviceOptions options) {
  const float priorities[2] = {1.0f, 1.0f};
  std::vector<VkDeviceQueueCreateInfo> qcis;
  auto cq = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  cq.queueFamilyIndex = info_.compute_family;
  cq.queueCount = 1;
  cq.pQueuePriorities = priorities;
  qcis.push_back(cq);
  std::uint32_t transfer_count = 0;
  if (options.transfer_queue && info_.transfer_family) {
    transfer_count = std::min<std::uint32_t>(2, info_.transfer_queues);
    auto tq = vk_struct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
    tq.queueFamilyIndex = *info_.transfer_family;
    tq.queueCount = transfer_count;
    tq.pQueuePriorities = priorities;
    qcis.push_back(tq);
  }

  auto f12 = vk_struct<VkPhysicalDeviceVulkan12Features>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
  f12.timelineSemaphore = VK_TRUE;
  f12.shaderInt8 = info_.int8 ? VK_TRUE : VK_FALSE;
  f12.storageBuffer8BitAccess = info_.storage8 ? VK_TRUE : VK_FALSE;
  auto f2 = vk_struct<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  f2.pNext = &f12;
  f2.features.shaderInt64 = info_.int64 ? VK_TRUE : VK_FALSE;
  f2.features.shaderInt16 = info_.int16 ? VK_TRUE : VK_FALSE;

  auto ci = vk_struct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  ci.pNext = &f2;
  ci.queueCreateInfoCount = static_cast<std::uint32_t>(qcis.size());
  ci.pQueueCreateInfos = qcis.data();
  if (VkResult r = vkCreateDevice(physical_, &ci, nullptr, &device_); r != VK_SUCCESS) {
    device_ = VK_NULL_HANDLE;
    return vk_error(r, "vkCreateDevice for vulkan:" + std::to_string(info_.index) + " " + info_.name);
  }
  vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
  heap_used_ = std::make_unique<std::atomic<std::uint64_t>[]>(memory_.memoryHeapCount);
  for (std::uint32_t i = 0; i < memory_.memoryHeapCount; ++i) heap_used_[i].store(0);

  queues_.push_back(std::make_unique<Queue>());
  HETEX_TRY_VOID(create_queue(*queues_.back(), info_.compute_family, 0));
  roles_[0] = roles_[1] = roles_[2] = queues_.back().get();
  families_.push_back(info_.compute_family);
  if (transfer_count > 0) {
    separate_transfer_ = true;
    families_.push_back(*info_.transfer_family);
    for (std::uint32_t i = 0; i < transfer_count; ++i) {
      queues_.push_back(std::make_unique<Queue>());
      HETEX_TRY_VOID(create_queue(*queues_.back(), *info_.transfer_family, i));
    }
    // Uploads and downloads on queues of their own where there are two (two copy engines).
    roles_[static_cast<int>(QueueRole::upload)] = queues_[1].get();
    roles_[static_cast<int>(QueueRole::download)] = queues_.back().get();
  }

  monitor_ = std::make_shared<Monitor>();
  monitor_->device = device_;
  auto type = vk_struct<VkSemaphoreTypeCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  auto sci = vk_struct<VkSemaphoreCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
  sci.pNext = &type;
  VkSemaphore wake = VK_NULL_HANDLE;
  HETEX_TRY_VOID(check(vkCreateSemaphore(device_, &sci, nullptr, &wake), "vkCreateSemaphore (monitor)"));
  monitor_->wake = UniqueSemaphore(device_, wake);
  return {};
}

Device::~Device() {
  if (device_ == VK_NULL_HANDLE) return;
  (void)vkDeviceWaitIdle(device_);
  if (monitor_) {
    {
      std::lock_guard lock(monitor_->m);
      monitor_->stop = true;
      ++monitor_->wake_value;
      auto si = vk_struct<VkSemaphoreSignalInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO);
      si.semaphore = monitor_->wake.get();
      si.value = monitor_->wake_value;
      if (si.semaphore != VK_NULL_HANDLE) (void)vkSignalSemaphore(device_, &si);
    }
    monitor_->cv.notify_all();
    if (monitor_->thread.joinable()) {
      if (monitor_->thread.get_id() == std::this_thread::get_id()) {
        monitor_->thread.detach();  // the last completion callback took the device: the thread ends by itself
      } else {
        monitor_->thread.join();
      }
    }
    monitor_->wake.reset();
  }
  resources_.clear();
  kernels_.clear();
  in_flight_.clear();
  idle_.clear();
  queues_.clear();
  vkDestroyDevice(device_, nullptr);
}

Status Device::check_healthy() const {
  if (healthy()) return {};
  std::lock_guard lock(fault_m_);
  return Error(Errc::device_lost, name() + " was retired after " + fault_ + "; its buffers and work are gone");
}

Error Device::fail(VkResult r, std::string_view what) {
  Error e = vk_error(r, std::string(what) + " on " + name());
  if (r == VK_ERROR_DEVICE_LOST) {
    std::lock_guard lock(fault_m_);
    if (healthy_.exchange(false)) fault_ = std::string(what) + " reported VK_ERROR_DEVICE_LOST";
  }
  return e;
}

Result<MemoryType> Device::memory_type(MemoryUse use, std::uint32_t type_bits) const {
  VkMemoryPropertyFlags required = 0;
  switch (use) {
    case MemoryUse::device: required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT; break;
    case MemoryUse::upload:
    case MemoryUse::readback: required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT; break;
  }
  int best = -1, best_score = -1;
  for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = memory_.memoryTypes[i].propertyFlags;
    if ((f & required) != required) continue;
    if (f & (VK_MEMORY_PROPERTY_PROTECTED_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT)) continue;
    const bool local = f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, visible = f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    const bool coherent = f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, cached = f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    int score = 0;
    switch (use) {
      case MemoryUse::device:  // plain VRAM, not the small host-visible window of it
        score = visible ? 0 : 4;
        break;
      case MemoryUse::upload:  // system memory the copy engines read; write-combined is fine
        score = (local ? 0 : 4) + (coherent ? 2 : 0);
        break;
      case MemoryUse::readback:  // the host reads it: cached above all
        score = (cached ? 8 : 0) + (local ? 0 : 4) + (coherent ? 2 : 0);
        break;
    }
    if (score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  if (best < 0)
    return Error(Errc::unavailable, name() + " has no " + std::string(to_string(use)) + " memory type for this buffer");
  const VkMemoryPropertyFlags f = memory_.memoryTypes[best].propertyFlags;
  return MemoryType{static_cast<std::uint32_t>(best), memory_.memoryTypes[best].heapIndex,
                    (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0, (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0};
}

Status Device::reserve_heap(std::uint32_t heap, std::uint64_t bytes, std::string_view what) {
  const std::uint64_t size = memory_.memoryHeaps[heap].size;
  std::uint64_t used = heap_used_[heap].load();
  for (;;) {
    if (bytes > size || used > size - bytes)
      return Error(Errc::out_of_memory, std::string(what) + " of " + std::to_string(bytes) + " bytes on " + name() +
                                            ": heap " + std::to_string(heap) + " holds " + std::to_string(size) +
                                            " bytes, " + std::to_string(used) + " of them in use");
    if (heap_used_[heap].compare_exchange_weak(used, used + bytes)) return {};
  }
}

void Device::release_heap(std::uint32_t heap, std::uint64_t bytes) noexcept { heap_used_[heap].fetch_sub(bytes); }

std::uint64_t Device::heap_used(std::uint32_t heap) const noexcept { return heap_used_[heap].load(); }

std::optional<Status> Device::poll(const TimelinePoint& point) {
  if (auto h = check_healthy(); !h) return h;
  std::uint64_t value = 0;
  if (VkResult r = vkGetSemaphoreCounterValue(device_, point.semaphore, &value); r != VK_SUCCESS)
    return Status(fail(r, "vkGetSemaphoreCounterValue"));
  if (value >= point.value) return Status{};
  return std::nullopt;
}

Status Device::wait(const TimelinePoint& point) {
  // A CPU implementation runs the work on the cores a polling waiter would take from it.
  if (!info().is_cpu())
    if (auto s = detail::poll_before_sleeping([&] { return poll(point); })) return std::move(*s);
  auto wi = vk_struct<VkSemaphoreWaitInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO);
  wi.semaphoreCount = 1;
  wi.pSemaphores = &point.semaphore;
  wi.pValues = &point.value;
  for (;;) {
    HETEX_TRY_VOID(check_healthy());
    // In slices, so that a device another thread finds lost does not park this one for ever.
    const VkResult r = vkWaitSemaphores(device_, &wi, 250'000'000ull);
    if (r == VK_SUCCESS) return {};
    if (r != VK_TIMEOUT) return fail(r, "vkWaitSemaphores");
  }
}

Result<std::unique_ptr<CommandContext>> Device::acquire_context(std::uint32_t family) {
  HETEX_TRY_VOID(check_healthy());
  std::unique_ptr<CommandContext> ctx;
  {
    std::lock_guard lock(contexts_m_);
    for (std::size_t i = 0; i < in_flight_.size();) {
      auto done = poll(in_flight_[i]->done);
      if (done && *done) {
        idle_.push_back(std::move(in_flight_[i]));
        in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if ((*it)->family == family) {
        ctx = std::move(*it);
        idle_.erase(it);
        break;
      }
    }
  }
  if (ctx) {
    ctx->done = {};
    HETEX_TRY_VOID(check(vkResetCommandPool(device_, ctx->pool.get(), 0), "vkResetCommandPool"));
    for (auto& p : ctx->descriptors)
      HETEX_TRY_VOID(check(vkResetDescriptorPool(device_, p.get(), 0), "vkResetDescriptorPool"));
    return ctx;
  }
  ctx = std::make_unique<CommandContext>();
  ctx->family = family;
  auto pci = vk_struct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  pci.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  pci.queueFamilyIndex = family;
  VkCommandPool pool = VK_NULL_HANDLE;
  HETEX_TRY_VOID(check(vkCreateCommandPool(device_, &pci, nullptr, &pool), "vkCreateCommandPool"));
  ctx->pool = UniqueCommandPool(device_, pool);
  auto ai = vk_struct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  ai.commandPool = pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  HETEX_TRY_VOID(check(vkAllocateCommandBuffers(device_, &ai, &ctx->cb), "vkAllocateCommandBuffers"));
  return ctx;
}

void Device::recycle(std::unique_ptr<CommandContext> ctx) {
  if (!ctx) return;
  constexpr std::size_t kMaxIdle = 32;
  std::lock_guard lock(contexts_m_);
  if (ctx->done) {
    in_flight_.push_back(std::move(ctx));
  } else if (idle_.size() < kMaxIdle) {
    idle_.push_back(std::move(ctx));  // never submitted: reusable at once
  }
}

Result<const Kernel*> Device::kernel(const KernelSpec& spec) {
  const std::string key = spec.key();
  std::lock_guard lock(kernels_m_);
  if (auto it = kernels_.find(key); it != kernels_.end()) return static_cast<const Kernel*>(it->second.get());
  auto k = HETEX_TRY(Kernel::create_owned(*this, spec));
  const Kernel* raw = k.get();
  kernels_.emplace(key, std::move(k));
  return raw;
}

}  // namespace hetex::vulkan
