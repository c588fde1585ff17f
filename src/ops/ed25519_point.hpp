// SPDX-License-Identifier: MIT
#pragma once
// Points of edwards25519 (-x^2 + y^2 = 1 + d x^2 y^2), shared by the GPU kernel and the host.
//
// Representations (all with the formulas of Hisil-Wong-Carter-Dawson 2008 for a = -1, which are
// complete on this curve: no exceptional inputs, so mixed-order and small-order points need no
// special cases):
//   Ext        (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z
//   Proj       (X:Y:Z), what a doubling needs
//   Completed  ((X:Z),(Y:T)), what a doubling or an addition yields: x = X/Z, y = Y/T
//   Cached     (Y+X, Y-X, Z, 2dT) of a point to add repeatedly (the multiples of A)
//   Niels      (y+x, y-x, 2dxy) of an affine point (the base-point table)
#include <cstdint>

#include "ed25519_field.hpp"

namespace hetex::detail::ed25519 {

struct Ext {
  Fe X, Y, Z, T;
};
struct Proj {
  Fe X, Y, Z;
};
struct Completed {
  Fe X, Y, Z, T;
};
struct Cached {
  Fe YpX, YmX, Z, T2d;
};
struct Niels {
  Fe YpX, YmX, XY2d;
};

HETEX_HD inline Ext ext_identity() { return Ext{fe_zero(), fe_one(), fe_one(), fe_zero()}; }
HETEX_HD inline Proj proj_identity() { return Proj{fe_zero(), fe_one(), fe_one()}; }
HETEX_HD inline Cached cached_identity() { return Cached{fe_one(), fe_one(), fe_one(), fe_zero()}; }
HETEX_HD inline Niels niels_identity() { return Niels{fe_one(), fe_one(), fe_zero()}; }

HETEX_HD inline Ext completed_to_ext(const Completed& c) {
  return Ext{fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T), fe_mul(c.X, c.Y)};
}
HETEX_HD inline Proj completed_to_proj(const Completed& c) {
  return Proj{fe_mul(c.X, c.T), fe_mul(c.Y, c.Z), fe_mul(c.Z, c.T)};
}
// The conversions on their own, out of line on the device (ed25519_hd.hpp says why).
HETEX_HD HETEX_ED_OUTLINE Ext to_ext(Completed c) { return completed_to_ext(c); }
HETEX_HD HETEX_ED_OUTLINE Proj to_proj(Completed c) { return completed_to_proj(c); }
HETEX_HD inline Proj to_proj(const Ext& e) { return Proj{e.X, e.Y, e.Z}; }
HETEX_HD inline Cached to_cached(const Ext& e) {
  return Cached{fe_add(e.Y, e.X), fe_sub(e.Y, e.X), e.Z, fe_mul(e.T, fe_d2())};
}

// 2P (dbl-2008-hwcd): A = X^2, B = Y^2, C = 2Z^2, E = (X+Y)^2 - A - B, G = B - A, F = G - C,
// H = -(A + B); then X3 = EF, Y3 = GH, Z3 = FG, T3 = EH, so x = E/G and y = H/F.
HETEX_HD inline Completed dbl(const Proj& p) {
  const Fe a = fe_sq(p.X);
  const Fe b = fe_sq(p.Y);
  const Fe c = fe_sq2(p.Z);
  const Fe e = fe_sub(fe_sub(fe_sq(fe_add(p.X, p.Y)), a), b);
  const Fe g = fe_sub(b, a);
  const Fe f = fe_sub(g, c);
  const Fe h = fe_neg(fe_add(a, b));
  return Completed{e, h, g, f};
}

// Doubling fused with its conversion: out of line on the device, and at 30 words in (device
// calls pass up to 32 argument words in registers, more go through the stack).
HETEX_HD HETEX_ED_OUTLINE Proj dbl_proj(Proj p) { return completed_to_proj(dbl(p)); }
HETEX_HD HETEX_ED_OUTLINE Ext dbl_ext(Proj p) { return completed_to_ext(dbl(p)); }

// P + Q with Q cached (add-2008-hwcd-3): A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = T1 2dT2,
// D = 2 Z1 Z2, E = B - A, F = D - C, G = D + C, H = B + A; x = E/G and y = H/F as for dbl.
HETEX_HD inline Completed add(const Ext& p, const Cached& q) {
  const Fe a = fe_mul(fe_sub(p.Y, p.X), q.YmX);
  const Fe b = fe_mul(fe_add(p.Y, p.X), q.YpX);
  const Fe c = fe_mul(p.T, q.T2d);
  const Fe zz = fe_mul(p.Z, q.Z);
  const Fe d = fe_add(zz, zz);
  return Completed{fe_sub(b, a), fe_add(b, a), fe_add(d, c), fe_sub(d, c)};
}

// P + Q with Q affine (Z2 = 1): one multiplication fewer.
HETEX_HD inline Completed madd(const Ext& p, const Niels& q) {
  const Fe a = fe_mul(fe_sub(p.Y, p.X), q.YmX);
  const Fe b = fe_mul(fe_add(p.Y, p.X), q.YpX);
  const Fe c = fe_mul(p.T, q.XY2d);
  const Fe d = fe_add(p.Z, p.Z);
  return Completed{fe_sub(b, a), fe_add(b, a), fe_add(d, c), fe_sub(d, c)};
}

// -Q swaps y+x with y-x and negates the xy term; selected limb by limb, without a branch.
HETEX_HD inline Cached cached_negate_if(const Cached& q, bool neg) {
  return Cached{fe_select(q.YpX, q.YmX, neg), fe_select(q.YmX, q.YpX, neg), q.Z, fe_select(q.T2d, fe_neg(q.T2d), neg)};
}
HETEX_HD inline Niels niels_negate_if(const Niels& q, bool neg) {
  return Niels{fe_select(q.YpX, q.YmX, neg), fe_select(q.YmX, q.YpX, neg), fe_select(q.XY2d, fe_neg(q.XY2d), neg)};
}

// The canonical encoding: y, with x's parity in bit 255.
HETEX_HD inline Bytes32 encode(const Proj& p) {
  const Fe zi = fe_invert_call(p.Z);
  const Fe x = fe_mul(p.X, zi);
  Bytes32 r = fe_to_bytes(fe_mul(p.Y, zi));
  r.w[3] |= u64(fe_is_negative(x)) << 63;
  return r;
}

// y >= p (bit 255 ignored): libsodium's ge25519_is_canonical rejects these public keys.
HETEX_HD constexpr bool y_is_canonical(const Bytes32& s) {
  const bool top_all_ones = (s.w[3] & 0x7fffffffffffffffull) == 0x7fffffffffffffffull && s.w[2] == ~u64(0) &&
                            s.w[1] == ~u64(0) && (s.w[0] >> 8) == (~u64(0) >> 8);
  return !(top_all_ones && (s.w[0] & 0xff) >= 0xed);
}

// Decodes a key the libsodium way (ge25519_frombytes_negate_vartime, without the negation):
// x = sqrt(u / v) with u = y^2 - 1, v = d y^2 + 1, computed as u v^3 (u v^7)^((p-5)/8); if
// v x^2 = -u instead of u, x *= sqrt(-1); if neither, the encoding is not a point. Then x takes
// the sign bit's parity. x = 0 with the sign bit set is accepted here, as in libsodium: both
// such points (y = 1, y = -1) are on the small-order blocklist anyway.
HETEX_HD inline bool decode(Ext& out, const Bytes32& s) {
  const Fe y = fe_from_bytes(s);
  const Fe y2 = fe_sq(y);
  const Fe u = fe_sub(y2, fe_one());
  const Fe v = fe_add(fe_mul(y2, fe_d()), fe_one());
  const Fe v3 = fe_mul(fe_sq(v), v);
  const Fe uv7 = fe_mul(fe_mul(fe_sq(v3), v), u);
  Fe x = fe_mul(fe_mul(fe_pow_p58_call(uv7), v3), u);
  const Fe vxx = fe_mul(fe_sq(x), v);
  if (!fe_is_zero(fe_sub(vxx, u))) {
    if (!fe_is_zero(fe_add(vxx, u))) return false;
    x = fe_mul(x, fe_sqrt_m1());
  }
  const bool sign = (s.w[3] >> 63) != 0;
  x = fe_select(x, fe_neg(x), fe_is_negative(x) != sign);
  out = Ext{x, y, fe_one(), fe_mul(x, y)};
  return true;
}

// ---- The small-order blocklist ------------------------------------------------------------
// libsodium 1.0.18 rejects R and A whose encoding, bit 255 ignored, is one of seven values:
// y = 0 and y = p (order 4), y = 1 and y = p + 1 (order 1), y = p - 1 (order 2), and the two y of
// the order-8 points. Those two are derived here: doubling (x, y) gives y' = (x^2 + y^2) /
// (2 + x^2 - y^2), and an order-8 point doubles to an order-4 point, y' = 0, so x^2 = -y^2 and
// the curve equation becomes d y^4 + 2 y^2 - 1 = 0: y^2 = (-1 +- sqrt(1 + d)) / d, whichever is
// a square.

namespace small_order_detail {

// A square root of a (given that one exists) by the (p+3)/8 exponent: r = a^((p+3)/8) = a * a^((p-5)/8);
// r or r sqrt(-1) squares to a.
HETEX_HD constexpr bool sqrt_if_square(const Fe& a, Fe& root) {
  Fe r = fe_mul(a, fe_pow_p58(a));
  if (fe_is_zero(fe_sub(fe_sq(r), a))) {
    root = r;
    return true;
  }
  r = fe_mul(r, constants::compute_sqrt_m1());
  if (fe_is_zero(fe_sub(fe_sq(r), a))) {
    root = r;
    return true;
  }
  return false;
}

struct Blocklist {
  Bytes32 y[7];
};

HETEX_HD constexpr Blocklist compute_blocklist() {
  const Fe d = constants::compute_d();
  Fe s{};
  sqrt_if_square(fe_add(fe_one(), d), s);  // 1 + d is a square: the order-8 points exist
  const Fe inv_d = fe_invert(d);
  Fe z = fe_mul(fe_sub(s, fe_one()), inv_d);
  Fe y8{};
  if (!sqrt_if_square(z, y8)) {
    z = fe_mul(fe_neg(fe_add(s, fe_one())), inv_d);
    sqrt_if_square(z, y8);
  }
  constexpr u64 ones = ~u64(0), top = 0x7fffffffffffffffull;
  Blocklist b{};
  b.y[0] = Bytes32{{0, 0, 0, 0}};
  b.y[1] = Bytes32{{1, 0, 0, 0}};
  b.y[2] = fe_to_bytes(y8);
  b.y[3] = fe_to_bytes(fe_neg(y8));
  b.y[4] = Bytes32{{ones - 19, ones, ones, top}};  // p - 1 (p = 2^255 - 19: low word 2^64 - 19)
  b.y[5] = Bytes32{{ones - 18, ones, ones, top}};  // p
  b.y[6] = Bytes32{{ones - 17, ones, ones, top}};  // p + 1
  return b;
}

}  // namespace small_order_detail

HETEX_HD inline bool has_small_order(const Bytes32& s) {
  constexpr small_order_detail::Blocklist list = small_order_detail::compute_blocklist();
  Bytes32 y = s;
  y.w[3] &= 0x7fffffffffffffffull;
  bool hit = false;
  HETEX_ED_UNROLL
  for (int i = 0; i < 7; ++i) hit |= equal(y, list.y[i]);
  return hit;
}

}  // namespace hetex::detail::ed25519
