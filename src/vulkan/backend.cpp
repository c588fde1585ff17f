// SPDX-License-Identifier: MIT
// The Vulkan backend's devices, memory and discovery (src/vulkan/backend.hpp).
#include "vulkan/backend.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>

namespace hetex::vulkan {
namespace {

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGE_SIZE));
  return page;
}
std::size_t reserved_bytes(std::size_t bytes) { return (bytes + page_size() - 1) / page_size() * page_size(); }

std::string gib(std::uint64_t bytes) {
  char b[32];
  if (bytes < (1ull << 30))
    std::snprintf(b, sizeof b, "%.0f MiB", double(bytes) / double(1ull << 20));
  else
    std::snprintf(b, sizeof b, "%.1f GiB", double(bytes) / double(1ull << 30));
  return b;
}

}  // namespace

GpuDevice::GpuDevice(std::shared_ptr<Instance> instance, const PhysicalDeviceInfo& info, std::string unused_reason)
    : instance_(std::move(instance)), physical_(info), unused_reason_(std::move(unused_reason)) {
  info_.index = static_cast<int>(info.index);
  info_.name = info.name;
  info_.multiprocessors = static_cast<int>(std::max<std::uint32_t>(1, info.multiprocessors));
  info_.total_memory = info.device_local_bytes;
  info_.shared_memory_per_block_optin = info.max_shared_memory;
  info_.async_engines = static_cast<int>(info.transfer_queues);
}

GpuDevice::~GpuDevice() {
  std::lock_guard lock(regions_m_);
  for (auto& [base, r] : regions_)
    if (r.kind == MemoryKind::device) ::munmap(reinterpret_cast<void*>(base), reserved_bytes(r.bytes));
}

std::string GpuDevice::describe() const {
  return "vulkan:" + std::to_string(physical_.index) + " (" + physical_.name + ", " +
         std::string(to_string(physical_.type)) + ", " + physical_.vendor + ", " + gib(physical_.device_local_bytes) +
         ", " + physical_.driver + ")";
}

std::vector<std::pair<std::string, std::string>> GpuDevice::details() const {
  const auto& p = physical_;
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  std::string api = n(p.api_version >> 22) + "." + n((p.api_version >> 12) & 0x3ff) + "." + n(p.api_version & 0xfff);
  std::string features = "subgroup " + n(p.subgroup_size);
  if (p.int64) features += ", int64";
  if (p.storage8) features += ", 8-bit storage";
  if (p.transfer_family) features += ", transfer queue";
  return {{"vendor", p.vendor},
          {"type", std::string(to_string(p.type))},
          {"driver", p.driver + ", Vulkan " + api},
          {"memory", gib(p.device_local_bytes) + " device-local"},
          {"limits", "workgroup " + n(p.max_workgroup_invocations) + " invocations, shared " +
                         n(p.max_shared_memory / 1024) + " KiB, binding " + gib(p.max_storage_buffer_range) +
                         ", allocation " + gib(p.max_allocation_bytes)},
          {"features", features}};
}

bool GpuDevice::healthy() const {
  std::lock_guard lock(open_m_);
  return !device_ || device_->healthy();
}

Result<Device*> GpuDevice::open() {
  std::lock_guard lock(open_m_);
  if (!device_) device_ = HETEX_TRY(Device::open(instance_, physical_.index));
  return device_.get();
}

Result<MemoryInfo> GpuDevice::memory_info() {
  Device* dev = HETEX_TRY(open());
  HETEX_TRY_VOID(dev->check_healthy());
  std::uint64_t used = 0;
  for (std::uint32_t h = 0; h < physical_.heaps.size(); ++h)
    if (physical_.heaps[h].device_local && physical_.heaps[h].bytes == physical_.device_local_bytes)
      used = dev->heap_used(h);
  const std::uint64_t total = physical_.device_local_bytes;
  return MemoryInfo{static_cast<std::size_t>(total - std::min(used, total)), static_cast<std::size_t>(total)};
}

Result<void*> GpuDevice::place(std::shared_ptr<Buffer> buffer, MemoryKind kind) {
  const std::uint64_t bytes = buffer->size();
  void* at = nullptr;
  if (kind == MemoryKind::device) {
    at = ::mmap(nullptr, reserved_bytes(bytes), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (at == MAP_FAILED)
      return Error(Errc::out_of_memory, "vulkan:" + std::to_string(physical_.index) + ": no address range of " +
                                            std::to_string(bytes) + " bytes left for device memory");
  } else {
    at = buffer->host().data();
  }
  std::lock_guard lock(regions_m_);
  regions_[reinterpret_cast<std::uintptr_t>(at)] = Region{bytes, std::move(buffer), kind};
  return at;
}

Result<void*> GpuDevice::allocate(MemoryKind kind, std::size_t bytes) {
  const std::string id = "vulkan:" + std::to_string(physical_.index);
  switch (kind) {
    case MemoryKind::host: return Error(Errc::invalid_argument, "host memory is not allocated through a device");
    case MemoryKind::mapped:
    case MemoryKind::managed:
      return Error(Errc::invalid_argument, id + " has no " + std::string(to_string(kind)) +
                                               " memory: Vulkan kernels read device memory, and host-visible "
                                               "(pinned) memory through copies");
    default: break;
  }
  if (bytes == 0) return static_cast<void*>(nullptr);
  Device* dev = HETEX_TRY(open());
  auto made = Buffer::create(dev->shared_from_this(), bytes,
                             kind == MemoryKind::device ? MemoryUse::device : MemoryUse::readback);
  if (!made) return std::move(made).error().with_context(id + ": " + std::string(to_string(kind)) + " allocation");
  return place(std::make_shared<Buffer>(std::move(*made)), kind);
}

std::shared_ptr<Buffer> GpuDevice::take(void* ptr) {
  std::lock_guard lock(regions_m_);
  auto it = regions_.find(reinterpret_cast<std::uintptr_t>(ptr));
  if (it == regions_.end()) return nullptr;
  auto buffer = std::move(it->second.buffer);
  if (it->second.kind == MemoryKind::device) ::munmap(ptr, reserved_bytes(it->second.bytes));
  regions_.erase(it);
  return buffer;
}

void GpuDevice::deallocate(MemoryKind, void* ptr, std::size_t, std::uint64_t) noexcept {
  if (ptr) (void)take(ptr);
}

Result<void*> GpuDevice::device_pointer(void*) {
  return Error(Errc::invalid_argument,
               "vulkan:" + std::to_string(physical_.index) + " has no mapped memory (Vulkan kernels bind buffers)");
}

Resolved GpuDevice::resolve(const void* ptr) {
  const auto p = reinterpret_cast<std::uintptr_t>(ptr);
  std::lock_guard lock(regions_m_);
  auto it = regions_.upper_bound(p);
  if (it == regions_.begin()) return {};
  --it;
  const std::uint64_t off = p - it->first;
  if (off >= std::max<std::uint64_t>(it->second.bytes, 1)) return {};
  return {it->second.buffer, off, it->second.bytes - off};
}

bool GpuDevice::is_pinned(const void* ptr) {
  auto r = resolve(ptr);
  return r.buffer && r.buffer->use() != MemoryUse::device;
}

Result<Device*> device_of(const hetex::Device& device) {
  auto* vk = dynamic_cast<GpuDevice*>(device.backend());
  if (!vk) return Error(Errc::unavailable, device.id().to_string() + " is not a Vulkan device");
  return vk->open();
}

namespace {

class VulkanBackend final : public hetex::detail::Backend {
 public:
  DeviceKind kind() const noexcept override { return DeviceKind::vulkan; }
  const hetex::detail::GpuDiscovery& discover() override {
    std::call_once(once_, [this] { found_ = find(); });
    return found_;
  }

 private:
  static hetex::detail::GpuDiscovery find() {
    hetex::detail::GpuDiscovery d;
    auto instance = Instance::process();
    if (!instance) {
      d.reason = "no Vulkan: " + instance.error().message();
      return d;
    }
    // The CUDA backend drives NVIDIA GPUs when it has any; their Vulkan devices then run only
    // when asked for (the same GPU twice in one scheduler would be counted as two).
    const bool cuda = !hetex::detail::cuda_backend().discover().devices.empty();
    for (const auto& info : (*instance)->devices()) {
      if (!info.usable) continue;
      std::string unused;
      if (info.is_cpu())
        unused = "a software device on the CPU's own cores: used only when asked for (HETEX_DEVICES=vulkan:" +
                 std::to_string(info.index) + ")";
      else if (cuda && info.vendor_id == 0x10de)
        unused =
            "an NVIDIA GPU, used through CUDA unless asked for (HETEX_DEVICES=vulkan:" + std::to_string(info.index) +
            ")";
      d.devices.push_back(std::make_shared<GpuDevice>(*instance, info, std::move(unused)));
    }
    if (d.devices.empty()) d.reason = "no usable Vulkan device";
    return d;
  }
  std::once_flag once_;
  hetex::detail::GpuDiscovery found_;
};

}  // namespace
}  // namespace hetex::vulkan

namespace hetex::detail {

Backend& vulkan_backend() {
  // Leaked on purpose, like the CUDA discovery: its devices outlive every static holding a buffer.
  static auto* backend = new vulkan::VulkanBackend;
  return *backend;
}

}  // namespace hetex::detail
