// SPDX-License-Identifier: MIT
#pragma once
// Scalars modulo the group order L = 2^252 + 27742317777372353535851937790883648493, shared by
// the GPU kernel and the host: the canonical-S check, reduction of the 512-bit challenge hash
// (Barrett, 32-bit limbs and 64-bit products, so one source serves both sides) and the signed
// fixed-window digits the double-scalar multiplication walks.
#include <cstdint>

#include "ed25519_field.hpp"

namespace hetex::detail::ed25519 {

using i8 = std::int8_t;

namespace scalar_detail {

struct Limbs9 {
  u32 v[9];
};

// L in 32-bit limbs, little endian.
HETEX_HD constexpr Limbs9 order_limbs() {
  return Limbs9{{0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu, 0u, 0u, 0u, 0x10000000u, 0u}};
}

HETEX_HD constexpr bool geq(const Limbs9& a, const Limbs9& b) {
  for (int i = 8; i >= 0; --i)
    if (a.v[i] != b.v[i]) return a.v[i] > b.v[i];
  return true;
}

HETEX_HD constexpr Limbs9 sub(const Limbs9& a, const Limbs9& b) {  // modulo 2^288
  Limbs9 r{};
  u64 borrow = 0;
  HETEX_ED_UNROLL
  for (int i = 0; i < 9; ++i) {
    const u64 t = u64(a.v[i]) - b.v[i] - borrow;
    r.v[i] = u32(t);
    borrow = (t >> 32) & 1;
  }
  return r;
}

// mu = floor(2^512 / L), 260 bits, by long division (evaluated once, by the compiler).
HETEX_HD constexpr Limbs9 compute_mu() {
  const Limbs9 l = order_limbs();
  Limbs9 rem{}, q{};
  for (int bit = 512; bit >= 0; --bit) {
    u32 carry = bit == 512 ? 1u : 0u;  // the dividend 2^512 has a single one bit
    for (int i = 0; i < 9; ++i) {
      const u32 next = rem.v[i] >> 31;
      rem.v[i] = (rem.v[i] << 1) | carry;
      carry = next;
    }
    if (geq(rem, l)) {
      rem = sub(rem, l);
      if (bit < 288) q.v[bit / 32] |= u32(1) << (bit % 32);
    }
  }
  return q;
}

}  // namespace scalar_detail

// s < L: the only S that libsodium accepts (rejects S >= L, including any high bit set).
HETEX_HD constexpr bool scalar_is_canonical(const Bytes32& s) {
  // L as 64-bit words, most significant first.
  constexpr u64 l3 = 0x1000000000000000ull, l1 = 0x14def9dea2f79cd6ull, l0 = 0x5812631a5cf5d3edull;
  if (s.w[3] != l3) return s.w[3] < l3;
  if (s.w[2] != 0) return false;  // L's third word is zero
  if (s.w[1] != l1) return s.w[1] < l1;
  return s.w[0] < l0;
}

// x mod L for a 512-bit little-endian x given as 64-bit words (the SHA-512 digest read as a
// number). Barrett reduction with b = 2^32, k = 8 (Handbook of Applied Cryptography 14.42):
// the quotient estimate is at most 2 too small, so two conditional subtractions finish it.
HETEX_HD inline Bytes32 scalar_reduce512(const u64 (&x64)[8]) {
  using scalar_detail::Limbs9;
  constexpr Limbs9 mu = scalar_detail::compute_mu();
  constexpr Limbs9 l = scalar_detail::order_limbs();
  u32 x[16]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 8; ++i) {
    x[2 * i] = u32(x64[i]);
    x[2 * i + 1] = u32(x64[i] >> 32);
  }
  // q3 = floor(floor(x / b^7) * mu / b^9): only the top nine limbs of the product are needed.
  u32 prod[18]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 9; ++i) {
    u64 carry = 0;
    HETEX_ED_UNROLL
    for (int j = 0; j < 9; ++j) {
      const u64 t = u64(x[7 + i]) * mu.v[j] + prod[i + j] + carry;
      prod[i + j] = u32(t);
      carry = t >> 32;
    }
    prod[i + 9] = u32(carry);
  }
  // r = (x - q3 * L) mod b^9, from the low nine limbs of each.
  u32 ql[9]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 9; ++i) {
    u64 carry = 0;
    HETEX_ED_UNROLL
    for (int j = 0; i + j < 9; ++j) {
      const u64 t = u64(prod[9 + i]) * l.v[j] + ql[i + j] + carry;
      ql[i + j] = u32(t);
      carry = t >> 32;
    }
  }
  Limbs9 r{}, qlv{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 9; ++i) {
    r.v[i] = x[i];
    qlv.v[i] = ql[i];
  }
  r = scalar_detail::sub(r, qlv);
  HETEX_ED_UNROLL
  for (int k = 0; k < 2; ++k)
    if (scalar_detail::geq(r, l)) r = scalar_detail::sub(r, l);
  Bytes32 out{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 4; ++i) out.w[i] = u64(r.v[2 * i]) | (u64(r.v[2 * i + 1]) << 32);
  return out;
}

// Signed radix-2^W digits of s < 2^253: s = sum d[i] 2^(W i), d[i] in [-2^(W-1), 2^(W-1)),
// except the top digit, which keeps the final carry (<= 2 for W = 4, <= 32 for W = 8). Every
// thread then adds at the same positions, so a warp never diverges on the digit pattern.
template <int W, int N>
HETEX_HD inline void scalar_signed_digits(const Bytes32& s, i8 (&d)[N]) {
  static_assert(64 % W == 0 && W * N >= 256, "digits must tile the 256 bits");
  int carry = 0;
  HETEX_ED_UNROLL
  for (int i = 0; i < N; ++i) {
    const int bit = W * i;
    int v = int((s.w[bit / 64] >> (bit % 64)) & ((u64(1) << W) - 1)) + carry;
    if (i + 1 < N) {
      carry = (v + (1 << (W - 1))) >> W;
      v -= carry << W;
    }
    d[i] = i8(v);
  }
}

}  // namespace hetex::detail::ed25519
