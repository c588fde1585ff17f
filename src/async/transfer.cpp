#include "hetex/async/transfer.hpp"

#include <tbb/parallel_for.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>

namespace hetex::detail {
namespace {

#if defined(__SSE2__)
// memcpy with streaming (non-temporal) stores for the 16-byte-aligned body: the destination is
// read next by a DMA engine or much later by the caller, not by this core, so caching it would
// only evict the source and cost a read of each destination line first.
void stream_copy(void* dst, const void* src, std::size_t bytes) {
  auto* d = static_cast<char*>(dst);
  auto* s = static_cast<const char*>(src);
  const std::size_t head = std::min(bytes, (16 - (reinterpret_cast<std::uintptr_t>(d) & 15)) & 15);
  std::memcpy(d, s, head);
  d += head, s += head, bytes -= head;
  const std::size_t lines = bytes / 64;
  for (std::size_t i = 0; i < lines; ++i, d += 64, s += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
    const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
  }
  std::memcpy(d, s, bytes - lines * 64);
  _mm_sfence();  // streaming stores are weakly ordered: drain them before a DMA is queued
}
#else
void stream_copy(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
#endif

// Below this, the driver's own staging of pageable memory is as good as ours.
constexpr std::size_t kDirect = std::size_t(1) << 20;
// A staging chunk: large enough that per-chunk overhead (an event, a launch) vanishes, small
// enough that the first DMA starts early.
constexpr std::size_t kChunk = std::size_t(8) << 20;
constexpr std::size_t kSlotsPerTransfer = 3;
constexpr std::size_t kCachedSlots = 12;

struct Slot {
  std::shared_ptr<Allocation> mem;
  GatePtr last_use;  // the DMA that last touched it; wait before rewriting
};

// Pinned staging chunks per GPU, reused across transfers.
class StagingPool {
 public:
  static StagingPool& of(const std::shared_ptr<GpuDevice>& gpu) {
    static std::mutex m;
    static std::map<GpuDevice*, StagingPool*> pools;  // leaked like the devices they serve
    std::lock_guard lock(m);
    auto& p = pools[gpu.get()];
    if (!p) p = new StagingPool(gpu);
    return *p;
  }

  Result<Slot> acquire() {
    {
      // Prefer a slot whose last DMA has finished: taking one still in use by another stream's
      // transfer would make this transfer wait for that one.
      std::lock_guard lock(m_);
      std::erase_if(free_, [](const Slot& s) { return s.mem->lost(); });
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (!it->last_use || it->last_use->poll()) {
          Slot s = std::move(*it);
          free_.erase(it);
          return s;
        }
      }
      if (free_.size() >= kCachedSlots) {  // all busy and no room to grow: the oldest frees first
        Slot s = std::move(free_.front());
        free_.erase(free_.begin());
        return s;
      }
    }
    auto mem = Allocation::create(MemoryKind::pinned, gpu_, kChunk, "staging");
    if (!mem) return std::move(mem).error();
    return Slot{std::move(*mem), nullptr};
  }

  void release(std::vector<Slot>& slots) {
    std::lock_guard lock(m_);
    for (auto& s : slots)
      if (free_.size() < kCachedSlots) free_.push_back(std::move(s));
    slots.clear();
  }

 private:
  explicit StagingPool(std::shared_ptr<GpuDevice> gpu) : gpu_(std::move(gpu)) {}
  std::shared_ptr<GpuDevice> gpu_;
  std::mutex m_;
  std::vector<Slot> free_;
};

struct SlotSet {
  StagingPool& pool;
  std::vector<Slot> slots;
  ~SlotSet() { pool.release(slots); }
  Status take(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      auto s = pool.acquire();
      if (!s) return std::move(s).error();
      slots.push_back(std::move(*s));
    }
    return {};
  }
};

}  // namespace

void parallel_copy(void* dst, const void* src, std::size_t bytes, bool streaming) {
  // A piece is a few tens of microseconds of one core: coarse enough for TBB, fine enough to
  // spread a few MiB over 16 cores.
  constexpr std::size_t kPiece = std::size_t(256) << 10;
  if (bytes < 2 * kPiece) {
    std::memcpy(dst, src, bytes);  // small: likely read again soon, keep it in cache
    return;
  }
  const std::size_t pieces = (bytes + kPiece - 1) / kPiece;
  tbb::parallel_for(std::size_t(0), pieces, [&](std::size_t i) {
    const std::size_t off = i * kPiece, len = std::min(kPiece, bytes - off);
    auto* d = static_cast<char*>(dst) + off;
    auto* s = static_cast<const char*>(src) + off;
    streaming ? stream_copy(d, s, len) : (void)std::memcpy(d, s, len);
  });
}

Result<GatePtr> upload_bytes(Stream& s, void* dst, Allocation* dst_owner, const void* src, std::size_t bytes,
                             SourceUse use) {
  if (bytes == 0) return GatePtr();
  DeviceUseGuard r;
  HETEX_TRY_VOID(r.add(dst_owner));
  auto& impl = s.impl();
  auto& gpu = s.device().backend_ptr();
  // A direct copy from page-locked memory is read by the DMA engine after this returns, so a
  // source freed on return is always staged; pageable sources below kDirect are copied out by
  // the driver before cudaMemcpyAsync returns.
  const bool pinned = gpu->is_pinned(src);
  const bool direct = use == SourceUse::freed_on_return ? !pinned && bytes < kDirect : pinned || bytes < kDirect;
  if (direct) {
    HETEX_TRY_VOID(impl.copy(dst, src, bytes));
  } else {
    SlotSet set{StagingPool::of(gpu), {}};
    const std::size_t chunks = (bytes + kChunk - 1) / kChunk;
    HETEX_TRY_VOID(set.take(std::min(chunks, kSlotsPerTransfer)));
    for (std::size_t i = 0; i < chunks; ++i) {
      Slot& slot = set.slots[i % set.slots.size()];
      if (slot.last_use) HETEX_TRY_VOID(slot.last_use->wait());
      const std::size_t off = i * kChunk, len = std::min(kChunk, bytes - off);
      parallel_copy(slot.mem->host_ptr(), static_cast<const char*>(src) + off, len);
      HETEX_TRY_VOID(impl.copy(static_cast<char*>(dst) + off, slot.mem->host_ptr(), len));
      slot.last_use = HETEX_TRY(impl.record());
    }
  }
  auto gate = HETEX_TRY(impl.record());
  r.release(gate);
  return gate;
}

Result<GatePtr> download_bytes(Stream& s, void* dst, const void* src, Allocation* src_owner, std::size_t bytes) {
  if (bytes == 0) return GatePtr();
  DeviceUseGuard r;
  HETEX_TRY_VOID(r.add(src_owner));
  auto& impl = s.impl();
  auto& gpu = s.device().backend_ptr();
  if (bytes < kDirect || gpu->is_pinned(dst)) {
    HETEX_TRY_VOID(impl.copy(dst, src, bytes));
    auto gate = HETEX_TRY(impl.record());
    r.release(gate);
    return gate;
  }
  // Pipelined: the DMA of chunk i+k overlaps the host copy out of chunk i.
  SlotSet set{StagingPool::of(gpu), {}};
  const std::size_t chunks = (bytes + kChunk - 1) / kChunk;
  HETEX_TRY_VOID(set.take(std::min(chunks, kSlotsPerTransfer)));
  const std::size_t k = set.slots.size();
  auto issue = [&](std::size_t i) -> Status {
    const std::size_t off = i * kChunk, len = std::min(kChunk, bytes - off);
    Slot& slot = set.slots[i % k];
    // A slot fresh from the pool may still feed an upload on another stream: let that DMA read
    // it before this one overwrites it.
    if (slot.last_use) HETEX_TRY_VOID(slot.last_use->wait());
    HETEX_TRY_VOID(impl.copy(slot.mem->host_ptr(), static_cast<const char*>(src) + off, len));
    slot.last_use = HETEX_TRY(impl.record());
    return {};
  };
  for (std::size_t i = 0; i < k; ++i) HETEX_TRY_VOID(issue(i));
  for (std::size_t i = 0; i < chunks; ++i) {
    Slot& slot = set.slots[i % k];
    HETEX_TRY_VOID(slot.last_use->wait());
    const std::size_t off = i * kChunk, len = std::min(kChunk, bytes - off);
    parallel_copy(static_cast<char*>(dst) + off, slot.mem->host_ptr(), len);
    if (i + k < chunks) HETEX_TRY_VOID(issue(i + k));
  }
  r.release(set.slots[(chunks - 1) % k].last_use);
  return GatePtr();  // finished
}

UniqueFunction<Status()> watch_unchanged(const void* src, std::size_t bytes, Stream& s) {
#ifdef NDEBUG
  (void)src, (void)bytes, (void)s;
  return {};
#else
  // Only page-locked sources are read after upload() returns; pageable ones are staged first.
  if (!s.device().backend()->is_pinned(src)) return {};
  auto hash = [src, bytes] {
    std::uint64_t h = 1469598103934665603ull;
    auto* p = static_cast<const unsigned char*>(src);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
  };
  return [hash, before = hash()]() -> Status {
    if (hash() != before)
      return Error(Errc::invalid_argument,
                   "the host memory of a borrowed upload was modified before the upload completed; wait for its "
                   "Completion before touching the source");
    return {};
  };
#endif
}

}  // namespace hetex::detail
