// SPDX-License-Identifier: MIT
#pragma once
// SHA-512 (FIPS 180-4) for the Ed25519 challenge hash, shared by the GPU kernel and the host:
// one thread hashes one message of any length. Words are built big-endian straight from the
// message bytes (no 128-byte buffer), and the 80 rounds unroll so the round constants become
// immediates on the device.
#include <cstdint>

#include "ed25519_field.hpp"

namespace hetex::detail::sha512 {

using u64 = std::uint64_t;

HETEX_HD constexpr u64 rotr(u64 x, int n) { return (x >> n) | (x << (64 - n)); }
HETEX_HD constexpr u64 bswap64(u64 x) {
  x = ((x & 0x00ff00ff00ff00ffull) << 8) | ((x >> 8) & 0x00ff00ff00ff00ffull);
  x = ((x & 0x0000ffff0000ffffull) << 16) | ((x >> 16) & 0x0000ffff0000ffffull);
  return (x << 32) | (x >> 32);
}

HETEX_HD inline void init(u64 (&h)[8]) {
  // The first 64 bits of the fractional parts of the square roots of the first 8 primes.
  constexpr u64 iv[8] = {
      0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
      0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
  };
  HETEX_ED_UNROLL
  for (int i = 0; i < 8; ++i) h[i] = iv[i];
}

// One 128-byte block given as 16 big-endian words; w is used as the rolling message schedule.
HETEX_HD inline void compress(u64 (&h)[8], u64 (&w)[16]) {
  // The first 64 bits of the fractional parts of the cube roots of the first 80 primes.
  constexpr u64 k[80] = {
      0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL, 0x3956c25bf348b538ULL,
      0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL, 0xd807aa98a3030242ULL, 0x12835b0145706fbeULL,
      0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL, 0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL,
      0xc19bf174cf692694ULL, 0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
      0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL, 0x983e5152ee66dfabULL,
      0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL, 0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL,
      0x06ca6351e003826fULL, 0x142929670a0e6e70ULL, 0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL,
      0x53380d139d95b3dfULL, 0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
      0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL, 0xd192e819d6ef5218ULL,
      0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL, 0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL,
      0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL, 0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL,
      0x682e6ff3d6b2b8a3ULL, 0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
      0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL, 0xca273eceea26619cULL,
      0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL, 0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL,
      0x113f9804bef90daeULL, 0x1b710b35131c471bULL, 0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL,
      0x431d67c49c100d4cULL, 0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
  };
  u64 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  HETEX_ED_UNROLL
  for (int t = 0; t < 80; ++t) {
    if (t >= 16) {
      const u64 w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const u64 s0 = rotr(w15, 1) ^ rotr(w15, 8) ^ (w15 >> 7);
      const u64 s1 = rotr(w2, 19) ^ rotr(w2, 61) ^ (w2 >> 6);
      w[t & 15] += s0 + w[(t - 7) & 15] + s1;
    }
    const u64 t1 = hh + (rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)) + ((e & f) ^ (~e & g)) + k[t] + w[t & 15];
    const u64 t2 = (rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

// Big-endian word of the padded message tail at message offset m: bytes, then 0x80, then zeros.
HETEX_HD inline u64 message_word(const std::uint8_t* msg, u64 len, u64 m) {
  u64 word = 0;
  if (m + 8 <= len) {
    HETEX_ED_UNROLL
    for (int j = 0; j < 8; ++j) word = (word << 8) | msg[m + j];
    return word;
  }
  if (m > len) return 0;
  for (int j = 0; j < 8; ++j) {
    const u64 q = m + u64(j);
    word = (word << 8) | (q < len ? msg[q] : q == len ? 0x80u : 0u);
  }
  return word;
}

// SHA-512(prefix || msg) for a 64-byte prefix given as eight little-endian words (R and A of a
// signature check); the digest comes back as eight little-endian words, i.e. the 512-bit number
// that Ed25519 reduces modulo L.
HETEX_HD inline void digest_prefixed(const u64 (&prefix_le)[8], const std::uint8_t* msg, u64 len, u64 (&out_le)[8]) {
  u64 h[8];
  init(h);
  const u64 total = 64 + len;                       // bytes hashed
  const u64 blocks = (total + 16 + 1 + 127) / 128;  // room for 0x80 and the 128-bit length
  u64 w[16];
  HETEX_ED_NO_UNROLL
  for (u64 blk = 0; blk < blocks; ++blk) {
    if (blk == 0) {
      HETEX_ED_UNROLL
      for (int i = 0; i < 8; ++i) w[i] = bswap64(prefix_le[i]);
      HETEX_ED_UNROLL
      for (int i = 8; i < 16; ++i) w[i] = message_word(msg, len, u64(i - 8) * 8);
    } else {
      const u64 base = blk * 128 - 64;
      HETEX_ED_UNROLL
      for (int i = 0; i < 16; ++i) w[i] = message_word(msg, len, base + u64(i) * 8);
    }
    if (blk + 1 == blocks) {
      w[14] = total >> 61;  // the length in bits, as a 128-bit big-endian number
      w[15] = total << 3;
    }
    compress(h, w);
  }
  HETEX_ED_UNROLL
  for (int i = 0; i < 8; ++i) out_le[i] = bswap64(h[i]);
}

}  // namespace hetex::detail::sha512
