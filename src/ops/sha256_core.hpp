// SPDX-License-Identifier: MIT
#pragma once
// SHA-256 (FIPS 180-4) compression, message padding and the per-lane work loop of the GPU
// kernel, written once for both nvcc's device pass and the host compiler, so that the exact
// arithmetic the GPU runs is unit-tested on the CPU against OpenSSL (tests/ops).
//
// Messages are read through a Source: granule(g, w) yields the 16 aligned bytes [16g, 16g + 16)
// as four little-endian words, zero past the end of the data. A block is assembled from the
// (at most five) granules it overlaps, whatever the message's alignment: on the GPU that is
// four or five 16-byte loads per 64-byte block instead of 64 byte loads.

#include <cstdint>

#ifndef HETEX_HD
#if defined(__CUDACC__)
#define HETEX_HD __host__ __device__
#else
#define HETEX_HD
#endif
#endif

#if defined(__CUDACC__)
#define HETEX_SHA_INLINE __forceinline__
#else
#define HETEX_SHA_INLINE inline
#endif

#if defined(__CUDA_ARCH__)
#define HETEX_SHA_UNROLL _Pragma("unroll")
#else
#define HETEX_SHA_UNROLL
#endif

namespace hetex::detail::sha256 {

// A switch rather than an array: after full unrolling every call folds to an immediate operand
// on the device, and nvcc allows no namespace-scope array in device code without annotations.
HETEX_HD HETEX_SHA_INLINE constexpr std::uint32_t round_constant(int t) {
  // The table, four constants a line.
  // clang-format off
  switch (t) {
    case 0: return 0x428a2f98u; case 1: return 0x71374491u; case 2: return 0xb5c0fbcfu; case 3: return 0xe9b5dba5u;
    case 4: return 0x3956c25bu; case 5: return 0x59f111f1u; case 6: return 0x923f82a4u; case 7: return 0xab1c5ed5u;
    case 8: return 0xd807aa98u; case 9: return 0x12835b01u; case 10: return 0x243185beu; case 11: return 0x550c7dc3u;
    case 12: return 0x72be5d74u; case 13: return 0x80deb1feu; case 14: return 0x9bdc06a7u; case 15: return 0xc19bf174u;
    case 16: return 0xe49b69c1u; case 17: return 0xefbe4786u; case 18: return 0x0fc19dc6u; case 19: return 0x240ca1ccu;
    case 20: return 0x2de92c6fu; case 21: return 0x4a7484aau; case 22: return 0x5cb0a9dcu; case 23: return 0x76f988dau;
    case 24: return 0x983e5152u; case 25: return 0xa831c66du; case 26: return 0xb00327c8u; case 27: return 0xbf597fc7u;
    case 28: return 0xc6e00bf3u; case 29: return 0xd5a79147u; case 30: return 0x06ca6351u; case 31: return 0x14292967u;
    case 32: return 0x27b70a85u; case 33: return 0x2e1b2138u; case 34: return 0x4d2c6dfcu; case 35: return 0x53380d13u;
    case 36: return 0x650a7354u; case 37: return 0x766a0abbu; case 38: return 0x81c2c92eu; case 39: return 0x92722c85u;
    case 40: return 0xa2bfe8a1u; case 41: return 0xa81a664bu; case 42: return 0xc24b8b70u; case 43: return 0xc76c51a3u;
    case 44: return 0xd192e819u; case 45: return 0xd6990624u; case 46: return 0xf40e3585u; case 47: return 0x106aa070u;
    case 48: return 0x19a4c116u; case 49: return 0x1e376c08u; case 50: return 0x2748774cu; case 51: return 0x34b0bcb5u;
    case 52: return 0x391c0cb3u; case 53: return 0x4ed8aa4au; case 54: return 0x5b9cca4fu; case 55: return 0x682e6ff3u;
    case 56: return 0x748f82eeu; case 57: return 0x78a5636fu; case 58: return 0x84c87814u; case 59: return 0x8cc70208u;
    case 60: return 0x90befffau; case 61: return 0xa4506cebu; case 62: return 0xbef9a3f7u; default: return 0xc67178f2u;
  }
  // clang-format on
}

HETEX_HD HETEX_SHA_INLINE void initial_state(std::uint32_t s[8]) {
  s[0] = 0x6a09e667u;
  s[1] = 0xbb67ae85u;
  s[2] = 0x3c6ef372u;
  s[3] = 0xa54ff53au;
  s[4] = 0x510e527fu;
  s[5] = 0x9b05688cu;
  s[6] = 0x1f83d9abu;
  s[7] = 0x5be0cd19u;
}

HETEX_HD HETEX_SHA_INLINE std::uint32_t rotr(std::uint32_t x, unsigned n) {
#if defined(__CUDA_ARCH__)
  return __funnelshift_r(x, x, n);
#else
  return (x >> n) | (x << ((32u - n) & 31u));
#endif
}

// PRMT: byte n of the result is byte (sel >> 4n) & 7 of the eight bytes {hi:lo}.
HETEX_HD HETEX_SHA_INLINE std::uint32_t byte_perm(std::uint32_t lo, std::uint32_t hi, std::uint32_t sel) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(lo, hi, sel);
#else
  const std::uint64_t v = (std::uint64_t(hi) << 32) | lo;
  std::uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= std::uint32_t((v >> (8 * ((sel >> (4 * i)) & 7u))) & 0xffu) << (8 * i);
  return r;
#endif
}

HETEX_HD HETEX_SHA_INLINE unsigned popcount(std::uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __popc(x);
#else
  return static_cast<unsigned>(__builtin_popcount(x));
#endif
}

// One 64-byte block into the state; w holds the block as big-endian words and is consumed as
// the rolling 16-word message schedule. Fully unrolled on the device: K folds into immediates,
// Ch and Maj become one LOP3 each, rotations one funnel shift each.
HETEX_HD HETEX_SHA_INLINE void compress(std::uint32_t s[8], std::uint32_t w[16]) {
  std::uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  HETEX_SHA_UNROLL
  for (int t = 0; t < 64; ++t) {
    if (t >= 16) {
      const std::uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const std::uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
      const std::uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
      w[t & 15] += s0 + s1 + w[(t - 7) & 15];
    }
    const std::uint32_t t1 =
        h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + round_constant(t) + w[t & 15];
    const std::uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s[0] += a;
  s[1] += b;
  s[2] += c;
  s[3] += d;
  s[4] += e;
  s[5] += f;
  s[6] += g;
  s[7] += h;
}

// Blocks a message of `len` bytes hashes as: its data, 0x80, zeros, and the 64-bit bit length.
HETEX_HD HETEX_SHA_INLINE std::uint64_t block_count(std::uint64_t len) { return (len + 72) / 64; }

// Block `block` of the message of `len` bytes that starts at byte `start` of src, as big-endian
// words with the padding applied. Reads only granules holding bytes of this block's data.
template <class Source>
HETEX_HD HETEX_SHA_INLINE void load_block(const Source& src, std::uint64_t start, std::uint64_t len,
                                          std::uint64_t block, std::uint32_t w[16]) {
  const std::uint64_t pos = start + 64 * block;
  // Message bytes left from this block's first byte, clamped: <= 0 in a padding-only block.
  const std::int64_t left = static_cast<std::int64_t>(len - 64 * block);
  const int rem = left > 64 ? 64 : (left < -64 ? -64 : static_cast<int>(left));
  const unsigned o = static_cast<unsigned>(pos & 15);
  const std::uint64_t g0 = pos >> 4;

  std::uint32_t u[20];
  HETEX_SHA_UNROLL
  for (int j = 0; j < 5; ++j) {
    if (16 * j < static_cast<int>(o) + rem) {
      src.granule(g0 + j, &u[4 * j]);
    } else {
      u[4 * j] = u[4 * j + 1] = u[4 * j + 2] = u[4 * j + 3] = 0;
    }
  }
  if (o == 0) {
    // Aligned (equal 16-byte-multiple lengths): only the byte swap.
    HETEX_SHA_UNROLL
    for (int i = 0; i < 16; ++i) w[i] = byte_perm(u[i], 0, 0x0123u);
  } else {
    // Shift by whole words (o / 4) with selects rather than a dynamic index, which would put
    // the array in local memory; then by bytes (o % 4) and into big-endian order, one PRMT each.
    const unsigned k = o >> 2;
    const std::uint32_t sel = 0x0123u + 0x1111u * (o & 3u);
    std::uint32_t v[18];
    HETEX_SHA_UNROLL
    for (int i = 0; i < 18; ++i) v[i] = (k & 2u) ? u[i + 2] : u[i];
    HETEX_SHA_UNROLL
    for (int i = 0; i < 17; ++i) v[i] = (k & 1u) ? v[i + 1] : v[i];
    HETEX_SHA_UNROLL
    for (int i = 0; i < 16; ++i) w[i] = byte_perm(v[i], v[i + 1], sel);
  }

  if (rem < 64) {
    HETEX_SHA_UNROLL
    for (int i = 0; i < 16; ++i) {
      const int n = rem - 4 * i;  // message bytes in word i
      if (n <= 0) {
        w[i] = n == 0 ? 0x80000000u : 0u;
      } else if (n < 4) {
        w[i] = (w[i] & ~(0xffffffffu >> (8 * n))) | (0x80000000u >> (8 * n));
      }
    }
    if (rem < 56) {  // the last block carries the length in bits
      const std::uint64_t bits = len << 3;
      w[14] = static_cast<std::uint32_t>(bits >> 32);
      w[15] = static_cast<std::uint32_t>(bits);
    }
  }
}

// One message in flight on one GPU lane (or one emulated lane in the host tests).
struct Lane {
  std::uint32_t state[8];
  std::uint64_t start = 0, len = 0, block = 0, blocks = 0;

  HETEX_HD HETEX_SHA_INLINE void begin(std::uint64_t message_start, std::uint64_t message_len) {
    start = message_start;
    len = message_len;
    block = 0;
    blocks = block_count(message_len);
    initial_state(state);
  }
  // Hashes the next block; true when the digest is complete.
  template <class Source>
  HETEX_HD HETEX_SHA_INLINE bool step(const Source& src) {
    std::uint32_t w[16];
    load_block(src, start, len, block, w);
    compress(state, w);
    return ++block == blocks;
  }
};

// Writes the digest (big-endian state words) as 32 bytes.
HETEX_HD HETEX_SHA_INLINE void store_digest(const std::uint32_t s[8], std::uint8_t* out) {
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<std::uint8_t>(s[i] >> 24);
    out[4 * i + 1] = static_cast<std::uint8_t>(s[i] >> 16);
    out[4 * i + 2] = static_cast<std::uint8_t>(s[i] >> 8);
    out[4 * i + 3] = static_cast<std::uint8_t>(s[i]);
  }
}

// Message boundaries inside a staged chunk or a device-resident batch. begin() is relative to
// the Source's granule 0.
struct UniformOffsets {  // every message `length` bytes, packed from byte `first`
  std::uint64_t first, length;
  HETEX_HD HETEX_SHA_INLINE std::uint64_t begin(std::uint64_t i) const { return first + i * length; }
  HETEX_HD HETEX_SHA_INLINE std::uint64_t size(std::uint64_t) const { return length; }
};
struct Rel32Offsets {  // n + 1 offsets relative to the chunk's first byte (host-checked)
  const std::uint32_t* p;
  std::uint64_t first;
  HETEX_HD HETEX_SHA_INLINE std::uint64_t begin(std::uint64_t i) const { return first + p[i]; }
  HETEX_HD HETEX_SHA_INLINE std::uint64_t size(std::uint64_t i) const { return p[i + 1] - p[i]; }
};
// The caller's absolute offsets, not checked on the host: clamped into [0, bytes) so a bad one
// yields a meaningless digest, never a read outside the data.
struct Abs64Offsets {
  const std::uint64_t* p;
  std::uint64_t first, bytes;
  HETEX_HD HETEX_SHA_INLINE std::uint64_t lo(std::uint64_t i) const { return p[i] < bytes ? p[i] : bytes; }
  HETEX_HD HETEX_SHA_INLINE std::uint64_t begin(std::uint64_t i) const { return first + lo(i); }
  HETEX_HD HETEX_SHA_INLINE std::uint64_t size(std::uint64_t i) const {
    const std::uint64_t b = lo(i), e = p[i + 1] < bytes ? p[i + 1] : bytes;
    return e > b ? e - b : 0;
  }
};

// Messages [next, last) a warp still has to hand out: a lane that finishes a message takes the
// next one at once, so every lane compresses one block per iteration whatever the lengths.
struct WarpCursor {
  std::uint64_t next, last;
  // The message for `lane` among the lanes in `finished` (a ballot), in lane order.
  HETEX_HD HETEX_SHA_INLINE std::uint64_t claim(std::uint32_t finished, unsigned lane) const {
    return next + popcount(finished & ((1u << lane) - 1u));
  }
  HETEX_HD HETEX_SHA_INLINE void advance(std::uint32_t finished) { next += popcount(finished); }
};

}  // namespace hetex::detail::sha256
