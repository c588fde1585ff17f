#pragma once
// The seam between hetex and a GPU backend. Layers above talk to GPUs only through these
// interfaces; the CUDA backend (src/cuda/*.cu) implements them, and a build without CUDA links
// a stub whose discovery reports why no GPU is available. No toolkit header is needed here.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/gate.hpp"
#include "hetex/core/unique_function.hpp"

// Same type as cudaStream_t, declared without the CUDA headers.
struct CUstream_st;

namespace hetex {

using NativeStream = CUstream_st*;

enum class MemoryKind : std::uint8_t {
  host,     // ordinary pageable host memory
  pinned,   // page-locked host memory (fast DMA)
  mapped,   // page-locked host memory also addressable by the GPU (zero copy)
  managed,  // unified memory, migrated on demand
  device,   // GPU memory
};
std::string_view to_string(MemoryKind kind) noexcept;

namespace detail {

// Shared so that work the stream orders (a pool's stream-ordered free) can keep it alive.
class StreamImpl : public std::enable_shared_from_this<StreamImpl> {
 public:
  virtual ~StreamImpl() = default;
  // Asynchronous copy in stream order; any direction.
  virtual Status copy(void* dst, const void* src, std::size_t bytes) = 0;
  virtual Status fill_zero(void* dst, std::size_t bytes) = 0;
  // Runs `launch` with the native stream to enqueue work, checks for launch errors, and
  // returns a gate that opens when the work is done.
  virtual Result<GatePtr> launch_and_record(UniqueFunction<void(NativeStream)>& launch) = 0;
  // A gate that opens when all work enqueued so far has finished.
  virtual Result<GatePtr> record() = 0;
  // Makes later work on this stream wait for `gate` (which must come from this backend).
  virtual Status wait_for(const GatePtr& gate) = 0;
  virtual Status synchronize() = 0;
  virtual NativeStream native() = 0;
  virtual int device_index() const = 0;
};

// A stream-ordered memory pool on one GPU (a cudaMemPool_t): memory is allocated and freed in
// the order of a stream's work, so a free while that work is still queued is safe.
class DeviceMemPool {
 public:
  virtual ~DeviceMemPool() = default;
  // Valid for work enqueued on `stream` after this call (other streams: after an event wait).
  virtual Result<void*> allocate(StreamImpl& stream, std::size_t bytes) = 0;
  // Frees in `stream`'s order; does nothing on a device a fault retired (its memory is gone).
  virtual void deallocate(StreamImpl& stream, void* ptr) noexcept = 0;
  // What the pool holds from the device, in use or cached; 0 once the device is retired.
  virtual std::size_t reserved_bytes() noexcept = 0;
  // Gives cached memory back until at most `keep` bytes stay reserved.
  virtual Status trim(std::size_t keep) = 0;
};

class GpuDevice {
 public:
  virtual ~GpuDevice() = default;
  virtual const GpuInfo& info() const = 0;
  virtual bool healthy() const = 0;
  // Bumped when a fault retires the device; memory of an older generation is gone.
  virtual std::uint64_t generation() const = 0;
  virtual Result<MemoryInfo> memory_info() = 0;

  // Pinned and mapped memory stay valid host memory even if a fault later retires the device.
  virtual Result<void*> allocate(MemoryKind kind, std::size_t bytes) = 0;
  virtual void deallocate(MemoryKind kind, void* ptr, std::size_t bytes, std::uint64_t generation) noexcept = 0;
  // The device address of mapped host memory.
  virtual Result<void*> device_pointer(void* mapped_host) = 0;
  // Whether `ptr` is page-locked (so DMA can read it directly).
  virtual bool is_pinned(const void* ptr) = 0;

  virtual Result<std::shared_ptr<StreamImpl>> create_stream() = 0;
  // A new pool that keeps up to `release_threshold` freed bytes cached across synchronizations.
  virtual Result<std::shared_ptr<DeviceMemPool>> create_mem_pool(std::size_t release_threshold) = 0;
};

struct GpuDiscovery {
  std::vector<std::shared_ptr<GpuDevice>> devices;
  std::string reason;  // why there are none, when there are none
};

// Process-wide: each physical GPU has one GpuDevice for the life of the process.
const GpuDiscovery& discover_gpus();

}  // namespace detail
}  // namespace hetex
