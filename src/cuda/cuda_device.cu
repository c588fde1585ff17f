// SPDX-License-Identifier: MIT
// Discovery, allocation and fault recovery for CUDA GPUs.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <thread>
#include <tuple>

#include "cuda/cuda_device.hpp"

namespace hetex::cuda {
using detail::Backend;
using detail::GpuDiscovery;
namespace {

constexpr std::size_t kPage = 4096;

std::string gib(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
  return buf;
}

std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

}  // namespace

bool is_sticky(cudaError_t e) noexcept {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable: return true;
    default: return false;
  }
}

Errc category(cudaError_t e) noexcept {
  switch (e) {
    case cudaErrorMemoryAllocation: return Errc::out_of_memory;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidConfiguration:
    case cudaErrorInvalidDevicePointer:
    case cudaErrorInvalidDeviceFunction:
    case cudaErrorInvalidDevice:
    case cudaErrorInvalidPitchValue:
    case cudaErrorInvalidSymbol:
    case cudaErrorInvalidMemcpyDirection:
    case cudaErrorInvalidResourceHandle:
    case cudaErrorLaunchOutOfResources:
    case cudaErrorHostMemoryAlreadyRegistered:
    case cudaErrorHostMemoryNotRegistered: return Errc::invalid_argument;
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorDevicesUnavailable:
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion:
    case cudaErrorCallRequiresNewerDriver: return Errc::unavailable;
    case cudaErrorNotReady: return Errc::busy;
    case cudaErrorContextIsDestroyed:
    case cudaErrorDeviceUninitialized:
    case cudaErrorDeviceNotLicensed: return Errc::device_lost;
    default: return is_sticky(e) ? Errc::kernel_fault : Errc::internal;
  }
}

std::string describe(cudaError_t e) { return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")"; }

// ---- CudaDevice --------------------------------------------------------------------------

std::string CudaDevice::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s (%s, %d SMs, %.1f GiB, sm_%d%d)", name().c_str(), info_.name.c_str(),
                info_.multiprocessors, double(info_.total_memory) / double(1ull << 30), info_.compute_major,
                info_.compute_minor);
  return buf;
}

Status CudaDevice::check_healthy() const {
  if (healthy_.load()) return {};
  std::lock_guard lock(fault_m_);
  return Error(Errc::device_lost, name() + " is unusable after an earlier fault (" + fault_ + ")");
}

Error CudaDevice::fail(cudaError_t e, const std::string& what) {
  std::string msg = name() + ": " + what + ": " + cuda::describe(e);
  if (!is_sticky(e)) {
    cudaGetLastError();  // a non-sticky error must not poison this thread's next call
    if (e == cudaErrorMemoryAllocation) {
      std::size_t free = 0, total = 0;
      if (make_current() == cudaSuccess && cudaMemGetInfo(&free, &total) == cudaSuccess)
        msg += "; " + gib(free) + " of " + gib(total) + " free: use smaller batches or free buffers";
    }
    return Error(category(e), std::move(msg));
  }
  // The context is dead, and CUDA cannot recover a device from such a fault inside the process
  // (after a reset the next context creation fails with cudaErrorDevicesUnavailable), so the
  // device is retired: its pending work and buffers are lost, later work on it fails fast with
  // device_lost, and everything else carries on.
  {
    std::lock_guard lock(fault_m_);
    if (healthy_.exchange(false)) {
      fault_ = msg;
      generation_.fetch_add(1);
    }
  }
  msg += "; " + name() +
         " cannot be used again in this process (CUDA cannot recover a device after such a fault); "
         "the CPU and other GPUs carry on";
  return Error(Errc::kernel_fault, std::move(msg));
}

Result<MemoryInfo> CudaDevice::memory_info() {
  std::size_t free = 0, total = 0;
  cudaError_t e = make_current();
  if (e == cudaSuccess) e = cudaMemGetInfo(&free, &total);
  if (e != cudaSuccess) return fail(e, "cudaMemGetInfo");
  return MemoryInfo{free, total};
}

Result<void*> CudaDevice::allocate(MemoryKind kind, std::size_t bytes) {
  if (bytes == 0) return static_cast<void*>(nullptr);
  if (auto lost = check_healthy(); !lost) return std::move(lost).error();
  void* p = nullptr;
  cudaError_t e = cudaSuccess;
  const char* what = "";
  {
    e = make_current();
    switch (kind) {
      case MemoryKind::device:
        what = "cudaMalloc";
        if (e == cudaSuccess) e = cudaMalloc(&p, bytes);
        break;
      case MemoryKind::managed: {
        what = "cudaMallocManaged";
        // Asking for more managed memory than the card has free can hang the GPU; refuse.
        std::size_t free = 0, total = 0;
        if (e == cudaSuccess) e = cudaMemGetInfo(&free, &total);
        if (e == cudaSuccess && bytes > free)
          return Error(Errc::out_of_memory, name() + ": managed buffer of " + gib(bytes) + " exceeds the " + gib(free) +
                                                " free on the device; hetex refuses oversubscribed managed memory");
        if (e == cudaSuccess) e = cudaMallocManaged(&p, bytes, cudaMemAttachGlobal);
        break;
      }
      case MemoryKind::pinned:
      case MemoryKind::mapped: {
        // Registered ordinary memory rather than cudaHostAlloc: if a fault retires the device,
        // the memory stays valid for the host and is freed like any other.
        what = kind == MemoryKind::pinned ? "cudaHostRegister" : "cudaHostRegister(mapped)";
        p = std::aligned_alloc(kPage, round_up(bytes, kPage));
        if (!p) return Error(Errc::out_of_memory, "host allocation of " + gib(bytes) + " failed");
        unsigned flags = cudaHostRegisterPortable | (kind == MemoryKind::mapped ? cudaHostRegisterMapped : 0u);
        if (e == cudaSuccess) e = cudaHostRegister(p, round_up(bytes, kPage), flags);
        if (e != cudaSuccess) {
          std::free(p);
          p = nullptr;
        }
        break;
      }
      case MemoryKind::host: return Error(Errc::invalid_argument, "host memory is not allocated through a GPU");
    }
  }
  if (e != cudaSuccess) return fail(e, std::string(what) + " of " + gib(bytes));
  return p;
}

void CudaDevice::deallocate(MemoryKind kind, void* ptr, std::size_t, std::uint64_t generation) noexcept {
  if (!ptr) return;
  const bool current = generation == generation_.load();
  if (current) make_current();
  switch (kind) {
    case MemoryKind::device:
    case MemoryKind::managed:
      if (current) cudaFree(ptr);  // a retired device's context is dead; nothing to free there
      break;
    case MemoryKind::pinned:
    case MemoryKind::mapped:
      if (current) cudaHostUnregister(ptr);
      std::free(ptr);
      break;
    case MemoryKind::host: break;
  }
  cudaGetLastError();
}

Result<void*> CudaDevice::device_pointer(void* mapped_host) {
  void* d = nullptr;
  cudaError_t e = make_current();
  if (e == cudaSuccess) e = cudaHostGetDevicePointer(&d, mapped_host, 0);
  if (e != cudaSuccess) return fail(e, "cudaHostGetDevicePointer");
  return d;
}

bool CudaDevice::is_pinned(const void* ptr) {
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, ptr) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attr.type == cudaMemoryTypeHost;
}

cudaEvent_t CudaDevice::acquire_event(std::uint64_t generation) {
  {
    std::lock_guard lock(events_m_);
    if (generation == generation_.load() && !free_events_.empty()) {
      auto ev = free_events_.back();
      free_events_.pop_back();
      return ev;
    }
  }
  cudaEvent_t ev = nullptr;
  // Not blocking-sync: such an event makes each record pay for the interrupt a sleeping waiter
  // needs; waiters poll instead (EventGate::wait).
  if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) != cudaSuccess) return nullptr;
  return ev;
}

void CudaDevice::release_event(cudaEvent_t ev, std::uint64_t generation) noexcept {
  if (!ev) return;
  std::lock_guard lock(events_m_);
  if (generation != generation_.load()) return;  // destroyed with the old context
  if (free_events_.size() < 1024) {
    free_events_.push_back(ev);
  } else {
    cudaEventDestroy(ev);
  }
}

// ---- Stream-ordered pools ----------------------------------------------------------------

Result<std::shared_ptr<detail::DeviceMemPool>> CudaDevice::create_mem_pool(std::size_t release_threshold) {
  if (auto lost = check_healthy(); !lost) return std::move(lost).error();
  const auto gen = generation();
  int supported = 0;
  cudaError_t e = make_current();
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, index_);
  if (e != cudaSuccess) return fail(e, "cudaDeviceGetAttribute(cudaDevAttrMemoryPoolsSupported)");
  if (!supported)
    return Error(Errc::unavailable, name() +
                                        " does not support stream-ordered memory pools (cudaMallocAsync); "
                                        "use DeviceBuffer<T>::allocate instead");
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = index_;
  cudaMemPool_t pool = nullptr;
  if (e = cudaMemPoolCreate(&pool, &props); e != cudaSuccess) return fail(e, "cudaMemPoolCreate");
  // Without a threshold the pool returns everything to the driver at each synchronization,
  // and the next batch pays for mapping it again.
  std::uint64_t threshold = release_threshold;
  if (e = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold); e != cudaSuccess) {
    cudaMemPoolDestroy(pool);
    return fail(e, "cudaMemPoolSetAttribute(cudaMemPoolAttrReleaseThreshold)");
  }
  return std::shared_ptr<detail::DeviceMemPool>(std::make_shared<CudaMemPool>(shared_from_this(), pool, gen));
}

CudaMemPool::~CudaMemPool() {
  // A retired device's context is dead, and its pools with it.
  if (!current()) return;
  dev_->make_current();
  cudaMemPoolDestroy(pool_);  // frees still queued complete first (the driver defers the release)
  cudaGetLastError();
}

Result<void*> CudaMemPool::allocate(detail::StreamImpl& stream, std::size_t bytes) {
  if (auto lost = dev_->check_healthy(); !lost) return std::move(lost).error();
  if (stream.device_index() != dev_->index())
    return Error(Errc::invalid_argument,
                 "a pool on " + dev_->name() +
                     " cannot allocate in the order of a stream on cuda:" + std::to_string(stream.device_index()));
  cudaStream_t s = stream.native();  // also makes the device current
  void* p = nullptr;
  cudaError_t e = cudaMallocFromPoolAsync(&p, bytes, pool_, s);
  if (e == cudaErrorMemoryAllocation) {
    // Cached blocks of other sizes may be what is in the way: hand them back and try once more.
    cudaGetLastError();
    if (cudaMemPoolTrimTo(pool_, 0) == cudaSuccess) e = cudaMallocFromPoolAsync(&p, bytes, pool_, s);
  }
  if (e != cudaSuccess) return dev_->fail(e, "cudaMallocFromPoolAsync of " + std::to_string(bytes) + " bytes");
  return p;
}

void CudaMemPool::deallocate(detail::StreamImpl& stream, void* ptr) noexcept {
  if (!ptr || !current()) return;
  if (cudaError_t e = cudaFreeAsync(ptr, stream.native()); e != cudaSuccess) (void)dev_->fail(e, "cudaFreeAsync");
}

std::size_t CudaMemPool::reserved_bytes() noexcept {
  if (!current()) return 0;
  std::uint64_t v = 0;
  if (cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &v) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return static_cast<std::size_t>(v);
}

Status CudaMemPool::trim(std::size_t keep) {
  if (auto lost = dev_->check_healthy(); !lost) return lost;
  if (cudaError_t e = cudaMemPoolTrimTo(pool_, keep); e != cudaSuccess) return dev_->fail(e, "cudaMemPoolTrimTo");
  return {};
}

// ---- Discovery ---------------------------------------------------------------------------

namespace {

GpuDiscovery* discover() {
  auto* d = new GpuDiscovery;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    // Without a loaded driver CUDA says "driver version is insufficient", which misleads.
    std::FILE* f = std::fopen("/proc/driver/nvidia/version", "r");
    const bool driver = f != nullptr;
    if (f) std::fclose(f);
    d->reason = driver ? "CUDA reports " + describe(e) : "no NVIDIA driver is loaded on this machine";
    cudaGetLastError();
    return d;
  }
  if (count == 0) {
    d->reason = "CUDA found no GPU";
    return d;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    GpuInfo info;
    info.index = i;
    info.name = p.name;
    char bus[32] = {};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, i) == cudaSuccess) info.pci_bus_id = bus;
    info.compute_major = p.major;
    info.compute_minor = p.minor;
    info.multiprocessors = p.multiProcessorCount;
    info.total_memory = p.totalGlobalMem;
    info.l2_cache_bytes = static_cast<std::size_t>(p.l2CacheSize);
    info.shared_memory_per_block_optin = p.sharedMemPerBlockOptin;
    info.async_engines = p.asyncEngineCount;
    info.can_map_host_memory = p.canMapHostMemory != 0;
    info.managed_memory = p.managedMemory != 0;
    info.concurrent_managed_access = p.concurrentManagedAccess != 0;
    d->devices.push_back(std::make_shared<CudaDevice>(i, std::move(info)));
  }
  if (d->devices.empty()) d->reason = "no CUDA GPU could be queried";
  return d;
}

class CudaBackend final : public Backend {
 public:
  DeviceKind kind() const noexcept override { return DeviceKind::cuda; }
  const GpuDiscovery& discover() override {
    // Leaked on purpose: devices must outlive every static that holds a buffer, and the CUDA
    // runtime may be gone by the time static destructors run.
    static const GpuDiscovery* found = cuda::discover();
    return *found;
  }
};

}  // namespace
}  // namespace hetex::cuda

namespace hetex::detail {

Backend& cuda_backend() {
  static cuda::CudaBackend backend;
  return backend;
}

}  // namespace hetex::detail
