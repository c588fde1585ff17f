// SPDX-License-Identifier: MIT
#include "hetex/memory/pool.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

namespace hetex {
namespace {

constexpr std::size_t kPage = 4096;

std::string human(std::size_t bytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) v /= 1024.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[u]);
  return buf;
}

// "786432 bytes (768.0 KiB)": exact for logs and tests, readable for people.
std::string both(std::size_t bytes) {
  return bytes < 1024 ? human(bytes) : std::to_string(bytes) + " bytes (" + human(bytes) + ")";
}

}  // namespace

// ---- DevicePool --------------------------------------------------------------------------

Result<std::shared_ptr<DevicePool>> DevicePool::create(const Device& gpu, DevicePoolOptions options) {
  if (!gpu.is_gpu() || !gpu.backend()) {
    std::string why =
        detail::discover_gpus().devices.empty() ? " (no GPU here: " + detail::discover_gpus().reason + ")" : "";
    return Error(Errc::unavailable, "a DevicePool needs a GPU, and " + gpu.id().to_string() + " is the CPU" + why +
                                        "; use PinnedPool or std::vector for host memory");
  }
  std::size_t limit = options.max_bytes;
  if (limit == 0) {
    if (!(options.max_fraction > 0.0 && options.max_fraction <= 1.0))
      return Error(Errc::invalid_argument,
                   "DevicePoolOptions::max_fraction must be in (0, 1], not " + std::to_string(options.max_fraction));
    limit = static_cast<std::size_t>(double(gpu.gpu_info()->total_memory) * options.max_fraction);
  }
  // The pool caches up to its limit: memory a batch freed serves the next one.
  auto backend = gpu.backend()->create_mem_pool(limit);
  if (!backend) return std::move(backend).error();
  return std::shared_ptr<DevicePool>(new DevicePool(gpu, std::move(*backend), limit));
}

Result<std::shared_ptr<DevicePool>> DevicePool::shared(const Device& gpu) {
  if (!gpu.is_gpu()) return create(gpu);  // the same clear error
  static std::mutex m;
  // Leaked like the devices: buffers in statics may give memory back during exit.
  static auto* pools = new std::map<detail::GpuDevice*, std::shared_ptr<DevicePool>>;
  std::lock_guard lock(m);
  auto& p = (*pools)[gpu.backend()];
  if (!p) {
    auto created = create(gpu);
    if (!created) {
      pools->erase(gpu.backend());
      return std::move(created).error();
    }
    p = std::move(*created);
  }
  return p;
}

DevicePool::~DevicePool() = default;

Result<std::shared_ptr<detail::Allocation>> DevicePool::allocate_bytes(StreamView s, std::size_t bytes,
                                                                       const std::string& type) {
  const std::string where = "DevicePool on " + gpu_.id().to_string();
  if (!(s.device() == gpu_))
    return Error(Errc::invalid_argument, where + ": the stream runs on " + s.device().id().to_string() +
                                             "; allocate with a stream of the pool's GPU");
  if (!gpu_.healthy())
    return Error(Errc::device_lost,
                 where + ": the device was retired after a fault; its memory is gone. Use a healthy device");
  if (bytes == 0) return detail::Allocation::create(MemoryKind::device, nullptr, 0, type);
  {
    // Reserved before the driver call so that concurrent requests cannot overshoot together.
    std::lock_guard lock(m_);
    if (bytes > limit_ || in_use_ > limit_ - bytes) {
      ++failures_;
      return Error(Errc::out_of_memory, where + ": a request of " + both(bytes) + " for " + type +
                                            " would take the bytes in use, " + both(in_use_) +
                                            ", past the pool's limit of " + both(limit_) +
                                            "; retry in smaller pieces or free buffers");
    }
    in_use_ += bytes;
  }
  const auto& gpu = gpu_.backend_ptr();
  const auto gen = gpu->generation();
  auto p = backend_->allocate(s.impl(), bytes);
  if (!p) {
    std::lock_guard lock(m_);
    in_use_ -= bytes;
    ++failures_;
    return std::move(p).error().with_context(where + " (" + both(in_use_) + " in use, limit " + both(limit_) + ")");
  }
  {
    std::lock_guard lock(m_);
    ++allocations_;
    peak_ = std::max(peak_, in_use_);
  }
  // The buffer holds the pool and the stream: the free goes to the same stream, whatever
  // the caller has dropped by then.
  return detail::Allocation::adopt(MemoryKind::device, gpu, gen, *p, bytes, false, type,
                                   [self = shared_from_this(), stream = s.impl().shared_from_this(), ptr = *p, bytes] {
                                     self->give_back(*stream, ptr, bytes);
                                   });
}

void DevicePool::give_back(detail::StreamImpl& s, void* ptr, std::size_t bytes) noexcept {
  backend_->deallocate(s, ptr);
  std::lock_guard lock(m_);
  in_use_ -= bytes;
}

PoolStats DevicePool::stats() const {
  PoolStats out;
  {
    std::lock_guard lock(m_);
    out.bytes_in_use = in_use_;
    out.peak_bytes_in_use = peak_;
    out.limit_bytes = limit_;
    out.allocations = allocations_;
    out.failures = failures_;
  }
  out.bytes_reserved = backend_->reserved_bytes();
  return out;
}

Status DevicePool::trim() { return backend_->trim(0); }

// ---- PinnedPool --------------------------------------------------------------------------

std::size_t default_pinned_cache_bytes() noexcept {
  constexpr std::size_t kGiB = std::size_t(1) << 30;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return kGiB / 4;  // unknown RAM: stay modest
  return std::min(kGiB, static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 8);
}

struct PinnedPool::State {
  struct Block {
    void* ptr = nullptr;
    std::size_t bytes = 0;
    std::shared_ptr<detail::GpuDevice> gpu;  // null: plain host memory (no GPU)
    std::uint64_t generation = 0;
  };

  explicit State(PinnedPoolOptions o) : opt(o) {
    const std::size_t top = std::bit_ceil(std::max(opt.max_block_bytes, kMinBlockBytes));
    free.resize(index_of(top) + 1);
  }

  // Powers of two from 64 KiB.
  static std::size_t class_bytes(std::size_t bytes) { return std::max(kMinBlockBytes, std::bit_ceil(bytes)); }
  static std::size_t index_of(std::size_t class_bytes) {
    return std::size_t(std::countr_zero(class_bytes) - std::countr_zero(kMinBlockBytes));
  }
  // Registered with a GPU that a fault has since retired: still host memory, but no longer
  // page-locked for a healthy device, so not worth handing out again.
  static bool stale(const Block& b) { return b.gpu && b.generation != b.gpu->generation(); }

  static Result<Block> allocate_block(std::size_t bytes) {
    Block b;
    b.bytes = bytes;
    b.gpu = detail::gpu_for_pinned();
    if (b.gpu) {
      b.generation = b.gpu->generation();
      auto p = b.gpu->allocate(MemoryKind::pinned, bytes);
      if (!p) return std::move(p).error().with_context("PinnedPool");
      b.ptr = *p;
      return b;
    }
    b.ptr = std::aligned_alloc(kPage, bytes);
    if (!b.ptr) return Error(Errc::out_of_memory, "PinnedPool: host allocation of " + both(bytes) + " failed");
    return b;
  }

  static void free_block(Block& b) noexcept {
    if (b.gpu) {
      b.gpu->deallocate(MemoryKind::pinned, b.ptr, b.bytes, b.generation);
    } else {
      std::free(b.ptr);
    }
  }

  // Blocks taken out of the cache, freed by the caller outside the lock (unregistering is slow).
  std::vector<Block> drain_locked() {
    std::vector<Block> out;
    for (auto& list : free) {
      for (auto& b : list) out.push_back(std::move(b));
      list.clear();
    }
    cached = 0;
    return out;
  }

  void give_back(Block b, bool cacheable) noexcept {
    {
      std::lock_guard lock(m);
      in_use -= b.bytes;
      if (cacheable && !closed && !stale(b) && cached + b.bytes <= opt.max_cached_bytes) {
        cached += b.bytes;
        free[index_of(b.bytes)].push_back(std::move(b));
        return;
      }
    }
    free_block(b);
  }

  const PinnedPoolOptions opt;
  mutable std::mutex m;
  std::vector<std::vector<Block>> free;  // per size class, most recently returned last
  std::size_t cached = 0;
  std::size_t in_use = 0;
  std::size_t peak = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  bool closed = false;
};

PinnedPool::PinnedPool(PinnedPoolOptions options) : state_(std::make_shared<State>(options)) {}

PinnedPool::~PinnedPool() {
  std::vector<State::Block> blocks;
  {
    std::lock_guard lock(state_->m);
    state_->closed = true;
    blocks = state_->drain_locked();
  }
  for (auto& b : blocks) State::free_block(b);
}

PinnedPool& PinnedPool::shared() {
  // Leaked: buffers in statics may return blocks during exit.
  static auto* pool = new PinnedPool();
  return *pool;
}

Result<std::shared_ptr<detail::Allocation>> PinnedPool::acquire_bytes(std::size_t bytes, const std::string& type) {
  if (bytes == 0) return detail::Allocation::create(MemoryKind::pinned, nullptr, 0, type);
  State& st = *state_;
  const bool cacheable = bytes <= st.opt.max_block_bytes;
  const std::size_t block_bytes = cacheable ? State::class_bytes(bytes) : (bytes + kPage - 1) / kPage * kPage;
  std::optional<State::Block> found;
  std::vector<State::Block> stale;
  {
    std::lock_guard lock(st.m);
    if (cacheable) {
      auto& list = st.free[State::index_of(block_bytes)];
      while (!found && !list.empty()) {
        State::Block b = std::move(list.back());
        list.pop_back();
        st.cached -= b.bytes;
        if (State::stale(b)) {
          stale.push_back(std::move(b));
        } else {
          found = std::move(b);
        }
      }
    }
    ++(found ? st.hits : st.misses);
    st.in_use += block_bytes;
    st.peak = std::max(st.peak, st.in_use);
  }
  for (auto& b : stale) State::free_block(b);
  if (!found) {
    auto b = State::allocate_block(block_bytes);
    if (!b) {
      std::lock_guard lock(st.m);
      st.in_use -= block_bytes;
      return std::move(b).error();
    }
    found = std::move(*b);
  }
  void* ptr = found->ptr;
  auto gpu = found->gpu;
  const auto gen = found->generation;
  const bool page_locked = gpu != nullptr;
  return detail::Allocation::adopt(MemoryKind::pinned, std::move(gpu), gen, ptr, bytes, page_locked, type,
                                   [state = state_, block = std::move(*found), cacheable]() mutable {
                                     state->give_back(std::move(block), cacheable);
                                   });
}

PinnedPoolStats PinnedPool::stats() const {
  std::lock_guard lock(state_->m);
  return {state_->hits, state_->misses, state_->cached, state_->in_use, state_->peak};
}

void PinnedPool::trim() {
  std::vector<State::Block> blocks;
  {
    std::lock_guard lock(state_->m);
    blocks = state_->drain_locked();
  }
  for (auto& b : blocks) State::free_block(b);
}

const PinnedPoolOptions& PinnedPool::options() const noexcept { return state_->opt; }

}  // namespace hetex
