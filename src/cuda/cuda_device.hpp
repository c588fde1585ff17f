// SPDX-License-Identifier: MIT
#pragma once
// The CUDA backend: the backend interface (include/hetex/core/backend.hpp) over the CUDA runtime.
// Only .cu files include this header.

#include <cuda_runtime.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hetex/core/backend.hpp"

namespace hetex::cuda {

// Errors a kernel leaves behind in its context: every later call on that device fails.
bool is_sticky(cudaError_t e) noexcept;
Errc category(cudaError_t e) noexcept;
std::string describe(cudaError_t e);

class CudaDevice;

// Delivers completion notifications for one GPU from one thread, which waits for the oldest
// pending gate as every waiter does (EventGate::wait: polls, then naps), so no thread is parked
// per stream or per future.
class Monitor {
 public:
  void watch(detail::GatePtr gate, detail::UniqueFunction<void(Status)> done);

 private:
  struct Entry {
    detail::GatePtr gate;
    detail::UniqueFunction<void(Status)> done;
  };
  void run();
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool started_ = false;
};

class CudaDevice final : public detail::GpuDevice, public std::enable_shared_from_this<CudaDevice> {
 public:
  CudaDevice(int index, GpuInfo info) : index_(index), info_(std::move(info)) {}

  DeviceKind kind() const override { return DeviceKind::cuda; }
  const GpuInfo& info() const override { return info_; }
  std::string describe() const override;
  bool healthy() const override { return healthy_.load(); }
  std::uint64_t generation() const override { return generation_.load(); }
  Result<MemoryInfo> memory_info() override;
  Result<void*> allocate(MemoryKind kind, std::size_t bytes) override;
  void deallocate(MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept override;
  Result<void*> device_pointer(void* mapped_host) override;
  bool is_pinned(const void* ptr) override;
  Result<std::shared_ptr<detail::StreamImpl>> create_stream() override;
  Result<std::shared_ptr<detail::DeviceMemPool>> create_mem_pool(std::size_t release_threshold) override;

  int index() const { return index_; }
  std::string name() const { return "cuda:" + std::to_string(index_); }

  // device_lost once a fault has retired the device.
  Status check_healthy() const;
  // Makes this device current on the calling thread.
  // Every enqueue makes its device current; when it already is (one GPU, or a thread that stays
  // on one), reading the thread's current device is all it takes.
  cudaError_t make_current() const {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current == index_) return cudaSuccess;
    return cudaSetDevice(index_);
  }

  // Turns a failed call into an Error. A sticky fault (the kernel left the context unusable)
  // retires the device; the Error says so.
  Error fail(cudaError_t e, const std::string& what);

  // Events are pooled per generation: creating one costs more than recording it.
  cudaEvent_t acquire_event(std::uint64_t generation);
  void release_event(cudaEvent_t ev, std::uint64_t generation) noexcept;

  Monitor& monitor() { return monitor_; }

 private:
  const int index_;
  const GpuInfo info_;
  mutable std::mutex fault_m_;
  std::string fault_;  // the fault that retired the device
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> healthy_{true};
  std::mutex events_m_;
  std::vector<cudaEvent_t> free_events_;
  Monitor monitor_;
};

// A cudaMemPool_t of its own per pool, so that one pool's limit, cache and trim leave the
// device's default pool (and other pools) alone.
class CudaMemPool final : public detail::DeviceMemPool {
 public:
  CudaMemPool(std::shared_ptr<CudaDevice> dev, cudaMemPool_t pool, std::uint64_t gen)
      : dev_(std::move(dev)), pool_(pool), gen_(gen) {}
  ~CudaMemPool() override;
  Result<void*> allocate(detail::StreamImpl& stream, std::size_t bytes) override;
  void deallocate(detail::StreamImpl& stream, void* ptr) noexcept override;
  std::size_t reserved_bytes() noexcept override;
  Status trim(std::size_t keep) override;

 private:
  bool current() const { return gen_ == dev_->generation(); }
  std::shared_ptr<CudaDevice> dev_;
  cudaMemPool_t pool_;
  std::uint64_t gen_;
};

// Opens when every piece of work recorded before it on its stream has finished.
class EventGate final : public detail::Gate, public std::enable_shared_from_this<EventGate> {
 public:
  EventGate(std::shared_ptr<CudaDevice> dev, cudaEvent_t ev, std::uint64_t gen)
      : dev_(std::move(dev)), ev_(ev), gen_(gen) {}
  ~EventGate() override { dev_->release_event(ev_, gen_); }

  std::optional<Status> poll() override;
  Status wait() override;
  void notify(detail::UniqueFunction<void(Status)> done) override;

  cudaEvent_t event() const { return ev_; }
  std::uint64_t generation() const { return gen_; }
  CudaDevice& device() const { return *dev_; }

 private:
  Status lost() const;
  std::shared_ptr<CudaDevice> dev_;
  cudaEvent_t ev_;
  std::uint64_t gen_;
};

}  // namespace hetex::cuda
