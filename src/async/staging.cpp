// SPDX-License-Identifier: MIT
// The staging pipeline (staging.hpp): its ring of slots, the per-GPU cache of idle rings, and
// the chunk loop with its one error clean-up.
#include "async/staging.hpp"

#include <tbb/parallel_invoke.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "hetex/memory/buffer.hpp"

namespace hetex::detail {

SlotBytes SlotBytes::max(const SlotBytes& a, const SlotBytes& b) {
  return {std::max(a.host_in, b.host_in), std::max(a.host_out, b.host_out), std::max(a.device_in, b.device_in),
          std::max(a.device_out, b.device_out)};
}

Status StagedWork::launch(Stream&, const Chunk&, const SlotMemory&) { return {}; }
void StagedWork::land(const Chunk&, const SlotMemory&) {}

namespace {

constexpr std::size_t kAlign = 256;
// Idle rings kept per GPU: one per caller that runs concurrently in steady state.
constexpr std::size_t kIdleRings = 4;

std::size_t round_up(std::size_t x, std::size_t to) { return (x + to - 1) / to * to; }

enum Region : std::size_t { kHostIn, kHostOut, kDeviceIn, kDeviceOut, kRegions };

std::size_t want(const SlotBytes& b, std::size_t r) {
  switch (r) {
    case kHostIn: return b.host_in;
    case kHostOut: return b.host_out;
    case kDeviceIn: return b.device_in;
    default: return b.device_out;
  }
}

}  // namespace

// Slots of page-locked and device memory on one GPU, each with the gate of the last work that
// used it. Rings outlive runs: a run takes one from its GPU's cache and gives it back, gates
// and all, so the next run waits for that work only if it reuses the slot before it is done.
class StagingRing {
 public:
  struct Slot {
    std::shared_ptr<Allocation> mem[kRegions];
    GatePtr last_use;
  };

  explicit StagingRing(std::shared_ptr<GpuDevice> gpu) : gpu_(std::move(gpu)) {}
  // Memory must not be freed under a DMA that may still use it.
  ~StagingRing() {
    for (auto& s : slots_)
      if (s.last_use) (void)s.last_use->wait();
  }

  GpuDevice& gpu() const { return *gpu_; }
  std::size_t size() const { return slots_.size(); }
  Slot& slot(std::size_t i) { return slots_[i]; }

  std::size_t capacity(std::size_t i, std::size_t r) const {
    return i < slots_.size() && slots_[i].mem[r] ? slots_[i].mem[r]->bytes() : 0;
  }
  bool fits(std::size_t i, const SlotBytes& b) const {
    for (std::size_t r = 0; r < kRegions; ++r)
      if (capacity(i, r) < want(b, r)) return false;
    return true;
  }
  bool fits_all(std::size_t n, const SlotBytes& b) const {
    for (std::size_t i = 0; i < n; ++i)
      if (!fits(i, b)) return false;
    return true;
  }
  std::size_t bytes() const {
    std::size_t t = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i)
      for (std::size_t r = 0; r < kRegions; ++r) t += capacity(i, r);
    return t;
  }
  bool idle() const {
    for (const auto& s : slots_)
      if (s.last_use && !s.last_use->poll()) return false;
    return true;
  }
  bool lost() const {
    if (!gpu_->healthy()) return true;
    for (const auto& s : slots_)
      for (const auto& m : s.mem)
        if (m && m->lost()) return true;
    return false;
  }

  // Grows slot i to at least `b` (whole MiB), after the work that last used it.
  Status grow(std::size_t i, const SlotBytes& b) {
    if (slots_.size() <= i) slots_.resize(i + 1);
    if (fits(i, b)) return {};
    Slot& s = slots_[i];
    if (s.last_use) {
      (void)s.last_use->wait();
      s.last_use.reset();
    }
    for (std::size_t r = 0; r < kRegions; ++r) {
      const std::size_t need = want(b, r);
      if (capacity(i, r) >= need) continue;
      s.mem[r].reset();  // free first: the old block is idle
      const MemoryKind kind = r == kHostIn || r == kHostOut ? MemoryKind::pinned : MemoryKind::device;
      auto a = Allocation::create(kind, gpu_, round_up(need, std::size_t(1) << 20), "staging");
      if (!a) return std::move(a).error().with_context("staging slot " + std::to_string(i));
      s.mem[r] = std::move(*a);
    }
    return {};
  }

  SlotMemory memory(std::size_t i) const {
    const Slot& s = slots_[i];
    auto span = [&](std::size_t r) -> std::span<std::uint8_t> {
      if (!s.mem[r]) return {};
      void* p = r == kHostIn || r == kHostOut ? s.mem[r]->host_ptr() : s.mem[r]->device_ptr();
      return {static_cast<std::uint8_t*>(p), s.mem[r]->bytes()};
    };
    return {i, span(kHostIn), span(kHostOut), span(kDeviceIn), span(kDeviceOut)};
  }

 private:
  std::shared_ptr<GpuDevice> gpu_;
  std::vector<Slot> slots_;
};

namespace {

// Idle rings per GPU. Leaked like the devices they serve: buffers in statics may still give
// memory back during exit.
struct RingCache {
  std::mutex m;
  std::map<const GpuDevice*, std::vector<std::unique_ptr<StagingRing>>> idle;

  static RingCache& get() {
    static auto* c = new RingCache;
    return *c;
  }

  // An idle ring that is large enough (the smallest such), else an idle one to grow (the
  // largest). When every cached ring still carries DMAs of an earlier run (a transfer on another
  // stream), a new ring, so that this run does not wait for that one; past kIdleRings, the one
  // that fits (its DMAs are waited for only where a slot is reused before they finish).
  std::unique_ptr<StagingRing> take(const std::shared_ptr<GpuDevice>& gpu, std::size_t n, const SlotBytes& b) {
    std::vector<std::unique_ptr<StagingRing>> dead;
    std::unique_ptr<StagingRing> best;
    {
      std::lock_guard lock(m);
      auto& v = idle[gpu.get()];
      for (auto it = v.begin(); it != v.end();) {
        if ((*it)->lost()) {
          dead.push_back(std::move(*it));
          it = v.erase(it);
        } else {
          ++it;
        }
      }
      // Lower is better: 0 idle and fits, 1 idle, 2 busy and fits, 3 busy.
      auto rank = [&](const StagingRing& r) { return (r.idle() ? 0 : 2) + (r.fits_all(n, b) ? 0 : 1); };
      auto pick = v.end();
      int pick_rank = 4;
      for (auto it = v.begin(); it != v.end(); ++it) {
        const int rk = rank(**it);
        const bool smaller = pick != v.end() && (*it)->bytes() < (*pick)->bytes();
        if (rk < pick_rank || (rk == pick_rank && (rk % 2 == 0 ? smaller : !smaller))) pick = it, pick_rank = rk;
      }
      if (pick != v.end() && (pick_rank < 2 || v.size() >= kIdleRings)) {
        best = std::move(*pick);
        v.erase(pick);
      }
    }
    dead.clear();  // outside the lock: freeing waits for their gates
    return best ? std::move(best) : std::make_unique<StagingRing>(gpu);
  }

  void give_back(std::unique_ptr<StagingRing> ring) {
    if (!ring || ring->lost()) return;  // its memory is gone with the device
    {
      std::lock_guard lock(m);
      auto& v = idle[&ring->gpu()];
      if (v.size() < kIdleRings) {
        v.push_back(std::move(ring));
        return;
      }
    }
    ring.reset();  // outside the lock
  }
};

}  // namespace

void drop_staging_rings(const GpuDevice& gpu) {
  std::vector<std::unique_ptr<StagingRing>> dead;
  {
    auto& c = RingCache::get();
    std::lock_guard lock(c.m);
    if (auto it = c.idle.find(&gpu); it != c.idle.end()) {
      dead = std::move(it->second);
      c.idle.erase(it);
    }
  }
}

std::size_t cached_staging_rings(const GpuDevice& gpu) {
  auto& c = RingCache::get();
  std::lock_guard lock(c.m);
  auto it = c.idle.find(&gpu);
  return it == c.idle.end() ? 0 : it->second.size();
}

// ---- the pipeline ------------------------------------------------------------------------

struct StagingPipeline::Impl {
  std::span<Stream> streams;
  StagedWork& work;
  StagingOptions o;
  std::shared_ptr<GpuDevice> gpu;
  std::unique_ptr<StagingRing> ring;
  std::vector<Chunk> chunks;  // per slot: its chunk in flight
  std::size_t submitted = 0;
  std::size_t oldest = 0;  // chunks [oldest, submitted) are in flight, chunk k in slot k mod slots
  std::size_t landed = 0;
  std::optional<std::pair<std::size_t, std::size_t>> unfinished;
  std::optional<Chunk> beside;  // the chunk being landed beside the next one's packing
  bool open = true;

  Impl(std::span<Stream> s, StagedWork& w, const StagingOptions& opt) : streams(s), work(w), o(opt) {
    o.slots = std::max<std::size_t>(1, o.slots);
    chunks.resize(o.slots);
  }

  std::size_t slot_of(std::size_t k) const { return k % o.slots; }
  Stream& stream(std::size_t k, std::size_t role) {
    const std::size_t i = o.roles == StreamRoles::round_robin ? slot_of(k) : role;
    return streams[i % streams.size()];
  }

  Status wait_slot(std::size_t s) {
    auto& g = ring->slot(s).last_use;
    if (!g) return {};
    if (auto st = g->poll()) return std::move(*st);
    return g->wait();
  }

  // Copies pageable uploads into the slot (one parallel host copy) and places pageable
  // downloads in its output staging.
  Status stage(Chunk& c, const SlotMemory& m) {
    if (c.uploads.overflow() || c.downloads.overflow())
      return Error(Errc::internal, "staging: a chunk lists more copies than it can hold");
    std::array<CopyRegion, 4> regions{};
    std::size_t nr = 0, off = 0;
    for (auto& u : c.uploads.items()) {
      if (u.page_locked || u.bytes == 0 || u.bytes < o.direct_below) continue;
      off = round_up(off, kAlign);
      if (off + u.bytes > m.host_in.size())
        return Error(Errc::internal, "staging: slot of " + std::to_string(m.host_in.size()) +
                                         " bytes is too small for a chunk's uploads of " +
                                         std::to_string(off + u.bytes));
      u.staged_at = off;
      regions[nr++] = {m.host_in.data() + off, u.src, u.bytes};
      off += u.bytes;
    }
    parallel_copy_regions({regions.data(), nr}, o.streaming_stores);
    off = 0;
    for (auto& d : c.downloads.items()) {
      // Always staged: a download into pageable memory returns only once it is done, which
      // would make the host wait for every chunk in turn.
      if (d.page_locked || d.bytes == 0) continue;
      off = round_up(off, kAlign);
      if (off + d.bytes > m.host_out.size())
        return Error(Errc::internal, "staging: slot of " + std::to_string(m.host_out.size()) +
                                         " bytes is too small for a chunk's downloads of " +
                                         std::to_string(off + d.bytes));
      d.staged_at = off;
      off += d.bytes;
    }
    return {};
  }

  Status pack(Chunk& c, const SlotMemory& m) {
    HETEX_TRY_VOID(work.pack(c, m));
    return stage(c, m);
  }

  // Upload -> launch -> download, then the slot's gate.
  Result<GatePtr> enqueue(Chunk& c, const SlotMemory& m) {
    Stream& up = stream(c.index, 0);
    Stream& run = stream(c.index, 1);
    Stream& down = stream(c.index, 2);
    for (const auto& u : c.uploads.items()) {
      if (u.bytes == 0) continue;
      const void* src = u.staged_at == HostCopy::kNotStaged ? u.src : m.host_in.data() + u.staged_at;
      HETEX_TRY_VOID(up.impl().copy(u.dst, src, u.bytes));
    }
    if (&run != &up) HETEX_TRY_VOID(run.impl().wait_for(HETEX_TRY(up.impl().record())));
    HETEX_TRY_VOID(work.launch(run, c, m));
    if (&down != &run) HETEX_TRY_VOID(down.impl().wait_for(HETEX_TRY(run.impl().record())));
    for (const auto& d : c.downloads.items()) {
      if (d.bytes == 0) continue;
      void* dst = d.staged_at == HostCopy::kNotStaged ? d.dst : m.host_out.data() + d.staged_at;
      HETEX_TRY_VOID(down.impl().copy(dst, d.src, d.bytes));
    }
    return down.impl().record();
  }

  // Copies a finished chunk's staged downloads out and hands it to the work.
  void land(const Chunk& c) {
    const SlotMemory m = ring->memory(c.slot);
    std::array<CopyRegion, 2> regions{};
    std::size_t nr = 0;
    for (const auto& d : c.downloads.items())
      if (d.staged_at != HostCopy::kNotStaged) regions[nr++] = {d.dst, m.host_out.data() + d.staged_at, d.bytes};
    parallel_copy_regions({regions.data(), nr}, o.streaming_stores);
    work.land(c, m);
  }

  Status land_oldest() {
    const std::size_t s = slot_of(oldest);
    HETEX_TRY_VOID(wait_slot(s));
    land(chunks[s]);
    ++oldest, ++landed;
    return {};
  }

  Result<Event> submit(std::size_t begin, std::size_t end, const SlotBytes& need) {
    const std::size_t k = submitted;
    const std::size_t s = slot_of(k);
    Chunk c;
    c.index = k;
    c.begin = begin;
    c.end = end;
    c.slot = s;
    try {
      if (!ring)
        return fail(
            Error(gpu->healthy() ? Errc::internal : Errc::device_lost,
                  "staging: the ring was dropped after " + streams.front().device().id().to_string() + " was retired"),
            &c);
      // 1. Retire the slot: its chunk (k - slots) is the oldest in flight. A slot with no chunk
      //    of this run may still carry the gate of an earlier run's work.
      while (oldest + o.slots <= k) {
        if (oldest + o.slots == k && o.land_beside_pack) {
          if (auto st = wait_slot(s); !st) return fail(std::move(st).error(), &c);
          beside = chunks[s];
          ++oldest;
          break;
        }
        if (auto st = land_oldest(); !st) return fail(std::move(st).error(), &c);
      }
      if (!beside)
        if (auto st = wait_slot(s); !st) return fail(std::move(st).error(), &c);
      const SlotBytes want = SlotBytes::max(o.bytes, need);
      if (!ring->fits(s, want)) {
        if (beside) land_beside();
        if (auto st = ring->grow(s, want); !st) return fail(std::move(st).error(), &c);
      }
      // 2. Pack, landing the slot's previous chunk beside it.
      const SlotMemory m = ring->memory(s);
      Status packed;
      if (beside) {
        tbb::parallel_invoke([&] { land_beside(); }, [&] { packed = pack(c, m); });
      } else {
        packed = pack(c, m);
      }
      if (!packed) return fail(std::move(packed).error(), &c);
      // 3. Enqueue; 4. the slot's gate.
      auto gate = enqueue(c, m);
      if (!gate) return fail(std::move(gate).error(), &c);
      ring->slot(s).last_use = *gate;
      chunks[s] = c;
      ++submitted;
      if (o.eager_landing) {
        while (oldest < submitted && ring->slot(slot_of(oldest)).last_use->poll())
          if (auto st = land_oldest(); !st) return fail(std::move(st).error(), nullptr);
      }
      return Event(std::move(*gate));
    } catch (const std::bad_alloc&) {
      return fail(Error(Errc::out_of_memory, "staging: out of host memory"), &c);
    } catch (const std::exception& e) {
      return fail(Error(Errc::internal, std::string("staging: ") + e.what()), &c);
    }
  }

  void land_beside() {
    land(*beside);
    beside.reset();
    ++landed;
  }

  Status finish() {
    if (!open) return {};
    Status st;
    try {
      while (st && oldest < submitted) st = land_oldest();
      if (!st) st = fail(std::move(st).error(), nullptr);
    } catch (const std::bad_alloc&) {
      st = fail(Error(Errc::out_of_memory, "staging: out of host memory"), nullptr);
    } catch (const std::exception& e) {
      st = fail(Error(Errc::internal, std::string("staging: ") + e.what()), nullptr);
    }
    close();
    return st;
  }

  Result<GatePtr> detach() {
    if (!open) return GatePtr();
    auto r = join_in_flight();
    if (!r) r = fail(std::move(r).error(), nullptr);
    oldest = submitted;
    close();
    return r;
  }

  // A gate after every chunk in flight (detach): the newest chunk's, or, where chunks ran on
  // other streams, one recorded after the newest chunk's stream waited for them.
  Result<GatePtr> join_in_flight() {
    if (oldest == submitted) return GatePtr();
    for (std::size_t k = oldest; k < submitted; ++k)
      for (const auto& d : chunks[slot_of(k)].downloads.items())
        if (d.staged_at != HostCopy::kNotStaged)
          return Error(Errc::internal, "staging: detach with staged downloads still to land");
    const std::size_t newest = submitted - 1;
    Stream& last = stream(newest, 2);
    bool joined = false;
    for (std::size_t k = oldest; k < newest; ++k) {
      if (&stream(k, 2) == &last) continue;
      HETEX_TRY_VOID(last.impl().wait_for(ring->slot(slot_of(k)).last_use));
      joined = true;
    }
    if (joined) return last.impl().record();
    return ring->slot(slot_of(newest)).last_use;
  }

  // The one clean-up: nothing enqueued may outlive the failure, chunks that finished are landed
  // (a prefix, oldest first), the rest are dropped, and a ring a fault made useless goes.
  Error fail(Error error, const Chunk* current) {
    for (auto& st : streams) (void)st.impl().synchronize();
    bool landing = ring != nullptr;
    try {
      if (beside) land_beside();  // its work is done: it was waited for
      while (landing && oldest < submitted) {
        const auto& g = ring->slot(slot_of(oldest)).last_use;
        auto done = g->poll();
        if (!done || !*done) break;
        land(chunks[slot_of(oldest)]);
        ++oldest, ++landed;
      }
    } catch (...) {
      landing = false;  // landing failed too: those items are reported as not done
    }
    if (beside) {
      unfinished = {beside->begin, beside->end};
      beside.reset();
    } else if (oldest < submitted) {
      const Chunk& c = chunks[slot_of(oldest)];
      unfinished = {c.begin, c.end};
    } else if (current) {
      unfinished = {current->begin, current->end};
    }
    oldest = submitted;
    if (ring && ring->lost()) ring.reset();
    return error;
  }

  void close() {
    if (!open) return;
    open = false;
    RingCache::get().give_back(std::move(ring));
  }

  // Destroyed without finish() or detach(): an early return. Nothing may outlive it.
  void abandon() {
    if (!open) return;
    if (oldest < submitted)
      for (auto& st : streams) (void)st.impl().synchronize();
    oldest = submitted;
    close();
  }
};

Result<StagingPipeline> StagingPipeline::create(std::span<Stream> streams, StagedWork& work,
                                                const StagingOptions& options) {
  if (streams.empty()) return Error(Errc::invalid_argument, "staging needs at least one stream");
  const Device& dev = streams.front().device();
  if (!dev.is_gpu() || !dev.backend()) return Error(Errc::invalid_argument, "staging needs streams of a GPU");
  for (const Stream& s : streams)
    if (!(s.device() == dev))
      return Error(Errc::invalid_argument,
                   "staging: streams of one GPU, got " + dev.id().to_string() + " and " + s.device().id().to_string());
  auto impl = std::make_unique<Impl>(streams, work, options);
  impl->gpu = dev.backend_ptr();
  impl->ring = RingCache::get().take(impl->gpu, impl->o.slots, impl->o.bytes);
  for (std::size_t i = 0; i < impl->o.slots; ++i) {
    if (auto st = impl->ring->grow(i, impl->o.bytes); !st) {
      RingCache::get().give_back(std::move(impl->ring));
      return std::move(st).error();
    }
  }
  return StagingPipeline(std::move(impl));
}

StagingPipeline::StagingPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StagingPipeline::StagingPipeline(StagingPipeline&&) noexcept = default;
StagingPipeline::~StagingPipeline() {
  if (impl_) impl_->abandon();
}

Result<Event> StagingPipeline::submit(std::size_t begin, std::size_t end, const SlotBytes& need) {
  if (!impl_->open) return Error(Errc::internal, "staging: submit after finish or detach");
  return impl_->submit(begin, end, need);
}
Status StagingPipeline::finish() { return impl_->finish(); }
Result<GatePtr> StagingPipeline::detach() { return impl_->detach(); }
std::size_t StagingPipeline::chunks_submitted() const { return impl_->submitted; }
std::size_t StagingPipeline::chunks_landed() const { return impl_->landed; }
std::optional<std::pair<std::size_t, std::size_t>> StagingPipeline::first_unfinished() const {
  return impl_->unfinished;
}

}  // namespace hetex::detail
