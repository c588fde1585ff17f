// SPDX-License-Identifier: MIT
// The portable Ed25519 core piece by piece (the arithmetic the GPU kernel runs, compiled for the
// host): field arithmetic against OpenSSL bignums, including inputs at the documented limb
// bounds; scalar reduction against libsodium; SHA-512 against OpenSSL; the small-order blocklist
// against the torsion points; the base-point table and [s]B - [h]A against libsodium.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/sha.h>

#include <memory>
#include <set>

#include "../../src/ops/ed25519_batch.hpp"  // the library's base-point table
#include "test_ed25519_cases.hpp"

using namespace ed25519_test;

namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct CtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};

Bn bn() { return Bn(BN_new()); }
BN_CTX* ctx() {
  thread_local std::unique_ptr<BN_CTX, CtxFree> c(BN_CTX_new());
  return c.get();
}
const BIGNUM* prime() {
  static const Bn p = [] {
    Bn x = bn(), one = bn();
    BN_set_word(one.get(), 1);
    BN_lshift(x.get(), one.get(), 255);
    BN_sub_word(x.get(), 19);
    return x;
  }();
  return p.get();
}
Bn from_le(const std::uint8_t* s, int n) { return Bn(BN_lebin2bn(s, n, nullptr)); }
std::array<std::uint8_t, 32> to_le32(const BIGNUM* b) {
  std::array<std::uint8_t, 32> out{};
  BN_bn2lebinpad(b, out.data(), 32);
  return out;
}
// The value a field element represents, reduced mod p (limbs may be negative or oversized).
Bn value(const ed::Fe& f) {
  Bn acc = bn(), term = bn();
  BN_zero(acc.get());
  for (int i = 0; i < 10; ++i) {
    const long long v = f.v[i];
    BN_set_word(term.get(), static_cast<unsigned long>(v < 0 ? -v : v));
    BN_lshift(term.get(), term.get(), ed::limb_offset(i));
    if (v < 0)
      BN_sub(acc.get(), acc.get(), term.get());
    else
      BN_add(acc.get(), acc.get(), term.get());
  }
  BN_nnmod(acc.get(), acc.get(), prime(), ctx());
  return acc;
}
std::array<std::uint8_t, 32> canonical(const ed::Fe& f) {
  std::array<std::uint8_t, 32> out;
  ed::store_bytes32(out.data(), ed::fe_to_bytes(f));
  return out;
}

// A field element with random limbs up to `scale` times the tight bound, either sign: scale 3
// is the most that mul/sq accept (the sum of three tight elements).
ed::Fe random_fe(std::mt19937_64& rng, int scale, bool extreme = false) {
  ed::Fe f{};
  for (int i = 0; i < 10; ++i) {
    const std::int64_t bound =
        scale * ((i & 1) ? (std::int64_t(1) << 24) + (std::int64_t(1) << 16) : std::int64_t(1) << 25);
    std::int64_t v = extreme ? bound : std::int64_t(rng() % std::uint64_t(bound + 1));
    if (rng() & 1) v = -v;
    f.v[i] = std::int32_t(v);
  }
  return f;
}

}  // namespace

TEST(Ed25519Field, ConstantsAreWhatTheyClaim) {
  Bn d = bn(), t = bn(), u = bn();
  BN_set_word(t.get(), 121666);
  BN_mod_inverse(d.get(), t.get(), prime(), ctx());
  BN_set_word(u.get(), 121665);
  BN_mod_mul(d.get(), d.get(), u.get(), prime(), ctx());
  BN_sub(d.get(), prime(), d.get());  // -121665 / 121666
  EXPECT_EQ(canonical(ed::fe_d()), to_le32(d.get()));
  BN_mod_add(t.get(), d.get(), d.get(), prime(), ctx());
  EXPECT_EQ(canonical(ed::fe_d2()), to_le32(t.get()));
  // sqrt(-1)^2 = -1
  EXPECT_EQ(canonical(ed::fe_add(ed::fe_sq(ed::fe_sqrt_m1()), ed::fe_one())), (std::array<std::uint8_t, 32>{}));
}

TEST(Ed25519Field, ArithmeticMatchesBignumsUpToTheLimbBounds) {
  std::mt19937_64 rng(1);
  Bn want = bn();
  for (int iter = 0; iter < 20000; ++iter) {
    // Every mix of tight, loose (up to 3x) and extreme (exactly 3x on every limb) inputs.
    const int kind = iter % 4;
    const ed::Fe a = random_fe(rng, kind == 0 ? 1 : 3, kind == 3);
    const ed::Fe b = random_fe(rng, kind == 1 ? 1 : 3, kind >= 2);
    const Bn va = value(a), vb = value(b);
    BN_mod_mul(want.get(), va.get(), vb.get(), prime(), ctx());
    ASSERT_EQ(canonical(ed::fe_mul(a, b)), to_le32(want.get())) << "mul, iteration " << iter;
    BN_mod_sqr(want.get(), va.get(), prime(), ctx());
    ASSERT_EQ(canonical(ed::fe_sq(a)), to_le32(want.get())) << "sq, iteration " << iter;
    // to_bytes accepts the same bounds as mul: it must reduce a loose element too.
    ASSERT_EQ(canonical(a), to_le32(va.get())) << "to_bytes, iteration " << iter;
    // Output of mul is tight: three of them summed is a legal input again.
    const ed::Fe m = ed::fe_mul(a, b);
    for (int i = 0; i < 10; ++i) {
      const std::int64_t tight = (i & 1) ? (std::int64_t(1) << 24) + (std::int64_t(1) << 16) : std::int64_t(1) << 25;
      ASSERT_LE(std::abs(std::int64_t(m.v[i])), tight) << "limb " << i << " of a product is not tight";
    }
  }
  for (int iter = 0; iter < 300; ++iter) {
    const ed::Fe a = random_fe(rng, 1);
    const Bn va = value(a);
    if (BN_is_zero(va.get())) continue;
    ASSERT_EQ(canonical(ed::fe_sq2(a)), [&] {
      BN_mod_sqr(want.get(), va.get(), prime(), ctx());
      BN_mod_add(want.get(), want.get(), want.get(), prime(), ctx());
      return to_le32(want.get());
    }());
    BN_mod_inverse(want.get(), va.get(), prime(), ctx());
    ASSERT_EQ(canonical(ed::fe_invert_call(a)), to_le32(want.get())) << "invert, iteration " << iter;
    // (p - 5) / 8
    Bn e = bn();
    BN_copy(e.get(), prime());
    BN_sub_word(e.get(), 5);
    BN_rshift(e.get(), e.get(), 3);
    BN_mod_exp(want.get(), va.get(), e.get(), prime(), ctx());
    ASSERT_EQ(canonical(ed::fe_pow_p58_call(a)), to_le32(want.get())) << "pow, iteration " << iter;
  }
}

TEST(Ed25519Field, EncodingIsCanonicalAtTheTopOfTheRange) {
  // Every 255-bit value from p - 2 to 2^255 - 1 decodes (unreduced) and re-encodes reduced.
  for (std::uint64_t k = 0; k < 21; ++k) {
    const ed::Bytes32 y = p_plus(k - 2);  // p - 2 .. p + 18
    const ed::Fe f = ed::fe_from_bytes(y);
    const ed::Bytes32 back = ed::fe_to_bytes(f);
    if (k < 2)
      EXPECT_TRUE(ed::equal(back, y)) << k;
    else
      EXPECT_TRUE(ed::equal(back, ed::Bytes32{{k - 2, 0, 0, 0}})) << k;
  }
  // Bit 255 is not part of the field element.
  ed::Bytes32 y{{5, 0, 0, 0x8000000000000000ull}};
  EXPECT_TRUE(ed::equal(ed::fe_to_bytes(ed::fe_from_bytes(y)), ed::Bytes32{{5, 0, 0, 0}}));
}

TEST(Ed25519Scalar, ReductionMatchesSodium) {
  sodium_ready();
  std::mt19937_64 rng(2);
  std::vector<std::array<std::uint8_t, 64>> inputs;
  for (int i = 0; i < 50000; ++i) {
    std::array<std::uint8_t, 64> x;
    for (auto& b : x) b = std::uint8_t(rng());
    inputs.push_back(x);
  }
  std::array<std::uint8_t, 64> edge{};
  inputs.push_back(edge);  // 0
  edge.fill(0xff);
  inputs.push_back(edge);  // 2^512 - 1
  edge.fill(0);
  std::memcpy(edge.data(), group_order().data(), 32);
  inputs.push_back(edge);  // L
  edge[0] -= 1;
  inputs.push_back(edge);  // L - 1
  edge.fill(0);
  for (int i = 0; i < 32; ++i) edge[32 + i] = group_order()[i];  // L * 2^256
  inputs.push_back(edge);
  for (int top = 0; top < 64; ++top) {  // single high bytes
    edge.fill(0);
    edge[top] = 0xff;
    inputs.push_back(edge);
  }
  for (const auto& x : inputs) {
    std::uint8_t want[32];
    crypto_core_ed25519_scalar_reduce(want, x.data());
    ed::u64 words[8];
    for (int i = 0; i < 8; ++i) {
      words[i] = 0;
      for (int j = 0; j < 8; ++j) words[i] |= ed::u64(x[8 * i + j]) << (8 * j);
    }
    std::array<std::uint8_t, 32> got;
    ed::store_bytes32(got.data(), ed::scalar_reduce512(words));
    ASSERT_EQ(to_hex(got), to_hex(std::span<const std::uint8_t>(want, 32))) << "input " << to_hex(x);
  }
}

TEST(Ed25519Scalar, CanonicalMeansBelowL) {
  std::array<std::uint8_t, 32> s = group_order();
  EXPECT_FALSE(ed::scalar_is_canonical(ed::load_bytes32(s.data())));
  s[0] -= 1;
  EXPECT_TRUE(ed::scalar_is_canonical(ed::load_bytes32(s.data())));
  for (int byte = 0; byte < 32; ++byte) {  // L with one byte raised or lowered
    std::array<std::uint8_t, 32> t = group_order();
    if (t[byte] != 0xff) {
      t[byte] += 1;
      EXPECT_FALSE(ed::scalar_is_canonical(ed::load_bytes32(t.data()))) << byte;
    }
    t = group_order();
    if (t[byte] != 0) {
      t[byte] -= 1;
      EXPECT_TRUE(ed::scalar_is_canonical(ed::load_bytes32(t.data()))) << byte;
    }
  }
  s.fill(0);
  EXPECT_TRUE(ed::scalar_is_canonical(ed::load_bytes32(s.data())));
  s[31] = 0x20;
  EXPECT_FALSE(ed::scalar_is_canonical(ed::load_bytes32(s.data())));
}

TEST(Ed25519Scalar, SignedDigitsRecomposeTheScalar) {
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 2000; ++iter) {
    ed::Bytes32 s{{rng(), rng(), rng(), rng() & 0x1fffffffffffffffull}};  // < 2^253
    if (iter == 0) s = ed::Bytes32{{~0ull, ~0ull, ~0ull, 0x1fffffffffffffffull}};
    ed::i8 d4[64], d8[32];
    ed::scalar_signed_digits<4>(s, d4);
    ed::scalar_signed_digits<8>(s, d8);
    Bn v4 = bn(), v8 = bn(), t = bn();
    BN_zero(v4.get());
    BN_zero(v8.get());
    for (int i = 63; i >= 0; --i) {
      ASSERT_GE(d4[i], -8);
      ASSERT_LE(d4[i], 8);
      BN_lshift(v4.get(), v4.get(), 4);
      BN_set_word(t.get(), unsigned(std::abs(d4[i])));
      d4[i] < 0 ? BN_sub(v4.get(), v4.get(), t.get()) : BN_add(v4.get(), v4.get(), t.get());
    }
    for (int i = 31; i >= 0; --i) {
      ASSERT_GE(d8[i], -128);
      ASSERT_LE(d8[i], 128);
      BN_lshift(v8.get(), v8.get(), 8);
      BN_set_word(t.get(), unsigned(std::abs(d8[i])));
      d8[i] < 0 ? BN_sub(v8.get(), v8.get(), t.get()) : BN_add(v8.get(), v8.get(), t.get());
    }
    std::array<std::uint8_t, 32> bytes;
    ed::store_bytes32(bytes.data(), s);
    const Bn want = from_le(bytes.data(), 32);
    ASSERT_EQ(BN_cmp(v4.get(), want.get()), 0) << iter;
    ASSERT_EQ(BN_cmp(v8.get(), want.get()), 0) << iter;
  }
}

TEST(Ed25519Sha512, PrefixedDigestMatchesOpenSsl) {
  std::mt19937_64 rng(4);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 1100; ++n) lengths.push_back(n);
  for (std::size_t n : {4096u, 10000u, 65537u, 1000000u}) lengths.push_back(n);
  for (std::size_t n : lengths) {
    Bytes all(64 + n);
    for (auto& b : all) b = std::uint8_t(rng());
    std::uint8_t want[64];
    SHA512(all.data(), all.size(), want);
    ed::u64 prefix[8], got[8];
    for (int i = 0; i < 8; ++i) {
      prefix[i] = 0;
      for (int j = 0; j < 8; ++j) prefix[i] |= ed::u64(all[8 * i + j]) << (8 * j);
    }
    hetex::detail::sha512::digest_prefixed(prefix, all.data() + 64, n, got);
    std::array<std::uint8_t, 64> got_bytes;
    for (int i = 0; i < 64; ++i) got_bytes[i] = std::uint8_t(got[i / 8] >> (8 * (i % 8)));
    ASSERT_EQ(to_hex(got_bytes), to_hex(std::span<const std::uint8_t>(want, 64))) << "message of " << n << " bytes";
  }
}

TEST(Ed25519Points, BlocklistIsExactlyTheSmallOrderEncodings) {
  // libsodium's seven values: the y of the eight torsion points (six distinct y) plus the
  // non-canonical p and p + 1.
  std::set<std::string> want;
  for (const auto& t : torsion_points()) {
    Point32 e = encode_point(t);
    e[31] &= 0x7f;
    want.insert(to_hex(e));
  }
  ASSERT_EQ(want.size(), 5u);  // y = 1, -1, 0 (two points), y8, -y8 (two points each)
  want.insert(to_hex(encoding_of_y(p_plus(0), false)));
  want.insert(to_hex(encoding_of_y(p_plus(1), false)));
  want.insert(to_hex(encoding_of_y(p_plus(std::uint64_t(-1)), false)));  // p - 1 = -1, canonical already
  ASSERT_EQ(want.size(), 7u);
  for (const auto& hex : want) {
    Point32 e = array_from_hex<32>(hex);
    EXPECT_TRUE(ed::has_small_order(ed::load_bytes32(e.data()))) << hex;
    e[31] |= 0x80;
    EXPECT_TRUE(ed::has_small_order(ed::load_bytes32(e.data()))) << hex << " with the sign bit";
  }
  // And nothing else: random points and their neighbours.
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    const ed::Bytes32 y{{rng(), rng(), rng(), rng()}};
    Point32 e;
    ed::store_bytes32(e.data(), y);
    e[31] &= 0x7f;
    EXPECT_EQ(ed::has_small_order(y), want.count(to_hex(e)) > 0);
  }
  for (const auto& hex : want)
    for (int delta : {-1, 1}) {
      Point32 e = array_from_hex<32>(hex);
      e[0] = std::uint8_t(e[0] + delta);
      if (!want.count(to_hex(e))) EXPECT_FALSE(ed::has_small_order(ed::load_bytes32(e.data()))) << to_hex(e);
    }
}

TEST(Ed25519Points, BaseTableHoldsTheMultiplesOfB) {
  sodium_ready();
  const ed::BaseEntry* table = hetex::ops::detail::ed25519_base_table();
  for (int k = 0; k < ed::kBaseTableEntries; ++k) {
    const ed::Niels n = ed::load_base(table, k);
    // Back to affine: y = ((y+x) + (y-x)) / 2, x = ((y+x) - (y-x)) / 2, and 2dxy consistent.
    const ed::Fe half = ed::fe_invert(ed::fe_small(2));
    const ed::Fe y = ed::fe_mul(ed::fe_add(n.YpX, n.YmX), half);
    const ed::Fe x = ed::fe_mul(ed::fe_sub(n.YpX, n.YmX), half);
    EXPECT_EQ(canonical(n.XY2d), canonical(ed::fe_mul(ed::fe_mul(x, y), ed::fe_d2()))) << k;
    Point32 enc = canonical(y);
    enc[31] |= std::uint8_t(ed::fe_is_negative(x) << 7);
    Point32 want{};
    if (k == 0) {
      want[0] = 1;  // the identity (0, 1)
    } else {
      Scalar s{};
      s.v[0] = std::uint8_t(k);
      want = base_times(s);
    }
    EXPECT_EQ(to_hex(enc), to_hex(want)) << k << " B";
  }
}

TEST(Ed25519Points, DoubleScalarMultiplicationMatchesSodium) {
  sodium_ready();
  std::mt19937_64 rng(6);
  const Scalar one = [] {
    Scalar s{};
    s.v[0] = 1;
    return s;
  }();
  Scalar l_minus_1{};
  l_minus_1.v = group_order();
  l_minus_1.v[0] -= 1;
  for (int iter = 0; iter < 600; ++iter) {
    const Scalar a = random_scalar();
    Scalar s = random_scalar(), h = random_scalar();
    if (iter % 50 == 1) s = one;
    if (iter % 50 == 2) h = one;
    if (iter % 50 == 3) s = l_minus_1;
    if (iter % 50 == 4) h = l_minus_1;
    const Point32 a_enc = base_times(a);
    ed::Ext a_point{};
    ASSERT_TRUE(ed::decode(a_point, ed::load_bytes32(a_enc.data())));
    // libsodium: [s]B - [h]A
    Point32 sb = base_times(s), ha{}, want{};
    ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(ha.data(), h.v.data(), a_enc.data()), 0);
    ASSERT_EQ(crypto_core_ed25519_sub(want.data(), sb.data(), ha.data()), 0);
    const ed::Bytes32 got = ed::encode(ed::sb_minus_ha(ed::load_bytes32(s.v.data()), ed::load_bytes32(h.v.data()),
                                                       a_point, hetex::ops::detail::ed25519_base_table()));
    Point32 got_bytes;
    ed::store_bytes32(got_bytes.data(), got);
    ASSERT_EQ(to_hex(got_bytes), to_hex(want)) << "iteration " << iter;
  }
}

TEST(Ed25519Points, DecodeRoundTripsAndRejectsNonPoints) {
  sodium_ready();
  for (int i = 0; i < 500; ++i) {
    const Point32 p = base_times(random_scalar());
    ed::Ext e{};
    ASSERT_TRUE(ed::decode(e, ed::load_bytes32(p.data())));
    EXPECT_EQ(to_hex(encode_point(e)), to_hex(p));
    Point32 neg = p;
    neg[31] ^= 0x80;
    ASSERT_TRUE(ed::decode(e, ed::load_bytes32(neg.data())));
    EXPECT_EQ(to_hex(encode_point(e)), to_hex(neg));
  }
  // About half of all y are not on the curve; libsodium agrees on which.
  std::mt19937_64 rng(7);
  int rejected = 0;
  for (int i = 0; i < 1000; ++i) {
    Point32 p;
    for (auto& b : p) b = std::uint8_t(rng());
    p[31] &= 0x3f;  // canonical y
    ed::Ext e{};
    const bool ours = ed::decode(e, ed::load_bytes32(p.data()));
    rejected += !ours;
    if (!ours) EXPECT_EQ(crypto_core_ed25519_is_valid_point(p.data()), 0) << to_hex(p);
    // libsodium's is_valid_point also wants the prime-order subgroup: compare on "decodes" only,
    // through the multiplication by 8 that clears the torsion part (defined for any point).
    if (ours) {
      const std::uint8_t eight = 8;
      const ed::Ext p8 = point_mul(e, &eight, 1);
      EXPECT_EQ(crypto_core_ed25519_is_valid_point(encode_point(p8).data()), 1) << to_hex(p);
    }
  }
  EXPECT_GT(rejected, 350);
  EXPECT_LT(rejected, 650);
}
