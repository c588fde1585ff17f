// SPDX-License-Identifier: MIT
#pragma once
// One Ed25519 signature check with libsodium 1.0.18's verdict (crypto_sign_verify_detached),
// shared by the GPU kernel (one thread per signature) and the host:
//   1. S < L, else invalid;            2. R not on the small-order blocklist;
//   3. A canonical (y < p) and not on the blocklist;   4. A decodes to a curve point;
//   5. h = SHA-512(R || A || M) mod L; 6. encode([S]B - [h]A) == R, byte for byte (cofactorless).
//
// [S]B - [h]A walks both scalars in one chain of 252 doublings with signed fixed windows: h in
// radix 16 against a per-thread table of 0..8 A (Cached), S in radix 256 against a shared table of
// 0..128 B (Niels, built at start-up). Fixed windows add at the same steps in every thread, so a
// warp never diverges on the digits (a sliding window would make every warp take every addition
// some thread needs), and digit 0 adds the identity instead of branching.
#include <cstdint>

#include "ed25519_point.hpp"
#include "ed25519_scalar.hpp"
#include "sha512_hd.hpp"

namespace hetex::detail::ed25519 {

inline constexpr int kBaseTableEntries = 129;  // 0..128 B: |radix-256 digit| <= 128

// A Niels point in 128 bytes (30 limbs + 2 of padding): one cache line, eight 16-byte loads.
struct alignas(16) BaseEntry {
  i32 v[32];
};

HETEX_HD inline BaseEntry pack(const Niels& n) {
  BaseEntry e{};
  for (int i = 0; i < 10; ++i) {
    e.v[i] = n.YpX.v[i];
    e.v[10 + i] = n.YmX.v[i];
    e.v[20 + i] = n.XY2d.v[i];
  }
  return e;
}

HETEX_HD inline Niels load_base(const BaseEntry* table, int index) {
  i32 v[32];
#if defined(__CUDA_ARCH__)
  // Read-only path: the 16 KiB table stays in L1 and every thread gathers its own entry.
  const int4* p = reinterpret_cast<const int4*>(table + index);
  HETEX_ED_UNROLL
  for (int k = 0; k < 8; ++k) {
    const int4 q = __ldg(p + k);
    v[4 * k] = q.x;
    v[4 * k + 1] = q.y;
    v[4 * k + 2] = q.z;
    v[4 * k + 3] = q.w;
  }
#else
  HETEX_ED_UNROLL
  for (int k = 0; k < 32; ++k) v[k] = table[index].v[k];
#endif
  Niels n{};
  HETEX_ED_UNROLL
  for (int i = 0; i < 10; ++i) {
    n.YpX.v[i] = v[i];
    n.YmX.v[i] = v[10 + i];
    n.XY2d.v[i] = v[20 + i];
  }
  return n;
}

// The base point: y = 4/5, x even.
HETEX_HD inline Ext base_point() {
  Ext b{};
  decode(b, fe_to_bytes(fe_mul(fe_small(4), fe_invert(fe_small(5)))));
  return b;
}

// k B for k = 0..128 as affine Niels points (host start-up; a few hundred microseconds).
inline void build_base_table(BaseEntry (&table)[kBaseTableEntries]) {
  const Ext b = base_point();
  const Cached bc = to_cached(b);
  Ext m = ext_identity();
  for (int k = 0; k < kBaseTableEntries; ++k) {
    const Fe zi = fe_invert(m.Z);
    const Fe x = fe_mul(m.X, zi), y = fe_mul(m.Y, zi);
    table[k] = pack(Niels{fe_normalize(fe_add(y, x)), fe_normalize(fe_sub(y, x)), fe_mul(fe_mul(x, y), fe_d2())});
    m = to_ext(add(m, bc));
  }
}

// P + digit Q from a table of 0..8 Q (digit in [-8, 8]). Out of line on the device, like the
// other point operations (ed25519_hd.hpp says why).
HETEX_HD HETEX_ED_OUTLINE Completed add_multiple(Ext p, const Cached* multiples, int digit) {
  return add(p, cached_negate_if(multiples[digit < 0 ? -digit : digit], digit < 0));
}

// P + digit B from the base table (digit in [-128, 128]).
HETEX_HD HETEX_ED_OUTLINE Completed add_base_multiple(Ext p, const BaseEntry* base, int digit) {
  return madd(p, niels_negate_if(load_base(base, digit < 0 ? -digit : digit), digit < 0));
}

// [s]B - [h]A for s, h < 2^253. Each pass of the loop takes one radix-256 digit of s and the two
// radix-16 digits of h at the same bits; the first pass doubles the identity (8 of 256
// doublings wasted) so that the loop has no branch.
HETEX_HD inline Proj sb_minus_ha(const Bytes32& s, const Bytes32& h, const Ext& a, const BaseEntry* base) {
  Cached multiples[9];  // 0..8 A
  multiples[0] = cached_identity();
  multiples[1] = to_cached(a);
  Ext m = dbl_ext(to_proj(a));
  multiples[2] = to_cached(m);
  HETEX_ED_NO_UNROLL
  for (int k = 3; k <= 8; ++k) {
    m = to_ext(add_multiple(m, multiples, 1));
    multiples[k] = to_cached(m);
  }
  i8 hd[64], sd[32];
  scalar_signed_digits<4>(h, hd);
  scalar_signed_digits<8>(s, sd);

  Proj p = proj_identity();
  HETEX_ED_NO_UNROLL
  for (int j = 31; j >= 0; --j) {
    HETEX_ED_NO_UNROLL
    for (int k = 0; k < 3; ++k) p = dbl_proj(p);
    p = to_proj(add_multiple(dbl_ext(p), multiples, -hd[2 * j + 1]));
    HETEX_ED_NO_UNROLL
    for (int k = 0; k < 3; ++k) p = dbl_proj(p);
    const Completed c = add_multiple(dbl_ext(p), multiples, -hd[2 * j]);
    p = to_proj(add_base_multiple(to_ext(c), base, sd[j]));
  }
  return p;
}

// The verdict for one signature (R = sig[0..32), S = sig[32..64)) on key A and message msg.
HETEX_HD inline bool verify(const Bytes32& a_enc, const Bytes32& r_enc, const Bytes32& s, const std::uint8_t* msg,
                            std::uint64_t len, const BaseEntry* base) {
  if (!scalar_is_canonical(s) || has_small_order(r_enc)) return false;
  if (!y_is_canonical(a_enc) || has_small_order(a_enc)) return false;
  // Hash before decoding: the decoded point (40 words) then need not live across SHA-512.
  const u64 prefix[8] = {r_enc.w[0], r_enc.w[1], r_enc.w[2], r_enc.w[3],
                         a_enc.w[0], a_enc.w[1], a_enc.w[2], a_enc.w[3]};
  u64 digest[8];
  sha512::digest_prefixed(prefix, msg, len, digest);
  const Bytes32 h = scalar_reduce512(digest);
  Ext a{};
  if (!decode(a, a_enc)) return false;
  return equal(encode(sb_minus_ha(s, h, a, base)), r_enc);
}

}  // namespace hetex::detail::ed25519
