// SPDX-License-Identifier: MIT
#pragma once
// Ed25519 test inputs shared by the CPU tests (tests/ops) and the GPU tests (tests/gpu): the RFC
// 8032 vectors, crafted edge cases (small-order and non-canonical points, S >= L, mixed-order
// keys with signatures made for them), and large random batches of real signatures, some
// corrupted. libsodium is the oracle: every verifier must reproduce its verdicts exactly.
#include <gtest/gtest.h>
#include <sodium.h>
#include <tbb/parallel_for.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetex/ops/ed25519.hpp"
// The portable core, for building small-order and mixed-order points independently of libsodium
// (libsodium's own point functions refuse small-order inputs).
#include "../../src/ops/ed25519_verify.hpp"

namespace ed25519_test {

using hetex::ops::PackedMessages;
using hetex::ops::PublicKey;
using hetex::ops::Signature;
using hetex::ops::Verdict;
using hetex::ops::VerifyBatch;
namespace ed = hetex::detail::ed25519;
using Bytes = std::vector<std::uint8_t>;
using Point32 = std::array<std::uint8_t, 32>;

// Unoptimised or sanitised builds run the portable core 20-50 times slower: the random
// differential then uses 10^4 items (the floor we allow), 10^5 otherwise.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
inline constexpr std::size_t kDifferentialItems = 10'000;
#else
inline constexpr std::size_t kDifferentialItems = 100'000;
#endif

inline void sodium_ready() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("sodium_init failed");
}

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(std::uint8_t(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}
template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(std::string_view hex) {
  std::array<std::uint8_t, N> a{};
  const Bytes b = from_hex(hex);
  std::memcpy(a.data(), b.data(), std::min(N, b.size()));
  return a;
}
template <class C>
std::string to_hex(const C& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}

// ---- RFC 8032, section 7.1 ------------------------------------------------------------------

struct RfcVector {
  const char* name;
  const char* seed;
  const char* public_key;
  std::string message;  // hex
  const char* signature;
};

inline std::vector<RfcVector> rfc8032_vectors() {
  const std::string test1024 =
      "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23f"
      "b1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0810a4432826bf58c"
      "941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4feba15452f80288a82"
      "1a579116ec6dad2b3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
      "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53"
      "f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
      "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f27088d78b7e883c8759"
      "d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
      "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22"
      "f04d83d1255dc51addd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8"
      "fcffead94f3c7ca495e056a9b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb"
      "038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
      "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7984a74d371459867"
      "80fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8b17b80e1"
      "b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a4"
      "3dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
      "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fd"
      "e7cb68606937380db2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
      "c60c905c15fc910840b94c00a0b9d0";
  return {
      {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe2"
       "4655141438e7a100b"},
      {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302ae"
       "eb00d291612bb0c00"},
      {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28"
       "dc027beceea1ec40a"},
      {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
       "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", test1024,
       "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a"
       "6ac00a9704a188a03"},
      {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
       "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80"
       "e2a9ac94fa54ca49f",
       "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17"
       "ad9bef1177331a704"},
  };
}

// ---- Batches with their storage ---------------------------------------------------------------

struct Dataset {
  std::vector<PublicKey> keys;
  std::vector<Signature> sigs;
  PackedMessages msgs;
  std::vector<std::string> labels;  // what each item tests
  std::vector<int> intended;        // the verdict the case was built for: 1 valid, 0 invalid, -1 either

  void add(const PublicKey& k, const Signature& s, std::span<const std::uint8_t> m, std::string label, int want) {
    keys.push_back(k);
    sigs.push_back(s);
    msgs.add(m);
    labels.push_back(std::move(label));
    intended.push_back(want);
  }
  std::size_t size() const { return keys.size(); }
  VerifyBatch batch() const { return {keys, sigs, msgs.view()}; }
};

// libsodium's verdicts, straight from crypto_sign_verify_detached (over all cores).
inline std::vector<Verdict> sodium_verdicts(const VerifyBatch& b) {
  sodium_ready();
  std::vector<Verdict> v(b.size());
  tbb::parallel_for(std::size_t(0), b.size(), [&](std::size_t i) {
    const auto m = b.messages[i];
    static const std::uint8_t empty = 0;
    v[i] = crypto_sign_verify_detached(b.signatures[i].data(), m.empty() ? &empty : m.data(), m.size(),
                                       b.keys[i].data()) == 0
               ? Verdict::valid
               : Verdict::invalid;
  });
  return v;
}

// Equal verdicts, or the first few differences with what the items were.
inline ::testing::AssertionResult same_verdicts(const std::vector<Verdict>& want, std::span<const Verdict> got,
                                                const Dataset& d) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "sizes " << want.size() << " vs " << got.size();
  std::size_t bad = 0;
  std::ostringstream os;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == got[i]) continue;
    if (++bad <= 8)
      os << "\n  item " << i << (d.labels.empty() ? "" : " (" + d.labels[i] + ")") << ": libsodium " << int(want[i])
         << ", got " << int(got[i]) << "; key " << to_hex(d.keys[i]) << " sig " << to_hex(d.sigs[i]) << " message of "
         << d.msgs.view()[i].size() << " bytes";
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << want.size() << " verdicts differ from libsodium" << os.str();
}

// ---- Points and scalars for crafting signatures ------------------------------------------------

inline Point32 encode_point(const ed::Ext& p) {
  Point32 out;
  ed::store_bytes32(out.data(), ed::encode(ed::to_proj(p)));
  return out;
}
inline ed::Ext point_add(const ed::Ext& p, const ed::Ext& q) { return ed::to_ext(ed::add(p, ed::to_cached(q))); }
// [k]P, k little endian, by plain double-and-add.
inline ed::Ext point_mul(const ed::Ext& p, const std::uint8_t* k, int bytes) {
  ed::Ext r = ed::ext_identity();
  for (int bit = 8 * bytes - 1; bit >= 0; --bit) {
    r = ed::dbl_ext(ed::to_proj(r));
    if ((k[bit / 8] >> (bit % 8)) & 1) r = point_add(r, p);
  }
  return r;
}
inline const Point32& group_order() {
  static const Point32 l = array_from_hex<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  return l;
}

// The eight points of order dividing 8, T[k] = k T[1] with T[1] of order 8, found as [L]P for
// points P on the curve (the full group is cyclic of order 8L): independent of the blocklist.
inline const std::array<ed::Ext, 8>& torsion_points() {
  static const std::array<ed::Ext, 8> t = [] {
    for (std::uint8_t y = 2;; ++y) {
      Point32 enc{};
      enc[0] = y;
      ed::Ext p{};
      if (!ed::decode(p, ed::load_bytes32(enc.data()))) continue;
      const ed::Ext g = point_mul(p, group_order().data(), 32);
      const std::uint8_t four = 4;
      if (encode_point(point_mul(g, &four, 1)) == encode_point(ed::ext_identity())) continue;  // order < 8
      std::array<ed::Ext, 8> r{};
      r[0] = ed::ext_identity();
      for (int k = 1; k < 8; ++k) r[k] = point_add(r[k - 1], g);
      return r;
    }
  }();
  return t;
}
inline int torsion_order(int k) { return k == 0 ? 1 : k == 4 ? 2 : (k % 2 == 0) ? 4 : 8; }

struct Scalar {
  std::array<std::uint8_t, 32> v{};
};
inline Scalar random_scalar() {
  Scalar s;
  crypto_core_ed25519_scalar_random(s.v.data());
  return s;
}
inline Point32 base_times(const Scalar& s) {
  Point32 p{};
  if (crypto_scalarmult_ed25519_base_noclamp(p.data(), s.v.data()) != 0)
    throw std::runtime_error("scalarmult_base failed");
  return p;
}
// h = SHA-512(R || A || M) mod L
inline Scalar challenge(const Point32& r, const Point32& a, std::span<const std::uint8_t> m) {
  crypto_hash_sha512_state st;
  crypto_hash_sha512_init(&st);
  crypto_hash_sha512_update(&st, r.data(), 32);
  crypto_hash_sha512_update(&st, a.data(), 32);
  crypto_hash_sha512_update(&st, m.data(), m.size());
  std::uint8_t digest[64];
  crypto_hash_sha512_final(&st, digest);
  Scalar h;
  crypto_core_ed25519_scalar_reduce(h.v.data(), digest);
  return h;
}
// A signature with nonce r for secret scalar a, claiming key `a_enc` (which may differ from aB).
inline Signature sign_with(const Scalar& a, const Point32& a_enc, const Scalar& r, std::span<const std::uint8_t> m) {
  const Point32 r_enc = base_times(r);
  const Scalar h = challenge(r_enc, a_enc, m);
  Scalar ha, s;
  crypto_core_ed25519_scalar_mul(ha.v.data(), h.v.data(), a.v.data());
  crypto_core_ed25519_scalar_add(s.v.data(), r.v.data(), ha.v.data());
  Signature sig;
  std::memcpy(sig.data(), r_enc.data(), 32);
  std::memcpy(sig.data() + 32, s.v.data(), 32);
  return sig;
}

inline Point32 r_of(const Signature& s) {
  Point32 r;
  std::memcpy(r.data(), s.data(), 32);
  return r;
}

struct KeyPair {
  PublicKey pk;
  std::array<std::uint8_t, 64> sk;
};
inline KeyPair keypair_from_seed(std::uint64_t seed) {
  std::array<std::uint8_t, 32> s{};
  std::mt19937_64 rng(seed);
  for (auto& b : s) b = std::uint8_t(rng());
  KeyPair kp;
  crypto_sign_seed_keypair(kp.pk.data(), kp.sk.data(), s.data());
  return kp;
}
inline Signature sign(const KeyPair& kp, std::span<const std::uint8_t> m) {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), kp.sk.data());
  return sig;
}

// The 255-bit value v + the sign bit, little endian (v < 2^255).
inline Point32 encoding_of_y(const ed::Bytes32& y, bool sign) {
  Point32 e;
  ed::store_bytes32(e.data(), y);
  e[31] = std::uint8_t((e[31] & 0x7f) | (sign ? 0x80 : 0));
  return e;
}
// p + k for small k (a non-canonical encoding of k when k < 19).
inline ed::Bytes32 p_plus(std::uint64_t k) {
  return ed::Bytes32{{0xffffffffffffffedull + k, ~0ull, ~0ull, 0x7fffffffffffffffull}};
}

// ---- Crafted edge cases ----------------------------------------------------------------------

inline Dataset edge_cases() {
  sodium_ready();
  Dataset d;
  std::mt19937_64 rng(8032);
  auto random_message = [&](std::size_t n) {
    Bytes m(n);
    for (auto& b : m) b = std::uint8_t(rng());
    return m;
  };

  // RFC vectors, and each with one bit of signature, key or message flipped.
  for (const auto& v : rfc8032_vectors()) {
    const auto pk = array_from_hex<32>(v.public_key);
    const auto sig = array_from_hex<64>(v.signature);
    const Bytes m = from_hex(v.message);
    d.add(pk, sig, m, v.name, 1);
    for (int bit : {0, 7, 255, 256, 300, 511}) {
      auto s2 = sig;
      s2[bit / 8] ^= std::uint8_t(1 << (bit % 8));
      d.add(pk, s2, m, std::string(v.name) + " sig bit " + std::to_string(bit), 0);
    }
    for (int bit : {0, 100, 254, 255}) {
      auto k2 = pk;
      k2[bit / 8] ^= std::uint8_t(1 << (bit % 8));
      d.add(k2, sig, m, std::string(v.name) + " key bit " + std::to_string(bit), 0);
    }
    if (!m.empty()) {
      Bytes m2 = m;
      m2.back() ^= 1;
      d.add(pk, sig, m2, std::string(v.name) + " message flipped", 0);
      d.add(pk, sig, std::span(m).first(m.size() - 1), std::string(v.name) + " message truncated", 0);
    }
    Bytes longer = m;
    longer.push_back(0);
    d.add(pk, sig, longer, std::string(v.name) + " message extended", 0);
  }

  const KeyPair kp = keypair_from_seed(1);
  const Bytes msg = random_message(100);
  const Signature good = sign(kp, msg);
  d.add(kp.pk, good, msg, "plain valid", 1);

  // S >= L in every shape: S = L, S + L, S with each of the top three bits set, S = 2^256 - 1.
  {
    Signature s = good;
    std::memcpy(s.data() + 32, group_order().data(), 32);
    d.add(kp.pk, s, msg, "S = L", 0);
    s = good;
    unsigned carry = 0;
    for (int i = 0; i < 32; ++i) {
      const unsigned t = s[32 + i] + group_order()[i] + carry;
      s[32 + i] = std::uint8_t(t);
      carry = t >> 8;
    }
    d.add(kp.pk, s, msg, "S + L (same point, non-canonical S)", 0);
    for (int bit : {253, 254, 255}) {
      s = good;
      s[32 + bit / 8] |= std::uint8_t(1 << (bit % 8));
      d.add(kp.pk, s, msg, "S with bit " + std::to_string(bit) + " set", 0);
    }
    s = good;
    std::memset(s.data() + 32, 0xff, 32);
    d.add(kp.pk, s, msg, "S = 2^256 - 1", 0);
    s = good;
    std::memcpy(s.data() + 32, group_order().data(), 32);
    s[32] -= 1;
    d.add(kp.pk, s, msg, "S = L - 1", 0);
  }

  // Every small-order point, as R and as A, in every encoding: canonical, sign bit flipped, and
  // the non-canonical p (= 0) and p + 1 (= 1) with either sign.
  std::vector<std::pair<Point32, std::string>> small;
  for (int k = 0; k < 8; ++k) {
    const Point32 e = encode_point(torsion_points()[k]);
    Point32 flipped = e;
    flipped[31] ^= 0x80;
    small.push_back({e, "torsion " + std::to_string(k) + " (order " + std::to_string(torsion_order(k)) + ")"});
    small.push_back({flipped, "torsion " + std::to_string(k) + " sign flipped"});
  }
  for (int k : {0, 1})
    for (bool sign : {false, true})
      small.push_back(
          {encoding_of_y(p_plus(std::uint64_t(k)), sign), "y = p + " + std::to_string(k) + (sign ? ", sign set" : "")});
  for (const auto& [enc, what] : small) {
    Signature s = good;
    std::memcpy(s.data(), enc.data(), 32);
    d.add(kp.pk, s, msg, "R = " + what, 0);
    d.add(enc, good, msg, "A = " + what, 0);
    // A small, R small, S = 0: [0]B - [h]A is itself a small-order point, and equals R for some
    // h; only the blocklist rejects these.
    for (const auto& [enc_r, what_r] : small) {
      Signature z{};
      std::memcpy(z.data(), enc_r.data(), 32);
      d.add(enc, z, msg, "A = " + what + ", R = " + what_r + ", S = 0", 0);
    }
  }

  // Non-canonical keys y = p + k (k = 2..18) with either sign; and keys that are not points.
  for (std::uint64_t k = 2; k < 19; ++k)
    for (bool sign : {false, true})
      d.add(encoding_of_y(p_plus(k), sign), good, msg, "A: y = p + " + std::to_string(k), 0);
  int off_curve = 0;
  for (std::uint8_t y = 2; off_curve < 6; ++y) {
    Point32 enc{};
    enc[0] = y;
    ed::Ext p{};
    if (ed::decode(p, ed::load_bytes32(enc.data()))) continue;
    ++off_curve;
    d.add(enc, good, msg, "A: y = " + std::to_string(y) + " is not on the curve", 0);
    enc[31] |= 0x80;
    d.add(enc, good, msg, "A: y = " + std::to_string(y) + " is not on the curve, sign set", 0);
  }

  // Mixed-order keys A + T, signed with A's secret: valid exactly when [h]T = 0, i.e. when
  // ord(T) divides h (cofactorless check). And R + T: never valid.
  for (int k = 0; k < 8; ++k) {
    for (int i = 0; i < 24; ++i) {
      const Scalar a = random_scalar();
      const Point32 a_pub = base_times(a);
      ed::Ext a_point{};
      ed::decode(a_point, ed::load_bytes32(a_pub.data()));
      const Point32 mixed = encode_point(point_add(a_point, torsion_points()[k]));
      const Bytes m = random_message(rng() % 200);
      const Signature s = sign_with(a, mixed, random_scalar(), m);
      const Scalar h = challenge(r_of(s), mixed, m);
      const bool valid = (h.v[0] % torsion_order(k)) == 0;
      d.add(mixed, s, m, "A + torsion " + std::to_string(k) + ", h mod 8 = " + std::to_string(h.v[0] % 8), valid);
      if (k == 0) continue;
      // R + T with a fresh h over the new R: [S]B - [h]A = rB != rB + T.
      const Scalar r = random_scalar();
      ed::Ext r_point{};
      const Point32 r_pub = base_times(r);
      ed::decode(r_point, ed::load_bytes32(r_pub.data()));
      const Point32 r_mixed = encode_point(point_add(r_point, torsion_points()[k]));
      const Scalar h2 = challenge(r_mixed, a_pub, m);
      Scalar ha, s2;
      crypto_core_ed25519_scalar_mul(ha.v.data(), h2.v.data(), a.v.data());
      crypto_core_ed25519_scalar_add(s2.v.data(), r.v.data(), ha.v.data());
      Signature sig2;
      std::memcpy(sig2.data(), r_mixed.data(), 32);
      std::memcpy(sig2.data() + 32, s2.v.data(), 32);
      d.add(a_pub, sig2, m, "R + torsion " + std::to_string(k), 0);
    }
  }

  // Keys with known logarithms: B itself (a = 1) and -B (a = L - 1).
  {
    Scalar one{}, minus_one{};
    one.v[0] = 1;
    minus_one.v = group_order();
    minus_one.v[0] -= 1;
    for (const Scalar& a : {one, minus_one}) {
      const Point32 pub = base_times(a);
      const Signature s = sign_with(a, pub, random_scalar(), msg);
      d.add(pub, s, msg, a.v[0] == 1 ? "A = B" : "A = -B", 1);
    }
  }

  // R whose y is non-canonical but not blocklisted, and a valid R with its sign flipped.
  for (std::uint64_t k = 2; k < 19; k += 4) {
    Signature s = good;
    const Point32 e = encoding_of_y(p_plus(k), false);
    std::memcpy(s.data(), e.data(), 32);
    d.add(kp.pk, s, msg, "R: y = p + " + std::to_string(k), 0);
  }
  {
    Signature s = good;
    s[31] ^= 0x80;
    d.add(kp.pk, s, msg, "R sign flipped", 0);
  }

  // Whole-zero and whole-one inputs.
  d.add(PublicKey{}, Signature{}, msg, "all zero key and signature", 0);
  {
    PublicKey ones;
    ones.fill(0xff);
    Signature sones;
    sones.fill(0xff);
    d.add(ones, sones, msg, "all 0xff key and signature", 0);
    d.add(kp.pk, sones, msg, "all 0xff signature", 0);
  }

  // Every message length across the first SHA-512 block boundaries (the hash covers 64 + n
  // bytes), long messages, and empty ones.
  for (std::size_t n = 0; n <= 300; ++n) {
    const Bytes m = random_message(n);
    const KeyPair k = keypair_from_seed(1000 + n);
    d.add(k.pk, sign(k, m), m, "length " + std::to_string(n), 1);
  }
  for (std::size_t n : {1000u, 4096u, 5000u, 10007u, 65536u}) {
    const Bytes m = random_message(n);
    const Signature s = sign(kp, m);
    d.add(kp.pk, s, m, "long " + std::to_string(n), 1);
    Bytes m2 = m;
    m2[n / 2] ^= 0x40;
    d.add(kp.pk, s, m2, "long " + std::to_string(n) + " corrupted", 0);
  }
  {
    const Signature s = sign(kp, {});
    d.add(kp.pk, s, {}, "empty message", 1);
    const Bytes one{0};
    d.add(kp.pk, s, one, "empty message's signature on one zero byte", 0);
  }
  return d;
}

// ---- Random batches --------------------------------------------------------------------------

// n real signatures over messages of 0..4096 bytes (mostly short), about a third corrupted in
// one of several ways. Generated in parallel, deterministic in `seed`.
struct RandomDataset {
  Dataset data;
  std::vector<bool> corrupted;
};

inline RandomDataset random_dataset(std::size_t n, std::uint64_t seed) {
  sodium_ready();
  std::vector<PublicKey> keys(n);
  std::vector<Signature> sigs(n);
  std::vector<Bytes> msgs(n);
  std::vector<char> bad(n, 0);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + i);
    const unsigned band = rng() % 10;
    const std::size_t len = band < 5 ? rng() % 129 : band < 8 ? 129 + rng() % 896 : 1025 + rng() % 3072;
    Bytes m(len);
    for (auto& b : m) b = std::uint8_t(rng());
    const KeyPair kp = keypair_from_seed(rng());
    Signature s = sign(kp, m);
    PublicKey k = kp.pk;
    if (rng() % 3 == 0) {
      bad[i] = 1;
      switch (rng() % 7) {
        case 0: s[rng() % 32] ^= std::uint8_t(1 << (rng() % 8)); break;       // R
        case 1: s[32 + rng() % 32] ^= std::uint8_t(1 << (rng() % 8)); break;  // S
        case 2: k[rng() % 32] ^= std::uint8_t(1 << (rng() % 8)); break;       // key
        case 3:                                                               // message
          if (m.empty())
            m.push_back(std::uint8_t(rng()));
          else
            m[rng() % m.size()] ^= std::uint8_t(1 << (rng() % 8));
          break;
        case 4: s[32 + 31] |= std::uint8_t(0x20 << (rng() % 3)); break;  // S >= L
        case 5: {                                                        // R of small order
          const Point32 t = encode_point(torsion_points()[rng() % 8]);
          std::memcpy(s.data(), t.data(), 32);
          break;
        }
        default: s[rng() % 64] ^= std::uint8_t(1 + rng() % 255); break;  // a byte
      }
    }
    keys[i] = k;
    sigs[i] = s;
    msgs[i] = std::move(m);
  });
  RandomDataset r;
  std::size_t bytes = 0;
  for (const auto& m : msgs) bytes += m.size();
  r.data.msgs.reserve(n, bytes);
  r.data.keys = std::move(keys);
  r.data.sigs = std::move(sigs);
  for (const auto& m : msgs) r.data.msgs.add(m);
  r.corrupted.assign(bad.begin(), bad.end());
  return r;
}

}  // namespace ed25519_test
