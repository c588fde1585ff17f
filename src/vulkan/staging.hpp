// SPDX-License-Identifier: MIT
#pragma once
// Chunked host -> device -> host work for batches larger than one dispatch: each chunk is packed
// by the host into a host-visible upload buffer, copied to device memory (on the transfer queue
// where the device has one), processed by the op's dispatches, and copied back into a readback
// buffer the host unpacks from. `slots` chunks are in flight: while the device works on chunks
// k-1 and k-2, the host packs chunk k, so with two or more slots the host's copies overlap the
// device's work. Slots come from a per-device pool, so repeated calls do not allocate.
//
// This is the Vulkan backend's own small pipeline; its contract (pack, dispatch, unpack per
// chunk) is what a shared staging pipeline takes over.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hetex/core/error.hpp"
#include "vulkan/device.hpp"
#include "vulkan/memory.hpp"
#include "vulkan/recording.hpp"

namespace hetex::vulkan {

// What one chunk may need: upload staging, device input, device output, readback staging.
struct SlotSizes {
  std::uint64_t up = 0, in = 0, out = 0, down = 0;
};

struct Slot {
  Buffer up, in, out, down;
};

// What pack() staged: up[offset, offset + upload) is copied to the same place of `in`;
// out[0, download) comes back to down[0, download) once the dispatches are done.
struct ChunkWork {
  std::uint64_t offset = 0;
  std::uint64_t upload = 0;
  std::uint64_t download = 0;
};

struct ChunkSteps {
  std::function<Result<ChunkWork>(std::size_t chunk, Slot& slot)> pack;
  std::function<Status(std::size_t chunk, Slot& slot, Recording& rec)> dispatch;
  std::function<Status(std::size_t chunk, Slot& slot)> unpack;
};

class SlotPool;

// One slot of the device's pool for work outside run_chunks (a device-resident op's results, say):
// its buffers are at least `sizes`, and go back to the pool when the lease ends. The caller waits
// for the device's work on them before that.
class SlotLease {
 public:
  static Result<SlotLease> take(Device& device, const SlotSizes& sizes);
  SlotLease(SlotLease&& other) noexcept = default;
  SlotLease& operator=(SlotLease&&) = delete;
  ~SlotLease();
  Slot& operator*() const noexcept { return *slot_; }
  Slot* operator->() const noexcept { return slot_.get(); }

 private:
  SlotLease(SlotPool* pool, std::unique_ptr<Slot> slot) : pool_(pool), slot_(std::move(slot)) {}
  SlotPool* pool_;
  std::unique_ptr<Slot> slot_;
};

// Runs chunks 0..chunks-1 through `slots` slots of `sizes`; returns once every chunk is unpacked,
// or at the first error, after the device has finished with every slot.
Status run_chunks(Device& device, const SlotSizes& sizes, std::size_t slots, std::size_t chunks,
                  const ChunkSteps& steps);

// How many chunks of at most `per_chunk` items `items` items make.
inline std::size_t chunk_count(std::size_t items, std::size_t per_chunk) {
  return items == 0 ? 0 : (items + per_chunk - 1) / per_chunk;
}

}  // namespace hetex::vulkan
