// SPDX-License-Identifier: MIT
// The host half of the GPU pipeline: chunk planning, checking and packing messages into pinned
// staging, parallel copies; and the kernel's warp loop run on a packed chunk for the tests.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "ops/sha256_core.hpp"
#include "ops/sha256_detail.hpp"

namespace hetex::detail::sha256 {
namespace {

// What a chunk of messages [b, e) costs in staging; max() when its offsets decrease.
std::size_t chunk_cost(const ops::MessageBatch& in, std::size_t b, std::size_t e) {
  const std::uint64_t ob = in.offsets[b], oe = in.offsets[e];
  if (oe < ob || oe - ob > std::numeric_limits<std::size_t>::max() / 2) return kNone;
  return staging_bytes(e - b, static_cast<std::size_t>(oe - ob));
}

struct Scan {
  std::size_t first_bad = kNone;
  bool uniform = true;
};

}  // namespace

std::vector<Chunk> plan_chunks(const ops::MessageBatch& in, const GpuOptions& options, std::size_t slots) {
  std::vector<Chunk> plan;
  const std::size_t n = in.size();
  if (n == 0) return plan;
  const std::size_t cap = options.chunk_bytes;
  const std::size_t max_messages = std::max<std::size_t>(1, options.chunk_messages);
  // Big batches get full chunks; smaller ones are cut into ~4 chunks per slot (not below
  // min_chunk_bytes) so that their uploads, kernels and downloads still overlap.
  const std::size_t total = chunk_cost(in, 0, n);
  const std::size_t spread = total == kNone ? cap : total / (4 * std::max<std::size_t>(1, slots)) + 1;
  const std::size_t target = std::min(cap, std::max(options.min_chunk_bytes, spread));

  std::size_t b = 0;
  while (b < n) {
    const std::size_t one = chunk_cost(in, b, b + 1);
    if (one > cap) {
      // Too long for the staging: to the host, with the giants that follow it.
      std::size_t e = b + 1;
      while (e < n && chunk_cost(in, e, e + 1) > cap) ++e;
      plan.push_back({b, e, true});
      b = e;
      continue;
    }
    // Largest e with cost(b, e) <= target (the cost grows with e for valid offsets).
    std::size_t lo = b + 1, hi = std::min(n, b + max_messages);
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo + 1) / 2;
      if (chunk_cost(in, b, mid) <= target) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    plan.push_back({b, lo, false});
    b = lo;
  }
  return plan;
}

Result<Packed> pack_chunk(const ops::MessageBatch& in, std::size_t begin, std::size_t end,
                          std::span<std::uint8_t> staging, DataCopy data) {
  const std::size_t n = end - begin;
  const std::uint64_t ob = in.offsets[begin], oe = in.offsets[end];
  auto scan = [&](std::size_t b, std::size_t e, std::uint64_t length) {
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(b, e, 16384), Scan{},
        [&](const tbb::blocked_range<std::size_t>& r, Scan s) {
          for (std::size_t i = r.begin(); i < r.end(); ++i) {
            if (!message_ok(in, i)) {
              s.first_bad = std::min(s.first_bad, i);
              break;
            }
            s.uniform = s.uniform && in.offsets[i + 1] - in.offsets[i] == length;
          }
          return s;
        },
        [](Scan a, const Scan& b2) {
          a.first_bad = std::min(a.first_bad, b2.first_bad);
          a.uniform = a.uniform && b2.uniform;
          return a;
        });
  };
  if (oe < ob || oe > in.data.size()) {
    // Some message of the chunk is malformed; find the first without reading any data.
    const Scan s = scan(begin, end, 0);
    return bad_message(in, s.first_bad == kNone ? begin : s.first_bad);
  }
  const std::size_t bytes = static_cast<std::size_t>(oe - ob);
  const std::size_t doff = data_offset(n);
  // Data that goes to the device directly needs no room here, only its offsets.
  const std::size_t need = data != DataCopy::none ? staging_bytes(n, bytes) : doff;
  if (staging.size() < need)
    return Error(Errc::internal, "SHA-256 staging of " + std::to_string(staging.size()) +
                                     " bytes is too small for a chunk of " + std::to_string(need));
  // The range is inside the data, so the copy is safe before the messages are checked.
  Scan s;
  const std::uint64_t length = n ? in.offsets[begin + 1] - ob : 0;
  tbb::parallel_invoke([&] { s = scan(begin, end, length); },
                       [&] {
                         if (data != DataCopy::none && bytes)
                           parallel_copy(staging.data() + doff, in.data.data() + ob, bytes,
                                         data == DataCopy::streaming);
                       });
  if (s.first_bad != kNone) return bad_message(in, s.first_bad);

  Packed p;
  p.messages = n;
  p.data_bytes = bytes;
  p.uniform = s.uniform;
  p.length = length;
  p.upload_end = data != DataCopy::none ? doff + bytes : 4 * (n + 1);
  if (s.uniform) {
    p.upload_begin = data != DataCopy::none ? doff : p.upload_end;  // nothing to upload when the data goes direct
  } else {
    // Relative 32-bit offsets: half the bytes of the caller's 64-bit ones (at 64-byte messages
    // the offsets would be an eighth of the upload).
    auto* rel = reinterpret_cast<std::uint32_t*>(staging.data());
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n + 1, 65536), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t i = r.begin(); i < r.end(); ++i) rel[i] = static_cast<std::uint32_t>(in.offsets[begin + i] - ob);
    });
    p.upload_begin = 0;
  }
  return p;
}

namespace {
struct HostSource {
  const std::uint8_t* base;
  std::uint64_t bytes;
  void granule(std::uint64_t g, std::uint32_t w[4]) const {
    std::uint8_t b[16] = {};
    for (std::uint64_t k = 0; k < 16; ++k)
      if (16 * g + k < bytes) b[k] = base[16 * g + k];
    std::memcpy(w, b, 16);
  }
};

// The kernel's warp loop (sha256_gpu.cu), one emulated lane at a time.
template <class Offsets>
void run_warps(const HostSource& src, const Offsets& offs, std::uint64_t n, std::uint64_t per_warp, std::uint8_t* out) {
  for (std::uint64_t first = 0; first < n; first += per_warp) {
    const std::uint64_t last = std::min(first + per_warp, n);
    WarpCursor cursor{first + 32, last};
    Lane lanes[32];
    std::uint64_t m[32];
    bool active[32];
    for (unsigned l = 0; l < 32; ++l) {
      m[l] = first + l;
      active[l] = m[l] < last;
      if (active[l]) lanes[l].begin(offs.begin(m[l]), offs.size(m[l]));
    }
    for (;;) {
      if (std::none_of(active, active + 32, [](bool a) { return a; })) break;
      std::uint32_t finished = 0;
      for (unsigned l = 0; l < 32; ++l)
        if (active[l] && lanes[l].step(src)) finished |= 1u << l;
      for (unsigned l = 0; l < 32; ++l) {
        if (!(finished >> l & 1u)) continue;
        store_digest(lanes[l].state, out + 32 * m[l]);
        m[l] = cursor.claim(finished, l);
        active[l] = m[l] < last;
        if (active[l]) lanes[l].begin(offs.begin(m[l]), offs.size(m[l]));
      }
      cursor.advance(finished);
    }
  }
}
}  // namespace

void hash_packed_on_host(std::span<const std::uint8_t> staging, const Packed& p, std::span<ops::Digest> out) {
  const HostSource src{staging.data() + data_offset(p.messages), p.data_bytes};
  auto* dst = out.data()->data();
  // An odd warp size exercises the cursor's hand-out across lanes.
  constexpr std::uint64_t kPerWarp = 45;
  if (p.uniform) {
    run_warps(src, UniformOffsets{0, p.length}, p.messages, kPerWarp, dst);
  } else {
    run_warps(src, Rel32Offsets{reinterpret_cast<const std::uint32_t*>(staging.data()), 0}, p.messages, kPerWarp, dst);
  }
}

}  // namespace hetex::detail::sha256
