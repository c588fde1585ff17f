// SPDX-License-Identifier: MIT
// Transfers between host memory and a GPU buffer. Page-locked memory is DMA'd directly; pageable
// memory is staged through the staging pipeline (async/staging.hpp) in chunks, host copies
// overlapping the DMA.
#include "hetex/async/transfer.hpp"

#include <algorithm>
#include <cstdint>

#include "async/staging.hpp"

namespace hetex::detail {
namespace {

// Below this, the driver's own staging of pageable memory is as good as ours.
constexpr std::size_t kDirect = std::size_t(1) << 20;
// A staging chunk: large enough that per-chunk overhead (an event, a parallel host copy)
// vanishes, small enough that the first DMA starts early.
constexpr std::size_t kChunk = std::size_t(8) << 20;
constexpr std::size_t kSlots = 3;

// A transfer's chunks are byte ranges [begin, end) of one copy.
class TransferWork final : public StagedWork {
 public:
  TransferWork(bool upload, void* dst, const void* src) : upload_(upload), dst_(dst), src_(src) {}
  Status pack(Chunk& c, const SlotMemory&) override {
    auto* d = static_cast<char*>(dst_) + c.begin;
    const auto* s = static_cast<const char*>(src_) + c.begin;
    // Both directions stage the host side through the slot.
    if (upload_) {
      c.upload(d, s, c.end - c.begin, false);
    } else {
      c.download(d, s, c.end - c.begin, false);
    }
    return {};
  }

 private:
  bool upload_;
  void* dst_;
  const void* src_;
};

StagingOptions transfer_options(bool upload, std::size_t bytes) {
  StagingOptions o;
  o.slots = std::min(kSlots, (bytes + kChunk - 1) / kChunk);
  if (upload) {
    o.bytes.host_in = kChunk;
  } else {
    o.bytes.host_out = kChunk;
  }
  o.direct_below = 0;  // the caller chose staging: every chunk goes through the slots
  return o;
}

// An upload returns with its last chunks in flight (the caller records a gate after them on the
// same stream); a download returns once every chunk is copied out.
Status staged(Stream& s, bool upload, void* dst, const void* src, std::size_t bytes) {
  TransferWork work(upload, dst, src);
  auto p = HETEX_TRY(StagingPipeline::create({&s, 1}, work, transfer_options(upload, bytes)));
  for (std::size_t off = 0; off < bytes; off += kChunk) HETEX_TRY_VOID(p.submit(off, std::min(bytes, off + kChunk)));
  if (upload) return p.detach().transform([](GatePtr) {});
  return p.finish();
}

}  // namespace

Result<GatePtr> upload_bytes(Stream& s, void* dst, Allocation* dst_owner, const void* src, std::size_t bytes,
                             SourceUse use) {
  if (bytes == 0) return GatePtr();
  DeviceUseGuard r;
  HETEX_TRY_VOID(r.add(dst_owner));
  auto& impl = s.impl();
  // A direct copy from page-locked memory is read by the DMA engine after this returns, so a
  // source freed on return is always staged; pageable sources below kDirect are copied out by
  // the driver before cudaMemcpyAsync returns.
  const bool pinned = s.device().backend()->is_pinned(src);
  const bool direct = use == SourceUse::freed_on_return ? !pinned && bytes < kDirect : pinned || bytes < kDirect;
  if (direct) {
    HETEX_TRY_VOID(impl.copy(dst, src, bytes));
  } else {
    // The chunks still in flight read staging memory only; the gate below covers them.
    HETEX_TRY_VOID(staged(s, true, dst, src, bytes));
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
  if (bytes < kDirect || s.device().backend()->is_pinned(dst)) {
    HETEX_TRY_VOID(impl.copy(dst, src, bytes));
    auto gate = HETEX_TRY(impl.record());
    r.release(gate);
    return gate;
  }
  // Pipelined: the DMA of chunk i + slots overlaps the host copy out of chunk i. Only the host
  // can copy out of staging, so this returns once the data is in `dst`.
  HETEX_TRY_VOID(staged(s, false, dst, src, bytes));
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
