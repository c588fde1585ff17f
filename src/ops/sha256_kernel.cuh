// SPDX-License-Identifier: MIT
#pragma once
// The SHA-256 kernel and its launch. Included by sha256_gpu.cu only.
//
// Kernel design. One lane hashes one message at a time, and every lane compresses exactly one
// block per iteration of the warp loop: a lane that finishes its message stores the digest and
// takes the warp's next message at once (WarpCursor). So divergence never grows with message
// length: a warp mixing 0-byte and 4 KiB messages keeps all 32 lanes compressing until its share
// of the batch runs out, with no sorting or length buckets, and equal lengths run in lockstep.
// The compression (~1400 integer instructions per 64-byte block) is the cost; loads are not:
// a lane reads its block as four or five aligned 16-byte loads, which use every byte of every
// 32-byte sector fetched, so DRAM and L2 see exactly the bytes of the messages (a shared-memory
// transpose would make the warp's loads contiguous but would not fetch fewer sectors, and would
// add stores, loads and barriers per block; L1 serves the per-lane loads at ~4-5 wavefronts per
// lane-block against ~700 issue cycles of arithmetic per warp-block). One long message is a
// serial chain (a GPU lane manages ~0.1 GB/s); it occupies one lane while the others go on.
// The grid is one wave of resident warps, each given an equal run of messages.

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "hetex/core/backend.hpp"
#include "hetex/core/device.hpp"
#include "ops/sha256_core.hpp"

namespace hetex::detail::sha256 {

constexpr int kThreads = 256;
// 64 registers per thread: four blocks of 256 per SM (32 warps) hide the ALU latency of the
// round function's dependency chain; more registers buy nothing the unrolled rounds need.
constexpr int kMinBlocksPerSm = 4;

// Granules of device memory; the bytes past `bytes` read as zero and are never touched.
struct DeviceSource {
  const uint4* base;  // 16-byte aligned
  std::uint64_t bytes;
  __host__ __device__ __forceinline__ void granule(std::uint64_t g, std::uint32_t w[4]) const {
#if defined(__CUDA_ARCH__)
    if (16 * g + 16 <= bytes) {
      const uint4 q = __ldg(base + g);
      w[0] = q.x, w[1] = q.y, w[2] = q.z, w[3] = q.w;
      return;
    }
    // The granule holding the end of the data: only its bytes inside the data.
    const auto* p = reinterpret_cast<const std::uint8_t*>(base + g);
    const std::uint64_t valid = bytes > 16 * g ? bytes - 16 * g : 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      std::uint32_t x = 0;
#pragma unroll
      for (int k = 0; k < 4; ++k)
        if (std::uint64_t(4 * i + k) < valid) x |= std::uint32_t(p[4 * i + k]) << (8 * k);
      w[i] = x;
    }
#else
    (void)g;
    w[0] = w[1] = w[2] = w[3] = 0;
#endif
  }
};

__device__ __forceinline__ void store(const std::uint32_t s[8], std::uint8_t* out, bool aligned) {
  if (aligned) {
    auto* o = reinterpret_cast<uint4*>(out);
    o[0] = make_uint4(__byte_perm(s[0], 0, 0x0123), __byte_perm(s[1], 0, 0x0123), __byte_perm(s[2], 0, 0x0123),
                      __byte_perm(s[3], 0, 0x0123));
    o[1] = make_uint4(__byte_perm(s[4], 0, 0x0123), __byte_perm(s[5], 0, 0x0123), __byte_perm(s[6], 0, 0x0123),
                      __byte_perm(s[7], 0, 0x0123));
  } else {
    store_digest(s, out);
  }
}

// Warp w hashes messages [w * per_warp, (w + 1) * per_warp). The loop condition is warp-uniform,
// so every lane reaches the ballot.
template <class Offsets>
__global__ void __launch_bounds__(kThreads, kMinBlocksPerSm)
    hash_kernel(DeviceSource src, Offsets offs, std::uint64_t n, std::uint64_t per_warp, std::uint8_t* out,
                bool aligned) {
  const std::uint64_t warp = (std::uint64_t(blockIdx.x) * kThreads + threadIdx.x) / 32;
  const unsigned lane = threadIdx.x & 31u;
  const std::uint64_t first = warp * per_warp;
  if (first >= n) return;
  const std::uint64_t last = first + per_warp < n ? first + per_warp : n;
  WarpCursor cursor{first + 32, last};
  std::uint64_t m = first + lane;
  bool active = m < last;
  Lane ln;
  if (active) ln.begin(offs.begin(m), offs.size(m));
  while (__any_sync(0xffffffffu, active)) {
    const bool done = active && ln.step(src);
    const std::uint32_t finished = __ballot_sync(0xffffffffu, done);
    if (done) {
      store(ln.state, out + 32 * m, aligned);
      m = cursor.claim(finished, lane);
      active = m < last;
      if (active) ln.begin(offs.begin(m), offs.size(m));
    }
    cursor.advance(finished);
  }
}

// Resident blocks per SM for a kernel instance, asked once (the same for every GPU of one
// model; a wrong guess costs a partial second wave, not correctness).
template <class Offsets>
int blocks_per_sm() {
  static std::atomic<int> cached{0};
  int b = cached.load(std::memory_order_relaxed);
  if (b > 0) return b;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, hash_kernel<Offsets>, kThreads, 0) != cudaSuccess || b <= 0) {
    cudaGetLastError();  // not this launch's error
    b = kMinBlocksPerSm;
  }
  cached.store(b, std::memory_order_relaxed);
  return b;
}

// Enqueues the kernel for n messages on `s` (inside a launch_and_record callable, which checks
// the launch). One wave: every resident warp gets an equal run of messages, at least 32.
template <class Offsets>
void launch(NativeStream s, const DeviceSource& src, const Offsets& offs, std::uint64_t n, int sms, std::uint8_t* out) {
  if (n == 0) return;
  const std::uint64_t resident_warps = std::uint64_t(std::max(sms, 1)) * blocks_per_sm<Offsets>() * (kThreads / 32);
  const std::uint64_t per_warp = std::max<std::uint64_t>(32, (n + resident_warps - 1) / resident_warps);
  const std::uint64_t warps = (n + per_warp - 1) / per_warp;
  const auto grid = static_cast<unsigned>((warps + kThreads / 32 - 1) / (kThreads / 32));
  const bool aligned = (reinterpret_cast<std::uintptr_t>(out) & 15) == 0;
  hash_kernel<Offsets><<<grid, kThreads, 0, s>>>(src, offs, n, per_warp, out, aligned);
}

inline int multiprocessors(const Device& d) {
  const GpuInfo* g = d.gpu_info();
  return g ? g->multiprocessors : 1;
}

}  // namespace hetex::detail::sha256
