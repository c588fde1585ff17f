// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The backend interface: what a kind of device implements, in one folder src/`<backend>`/, so that
/// every layer above (buffers, pools, streams, futures, the scheduler) works with it unchanged.
/// CUDA (src/cuda) and the simulated GPU (src/sim) implement it. What each call promises, who owns
/// what and which calls are thread-safe: docs/design/backends.md. No toolkit header is needed here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/gate.hpp"
#include "hetex/core/unique_function.hpp"

/// cudaStream_t is a CUstream_st*; declared here so CUDA code can pass a NativeStream to CUDA calls.
struct CUstream_st;

namespace hetex {

/// A backend's own queue handle, opaque to hetex: a cudaStream_t for CUDA, the backend's queue
/// object for the others. CUDA code passes it wherever a cudaStream_t goes.
class NativeStream {
 public:
  NativeStream() noexcept = default;
  explicit NativeStream(void* handle) noexcept : handle_(handle) {}
  NativeStream(CUstream_st* s) noexcept : handle_(s) {}  // NOLINT: a cudaStream_t is a NativeStream
  operator CUstream_st*() const noexcept { return static_cast<CUstream_st*>(handle_); }
  void* handle() const noexcept { return handle_; }

 private:
  void* handle_ = nullptr;
};

enum class MemoryKind : std::uint8_t {
  host,     ///< ordinary pageable host memory
  pinned,   ///< page-locked host memory (fast DMA)
  mapped,   ///< page-locked host memory also addressable by the device (zero copy)
  managed,  ///< unified memory, migrated on demand
  device,   ///< device memory
};
std::string_view to_string(MemoryKind kind) noexcept;

namespace detail {

// An in-order queue of work on one device. Shared so that work the queue orders (a pool's
// stream-ordered free) can keep it alive.
class StreamImpl : public std::enable_shared_from_this<StreamImpl> {
 public:
  virtual ~StreamImpl() = default;
  // Asynchronous copy in queue order; any direction between memory this device can address.
  virtual Status copy(void* dst, const void* src, std::size_t bytes) = 0;
  virtual Status fill_zero(void* dst, std::size_t bytes) = 0;
  // Runs `launch` with the native queue to enqueue work, checks for launch errors, and returns a
  // gate that opens when the work is done.
  virtual Result<GatePtr> launch_and_record(UniqueFunction<void(NativeStream)>& launch) = 0;
  // A gate that opens when all work enqueued so far has finished.
  virtual Result<GatePtr> record() = 0;
  // Makes later work on this queue wait for `gate` (which must come from this backend).
  virtual Status wait_for(const GatePtr& gate) = 0;
  virtual Status synchronize() = 0;
  virtual NativeStream native() = 0;
  virtual int device_index() const = 0;
};

// A stream-ordered memory pool on one device: memory is allocated and freed in the order of a
// queue's work, so a free while that work is still queued is safe.
class DeviceMemPool {
 public:
  virtual ~DeviceMemPool() = default;
  // Valid for work enqueued on `stream` after this call (other queues: after a gate wait).
  virtual Result<void*> allocate(StreamImpl& stream, std::size_t bytes) = 0;
  // Frees in `stream`'s order; does nothing on a device a fault retired (its memory is gone).
  virtual void deallocate(StreamImpl& stream, void* ptr) noexcept = 0;
  // What the pool holds from the device, in use or cached; 0 once the device is retired.
  virtual std::size_t reserved_bytes() noexcept = 0;
  // Gives cached memory back until at most `keep` bytes stay reserved.
  virtual Status trim(std::size_t keep) = 0;
};

// What a failed call on a device means for that device, and so what the scheduler does next.
enum class FaultClass : std::uint8_t {
  too_big,         // out of memory: the device is fine, the work too large; retry it in pieces
  work_failed,     // this work failed and the device is fine; redo it elsewhere
  device_faulted,  // the device failed (a kernel fault, lost for now): redo elsewhere, suspend it
  device_retired,  // the device is gone for this process: redo elsewhere, never route there again
};

// One device of a backend.
class GpuDevice {
 public:
  virtual ~GpuDevice() = default;
  virtual DeviceKind kind() const = 0;
  virtual const GpuInfo& info() const = 0;
  // One line: "cuda:0 (NVIDIA H100 80GB HBM3, 132 SMs, 79.1 GiB, sm_90)".
  virtual std::string describe() const = 0;
  virtual bool healthy() const = 0;
  // Bumped when a fault retires the device; memory of an older generation is gone.
  virtual std::uint64_t generation() const = 0;
  virtual Result<MemoryInfo> memory_info() = 0;

  // Pinned and mapped memory stay valid host memory even if a fault later retires the device.
  virtual Result<void*> allocate(MemoryKind kind, std::size_t bytes) = 0;
  virtual void deallocate(MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept = 0;
  // The device address of mapped host memory.
  virtual Result<void*> device_pointer(void* mapped_host) = 0;
  // Whether `ptr` is page-locked for this device (so DMA can read it directly).
  virtual bool is_pinned(const void* ptr) = 0;

  virtual Result<std::shared_ptr<StreamImpl>> create_stream() = 0;
  // A new pool that keeps up to `release_threshold` freed bytes cached across synchronizations.
  virtual Result<std::shared_ptr<DeviceMemPool>> create_mem_pool(std::size_t release_threshold) = 0;

  // What an error from this device's calls or work means for the device. The default: by code,
  // and retired once healthy() is false.
  virtual FaultClass classify(const Error& error) const;

  // Why a Runtime leaves this device out unless it is asked for (empty: used by default). A
  // software device on the CPU's own cores, or a GPU another backend already drives, says so here.
  virtual std::string unused_by_default() const { return {}; }
  // Whether the device is a software implementation running on the host's cores (lavapipe).
  virtual bool software() const { return false; }
  // What `hetex devices` shows beyond GpuInfo, as (name, value) lines: vendor, driver, limits.
  virtual std::vector<std::pair<std::string, std::string>> details() const { return {}; }
};

struct GpuDiscovery {
  std::vector<std::shared_ptr<GpuDevice>> devices;  // by index
  std::string reason;                               // why there are none, when there are none
};

// One kind of device whose devices are found on the machine.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceKind kind() const noexcept = 0;
  // Finds the devices on the first call; every later call returns the same, for the life of the
  // process (each physical device has one GpuDevice). Thread-safe.
  virtual const GpuDiscovery& discover() = 0;
};

// The backends built into this library, in the order a Runtime lists their devices.
std::span<Backend* const> backends();
// The CUDA backend (src/cuda, or src/no_cuda when built without CUDA).
Backend& cuda_backend();
// The Vulkan backend (src/vulkan; built with HETEX_WITH_VULKAN).
Backend& vulkan_backend();
// The CUDA backend's devices: what CUDA-only code (NVRTC kernels, fused pipelines) runs on.
const GpuDiscovery& discover_gpus();

}  // namespace detail
}  // namespace hetex
