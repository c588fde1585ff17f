// SPDX-License-Identifier: MIT
#pragma once
// The chunked staging pipeline: the one way hetex moves a batch from host memory through a GPU
// and back in chunks (transfers, SHA-256, vector, Ed25519, image stripes, image files). The
// rules and their reasons are in docs/design/memory-and-transfers.md.
//
// A run owns a ring of slots. Chunk k uses slot k mod S: the slot's page-locked and device
// memory, and its completion gate, which opens once the chunk's last download is done. Per
// chunk the pipeline
//   1. retires the slot: waits for its gate and lands the chunk that used it before (oldest
//      first), so staging memory is never rewritten while a DMA may still read it;
//   2. packs the chunk: the work's pack() fills the slot and lists the chunk's copies; uploads
//      from pageable memory are staged into the slot's page-locked memory (one parallel host
//      copy), uploads from page-locked memory are DMA'd as they are;
//   3. enqueues upload -> launch -> download, on one stream picked round-robin, or on three
//      streams (one per stage) ordered by events;
//   4. records the slot's gate.
// Landing copies staged downloads to their pageable destinations and calls the work's land().
// Any error (a failed copy, launch, wait, or a thrown exception) goes through one clean-up:
// every stream is drained, the chunks that did finish are landed in order, the rest are
// dropped, and a ring whose device a fault retired is not reused. Nothing in flight outlives a
// failed call, and chunks_landed()/first_unfinished() say exactly which items are done.
//
//   struct Work : StagedWork { Status pack(Chunk& c, const SlotMemory& m) override {...} ... };
//   auto p = HETEX_TRY(StagingPipeline::create(streams, work, options));
//   for (each chunk [b, e)) HETEX_TRY_VOID(p.submit(b, e));
//   return p.finish();

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "hetex/async/stream.hpp"
#include "hetex/core/backend.hpp"
#include "hetex/core/error.hpp"

namespace hetex::detail {

// Bytes of memory each slot holds: page-locked input and output staging, device input and
// output. Slots grow to what is asked and never shrink while cached.
struct SlotBytes {
  std::size_t host_in = 0, host_out = 0, device_in = 0, device_out = 0;
  static SlotBytes max(const SlotBytes& a, const SlotBytes& b);
};

// How a chunk's stages use the run's S streams.
enum class StreamRoles : std::uint8_t {
  // Chunk k runs upload, launch and download on stream (k mod slots) mod S: chunks on
  // different streams overlap, and no events are needed inside a chunk.
  round_robin,
  // Uploads on stream 0, launches on stream 1, downloads on stream 2 (mod S), each stage
  // waiting for the previous one by an event. Chunks that depend on earlier chunks' uploads
  // (image stripes reading the rows above them) stay correct, since uploads run in order.
  by_stage,
};

struct StagingOptions {
  std::size_t slots = 3;  // chunks in flight
  SlotBytes bytes;        // per slot, reserved when the run starts
  StreamRoles roles = StreamRoles::round_robin;
  // Land finished chunks whenever a submit finds them done, oldest first, not only when their
  // slot is needed again: the host then never waits for a download while input remains.
  bool eager_landing = false;
  // Land a slot's previous chunk while the next one is packed (one parallel region).
  bool land_beside_pack = false;
  // Pageable uploads smaller than this go to the driver as they are (it copies them out before
  // the call returns); larger ones are staged through the slot. 0: stage every pageable upload.
  std::size_t direct_below = std::size_t(1) << 20;
  // Staging copies with streaming stores (see parallel_copy).
  bool streaming_stores = true;
};

// The memory of the slot a chunk runs in. Host spans are page-locked; device spans are device
// addresses (never dereferenced on the host).
struct SlotMemory {
  std::size_t index = 0;
  std::span<std::uint8_t> host_in, host_out, device_in, device_out;
};

// One host <-> device copy of a chunk. `page_locked`: the host side is page-locked memory (the
// caller's, or the slot's), so the DMA engine reads or writes it directly.
struct HostCopy {
  static constexpr std::size_t kNotStaged = ~std::size_t(0);
  void* dst = nullptr;
  const void* src = nullptr;
  std::size_t bytes = 0;
  bool page_locked = false;
  std::size_t staged_at = kNotStaged;  // offset of its staging in the slot (set by the pipeline)
};

template <std::size_t N>
class CopyList {
 public:
  void add(const HostCopy& c) {
    if (n_ == N) {
      overflow_ = true;
      return;
    }
    items_[n_++] = c;
  }
  std::span<HostCopy> items() { return {items_.data(), n_}; }
  std::span<const HostCopy> items() const { return {items_.data(), n_}; }
  bool overflow() const { return overflow_; }

 private:
  std::array<HostCopy, N> items_{};
  std::size_t n_ = 0;
  bool overflow_ = false;
};

struct Chunk {
  std::size_t index = 0;           // submission order within the run
  std::size_t begin = 0, end = 0;  // the items it carries, in the work's own units
  std::size_t slot = 0;
  CopyList<4> uploads;    // host -> device, in this order, before the launch
  CopyList<2> downloads;  // device -> host, after it

  void upload(void* device, const void* host, std::size_t bytes, bool page_locked) {
    uploads.add({device, host, bytes, page_locked});
  }
  void download(void* host, const void* device, std::size_t bytes, bool page_locked) {
    downloads.add({host, device, bytes, page_locked});
  }
};

// What an operation supplies: only what is specific to it.
class StagedWork {
 public:
  virtual ~StagedWork() = default;
  // Host side of chunk c before its upload: checks and packs its input into m.host_in (or
  // nothing, when the device DMAs it from the caller's page-locked memory) and lists its copies.
  virtual Status pack(Chunk& c, const SlotMemory& m) = 0;
  // Enqueues the chunk's device work on `s` (through launch_and_record or Stream::enqueue,
  // which check the launch). None by default: a plain transfer.
  virtual Status launch(Stream& s, const Chunk& c, const SlotMemory& m);
  // Host side once the chunk is done and its staged downloads are copied out.
  virtual void land(const Chunk& c, const SlotMemory& m);
};

class StagingRing;

class StagingPipeline {
 public:
  // Takes a ring for the streams' GPU (from that GPU's cache of idle rings) and reserves
  // options.bytes in options.slots slots. Errc::out_of_memory when the memory is not there.
  static Result<StagingPipeline> create(std::span<Stream> streams, StagedWork& work, const StagingOptions& options);

  StagingPipeline(StagingPipeline&&) noexcept;
  StagingPipeline& operator=(StagingPipeline&&) = delete;
  // Without finish() or detach(): drains the streams (an early return) and gives the ring back.
  ~StagingPipeline();

  // Submits the chunk of items [begin, end); its slot grows to `need` first if that is more than
  // options.bytes. The event opens when the chunk's downloads are done. On an error the run is
  // cleaned up (see above) and stays usable for further chunks if the device is healthy.
  Result<Event> submit(std::size_t begin, std::size_t end, const SlotBytes& need = {});
  // Waits for every chunk in flight and lands them, oldest first; gives the ring back.
  Status finish();
  // Gives the ring back with the chunks still in flight (for work that needs no landing, such as
  // an upload whose caller waits later); the gate opens when every chunk is done.
  Result<GatePtr> detach();

  std::size_t chunks_submitted() const;
  // A prefix of the submitted chunks, in order: landing is oldest first.
  std::size_t chunks_landed() const;
  // After a failure: the items [begin, end) of the first chunk that did not land.
  std::optional<std::pair<std::size_t, std::size_t>> first_unfinished() const;

 private:
  struct Impl;
  explicit StagingPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One host copy of several regions at once (one parallel region; see parallel_copy).
struct CopyRegion {
  void* dst;
  const void* src;
  std::size_t bytes;
};
void parallel_copy_regions(std::span<const CopyRegion> regions, bool streaming);

// Frees the idle rings cached for `gpu` (tests, and memory pressure).
void drop_staging_rings(const GpuDevice& gpu);
// Idle rings cached for `gpu`.
std::size_t cached_staging_rings(const GpuDevice& gpu);

}  // namespace hetex::detail
