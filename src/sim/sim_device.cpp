// SPDX-License-Identifier: MIT
// Devices and memory of the simulated backend.
#include "sim/sim_device.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hetex::sim {
namespace {

constexpr std::size_t kAlignment = 256;

std::size_t physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

void* host_alloc(std::size_t bytes) {
  if (bytes > (std::size_t(1) << 48)) return nullptr;  // no host has this much; aligned_alloc might overcommit
  return std::aligned_alloc(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
}

// A pool of host memory: work on a simulated queue has run by the time it is enqueued, so a free
// in a queue's order is a free now.
class SimMemPool final : public detail::DeviceMemPool {
 public:
  explicit SimMemPool(std::shared_ptr<SimDevice> dev) : dev_(std::move(dev)) {}
  Result<void*> allocate(detail::StreamImpl&, std::size_t bytes) override {
    HETEX_TRY_VOID(dev_->check_present());
    void* p = host_alloc(bytes);
    if (!p)
      return Error(Errc::out_of_memory,
                   dev_->name() + ": host allocation of " + std::to_string(bytes) + " bytes failed");
    std::lock_guard lock(m_);
    reserved_ += bytes;
    sizes_.push_back({p, bytes});
    return p;
  }
  void deallocate(detail::StreamImpl&, void* ptr) noexcept override {
    if (!ptr) return;
    std::lock_guard lock(m_);
    for (auto& s : sizes_) {
      if (s.first != ptr) continue;
      reserved_ -= s.second;
      s = sizes_.back();
      sizes_.pop_back();
      break;
    }
    std::free(ptr);
  }
  std::size_t reserved_bytes() noexcept override {
    std::lock_guard lock(m_);
    return reserved_;
  }
  Status trim(std::size_t) override { return dev_->check_present(); }

 private:
  std::shared_ptr<SimDevice> dev_;
  std::mutex m_;
  std::size_t reserved_ = 0;
  std::vector<std::pair<void*, std::size_t>> sizes_;
};

}  // namespace

SimDevice::SimDevice(int index, SimulatedGpu spec) : spec_(std::move(spec)) {
  info_.index = index;
  info_.name = "simulated GPU";
  info_.multiprocessors = 1;
  info_.total_memory = physical_memory();
  info_.can_map_host_memory = true;
  info_.managed_memory = true;
  info_.concurrent_managed_access = true;
}

std::string SimDevice::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s (simulated GPU, %lld us + %.3g items/s)", name().c_str(),
                static_cast<long long>(spec_.latency.count()), spec_.items_per_second);
  return buf;
}

Status SimDevice::check_present() const {
  if (spec_.lost && spec_.lost->load()) return Error(Errc::device_lost, "simulated device " + name() + " is lost");
  return {};
}

Result<MemoryInfo> SimDevice::memory_info() {
  HETEX_TRY_VOID(check_present());
  const long avail = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  const std::size_t free = avail > 0 && page > 0 ? static_cast<std::size_t>(avail) * static_cast<std::size_t>(page) : 0;
  return MemoryInfo{free, info_.total_memory};
}

Result<void*> SimDevice::allocate(MemoryKind kind, std::size_t bytes) {
  if (kind == MemoryKind::host) return Error(Errc::invalid_argument, "host memory is not allocated through a device");
  if (bytes == 0) return static_cast<void*>(nullptr);
  HETEX_TRY_VOID(check_present());
  void* p = host_alloc(bytes);
  if (!p)
    return Error(Errc::out_of_memory, name() + ": " + std::string(to_string(kind)) + " allocation of " +
                                          std::to_string(bytes) + " bytes failed");
  return p;
}

void SimDevice::deallocate(MemoryKind, void* ptr, std::size_t, std::uint64_t) noexcept { std::free(ptr); }

Result<std::shared_ptr<detail::DeviceMemPool>> SimDevice::create_mem_pool(std::size_t) {
  HETEX_TRY_VOID(check_present());
  return std::shared_ptr<detail::DeviceMemPool>(std::make_shared<SimMemPool>(shared_from_this()));
}

}  // namespace hetex::sim

namespace hetex {

Result<Device> make_simulated_gpu(int index, SimulatedGpu spec) {
  if (index < 0)
    return Error(Errc::invalid_argument, "a simulated GPU's index must be 0 or more, not " + std::to_string(index));
  if (!(spec.items_per_second > 0))
    return Error(Errc::invalid_argument, "simulated GPU sim:" + std::to_string(index) + " needs items_per_second > 0");
  if (spec.latency.count() < 0)
    return Error(Errc::invalid_argument,
                 "simulated GPU sim:" + std::to_string(index) + " needs a latency of 0 or more");
  return Device::gpu(std::make_shared<sim::SimDevice>(index, std::move(spec)));
}

}  // namespace hetex
