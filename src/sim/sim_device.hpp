// SPDX-License-Identifier: MIT
#pragma once
// The simulated backend: the backend interface over host memory and host threads. Work runs when
// it is enqueued, on the caller's thread; what is simulated is when it completes.

#include <chrono>
#include <mutex>
#include <string>

#include "hetex/core/simulated_gpu.hpp"

namespace hetex::sim {

using Clock = std::chrono::steady_clock;

class SimDevice final : public detail::GpuDevice, public std::enable_shared_from_this<SimDevice> {
 public:
  SimDevice(int index, SimulatedGpu spec);

  DeviceKind kind() const override { return DeviceKind::sim; }
  const GpuInfo& info() const override { return info_; }
  std::string describe() const override;
  // A simulated device is never retired: a lost one comes back when *lost is cleared.
  bool healthy() const override { return true; }
  std::uint64_t generation() const override { return 0; }
  Result<MemoryInfo> memory_info() override;
  Result<void*> allocate(MemoryKind kind, std::size_t bytes) override;
  void deallocate(MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept override;
  Result<void*> device_pointer(void* mapped_host) override { return mapped_host; }
  // Its memory is host memory: nothing is read by DMA.
  bool is_pinned(const void*) override { return false; }
  Result<std::shared_ptr<detail::StreamImpl>> create_stream() override;
  Result<std::shared_ptr<detail::DeviceMemPool>> create_mem_pool(std::size_t release_threshold) override;

  std::string name() const { return "sim:" + std::to_string(info_.index); }
  const SimulatedGpu& spec() const { return spec_; }
  // device_lost while the simulated device is lost.
  Status check_present() const;

 private:
  SimulatedGpu spec_;
  GpuInfo info_;
};

// Opens at a point in time, with an outcome.
class TimedGate final : public detail::Gate, public std::enable_shared_from_this<TimedGate> {
 public:
  explicit TimedGate(Clock::time_point at) : at_(at) {}
  std::optional<Status> poll() override;
  Status wait() override;
  void notify(detail::UniqueFunction<void(Status)> done) override;
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

}  // namespace hetex::sim
