// SPDX-License-Identifier: MIT
#version 460
// Ed25519 verification with libsodium 1.0.18's verdicts, one signature per invocation: the
// Vulkan form of the CUDA kernel, whose arithmetic lives in src/ops/ed25519_*.hpp and sha512_hd.hpp
// (those headers say why each step is done the way it is; this file follows them step by step).
//   1. S < L;  2. R not small-order;  3. A canonical and not small-order;  4. A decodes;
//   5. h = SHA-512(R || A || M) mod L;  6. encode([S]B - [h]A) == R byte for byte.
// Two kernels from this one source (HETEX_PHASE): phase 1 does steps 1-5 and leaves h and A in
// `state`, phase 2 does step 6. Split, each is a function the driver compiles in a fraction of
// the time of the whole (compilers grow worse than linearly with function size), at the cost of
// 176 bytes per signature written and read once.
//
// Field elements: ten signed 32-bit limbs in radix 2^25.5; a limb product is a 32 x 32 -> 64-bit
// multiply-add. With HETEX_INT64 the 64-bit column sums are int64_t (shaderInt64); without, they
// are (low, high) word pairs built with imulExtended and carries, for devices without 64-bit
// integers. SHA-512 likewise runs on uint64_t or on word pairs.
//
// The constants (the base-point table, d, 2d, sqrt(-1), the small-order blocklist, the Barrett
// mu and L) come from the host in `tables`, computed by the C++ core: one definition of each.
#extension GL_EXT_control_flow_attributes : require
#if HETEX_INT64
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#endif

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly restrict buffer Tables { ivec4 tables[]; };
// keys (32 bytes each) then signatures (64 bytes each: R, S)
layout(std430, set = 0, binding = 1) readonly restrict buffer Items { uvec4 items[]; };
layout(std430, set = 0, binding = 2) readonly restrict buffer Offsets { uint offs[]; };  // n + 1, relative
layout(std430, set = 0, binding = 3) readonly restrict buffer Messages { uint msg[]; };  // bytes, 4 per word
layout(std430, set = 0, binding = 4) restrict buffer Verdicts { uint verdicts[]; };     // a byte per item, zeroed
// What phase 1 hands phase 2, 11 x 16 bytes per item: h (2), then A's X, Y and T (3 each, the
// limbs then two spare words; X's first spare word says whether the checks so far passed).
layout(std430, set = 0, binding = 5) restrict buffer State { ivec4 state[]; };
layout(push_constant) uniform Push { uint n; } p;

// Where the host puts each table (ivec4 units; ops_ed25519.cpp writes the same layout).
const int kBaseEntries = 129;
const int kD = kBaseEntries * 8;
const int kD2 = kD + 3;
const int kSqrtM1 = kD2 + 3;
const int kBlocklist = kSqrtM1 + 3;  // 7 encodings, 2 each
const int kMu = kBlocklist + 14;     // 9 words
const int kL = kMu + 3;              // 9 words

// ---- 64-bit words ----------------------------------------------------------------------------
#if HETEX_INT64
#define W int64_t
W w_mul(int a, int b) { return int64_t(a) * int64_t(b); }
W w_add(W a, W b) { return a + b; }
W w_sub(W a, W b) { return a - b; }
W w_from(int x) { return int64_t(x); }
W w_shr(W a, int n) { return a >> n; }
W w_shl(W a, int n) { return a << n; }
W w_times(W a, int k) { return a * int64_t(k); }
int w_low(W a) { return int(a); }

#define U64 uint64_t
#define U64C(hi, lo) ((uint64_t(hi) << 32) | uint64_t(lo))
U64 u_make(uint lo, uint hi) { return (uint64_t(hi) << 32) | uint64_t(lo); }
uint u_lo(U64 x) { return uint(x); }
uint u_hi(U64 x) { return uint(x >> 32); }
U64 u_add(U64 a, U64 b) { return a + b; }
U64 u_rotr(U64 x, int n) { return (x >> n) | (x << (64 - n)); }
U64 u_shr(U64 x, int n) { return x >> n; }
#else
// Signed 64-bit values as two's-complement (low, high) words.
#define W uvec2
W w_mul(int a, int b) {
  int hi, lo;
  imulExtended(a, b, hi, lo);
  return uvec2(uint(lo), uint(hi));
}
W w_add(W a, W b) {
  uint c;
  const uint lo = uaddCarry(a.x, b.x, c);
  return uvec2(lo, a.y + b.y + c);
}
W w_sub(W a, W b) {
  uint br;
  const uint lo = usubBorrow(a.x, b.x, br);
  return uvec2(lo, a.y - b.y - br);
}
W w_from(int x) { return uvec2(uint(x), x < 0 ? 0xffffffffu : 0u); }
W w_shr(W a, int n) { return uvec2((a.x >> n) | (a.y << (32 - n)), uint(int(a.y) >> n)); }  // 0 < n < 32
W w_shl(W a, int n) { return uvec2(a.x << n, (a.y << n) | (a.x >> (32 - n))); }          // 0 < n < 32
W w_times(W a, int k) {  // k > 0
  uint hi, lo;
  umulExtended(a.x, uint(k), hi, lo);
  return uvec2(lo, a.y * uint(k) + hi);
}
int w_low(W a) { return int(a.x); }

#define U64 uvec2
#define U64C(hi, lo) uvec2(lo, hi)
U64 u_make(uint lo, uint hi) { return uvec2(lo, hi); }
uint u_lo(U64 x) { return x.x; }
uint u_hi(U64 x) { return x.y; }
U64 u_add(U64 a, U64 b) {
  uint c;
  const uint lo = uaddCarry(a.x, b.x, c);
  return uvec2(lo, a.y + b.y + c);
}
U64 u_rotr(U64 x, int n) {
  if (n >= 32) {
    x = x.yx;
    n -= 32;
  }
  if (n == 0) return x;
  return uvec2((x.x >> n) | (x.y << (32 - n)), (x.y >> n) | (x.x << (32 - n)));
}
U64 u_shr(U64 x, int n) { return uvec2((x.x >> n) | (x.y << (32 - n)), x.y >> n); }  // 0 < n < 32
#endif

uint bswap32(uint x) { return (x << 24) | ((x & 0xff00u) << 8) | ((x >> 8) & 0xff00u) | (x >> 24); }
U64 u_bswap(U64 x) { return u_make(bswap32(u_hi(x)), bswap32(u_lo(x))); }

// ---- 32-byte strings as eight little-endian words --------------------------------------------
struct B32 {
  uint w[8];
};

bool b32_equal(B32 a, B32 b) {
  uint d = 0u;
  [[unroll]] for (int i = 0; i < 8; ++i) d |= a.w[i] ^ b.w[i];
  return d == 0u;
}

B32 table_b32(int at) {
  const ivec4 a = tables[at], b = tables[at + 1];
  return B32(uint[](uint(a.x), uint(a.y), uint(a.z), uint(a.w), uint(b.x), uint(b.y), uint(b.z), uint(b.w)));
}

// ---- The field: radix 2^25.5 ------------------------------------------------------------------
struct Fe {
  int v[10];
};

int limb_width(int i) { return (i & 1) != 0 ? 25 : 26; }
int limb_offset(int i) { return (51 * i + 1) / 2; }

Fe fe_small(int x) { return Fe(int[](x, 0, 0, 0, 0, 0, 0, 0, 0, 0)); }
Fe fe_zero() { return fe_small(0); }
Fe fe_one() { return fe_small(1); }

Fe fe_table(int at) {
  const ivec4 a = tables[at], b = tables[at + 1], c = tables[at + 2];
  return Fe(int[](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y));
}
Fe fe_d() { return fe_table(kD); }
Fe fe_d2() { return fe_table(kD2); }
Fe fe_sqrt_m1() { return fe_table(kSqrtM1); }

Fe fe_add(Fe a, Fe b) {
  Fe r;
  [[unroll]] for (int i = 0; i < 10; ++i) r.v[i] = a.v[i] + b.v[i];
  return r;
}
Fe fe_sub(Fe a, Fe b) {
  Fe r;
  [[unroll]] for (int i = 0; i < 10; ++i) r.v[i] = a.v[i] - b.v[i];
  return r;
}
Fe fe_neg(Fe a) {
  Fe r;
  [[unroll]] for (int i = 0; i < 10; ++i) r.v[i] = -a.v[i];
  return r;
}
Fe fe_select(Fe a, Fe b, bool c) {  // a if !c, b if c
  Fe r;
  [[unroll]] for (int i = 0; i < 10; ++i) r.v[i] = c ? b.v[i] : a.v[i];
  return r;
}

// Limb i's excess into limb i + 1 (limb 9's into limb 0, times 19), rounded.
void carry_round(inout W h[10], int i) {
  const int wd = limb_width(i);
  const W c = w_shr(w_add(h[i], w_from(1 << (wd - 1))), wd);
  h[i] = w_sub(h[i], w_shl(c, wd));
  if (i == 9) {
    h[0] = w_add(h[0], w_times(c, 19));
  } else {
    h[i + 1] = w_add(h[i + 1], c);
  }
}

Fe fe_carry(W h[10]) {
  carry_round(h, 0);
  carry_round(h, 4);
  carry_round(h, 1);
  carry_round(h, 5);
  carry_round(h, 2);
  carry_round(h, 6);
  carry_round(h, 3);
  carry_round(h, 7);
  carry_round(h, 4);
  carry_round(h, 8);
  carry_round(h, 9);
  carry_round(h, 0);
  Fe r;
  [[unroll]] for (int i = 0; i < 10; ++i) r.v[i] = w_low(h[i]);
  return r;
}

Fe fe_mul(Fe f, Fe g) {
  int f2[10], g19[10];
  [[unroll]] for (int i = 0; i < 10; ++i) {
    f2[i] = 2 * f.v[i];
    g19[i] = 19 * g.v[i];
  }
  W h[10];
  [[unroll]] for (int k = 0; k < 10; ++k) {
    W acc = w_from(0);
    [[unroll]] for (int i = 0; i < 10; ++i) {
      const int j = i <= k ? k - i : k + 10 - i;
      const int a = ((i & j) & 1) != 0 ? f2[i] : f.v[i];
      const int b = i <= k ? g.v[j] : g19[j];
      acc = w_add(acc, w_mul(a, b));
    }
    h[k] = acc;
  }
  return fe_carry(h);
}

Fe fe_sq_impl(Fe f, bool twice) {
  int f2[10], f4[10], f19[10];
  [[unroll]] for (int i = 0; i < 10; ++i) {
    f2[i] = 2 * f.v[i];
    f4[i] = 4 * f.v[i];
    f19[i] = 19 * f.v[i];
  }
  W h[10];
  [[unroll]] for (int k = 0; k < 10; ++k) {
    W acc = w_from(0);
    [[unroll]] for (int i = 0; i < 10; ++i) {
      const int j = i <= k ? k - i : k + 10 - i;
      if (j >= i) {
        const bool both_odd = ((i & j) & 1) != 0;
        const int a = i == j ? (both_odd ? f2[i] : f.v[i]) : (both_odd ? f4[i] : f2[i]);
        const int b = i <= k ? f.v[j] : f19[j];
        acc = w_add(acc, w_mul(a, b));
      }
    }
    h[k] = twice ? w_shl(acc, 1) : acc;
  }
  return fe_carry(h);
}
Fe fe_sq(Fe f) { return fe_sq_impl(f, false); }
Fe fe_sq2(Fe f) { return fe_sq_impl(f, true); }

Fe fe_from_bytes(B32 s) {
  W h[10];
  [[unroll]] for (int i = 0; i < 10; ++i) {
    const int off = limb_offset(i), wd = limb_width(i), word = off / 32, sh = off % 32;
    uint bits = s.w[word] >> sh;
    if (sh + wd > 32) bits |= s.w[word + 1] << (32 - sh);
    h[i] = w_from(int(bits & ((1u << wd) - 1u)));
  }
  return fe_carry(h);
}

// The canonical encoding; limbs up to three times tight, so every step fits 32 bits.
B32 fe_to_bytes(Fe f) {
  int h[10];
  [[unroll]] for (int i = 0; i < 10; ++i) h[i] = f.v[i] + 4 * ((1 << limb_width(i)) - (i == 0 ? 19 : 1));
  [[unroll]] for (int pass = 0; pass < 2; ++pass) {
    [[unroll]] for (int i = 0; i < 9; ++i) {
      h[i + 1] += h[i] >> limb_width(i);
      h[i] &= (1 << limb_width(i)) - 1;
    }
    const int c = h[9] >> 25;
    h[9] &= (1 << 25) - 1;
    h[0] += 19 * c;
  }
  int q = (h[0] + 19) >> 26;
  [[unroll]] for (int i = 1; i < 10; ++i) q = (h[i] + q) >> limb_width(i);
  h[0] += 19 * q;
  [[unroll]] for (int i = 0; i < 9; ++i) {
    h[i + 1] += h[i] >> limb_width(i);
    h[i] &= (1 << limb_width(i)) - 1;
  }
  h[9] &= (1 << 25) - 1;
  B32 r = B32(uint[](0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u));
  [[unroll]] for (int i = 0; i < 10; ++i) {
    const int off = limb_offset(i), word = off / 32, sh = off % 32;
    r.w[word] |= uint(h[i]) << sh;
    if (sh + limb_width(i) > 32) r.w[word + 1] |= uint(h[i]) >> (32 - sh);
  }
  return r;
}

bool fe_is_zero(Fe f) {
  const B32 b = fe_to_bytes(f);
  uint any = 0u;
  [[unroll]] for (int i = 0; i < 8; ++i) any |= b.w[i];
  return any == 0u;
}
bool fe_is_negative(Fe f) { return (fe_to_bytes(f).w[0] & 1u) != 0u; }

// Field-operation chains: starting from `t`, step k squares t n[k] times, multiplies it by
// saved[f[k]] (f < 0: not at all) and keeps the result in saved[first + k]. The exponentiations
// of decoding (u v^3 (u v^7)^((p-5)/8), then v x^2) and of inversion (z^(p-2)) are such chains,
// over the addition chain of src/ops/ed25519_field.hpp (fe_pow_stem): run as one loop, each costs
// one squaring and one multiplication in the code instead of thirty.
const int kChainDecode = 0, kDecodeSteps = 18;  // inputs: saved[0] = v, saved[1] = u; t = v
const int kChainInvert = 18, kInvertSteps = 12;  // input: saved[0] = z; t = z
const int kChainN[30] = int[](1, 1, 0, 1, 2, 0, 1, 5, 10, 20, 10, 50, 100, 50, 2, 0, 0, 1,
                              1, 2, 0, 1, 5, 10, 20, 10, 50, 100, 50, 5);
const int kChainF[30] = int[](0, 0, 1, -1, 4, 5, 6, 8, 9, 10, 9, 12, 13, 12, 4, 2, 1, 0,
                              -1, 0, 1, 2, 4, 5, 6, 5, 8, 9, 8, 3);
const int kChainSaved = 20;

Fe fe_chain(inout Fe saved[kChainSaved], Fe t, int program, int steps, int first) {
  [[dont_unroll]] for (int k = 0; k < steps; ++k) {
    const int n = kChainN[program + k], f = kChainF[program + k];
    [[dont_unroll]] for (int i = 0; i < n; ++i) t = fe_sq(t);
    if (f >= 0) t = fe_mul(t, saved[f]);
    saved[first + k] = t;
  }
  return t;
}

Fe fe_invert(Fe z) {
  Fe saved[kChainSaved];
  saved[0] = z;
  return fe_chain(saved, z, kChainInvert, kInvertSteps, 1);
}

// ---- Points ------------------------------------------------------------------------------------
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

Cached to_cached(Ext e) { return Cached(fe_add(e.Y, e.X), fe_sub(e.Y, e.X), e.Z, fe_mul(e.T, fe_d2())); }
Cached cached_identity() { return Cached(fe_one(), fe_one(), fe_one(), fe_zero()); }

Completed dbl(Proj p) {
  const Fe a = fe_sq(p.X);
  const Fe b = fe_sq(p.Y);
  const Fe c = fe_sq2(p.Z);
  const Fe e = fe_sub(fe_sub(fe_sq(fe_add(p.X, p.Y)), a), b);
  const Fe g = fe_sub(b, a);
  const Fe f = fe_sub(g, c);
  const Fe h = fe_neg(fe_add(a, b));
  return Completed(e, h, g, f);
}

// P + Q (add-2008-hwcd-3); with `affine` Q's Z is 1 and 2 Z1 Z2 is just Z1 + Z1 (madd).
Completed add_cached(Ext p, Cached q, bool affine) {
  const Fe a = fe_mul(fe_sub(p.Y, p.X), q.YmX);
  const Fe b = fe_mul(fe_add(p.Y, p.X), q.YpX);
  const Fe c = fe_mul(p.T, q.T2d);
  const Fe zz = affine ? p.Z : fe_mul(p.Z, q.Z);
  const Fe d = fe_add(zz, zz);
  return Completed(fe_sub(b, a), fe_add(b, a), fe_add(d, c), fe_sub(d, c));
}


B32 encode(Proj p) {
  const Fe zi = fe_invert(p.Z);
  const Fe x = fe_mul(p.X, zi);
  B32 r = fe_to_bytes(fe_mul(p.Y, zi));
  if (fe_is_negative(x)) r.w[7] |= 0x80000000u;
  return r;
}

// y >= p (bit 255 ignored): libsodium rejects such public keys.
bool y_is_canonical(B32 s) {
  bool ones = (s.w[7] & 0x7fffffffu) == 0x7fffffffu && (s.w[0] >> 8) == 0x00ffffffu;
  [[unroll]] for (int i = 1; i < 7; ++i) ones = ones && s.w[i] == 0xffffffffu;
  return !(ones && (s.w[0] & 0xffu) >= 0xedu);
}

// x = u v^3 (u v^7)^((p-5)/8) with u = y^2 - 1, v = d y^2 + 1; then v x^2 against u (see decode in
// src/ops/ed25519_point.hpp). The chain's steps 15 and 16 give x, step 17 v x^2.
bool decode(out Ext outp, B32 s) {
  const Fe y = fe_from_bytes(s);
  const Fe y2 = fe_sq(y);
  const Fe u = fe_sub(y2, fe_one());
  const Fe v = fe_add(fe_mul(y2, fe_d()), fe_one());
  Fe saved[kChainSaved];
  saved[0] = v;
  saved[1] = u;
  const Fe vxx = fe_chain(saved, v, kChainDecode, kDecodeSteps, 2);
  Fe x = saved[2 + 16];
  if (!fe_is_zero(fe_sub(vxx, u))) {
    if (!fe_is_zero(fe_add(vxx, u))) {
      outp = Ext(fe_zero(), fe_zero(), fe_zero(), fe_zero());
      return false;
    }
    x = fe_mul(x, fe_sqrt_m1());
  }
  const bool sign = (s.w[7] >> 31) != 0u;
  x = fe_select(x, fe_neg(x), fe_is_negative(x) != sign);
  outp = Ext(x, y, fe_one(), fe_mul(x, y));
  return true;
}

bool has_small_order(B32 s) {
  s.w[7] &= 0x7fffffffu;
  bool hit = false;
  [[unroll]] for (int i = 0; i < 7; ++i) hit = hit || b32_equal(s, table_b32(kBlocklist + 2 * i));
  return hit;
}

// ---- Scalars modulo L ----------------------------------------------------------------------------
bool scalar_is_canonical(B32 s) {  // s < L
  const ivec4 l0 = tables[kL], l1 = tables[kL + 1];
  const uint l[8] = uint[](uint(l0.x), uint(l0.y), uint(l0.z), uint(l0.w), uint(l1.x), uint(l1.y), uint(l1.z), uint(l1.w));
  [[unroll]] for (int i = 7; i >= 0; --i)
    if (s.w[i] != l[i]) return s.w[i] < l[i];
  return false;
}

uint table_word(int base, int i) {
  const ivec4 q = tables[base + i / 4];
  const int k = i % 4;
  return uint(k == 0 ? q.x : k == 1 ? q.y : k == 2 ? q.z : q.w);
}

bool limbs9_geq(uint a[9], uint b[9]) {
  [[unroll]] for (int i = 8; i >= 0; --i)
    if (a[i] != b[i]) return a[i] > b[i];
  return true;
}
uint[9] limbs9_sub(uint a[9], uint b[9]) {
  uint r[9];
  uint borrow = 0u;
  [[unroll]] for (int i = 0; i < 9; ++i) {
    uint b1, b2;
    const uint t = usubBorrow(a[i], b[i], b1);
    r[i] = usubBorrow(t, borrow, b2);
    borrow = b1 | b2;
  }
  return r;
}

// x mod L for the 512-bit little-endian x (sixteen words): Barrett with b = 2^32, k = 8.
B32 scalar_reduce512(uint x[16]) {
  uint mu[9], l[9];
  [[unroll]] for (int i = 0; i < 9; ++i) {
    mu[i] = table_word(kMu, i);
    l[i] = table_word(kL, i);
  }
  uint prod[18];
  [[unroll]] for (int i = 0; i < 18; ++i) prod[i] = 0u;
  [[unroll]] for (int i = 0; i < 9; ++i) {
    uint carry = 0u;
    [[unroll]] for (int j = 0; j < 9; ++j) {
      uint hi, lo, c1, c2;
      umulExtended(x[7 + i], mu[j], hi, lo);
      lo = uaddCarry(lo, prod[i + j], c1);
      lo = uaddCarry(lo, carry, c2);
      prod[i + j] = lo;
      carry = hi + c1 + c2;
    }
    prod[i + 9] = carry;
  }
  uint ql[9];
  [[unroll]] for (int i = 0; i < 9; ++i) ql[i] = 0u;
  [[unroll]] for (int i = 0; i < 9; ++i) {
    uint carry = 0u;
    [[unroll]] for (int j = 0; i + j < 9; ++j) {
      uint hi, lo, c1, c2;
      umulExtended(prod[9 + i], l[j], hi, lo);
      lo = uaddCarry(lo, ql[i + j], c1);
      lo = uaddCarry(lo, carry, c2);
      ql[i + j] = lo;
      carry = hi + c1 + c2;
    }
  }
  uint r[9];
  [[unroll]] for (int i = 0; i < 9; ++i) r[i] = x[i];
  r = limbs9_sub(r, ql);
  [[unroll]] for (int k = 0; k < 2; ++k)
    if (limbs9_geq(r, l)) r = limbs9_sub(r, l);
  return B32(uint[](r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]));
}

// Signed radix-2^4 digits (64) and radix-2^8 digits (32) of s < 2^253.
void digits4(B32 s, out int d[64]) {
  int carry = 0;
  [[dont_unroll]] for (int i = 0; i < 64; ++i) {
    int v = int((s.w[i / 8] >> (4 * (i % 8))) & 15u) + carry;
    if (i + 1 < 64) {
      carry = (v + 8) >> 4;
      v -= carry << 4;
    }
    d[i] = v;
  }
}
void digits8(B32 s, out int d[32]) {
  int carry = 0;
  [[dont_unroll]] for (int i = 0; i < 32; ++i) {
    int v = int((s.w[i / 4] >> (8 * (i % 4))) & 255u) + carry;
    if (i + 1 < 32) {
      carry = (v + 128) >> 8;
      v -= carry << 8;
    }
    d[i] = v;
  }
}

// ---- SHA-512 of R || A || M --------------------------------------------------------------------
const U64 K512[80] = U64[](
  U64C(0x428a2f98u, 0xd728ae22u), U64C(0x71374491u, 0x23ef65cdu), U64C(0xb5c0fbcfu, 0xec4d3b2fu), U64C(0xe9b5dba5u, 0x8189dbbcu),
  U64C(0x3956c25bu, 0xf348b538u), U64C(0x59f111f1u, 0xb605d019u), U64C(0x923f82a4u, 0xaf194f9bu), U64C(0xab1c5ed5u, 0xda6d8118u),
  U64C(0xd807aa98u, 0xa3030242u), U64C(0x12835b01u, 0x45706fbeu), U64C(0x243185beu, 0x4ee4b28cu), U64C(0x550c7dc3u, 0xd5ffb4e2u),
  U64C(0x72be5d74u, 0xf27b896fu), U64C(0x80deb1feu, 0x3b1696b1u), U64C(0x9bdc06a7u, 0x25c71235u), U64C(0xc19bf174u, 0xcf692694u),
  U64C(0xe49b69c1u, 0x9ef14ad2u), U64C(0xefbe4786u, 0x384f25e3u), U64C(0x0fc19dc6u, 0x8b8cd5b5u), U64C(0x240ca1ccu, 0x77ac9c65u),
  U64C(0x2de92c6fu, 0x592b0275u), U64C(0x4a7484aau, 0x6ea6e483u), U64C(0x5cb0a9dcu, 0xbd41fbd4u), U64C(0x76f988dau, 0x831153b5u),
  U64C(0x983e5152u, 0xee66dfabu), U64C(0xa831c66du, 0x2db43210u), U64C(0xb00327c8u, 0x98fb213fu), U64C(0xbf597fc7u, 0xbeef0ee4u),
  U64C(0xc6e00bf3u, 0x3da88fc2u), U64C(0xd5a79147u, 0x930aa725u), U64C(0x06ca6351u, 0xe003826fu), U64C(0x14292967u, 0x0a0e6e70u),
  U64C(0x27b70a85u, 0x46d22ffcu), U64C(0x2e1b2138u, 0x5c26c926u), U64C(0x4d2c6dfcu, 0x5ac42aedu), U64C(0x53380d13u, 0x9d95b3dfu),
  U64C(0x650a7354u, 0x8baf63deu), U64C(0x766a0abbu, 0x3c77b2a8u), U64C(0x81c2c92eu, 0x47edaee6u), U64C(0x92722c85u, 0x1482353bu),
  U64C(0xa2bfe8a1u, 0x4cf10364u), U64C(0xa81a664bu, 0xbc423001u), U64C(0xc24b8b70u, 0xd0f89791u), U64C(0xc76c51a3u, 0x0654be30u),
  U64C(0xd192e819u, 0xd6ef5218u), U64C(0xd6990624u, 0x5565a910u), U64C(0xf40e3585u, 0x5771202au), U64C(0x106aa070u, 0x32bbd1b8u),
  U64C(0x19a4c116u, 0xb8d2d0c8u), U64C(0x1e376c08u, 0x5141ab53u), U64C(0x2748774cu, 0xdf8eeb99u), U64C(0x34b0bcb5u, 0xe19b48a8u),
  U64C(0x391c0cb3u, 0xc5c95a63u), U64C(0x4ed8aa4au, 0xe3418acbu), U64C(0x5b9cca4fu, 0x7763e373u), U64C(0x682e6ff3u, 0xd6b2b8a3u),
  U64C(0x748f82eeu, 0x5defb2fcu), U64C(0x78a5636fu, 0x43172f60u), U64C(0x84c87814u, 0xa1f0ab72u), U64C(0x8cc70208u, 0x1a6439ecu),
  U64C(0x90befffau, 0x23631e28u), U64C(0xa4506cebu, 0xde82bde9u), U64C(0xbef9a3f7u, 0xb2c67915u), U64C(0xc67178f2u, 0xe372532bu),
  U64C(0xca273eceu, 0xea26619cu), U64C(0xd186b8c7u, 0x21c0c207u), U64C(0xeada7dd6u, 0xcde0eb1eu), U64C(0xf57d4f7fu, 0xee6ed178u),
  U64C(0x06f067aau, 0x72176fbau), U64C(0x0a637dc5u, 0xa2c898a6u), U64C(0x113f9804u, 0xbef90daeu), U64C(0x1b710b35u, 0x131c471bu),
  U64C(0x28db77f5u, 0x23047d84u), U64C(0x32caab7bu, 0x40c72493u), U64C(0x3c9ebe0au, 0x15c9bebcu), U64C(0x431d67c4u, 0x9c100d4cu),
  U64C(0x4cc5d4beu, 0xcb3e42b6u), U64C(0x597f299cu, 0xfc657e2au), U64C(0x5fcb6fabu, 0x3ad6faecu), U64C(0x6c44198cu, 0x4a475817u));

void sha512_compress(inout U64 h[8], inout U64 w[16]) {
  U64 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  [[unroll]] for (int t = 0; t < 80; ++t) {
    if (t >= 16) {
      const U64 w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const U64 s0 = u_rotr(w15, 1) ^ u_rotr(w15, 8) ^ u_shr(w15, 7);
      const U64 s1 = u_rotr(w2, 19) ^ u_rotr(w2, 61) ^ u_shr(w2, 6);
      w[t & 15] = u_add(u_add(w[t & 15], s0), u_add(w[(t - 7) & 15], s1));
    }
    const U64 s1 = u_rotr(e, 14) ^ u_rotr(e, 18) ^ u_rotr(e, 41);
    const U64 ch = (e & f) ^ (~e & g);
    const U64 t1 = u_add(u_add(u_add(hh, s1), u_add(ch, K512[t])), w[t & 15]);
    const U64 s0 = u_rotr(a, 28) ^ u_rotr(a, 34) ^ u_rotr(a, 39);
    const U64 t2 = u_add(s0, (a & b) ^ (a & c) ^ (b & c));
    hh = g;
    g = f;
    f = e;
    e = u_add(d, t1);
    d = c;
    c = b;
    b = a;
    a = u_add(t1, t2);
  }
  h[0] = u_add(h[0], a);
  h[1] = u_add(h[1], b);
  h[2] = u_add(h[2], c);
  h[3] = u_add(h[3], d);
  h[4] = u_add(h[4], e);
  h[5] = u_add(h[5], f);
  h[6] = u_add(h[6], g);
  h[7] = u_add(h[7], hh);
}

uint msg_byte(uint a) { return (msg[a >> 2] >> (8u * (a & 3u))) & 0xffu; }

// The big-endian word of the padded message at message offset m: bytes, 0x80, zeros.
U64 message_word(uint base, uint len, uint m) {
  uint hi = 0u, lo = 0u;
  if (m + 8u <= len) {
    [[unroll]] for (uint j = 0u; j < 4u; ++j) hi = (hi << 8) | msg_byte(base + m + j);
    [[unroll]] for (uint j = 4u; j < 8u; ++j) lo = (lo << 8) | msg_byte(base + m + j);
  } else if (m <= len) {
    [[unroll]] for (uint j = 0u; j < 8u; ++j) {
      const uint q = m + j;
      const uint b = q < len ? msg_byte(base + q) : q == len ? 0x80u : 0u;
      if (j < 4u) {
        hi = (hi << 8) | b;
      } else {
        lo = (lo << 8) | b;
      }
    }
  }
  return u_make(lo, hi);
}

// SHA-512(prefix || message) as the 512-bit little-endian number Ed25519 reduces (16 words).
void sha512_prefixed(uint prefix[16], uint base, uint len, out uint x[16]) {
  U64 h[8] = U64[](
  U64C(0x6a09e667u, 0xf3bcc908u), U64C(0xbb67ae85u, 0x84caa73bu), U64C(0x3c6ef372u, 0xfe94f82bu), U64C(0xa54ff53au, 0x5f1d36f1u),
  U64C(0x510e527fu, 0xade682d1u), U64C(0x9b05688cu, 0x2b3e6c1fu), U64C(0x1f83d9abu, 0xfb41bd6bu), U64C(0x5be0cd19u, 0x137e2179u));
  const uint total = 64u + len;
  const uint blocks = (total + 17u + 127u) / 128u;
  [[dont_unroll]] for (uint blk = 0u; blk < blocks; ++blk) {
    U64 w[16];
    if (blk == 0u) {
      [[unroll]] for (int i = 0; i < 8; ++i) w[i] = u_bswap(u_make(prefix[2 * i], prefix[2 * i + 1]));
      [[unroll]] for (int i = 8; i < 16; ++i) w[i] = message_word(base, len, uint(i - 8) * 8u);
    } else {
      const uint from = blk * 128u - 64u;
      [[unroll]] for (int i = 0; i < 16; ++i) w[i] = message_word(base, len, from + uint(i) * 8u);
    }
    if (blk + 1u == blocks) {
      w[14] = u_make(0u, 0u);  // the bit length's high 64 bits: messages are far below 2^61 bytes
      w[15] = u_make(total << 3, total >> 29);
    }
    sha512_compress(h, w);
  }
  [[unroll]] for (int i = 0; i < 8; ++i) {
    const U64 le = u_bswap(h[i]);
    x[2 * i] = u_lo(le);
    x[2 * i + 1] = u_hi(le);
  }
}

// ---- [S]B - [h]A --------------------------------------------------------------------------------
// One chain of 252 doublings walking h in signed radix 16 against 0..8 A and s in signed radix 256
// against the base table (the CUDA kernel's schedule, src/ops/ed25519_verify.hpp), run as one flat
// loop of operations: a doubling or an addition, then the conversion back to projective
// coordinates (with T when an addition comes next). Each point operation is in the code once,
// which keeps the kernel small for instruction caches and quick to compile; the loop's first
// seven operations build 2A..8A.

// A base-table entry as a cached point with Z = 1 (the addition then doubles Z instead of
// multiplying by it), negated for a negative digit.
Cached load_base_cached(int index, bool neg) {
  const int at = 8 * index;
  int v[32];
  [[unroll]] for (int k = 0; k < 8; ++k) {
    const ivec4 q = tables[at + k];
    v[4 * k] = q.x;
    v[4 * k + 1] = q.y;
    v[4 * k + 2] = q.z;
    v[4 * k + 3] = q.w;
  }
  Fe ypx, ymx, xy2d;
  [[unroll]] for (int i = 0; i < 10; ++i) {
    ypx.v[i] = v[i];
    ymx.v[i] = v[10 + i];
    xy2d.v[i] = v[20 + i];
  }
  return Cached(fe_select(ypx, ymx, neg), fe_select(ymx, ypx, neg), fe_one(), fe_select(xy2d, fe_neg(xy2d), neg));
}

Cached multiples[9];

// Operation t of the chain: 0 doubling, 1 adding a multiple of A, 2 adding a multiple of B.
const int kPrecompute = 7;
const int kOps = kPrecompute + 32 * 11;
int op_kind(int t, out int digit_index) {
  digit_index = 0;
  if (t < kPrecompute) return t == 0 ? 0 : 1;
  const int u = t - kPrecompute, pair = u / 11, r = u % 11;
  const int step = 63 - 2 * pair;  // odd step first
  if (r < 4 || (r >= 5 && r < 9)) return 0;
  if (r == 4) {
    digit_index = step;
    return 1;
  }
  if (r == 9) {
    digit_index = step - 1;
    return 1;
  }
  digit_index = (step - 1) / 2;
  return 2;
}

Proj sb_minus_ha(B32 s, B32 h, Ext a) {
  multiples[0] = cached_identity();
  multiples[1] = to_cached(a);
  int hd[64], sd[32];
  digits4(h, hd);
  digits8(s, sd);
  Fe X = a.X, Y = a.Y, Z = a.Z, T = a.T;
  [[dont_unroll]] for (int t = 0; t < kOps; ++t) {
    if (t == kPrecompute) {
      X = fe_zero();
      Y = fe_one();
      Z = fe_one();
      T = fe_zero();
    }
    int di;
    const int kind = op_kind(t, di);
    Completed c;
    if (kind == 0) {
      c = dbl(Proj(X, Y, Z));
    } else {
      Cached q;
      if (t < kPrecompute) {
        q = multiples[1];
      } else if (kind == 1) {
        const int d = -hd[di];  // [s]B - [h]A: the multiples of A are subtracted
        const Cached m = multiples[abs(d)];
        q = Cached(fe_select(m.YpX, m.YmX, d < 0), fe_select(m.YmX, m.YpX, d < 0), m.Z, fe_select(m.T2d, fe_neg(m.T2d), d < 0));
      } else {
        const int d = sd[di];
        q = load_base_cached(abs(d), d < 0);
      }
      c = add_cached(Ext(X, Y, Z, T), q, kind == 2);
    }
    int next_digit;
    const bool need_t = t < kPrecompute || (t + 1 < kOps && op_kind(t + 1, next_digit) != 0);
    X = fe_mul(c.X, c.T);
    Y = fe_mul(c.Y, c.Z);
    Z = fe_mul(c.Z, c.T);
    if (need_t) T = fe_mul(c.X, c.Y);
    if (t < kPrecompute) multiples[t + 2] = to_cached(Ext(X, Y, Z, T));
  }
  return Proj(X, Y, Z);
}

B32 item_b32(uint at) {
  const uvec4 q0 = items[at], q1 = items[at + 1u];
  return B32(uint[](q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w));
}

const uint kStateWords = 11u;  // ivec4 per item

void store_fe(uint at, Fe f, int spare) {
  state[at] = ivec4(f.v[0], f.v[1], f.v[2], f.v[3]);
  state[at + 1u] = ivec4(f.v[4], f.v[5], f.v[6], f.v[7]);
  state[at + 2u] = ivec4(f.v[8], f.v[9], spare, 0);
}
Fe load_fe(uint at) {
  const ivec4 a = state[at], b = state[at + 1u], c = state[at + 2u];
  return Fe(int[](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, c.x, c.y));
}

#if HETEX_PHASE == 1
// Phase 1: the checks, h = SHA-512(R || A || M) mod L, and A decoded.
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  const uint at = kStateWords * i;
  const B32 a_enc = item_b32(2u * i);
  const B32 r_enc = item_b32(2u * p.n + 4u * i);
  const B32 s = item_b32(2u * p.n + 4u * i + 2u);
  state[at + 4u] = ivec4(0);  // not (yet) valid
  if (!scalar_is_canonical(s) || has_small_order(r_enc)) return;
  if (!y_is_canonical(a_enc) || has_small_order(a_enc)) return;
  uint prefix[16];
  [[unroll]] for (int k = 0; k < 8; ++k) {
    prefix[k] = r_enc.w[k];
    prefix[8 + k] = a_enc.w[k];
  }
  const uint begin = offs[i], end = offs[i + 1u];
  uint x[16];
  sha512_prefixed(prefix, begin, end - begin, x);
  const B32 h = scalar_reduce512(x);
  Ext a;
  if (!decode(a, a_enc)) return;
  state[at] = ivec4(h.w[0], h.w[1], h.w[2], h.w[3]);
  state[at + 1u] = ivec4(h.w[4], h.w[5], h.w[6], h.w[7]);
  store_fe(at + 2u, a.X, 1);
  store_fe(at + 5u, a.Y, 0);
  store_fe(at + 8u, a.T, 0);
}
#else
// Phase 2: encode([S]B - [h]A) == R, byte for byte.
void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= p.n) return;
  const uint at = kStateWords * i;
  if (state[at + 4u].z == 0) return;
  const ivec4 h0 = state[at], h1 = state[at + 1u];
  const B32 h = B32(uint[](uint(h0.x), uint(h0.y), uint(h0.z), uint(h0.w), uint(h1.x), uint(h1.y), uint(h1.z), uint(h1.w)));
  const Ext a = Ext(load_fe(at + 2u), load_fe(at + 5u), fe_one(), load_fe(at + 8u));
  const B32 r_enc = item_b32(2u * p.n + 4u * i);
  const B32 s = item_b32(2u * p.n + 4u * i + 2u);
  if (b32_equal(encode(sb_minus_ha(s, h, a)), r_enc)) atomicOr(verdicts[i >> 2], 1u << (8u * (i & 3u)));
}
#endif
