// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Typed RAII buffers. Sizes are in elements; memory is aligned to at least 256 bytes; buffers
/// are move-only; allocation failure is an out_of_memory Error, never an exception or abort.
///
/// @code
/// DeviceBuffer<T>   GPU memory
/// PinnedBuffer<T>   page-locked host memory (fast, asynchronous DMA)
/// MappedBuffer<T>   page-locked host memory the GPU reads and writes in place (zero copy)
/// ManagedBuffer<T>  unified memory, migrated on demand
/// @endcode
///
/// Mapped and managed memory is reachable from both sides, so hetex guards it: host access
/// (host()) is refused while device work that uses the buffer is in flight, and device work is
/// refused while a HostAccess is alive. host_wait() waits instead of refusing.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <typeinfo>
#include <vector>

#include "hetex/core/backend.hpp"
#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/gate.hpp"
#include "hetex/memory/view.hpp"

namespace hetex {

inline constexpr std::size_t kBufferAlignment = 256;  ///< every buffer's alignment, in bytes

namespace detail {

// One block of memory of one kind, shared by its buffer and any HostAccess still using it.
class Allocation {
 public:
  static Result<std::shared_ptr<Allocation>> create(MemoryKind kind, std::shared_ptr<GpuDevice> gpu, std::size_t bytes,
                                                    std::string type_name);
  // Memory a pool handed out (device or pinned kind): `release` gives it back when the last
  // user lets go, instead of the backend freeing it. `generation` is the device's at allocation.
  static std::shared_ptr<Allocation> adopt(MemoryKind kind, std::shared_ptr<GpuDevice> gpu, std::uint64_t generation,
                                           void* base, std::size_t bytes, bool page_locked, std::string type_name,
                                           UniqueFunction<void()> release);
  ~Allocation();
  Allocation(const Allocation&) = delete;
  Allocation& operator=(const Allocation&) = delete;

  void* host_ptr() const noexcept { return host_; }      // null for device memory
  void* device_ptr() const noexcept { return device_; }  // null for host-only memory
  std::size_t bytes() const noexcept { return bytes_; }
  MemoryKind kind() const noexcept { return kind_; }
  int device_index() const noexcept;
  bool page_locked() const noexcept { return page_locked_; }
  // A fault retired the device since this was allocated: the memory is gone.
  bool lost() const noexcept;
  Status check_usable(std::string_view what) const;

  // Host/device exclusion for memory both sides can reach (mapped, managed).
  Status begin_host(bool wait);
  void end_host() noexcept;
  // Reserves a device use; refused while the host holds the memory. Every successful call is
  // followed by exactly one end_device(gate) (gate may be null if the submission failed).
  Status begin_device();
  void end_device(GatePtr gate) noexcept;
  bool guarded() const noexcept { return kind_ == MemoryKind::mapped || kind_ == MemoryKind::managed; }

 private:
  Allocation() = default;
  void prune_locked();
  std::string label() const;

  void* host_ = nullptr;
  void* device_ = nullptr;
  void* base_ = nullptr;  // what was allocated, for release
  std::size_t bytes_ = 0;
  MemoryKind kind_ = MemoryKind::host;
  bool page_locked_ = false;
  std::shared_ptr<GpuDevice> gpu_;
  std::uint64_t generation_ = 0;
  std::string type_name_;
  UniqueFunction<void()> release_;  // set for pooled memory

  std::mutex m_;
  int host_holders_ = 0;
  int device_reserved_ = 0;
  std::vector<GatePtr> in_flight_;
};

// Reserves device use of the guarded allocations one submission touches (and checks that none
// is lost); release(gate) hands each the gate of the submitted work. Unreleased reservations
// are dropped on destruction, when a submission fails.
class DeviceUseGuard {
 public:
  DeviceUseGuard() = default;
  DeviceUseGuard(const DeviceUseGuard&) = delete;
  DeviceUseGuard& operator=(const DeviceUseGuard&) = delete;
  ~DeviceUseGuard() { release(nullptr); }
  Status add(Allocation* a);
  void release(const GatePtr& gate) noexcept;

 private:
  std::vector<Allocation*> held_;
};

std::shared_ptr<GpuDevice> gpu_for_pinned();
std::string readable_type_name(const char* mangled);

template <class T>
const std::string& type_name_of() {
  static const std::string name = readable_type_name(typeid(T).name());
  return name;
}

// Lets hetex's pools hand out ordinary buffers over memory they own.
struct BufferAccess;

}  // namespace detail

/// Host access to a mapped or managed buffer; device work on the buffer is refused while alive.
template <class T>
class HostAccess {
 public:
  HostAccess(std::shared_ptr<detail::Allocation> a, std::size_t n) : alloc_(std::move(a)), n_(n) {}
  HostAccess(HostAccess&& o) noexcept : alloc_(std::move(o.alloc_)), n_(o.n_) {}
  HostAccess& operator=(HostAccess&&) = delete;
  ~HostAccess() {
    if (alloc_) alloc_->end_host();
  }
  std::span<T> span() const noexcept { return {data(), n_}; }  ///< the buffer's elements on the host
  /// Null for a moved-from or empty buffer.
  T* data() const noexcept { return alloc_ ? static_cast<T*>(alloc_->host_ptr()) : nullptr; }
  std::size_t size() const noexcept { return n_; }
  T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T* begin() const noexcept { return data(); }
  T* end() const noexcept { return data() + n_; }

 private:
  std::shared_ptr<detail::Allocation> alloc_;
  std::size_t n_;
};

/// A typed, move-only, RAII buffer of `count` elements of memory kind K (see the file's
/// description); the aliases below name the kinds. Dropping it frees the memory (a pool's memory goes
/// back to its pool). A buffer a device fault has lost reports lost() and refuses further device use
/// with Errc::device_lost. Not thread-safe: one owner at a time.
template <DeviceCopyable T, MemoryKind K>
class Buffer {
  static_assert(K != MemoryKind::host, "use std::vector for ordinary host memory");

 public:
  using value_type = T;
  static constexpr MemoryKind kind = K;

  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  /// Device, mapped and managed buffers live on a GPU: `device` must be one.
  /// Errc::unavailable when it is the CPU, Errc::out_of_memory when the device has no room,
  /// Errc::invalid_argument for a count too large to address.
  static Result<Buffer> allocate(const Device& device, std::size_t count) requires(K != MemoryKind::pinned) {
    if (!device.is_gpu())
      return Error(Errc::unavailable, std::string(to_string(K)) + " buffers need a GPU, and " +
                                          device.id().to_string() +
                                          " is the CPU; use PinnedBuffer or std::vector for host memory");
    return make(device.backend_ptr(), count);
  }
  /// Page-locked when a GPU is present (registered with every GPU); plain aligned host memory
  /// on a machine without one, so host code works the same.
  /// Errc::out_of_memory when the host cannot provide (or register) the memory.
  static Result<Buffer> allocate(std::size_t count) requires(K == MemoryKind::pinned) {
    return make(detail::gpu_for_pinned(), count);
  }

  std::size_t size() const noexcept { return n_; }
  std::size_t size_bytes() const noexcept { return n_ * sizeof(T); }
  bool empty() const noexcept { return n_ == 0; }
  /// -1 for pinned memory (usable with any GPU).
  int device_index() const noexcept { return alloc_ ? alloc_->device_index() : -1; }
  /// A fault retired the device since allocation: the memory is gone.
  bool lost() const noexcept { return alloc_ && alloc_->lost(); }
  /// Host memory the GPU can DMA from directly.
  bool page_locked() const noexcept { return alloc_ && alloc_->page_locked(); }

  /// Views carry the address the consumer uses: device address for device and mapped memory.
  ReadView<T> view() const noexcept { return {ptr(), n_, K, device_index(), alloc_.get()}; }
  ReadWriteView<T> view() noexcept { return {ptr(), n_, K, device_index(), alloc_.get()}; }
  ReadView<T> read() const noexcept { return view(); }  ///< the buffer as input to a transfer or kernel
  WriteView<T> write() noexcept { return view(); }  ///< the buffer as output: its old contents need not be copied in

  /// Pinned memory belongs to the host alone: plain span access.
  std::span<T> span() noexcept requires(K == MemoryKind::pinned) {
    return {static_cast<T*>(alloc_ ? alloc_->host_ptr() : nullptr), n_};
  }
  std::span<const T> span() const noexcept requires(K == MemoryKind::pinned) {
    return {static_cast<const T*>(alloc_ ? alloc_->host_ptr() : nullptr), n_};
  }

  /// Mapped and managed memory: host access, refused (Errc::busy) while device work that uses
  /// the buffer is in flight.
  Result<HostAccess<T>> host() requires(K == MemoryKind::mapped || K == MemoryKind::managed) {
    return host_access(false);
  }
  /// The same, but waits for that device work instead of refusing.
  Result<HostAccess<T>> host_wait() requires(K == MemoryKind::mapped || K == MemoryKind::managed) {
    return host_access(true);
  }

  /// For hetex's own layers.
  const std::shared_ptr<detail::Allocation>& allocation() const noexcept { return alloc_; }

 private:
  friend struct detail::BufferAccess;
  static Status check_count(std::size_t count) {
    if (count > static_cast<std::size_t>(-1) / sizeof(T) / 2)
      return Error(Errc::invalid_argument, "buffer of " + std::to_string(count) + " elements is too large");
    return {};
  }
  static Buffer wrap(std::shared_ptr<detail::Allocation> a, std::size_t count) noexcept {
    Buffer b;
    b.alloc_ = std::move(a);
    b.n_ = count;
    return b;
  }
  static Result<Buffer> make(std::shared_ptr<detail::GpuDevice> gpu, std::size_t count) {
    if (auto s = check_count(count); !s) return std::move(s).error();
    auto a = detail::Allocation::create(K, std::move(gpu), count * sizeof(T), detail::type_name_of<T>());
    if (!a) return std::move(a).error();
    return wrap(std::move(*a), count);
  }
  T* ptr() const noexcept {
    if (!alloc_) return nullptr;
    return static_cast<T*>(K == MemoryKind::pinned ? alloc_->host_ptr() : alloc_->device_ptr());
  }
  Result<HostAccess<T>> host_access(bool wait) {
    if (!alloc_) return HostAccess<T>(nullptr, 0);
    if (auto s = alloc_->begin_host(wait); !s) return std::move(s).error();
    return HostAccess<T>(alloc_, n_);
  }

  std::shared_ptr<detail::Allocation> alloc_;
  std::size_t n_ = 0;
};

namespace detail {
struct BufferAccess {
  template <class B>
  static Status check_count(std::size_t count) {
    return B::check_count(count);
  }
  template <class B>
  static B wrap(std::shared_ptr<Allocation> a, std::size_t count) noexcept {
    return B::wrap(std::move(a), count);
  }
};
}  // namespace detail

template <class T>
using DeviceBuffer = Buffer<T, MemoryKind::device>;  ///< GPU memory
/// Page-locked host memory (plain aligned host memory without a GPU).
template <class T>
using PinnedBuffer = Buffer<T, MemoryKind::pinned>;
template <class T>
using MappedBuffer = Buffer<T, MemoryKind::mapped>;  ///< page-locked host memory the GPU reads and writes in place
template <class T>
using ManagedBuffer = Buffer<T, MemoryKind::managed>;  ///< unified memory, migrated on demand

}  // namespace hetex
