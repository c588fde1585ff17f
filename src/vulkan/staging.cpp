// SPDX-License-Identifier: MIT
#include "vulkan/staging.hpp"

#include <mutex>
#include <optional>

namespace hetex::vulkan {

// Idle slots of one device, reused by later calls when their buffers are large enough.
class SlotPool {
 public:
  std::unique_ptr<Slot> take(Device& dev, const SlotSizes& sizes, Status& st) {
    std::unique_ptr<Slot> s;
    {
      std::lock_guard lock(m_);
      if (!idle_.empty()) {
        s = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!s) s = std::make_unique<Slot>();
    st = grow(dev, s->up, sizes.up, MemoryUse::upload);
    if (st) st = grow(dev, s->in, sizes.in, MemoryUse::device);
    if (st) st = grow(dev, s->out, sizes.out, MemoryUse::device);
    if (st) st = grow(dev, s->down, sizes.down, MemoryUse::readback);
    return s;
  }
  void give_back(std::unique_ptr<Slot> s) {
    constexpr std::size_t kIdle = 8;
    std::lock_guard lock(m_);
    if (idle_.size() < kIdle) idle_.push_back(std::move(s));
  }

 private:
  static Status grow(Device& dev, Buffer& b, std::uint64_t bytes, MemoryUse use) {
    if (bytes == 0 || (b && b.capacity() >= bytes)) return {};
    b = Buffer();
    auto made = Buffer::create_owned(dev, bytes, use);
    if (!made) return std::move(made).error();
    b = std::move(*made);
    return {};
  }
  std::mutex m_;
  std::vector<std::unique_ptr<Slot>> idle_;
};

namespace {

Result<SlotPool*> pool_of(Device& dev) {
  return dev.resource<SlotPool>("staging.slots",
                                [] { return Result<std::shared_ptr<SlotPool>>(std::make_shared<SlotPool>()); });
}

struct InFlight {
  std::unique_ptr<Slot> slot;
  std::size_t chunk = 0;
  TimelinePoint done;
  bool busy = false;
};

// Records and submits chunk k; `last` is the latest point submitted for it, even when a later
// step fails (the caller must wait for it before the slot is reused).
Status submit_chunk(Device& dev, Slot& s, const ChunkWork& w, std::size_t k, const ChunkSteps& steps,
                    TimelinePoint& last) {
  HETEX_TRY_VOID(s.up.flush(w.offset, w.upload));
  if (!dev.separate_transfer()) {
    auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
    rec.copy(s.up, w.offset, s.in, w.offset, w.upload);
    rec.barrier(Access::transfer, Access::compute);
    HETEX_TRY_VOID(steps.dispatch(k, s, rec));
    rec.barrier(Access::compute, Access::transfer);
    rec.copy(s.out, 0, s.down, 0, w.download);
    rec.barrier(Access::transfer, Access::host);
    last = HETEX_TRY(rec.submit());
    return {};
  }
  // Upload on one transfer queue, compute, download on the other: three submissions chained by
  // timeline points, so the copies of one chunk overlap the dispatches of another.
  auto up = HETEX_TRY(Recording::begin(dev, QueueRole::upload));
  up.copy(s.up, w.offset, s.in, w.offset, w.upload);
  last = HETEX_TRY(up.submit());
  auto run = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
  HETEX_TRY_VOID(steps.dispatch(k, s, run));
  const TimelinePoint uploaded = last;
  last = HETEX_TRY(run.submit({&uploaded, 1}));
  auto down = HETEX_TRY(Recording::begin(dev, QueueRole::download));
  down.copy(s.out, 0, s.down, 0, w.download);
  down.barrier(Access::transfer, Access::host);
  const TimelinePoint computed = last;
  last = HETEX_TRY(down.submit({&computed, 1}));
  return {};
}

}  // namespace

Result<SlotLease> SlotLease::take(Device& dev, const SlotSizes& sizes) {
  SlotPool* pool = HETEX_TRY(pool_of(dev));
  Status st;
  auto slot = pool->take(dev, sizes, st);
  HETEX_TRY_VOID(st);
  return SlotLease(pool, std::move(slot));
}

SlotLease::~SlotLease() {
  if (slot_) pool_->give_back(std::move(slot_));
}

Status run_chunks(Device& dev, const SlotSizes& sizes, std::size_t slots, std::size_t chunks, const ChunkSteps& steps) {
  if (chunks == 0) return {};
  SlotPool* pool = HETEX_TRY(pool_of(dev));
  slots = std::max<std::size_t>(1, std::min(slots, chunks));
  std::vector<InFlight> ring(slots);
  // Whatever happens, no slot goes back to the pool (or away) while the device may still use it.
  struct Drain {
    Device& dev;
    SlotPool& pool;
    std::vector<InFlight>& ring;
    ~Drain() {
      for (auto& f : ring) {
        if (f.busy) (void)dev.wait(f.done);
        if (f.slot) pool.give_back(std::move(f.slot));
      }
    }
  } drain{dev, *pool, ring};
  for (auto& f : ring) {
    Status st;
    f.slot = pool->take(dev, sizes, st);
    HETEX_TRY_VOID(st);
  }
  auto retire = [&](InFlight& f) -> Status {
    if (!f.busy) return {};
    HETEX_TRY_VOID(dev.wait(f.done));
    f.busy = false;
    HETEX_TRY_VOID(f.slot->down.invalidate(0, VK_WHOLE_SIZE));
    return steps.unpack(f.chunk, *f.slot);
  };
  for (std::size_t k = 0; k < chunks; ++k) {
    InFlight& f = ring[k % slots];
    HETEX_TRY_VOID(retire(f));
    const ChunkWork w = HETEX_TRY(steps.pack(k, *f.slot));
    TimelinePoint last;
    const Status submitted = submit_chunk(dev, *f.slot, w, k, steps, last);
    f.done = last;
    f.chunk = k;
    f.busy = static_cast<bool>(last);
    HETEX_TRY_VOID(submitted);
  }
  for (std::size_t i = 0; i < slots; ++i) HETEX_TRY_VOID(retire(ring[(chunks + i) % slots]));
  return {};
}

}  // namespace hetex::vulkan
