// SPDX-License-Identifier: MIT
#pragma once
// Arithmetic modulo p = 2^255 - 19 for Ed25519, shared by the GPU kernel and the host.
//
// Radix 2^25.5: ten signed 32-bit limbs, v = sum f[i] * 2^ceil(25.5 i), alternately 26 and 25
// bits wide. A limb product is one 32x32->64 multiply-add (IMAD.WIDE on the GPU, where 64-bit
// multiplies are emulated), and the same plain C++ compiles for the host and the device.
//
// Bounds. A mul/sq output is "tight": |even limb| <= 2^25, |odd limb| <= 2^24 + 2^16. mul and sq
// accept limbs up to three times tight (the sum of three tight elements; the point formulas never
// exceed that): then 19 * g[i] stays inside int32 (19 * 1.5 * 2^26 < 2^31) and each of the ten
// 64-bit column sums stays below 2^61. add/sub/neg do not carry.
//
// Everything is constexpr so that the curve constants (d, 2d, sqrt(-1)) and the small-order
// blocklist are derived by the compiler from their definitions rather than pasted in.
#include <cstdint>

#include "ed25519_hd.hpp"

namespace hetex::detail::ed25519 {

using i32 = std::int32_t;
using i64 = std::int64_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

// 32 bytes as four little-endian 64-bit words: how encodings and scalars travel through the core.
struct Bytes32 {
  u64 w[4];
};

HETEX_HD constexpr bool equal(const Bytes32& a, const Bytes32& b) {
  return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3])) == 0;
}

HETEX_HD constexpr Bytes32 load_bytes32(const std::uint8_t* s) {
  Bytes32 r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 32; ++i) r.w[i / 8] |= u64(s[i]) << (8 * (i % 8));
  return r;
}

HETEX_HD constexpr void store_bytes32(std::uint8_t* out, const Bytes32& b) {
  HETEX_ED_UNROLL
  for (int i = 0; i < 32; ++i) out[i] = std::uint8_t(b.w[i / 8] >> (8 * (i % 8)));
}

struct Fe {
  i32 v[10];
};

// Limb i starts at bit ceil(25.5 i) and is 26 (even i) or 25 (odd i) bits wide.
HETEX_HD constexpr int limb_offset(int i) { return (51 * i + 1) / 2; }
HETEX_HD constexpr int limb_width(int i) { return (i & 1) ? 25 : 26; }

HETEX_HD constexpr Fe fe_small(i32 x) {
  Fe r{};
  r.v[0] = x;
  return r;
}
HETEX_HD constexpr Fe fe_zero() { return fe_small(0); }
HETEX_HD constexpr Fe fe_one() { return fe_small(1); }

HETEX_HD constexpr Fe fe_add(const Fe& a, const Fe& b) {
  Fe r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) r.v[i] = a.v[i] + b.v[i];
  return r;
}
HETEX_HD constexpr Fe fe_sub(const Fe& a, const Fe& b) {
  Fe r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) r.v[i] = a.v[i] - b.v[i];
  return r;
}
HETEX_HD constexpr Fe fe_neg(const Fe& a) {
  Fe r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) r.v[i] = -a.v[i];
  return r;
}
// a if !c, b if c: a select per limb, no branch.
HETEX_HD constexpr Fe fe_select(const Fe& a, const Fe& b, bool c) {
  Fe r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) r.v[i] = c ? b.v[i] : a.v[i];
  return r;
}

// Moves limb I's excess into limb I+1 (limb 9's into limb 0, times 19 since 2^255 = 19), rounding
// so the limb ends in [-2^(w-1), 2^(w-1)).
template <int I>
HETEX_HD constexpr void carry_round(i64 (&h)[10]) {
  constexpr int w = limb_width(I);
  const i64 c = (h[I] + (i64(1) << (w - 1))) >> w;
  h[I] -= c * (i64(1) << w);
  if constexpr (I == 9)
    h[0] += c * 19;
  else
    h[I + 1] += c;
}

// Column sums below 2^62 in magnitude -> tight limbs. Two interleaved chains (0..4 and 4..9) halve
// the dependency depth; limb 4 is carried twice, limb 0 again after the wrap from limb 9.
HETEX_HD constexpr Fe fe_carry(i64 (&h)[10]) {
  carry_round<0>(h);
  carry_round<4>(h);
  carry_round<1>(h);
  carry_round<5>(h);
  carry_round<2>(h);
  carry_round<6>(h);
  carry_round<3>(h);
  carry_round<7>(h);
  carry_round<4>(h);
  carry_round<8>(h);
  carry_round<9>(h);
  carry_round<0>(h);
  Fe r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) r.v[i] = i32(h[i]);
  return r;
}

// Limb i times limb j lands at bit offset(i) + offset(j), which is offset(i + j) plus one when
// both are odd (two half bits): those products are doubled. Columns past limb 9 wrap around times
// 19. The doubling goes on f and the 19 on g so that both factors stay inside 32 bits.
HETEX_HD constexpr Fe fe_mul(const Fe& f, const Fe& g) {
  i32 f2[10]{}, g19[10]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    f2[i] = 2 * f.v[i];
    g19[i] = 19 * g.v[i];
  }
  // Column by column: one accumulator live at a time (x86 has 16 registers).
  i64 h[10]{};
  HETEX_ED_UNROLL
  for (int k = 0; k < 10; ++k) {
    i64 acc = 0;
    HETEX_ED_UNROLL
    for (int i = 0; i < 10; ++i) {
      const int j = i <= k ? k - i : k + 10 - i;  // i + j = k or k + 10 (wrapped, times 19)
      const i32 a = ((i & j) & 1) ? f2[i] : f.v[i];
      const i32 b = i <= k ? g.v[j] : g19[j];
      acc += i64(a) * b;
    }
    h[k] = acc;
  }
  return fe_carry(h);
}

// f^2 (times 2 when Twice): each cross product once, doubled; 55 products instead of 100.
template <bool Twice = false>
HETEX_HD constexpr Fe fe_sq_impl(const Fe& f) {
  i32 f2[10]{}, f4[10]{}, f19[10]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    f2[i] = 2 * f.v[i];
    f4[i] = 4 * f.v[i];  // only used for odd limbs, which are 25 bits: fits
    f19[i] = 19 * f.v[i];
  }
  i64 h[10]{};
  HETEX_ED_UNROLL
  for (int k = 0; k < 10; ++k) {
    i64 acc = 0;
    HETEX_ED_UNROLL
    for (int i = 0; i < 10; ++i) {
      const int j = i <= k ? k - i : k + 10 - i;
      if (j < i) continue;  // the pair (j, i) already counted (i, j)
      const bool both_odd = (i & j) & 1;
      const i32 a = i == j ? (both_odd ? f2[i] : f.v[i]) : (both_odd ? f4[i] : f2[i]);
      const i32 b = i <= k ? f.v[j] : f19[j];
      acc += i64(a) * b;
    }
    h[k] = acc;
  }
  if constexpr (Twice) {
    HETEX_ED_UNROLL
    for (int i = 0; i < 10; ++i) h[i] *= 2;
  }
  return fe_carry(h);
}
HETEX_HD constexpr Fe fe_sq(const Fe& f) { return fe_sq_impl<false>(f); }
HETEX_HD constexpr Fe fe_sq2(const Fe& f) { return fe_sq_impl<true>(f); }  // 2 f^2, for tight f

// Any limbs below 2^62 in magnitude -> tight (for values built outside mul/sq, e.g. tables).
HETEX_HD constexpr Fe fe_normalize(const Fe& f) {
  i64 h[10]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) h[i] = f.v[i];
  return fe_carry(h);
}

HETEX_HD constexpr Fe fe_sq_n(Fe f, int n) {
  HETEX_ED_NO_UNROLL
  for (int i = 0; i < n; ++i) f = fe_sq(f);
  return f;
}

// The 255 low bits (bit 255 is the sign of x in a point encoding and is ignored), not reduced:
// a value in [p, 2^255) is a valid representation of value - p.
HETEX_HD constexpr Fe fe_from_bytes(const Bytes32& s) {
  i64 h[10]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    const int off = limb_offset(i), word = off / 64, shift = off % 64;
    u64 bits = s.w[word] >> shift;
    if (shift + limb_width(i) > 64) bits |= s.w[word + 1] << (64 - shift);
    h[i] = i64(bits & ((u64(1) << limb_width(i)) - 1));
  }
  return fe_carry(h);
}

// The canonical encoding (value in [0, p)). Accepts limbs up to three times tight.
HETEX_HD constexpr Bytes32 fe_to_bytes(const Fe& f) {
  // p in limbs: 2^26 - 19, then 2^25 - 1, 2^26 - 1, ...; adding 4p makes every limb positive.
  i64 h[10]{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    const i64 p_limb = (i64(1) << limb_width(i)) - (i == 0 ? 19 : 1);
    h[i] = f.v[i] + 4 * p_limb;
  }
  // Two floor-carry passes leave every limb inside its width and the value in [0, 2^255): the
  // first wraps at most 15 * 2^255 back as 19s, the second at most one more.
  HETEX_ED_UNROLL
  for (int pass = 0; pass < 2; ++pass) {
    HETEX_ED_UNROLL
    for (int i = 0; i < 9; ++i) {
      h[i + 1] += h[i] >> limb_width(i);
      h[i] &= (i64(1) << limb_width(i)) - 1;
    }
    const i64 c = h[9] >> 25;
    h[9] &= (i64(1) << 25) - 1;
    h[0] += 19 * c;
  }
  // value >= p  <=>  value + 19 >= 2^255: then add 19 and drop bit 255, which subtracts p.
  i64 q = (h[0] + 19) >> 26;
  HETEX_ED_UNROLL
  for (int i = 1; i < 10; ++i) q = (h[i] + q) >> limb_width(i);
  h[0] += 19 * q;
  HETEX_ED_UNROLL
  for (int i = 0; i < 9; ++i) {
    h[i + 1] += h[i] >> limb_width(i);
    h[i] &= (i64(1) << limb_width(i)) - 1;
  }
  h[9] &= (i64(1) << 25) - 1;

  Bytes32 r{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    const int off = limb_offset(i), word = off / 64, shift = off % 64;
    r.w[word] |= u64(h[i]) << shift;
    if (shift + limb_width(i) > 64) r.w[word + 1] |= u64(h[i]) >> (64 - shift);
  }
  return r;
}

HETEX_HD constexpr bool fe_is_zero(const Fe& f) {
  const Bytes32 b = fe_to_bytes(f);
  return (b.w[0] | b.w[1] | b.w[2] | b.w[3]) == 0;
}
// "Negative" = odd canonical value; the sign bit of an encoded point is x's.
HETEX_HD constexpr bool fe_is_negative(const Fe& f) { return fe_to_bytes(f).w[0] & 1; }

// z^(2^250 - 1) and z^11, the common stem of inversion and of the square-root exponent.
HETEX_HD constexpr void fe_pow_stem(const Fe& z, Fe& z_250_1, Fe& z11) {
  const Fe z2 = fe_sq(z);                           // z^2
  const Fe z9 = fe_mul(fe_sq_n(z2, 2), z);          // z^9
  z11 = fe_mul(z9, z2);                             // z^11
  const Fe z_5 = fe_mul(fe_sq(z11), z9);            // z^(2^5 - 1)
  const Fe z_10 = fe_mul(fe_sq_n(z_5, 5), z_5);     // z^(2^10 - 1)
  const Fe z_20 = fe_mul(fe_sq_n(z_10, 10), z_10);  // z^(2^20 - 1)
  const Fe z_40 = fe_mul(fe_sq_n(z_20, 20), z_20);  // z^(2^40 - 1)
  const Fe z_50 = fe_mul(fe_sq_n(z_40, 10), z_10);  // z^(2^50 - 1)
  const Fe z_100 = fe_mul(fe_sq_n(z_50, 50), z_50);
  const Fe z_200 = fe_mul(fe_sq_n(z_100, 100), z_100);
  z_250_1 = fe_mul(fe_sq_n(z_200, 50), z_50);  // z^(2^250 - 1)
}

// z^(p - 2) = z^(2^255 - 21) = 1/z (0 for 0).
HETEX_HD constexpr Fe fe_invert(const Fe& z) {
  Fe z_250_1{}, z11{};
  fe_pow_stem(z, z_250_1, z11);
  return fe_mul(fe_sq_n(z_250_1, 5), z11);
}

// z^((p - 5) / 8) = z^(2^252 - 3), the exponent of the square-root candidate.
HETEX_HD constexpr Fe fe_pow_p58(const Fe& z) {
  Fe z_250_1{}, z11{};
  fe_pow_stem(z, z_250_1, z11);
  return fe_mul(fe_sq_n(z_250_1, 2), z);
}

// Run-time entry points for the two exponentiations (~265 squarings each), out of line on the
// device: inlined, each call site would carry its own copy of the chain.
HETEX_HD HETEX_ED_OUTLINE Fe fe_invert_call(Fe z) { return fe_invert(z); }
HETEX_HD HETEX_ED_OUTLINE Fe fe_pow_p58_call(Fe z) { return fe_pow_p58(z); }

// ---- Constants, computed by the compiler --------------------------------------------------

namespace constants {
// d = -121665 / 121666, the curve's Edwards parameter.
HETEX_HD constexpr Fe compute_d() { return fe_mul(fe_neg(fe_small(121665)), fe_invert(fe_small(121666))); }
// 2 is a non-square mod p (p = 5 mod 8), so 2^((p-1)/4) squares to 2^((p-1)/2) = -1.
// (p - 1)/4 = 2^253 - 5 = 2^253 - 1 - 4.
HETEX_HD constexpr Fe compute_sqrt_m1() {
  Fe r = fe_one();
  for (int bit = 252; bit >= 0; --bit) {
    r = fe_sq(r);
    if (bit != 2) r = fe_mul(r, fe_small(2));
  }
  return r;
}
}  // namespace constants

// Local constexpr copies: the compiler folds them into immediates on both sides (namespace-scope
// constexpr aggregates are not addressable from device code).
HETEX_HD inline Fe fe_d() {
  constexpr Fe k = constants::compute_d();
  return k;
}
HETEX_HD inline Fe fe_d2() {
  constexpr Fe k = fe_mul(constants::compute_d(), fe_small(2));
  return k;
}
HETEX_HD inline Fe fe_sqrt_m1() {
  constexpr Fe k = constants::compute_sqrt_m1();
  return k;
}

}  // namespace hetex::detail::ed25519
