// SPDX-License-Identifier: MIT
#pragma once
// A fake GPU behind the backend seam (hetex/core/backend.hpp), for testing code written against
// it on machines without a GPU: "device" memory is host memory, each stream runs its work in
// order on a worker thread of its own (so work lags behind the host as on a real device), and
// faults can be injected: a copy that fails, a launch that fails, work that retires the device
// when it runs. Like CUDA: a pageable source is read before copy() returns, a copy into
// pageable memory returns once done, gates of a retired device report device_lost.
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hetex/core/backend.hpp"

namespace hetex_test {

class FakeGpu final : public hetex::detail::GpuDevice, public std::enable_shared_from_this<FakeGpu> {
 public:
  static std::shared_ptr<FakeGpu> create(int index = 7);
  ~FakeGpu() override;

  // A simulated device as far as hetex can tell (it is no CUDA device).
  hetex::DeviceKind kind() const override { return hetex::DeviceKind::sim; }
  const hetex::GpuInfo& info() const override { return info_; }
  std::string describe() const override { return "fake GPU " + std::to_string(info_.index); }
  bool healthy() const override;
  std::uint64_t generation() const override;
  hetex::Result<hetex::MemoryInfo> memory_info() override;
  hetex::Result<void*> allocate(hetex::MemoryKind kind, std::size_t bytes) override;
  void deallocate(hetex::MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept override;
  hetex::Result<void*> device_pointer(void* mapped_host) override;
  bool is_pinned(const void* ptr) override;
  hetex::Result<std::shared_ptr<hetex::detail::StreamImpl>> create_stream() override;
  hetex::Result<std::shared_ptr<hetex::detail::DeviceMemPool>> create_mem_pool(std::size_t release_threshold) override;

  // Fault injection. The copy with this number (counted over every stream from 0) fails when
  // it is called, as a cudaMemcpyAsync with a bad argument would; the device stays healthy.
  void fail_copy_at(std::size_t n);
  // Retires the device now: work not yet run is dropped, every gate reports device_lost.
  void lose();
  // Each piece of stream work sleeps this long first, so the host runs ahead of the device.
  void set_latency(std::chrono::microseconds latency);

  std::size_t copies_called() const;
  std::size_t live_allocations() const;

  // For the fake's streams.
  struct State;
  const std::shared_ptr<State>& state() const { return state_; }

 private:
  FakeGpu() = default;
  hetex::GpuInfo info_;
  std::shared_ptr<State> state_;
};

// What a "kernel" does on a fake stream: the launch callable is given the stream's handle.
// Runs `work` in stream order on the stream's worker.
void fake_enqueue(hetex::NativeStream s, std::function<void()> work);
// Makes the launch in progress on `s` fail (as a bad launch configuration does).
void fake_fail_launch(hetex::NativeStream s);
// Work that retires the device when it runs (as a kernel fault does).
void fake_fault(hetex::NativeStream s);

}  // namespace hetex_test
