// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Memory pools for work that runs batch after batch: the memory of one batch serves the next,
/// so steady state costs no cudaMalloc and no cudaHostRegister. Both hand out ordinary buffers:
/// switching code to a pool changes only the allocation call.
///
/// @code
/// auto pool = hetex::DevicePool::shared(gpu).value();
/// auto scratch = pool->allocate<float>(stream, n);   // instead of DeviceBuffer<float>::allocate(gpu, n)
/// auto staging = hetex::PinnedPool::shared().acquire<float>(n);  // instead of PinnedBuffer<float>::allocate(n)
/// @endcode
///
/// DevicePool sits on CUDA's stream-ordered allocator (a cudaMemPool_t of its own). Memory from
/// allocate(s, n) is valid for work enqueued on `s` after the call, and on other streams once
/// they waited for an event recorded on `s` after it. When the buffer dies its memory is freed in
/// `s`'s order (cudaFreeAsync): work already queued on `s` may still use it, so dropping a buffer
/// never waits. Work on other streams that uses the buffer must be ordered before that point
/// (s.wait(event)) before the buffer dies. The pool keeps `s` alive until then.
///
/// The pool is bounded: a request that would take the bytes in use past the limit fails with
/// Errc::out_of_memory (as does a real out-of-memory from the device), so a caller can retry
/// with smaller pieces. Freed memory stays cached in the pool up to the limit; trim() hands the
/// cache back to the device.
///
/// PinnedPool caches page-locked host blocks in power-of-two size classes from 64 KiB; larger
/// requests than max_block_bytes are allocated and freed directly. Without a GPU it pools the
/// plain aligned host memory PinnedBuffer falls back to.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/core/stream_view.hpp"
#include "hetex/memory/buffer.hpp"

namespace hetex {

/// A DevicePool's limit on bytes in use.
struct DevicePoolOptions {
  double max_fraction = 0.9;  ///< of the device's total memory, when max_bytes is 0
  std::size_t max_bytes = 0;  ///< the limit on bytes in use; 0: max_fraction of total memory
};

/// A DevicePool's counters, as of the call.
struct PoolStats {
  std::size_t bytes_in_use = 0;  ///< requested bytes of live buffers
  std::size_t peak_bytes_in_use = 0;
  std::size_t bytes_reserved = 0;  ///< what the pool holds from the device, in use or cached
  std::size_t limit_bytes = 0;
  std::uint64_t allocations = 0;  ///< successful requests
  std::uint64_t failures = 0;     ///< requests refused by the limit or failed by the device
};

/// A bounded, stream-ordered pool of one GPU's memory (see the file's description). Thread-safe;
/// held by shared_ptr, and kept alive by the buffers it handed out.
class DevicePool : public std::enable_shared_from_this<DevicePool> {
 public:
  /// A pool of its own on `gpu`. Errc::unavailable on the CPU, without CUDA, or where the
  /// device has no stream-ordered allocator; invalid_argument for a fraction outside (0, 1].
  static Result<std::shared_ptr<DevicePool>> create(const Device& gpu, DevicePoolOptions options = {});
  /// The process-wide pool of `gpu` (default options), created on first use.
  static Result<std::shared_ptr<DevicePool>> shared(const Device& gpu);

  ~DevicePool();
  DevicePool(const DevicePool&) = delete;
  DevicePool& operator=(const DevicePool&) = delete;

  /// `n` elements in `s`'s order (see above); `s` must be on this pool's GPU. A device that a
  /// fault retired gives Errc::device_lost.
  template <DeviceCopyable T>
  Result<DeviceBuffer<T>> allocate(StreamView s, std::size_t n) {
    using B = DeviceBuffer<T>;
    if (auto c = detail::BufferAccess::check_count<B>(n); !c) return std::move(c).error();
    auto a = allocate_bytes(s, n * sizeof(T), detail::type_name_of<T>());
    if (!a) return std::move(a).error();
    return detail::BufferAccess::wrap<B>(std::move(*a), n);
  }

  PoolStats stats() const;  ///< the counters now
  /// Hands cached memory back to the device. Memory freed on a stream counts as cached only
  /// once the host has seen that stream reach the free (after a synchronize, say).
  Status trim();

  const Device& device() const noexcept { return gpu_; }
  std::size_t limit_bytes() const noexcept { return limit_; }

 private:
  DevicePool(Device gpu, std::shared_ptr<detail::DeviceMemPool> backend, std::size_t limit)
      : gpu_(std::move(gpu)), backend_(std::move(backend)), limit_(limit) {}
  Result<std::shared_ptr<detail::Allocation>> allocate_bytes(StreamView s, std::size_t bytes, const std::string& type);
  void give_back(detail::StreamImpl& s, void* ptr, std::size_t bytes) noexcept;

  Device gpu_;
  std::shared_ptr<detail::DeviceMemPool> backend_;
  std::size_t limit_;
  mutable std::mutex m_;
  std::size_t in_use_ = 0;
  std::size_t peak_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t failures_ = 0;
};

/// min(1 GiB, physical memory / 8)
std::size_t default_pinned_cache_bytes() noexcept;

/// What a PinnedPool caches.
struct PinnedPoolOptions {
  std::size_t max_cached_bytes = default_pinned_cache_bytes();  ///< free blocks kept, all classes together
  std::size_t max_block_bytes = std::size_t(256) << 20;         ///< larger requests bypass the cache
};

/// A PinnedPool's counters, as of the call.
struct PinnedPoolStats {
  std::uint64_t hits = 0;        ///< requests served from the cache
  std::uint64_t misses = 0;      ///< requests that allocated (and registered) a new block
  std::size_t bytes_cached = 0;  ///< free blocks waiting for reuse
  std::size_t bytes_in_use = 0;  ///< blocks handed out (whole blocks: a size class, not the request)
  std::size_t peak_bytes_in_use = 0;
};

/// A cache of page-locked host blocks by power-of-two size class (see the file's description).
/// Thread-safe.
class PinnedPool {
 public:
  static constexpr std::size_t kMinBlockBytes = std::size_t(64) << 10;  ///< the smallest size class

  /// A pool of its own; most callers use shared().
  explicit PinnedPool(PinnedPoolOptions options = {});
  /// Frees the cache; buffers still alive keep their blocks and free them when they die.
  ~PinnedPool();
  PinnedPool(const PinnedPool&) = delete;
  PinnedPool& operator=(const PinnedPool&) = delete;

  /// The process-wide pool (default options).
  static PinnedPool& shared();

  /// `n` elements of page-locked memory (plain host memory without a GPU); the block goes back
  /// to the pool when the buffer dies. Contents are whatever the block held before.
  template <DeviceCopyable T>
  Result<PinnedBuffer<T>> acquire(std::size_t n) {
    using B = PinnedBuffer<T>;
    if (auto c = detail::BufferAccess::check_count<B>(n); !c) return std::move(c).error();
    auto a = acquire_bytes(n * sizeof(T), detail::type_name_of<T>());
    if (!a) return std::move(a).error();
    return detail::BufferAccess::wrap<B>(std::move(*a), n);
  }

  PinnedPoolStats stats() const;  ///< the counters now
  /// Frees every cached block.
  void trim();
  const PinnedPoolOptions& options() const noexcept;

 private:
  struct State;  ///< shared with the buffers handed out, which may outlive the pool
  Result<std::shared_ptr<detail::Allocation>> acquire_bytes(std::size_t bytes, const std::string& type);
  std::shared_ptr<State> state_;
};

}  // namespace hetex
