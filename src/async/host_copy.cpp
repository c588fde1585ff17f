// SPDX-License-Identifier: MIT
// Host copies between pageable and page-locked memory (staging): spread over the cores of the
// calling arena, with streaming stores for large copies.
#include <tbb/parallel_for.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "async/staging.hpp"
#include "hetex/async/transfer.hpp"

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

// A piece is a few tens of microseconds of one core: coarse enough for TBB, fine enough to
// spread a few MiB over 16 cores.
constexpr std::size_t kPiece = std::size_t(256) << 10;
constexpr std::size_t kMaxRegions = 8;

}  // namespace

void parallel_copy_regions(std::span<const CopyRegion> regions, bool streaming) {
  std::size_t total = 0;
  for (const auto& r : regions) total += r.bytes;
  if (total < 2 * kPiece) {
    // Small: likely read again soon, keep it in cache.
    for (const auto& r : regions)
      if (r.bytes) std::memcpy(r.dst, r.src, r.bytes);
    return;
  }
  if (regions.size() > kMaxRegions) {
    for (const auto& r : regions) parallel_copy_regions({&r, 1}, streaming);
    return;
  }
  // One parallel region over the pieces of every region: one fork and one join per call.
  std::array<std::size_t, kMaxRegions + 1> first{};  // first piece of each region
  for (std::size_t i = 0; i < regions.size(); ++i) first[i + 1] = first[i] + (regions[i].bytes + kPiece - 1) / kPiece;
  tbb::parallel_for(std::size_t(0), first[regions.size()], [&](std::size_t p) {
    const std::size_t r = static_cast<std::size_t>(
                              std::upper_bound(first.begin(), first.begin() + regions.size() + 1, p) - first.begin()) -
                          1;
    const std::size_t off = (p - first[r]) * kPiece, len = std::min(kPiece, regions[r].bytes - off);
    auto* d = static_cast<char*>(regions[r].dst) + off;
    auto* s = static_cast<const char*>(regions[r].src) + off;
    streaming ? stream_copy(d, s, len) : (void)std::memcpy(d, s, len);
  });
}

void parallel_copy(void* dst, const void* src, std::size_t bytes, bool streaming) {
  const CopyRegion r{dst, src, bytes};
  parallel_copy_regions({&r, 1}, streaming);
}

}  // namespace hetex::detail
