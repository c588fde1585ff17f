// SPDX-License-Identifier: MIT
// Ed25519 batch verification: the API, the CPU paths (libsodium, serial and over all cores) and
// the portable core (the GPU kernel's code compiled for the host), each against libsodium's
// own verdicts on the RFC 8032 vectors, crafted edge cases and a large random batch.
#include <gtest/gtest.h>

#include <atomic>

#include "test_ed25519_cases.hpp"

using namespace ed25519_test;
using hetex::Errc;
using hetex::ops::ed25519_verify_cpu;
using hetex::ops::ed25519_verify_cpu_serial;
using hetex::ops::MessageBatch;
namespace ops = hetex::ops;

namespace {

using Verifier = hetex::Status (*)(const VerifyBatch&, std::span<Verdict>);
const std::pair<const char*, Verifier> kVerifiers[] = {
    {"cpu", &ed25519_verify_cpu},
    {"cpu_serial", &ed25519_verify_cpu_serial},
    {"portable", &ops::detail::ed25519_verify_portable},
};

std::vector<Verdict> run(Verifier f, const VerifyBatch& b) {
  std::vector<Verdict> out(b.size(), Verdict{7});  // neither verdict: an unwritten slot shows
  auto st = f(b, out);
  EXPECT_TRUE(st) << st.error().describe();
  return out;
}

const Dataset& edge() {
  static const Dataset d = edge_cases();
  return d;
}

}  // namespace

TEST(Ed25519Vectors, Rfc8032VectorsAreReproducedBySodiumAndAcceptedByEveryPath) {
  sodium_ready();
  Dataset d;
  for (const auto& v : rfc8032_vectors()) {
    const auto seed = array_from_hex<32>(v.seed);
    PublicKey pk;
    std::array<std::uint8_t, 64> sk;
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    EXPECT_EQ(to_hex(pk), v.public_key) << v.name;
    const Bytes m = from_hex(v.message);
    Signature sig;
    crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk.data());
    EXPECT_EQ(to_hex(sig), v.signature) << v.name;
    d.add(pk, sig, m, v.name, 1);
  }
  ASSERT_EQ(d.msgs.view()[3].size(), 1023u);  // TEST 1024 signs 1023 bytes
  for (const auto& [name, f] : kVerifiers)
    EXPECT_EQ(run(f, d.batch()), std::vector<Verdict>(d.size(), Verdict::valid)) << name;
}

TEST(Ed25519EdgeCases, CasesTestWhatTheyClaim) {
  const Dataset& d = edge();
  const auto want = sodium_verdicts(d.batch());
  std::size_t valid = 0, checked = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    valid += want[i] == Verdict::valid;
    if (d.intended[i] < 0) continue;
    ++checked;
    EXPECT_EQ(int(want[i]), d.intended[i]) << "case " << i << " (" << d.labels[i] << ") gets libsodium's other verdict";
  }
  EXPECT_EQ(checked, d.size());
  EXPECT_GT(valid, 300u);
  EXPECT_GT(d.size() - valid, 700u);
}

TEST(Ed25519EdgeCases, MixedOrderKeysAreValidExactlyWhenTheTorsionPartVanishes) {
  // The cofactorless equation accepts A + T only when [h]T = 0: both verdicts must occur.
  const Dataset& d = edge();
  std::size_t mixed_valid = 0, mixed_invalid = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d.labels[i].rfind("A + torsion", 0) != 0 || d.labels[i].rfind("A + torsion 0", 0) == 0) continue;
    (d.intended[i] ? mixed_valid : mixed_invalid)++;
  }
  EXPECT_GT(mixed_valid, 10u);
  EXPECT_GT(mixed_invalid, 50u);
}

TEST(Ed25519EdgeCases, EveryPathMatchesSodium) {
  const Dataset& d = edge();
  const auto want = sodium_verdicts(d.batch());
  for (const auto& [name, f] : kVerifiers) EXPECT_TRUE(same_verdicts(want, run(f, d.batch()), d)) << name;
}

// One test, so that ctest (a process per test) generates and signs the batch once: 10^5 items
// in optimised builds; 10^4 under sanitizers or without optimisation, where the portable core
// runs 20-50 times slower (see kDifferentialItems).
TEST(Ed25519Random, EveryPathMatchesSodiumOnRandomSignatures) {
  const RandomDataset set = random_dataset(kDifferentialItems, 25519);
  const VerifyBatch b = set.data.batch();
  const std::vector<Verdict> sodium = sodium_verdicts(b);

  // The data set means something: untouched signatures pass, corruptions fail.
  std::size_t corrupted = 0;
  for (std::size_t i = 0; i < sodium.size(); ++i) {
    if (!set.corrupted[i]) {
      ASSERT_EQ(sodium[i], Verdict::valid) << "an untouched signature " << i << " fails";
    } else {
      ++corrupted;
      EXPECT_EQ(sodium[i], Verdict::invalid) << "corruption " << i << " left a valid signature";
    }
  }
  EXPECT_GT(corrupted, sodium.size() / 4);
  EXPECT_LT(corrupted, sodium.size() / 2);

  EXPECT_TRUE(same_verdicts(sodium, run(&ed25519_verify_cpu, b), set.data)) << "ed25519_verify_cpu";

  // The kernel's code on the host, over all cores: one portable call per slice, as the hybrid
  // scheduler slices a batch.
  std::vector<Verdict> out(b.size(), Verdict{7});
  std::atomic<bool> ok{true};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, b.size(), 256), [&](const tbb::blocked_range<std::size_t>& rg) {
    const auto st = ops::detail::ed25519_verify_portable(b.slice(rg.begin(), rg.end()),
                                                         std::span(out).subspan(rg.begin(), rg.size()));
    if (!st) ok = false;
  });
  EXPECT_TRUE(ok);
  EXPECT_TRUE(same_verdicts(sodium, out, set.data)) << "portable core";

  // The serial path on odd-sized slices of the first few thousand.
  const std::size_t n = std::min<std::size_t>(b.size(), 3000);
  std::vector<Verdict> serial(n, Verdict{7});
  for (std::size_t begin = 0; begin < n; begin += 777) {
    const std::size_t end = std::min(n, begin + 777);
    ASSERT_TRUE(ed25519_verify_cpu_serial(b.slice(begin, end), std::span(serial).subspan(begin, end - begin)));
  }
  EXPECT_TRUE(same_verdicts(std::vector<Verdict>(sodium.begin(), sodium.begin() + n), serial, set.data))
      << "ed25519_verify_cpu_serial";
}

// ---- The batch as an argument -----------------------------------------------------------------

TEST(Ed25519Batch, SliceIsAViewOfTheSameItems) {
  const Dataset& d = edge();
  const VerifyBatch b = d.batch();
  const VerifyBatch s = b.slice(10, 20);
  ASSERT_EQ(s.size(), 10u);
  ASSERT_TRUE(s.validate());
  EXPECT_EQ(s.keys.data(), b.keys.data() + 10);
  EXPECT_EQ(s.signatures.data(), b.signatures.data() + 10);
  EXPECT_EQ(s.messages[0].data(), b.messages[10].data());
  EXPECT_EQ(b.slice(5, 5).size(), 0u);
  EXPECT_EQ(b.slice(7, 3).size(), 0u);
  EXPECT_TRUE(b.slice(5, 5).validate());
}

TEST(Ed25519Batch, EmptyBatchIsFine) {
  for (const auto& [name, f] : kVerifiers) EXPECT_TRUE(f(VerifyBatch{}, {})) << name;
}

TEST(Ed25519Batch, MalformedBatchesAreInvalidArgument) {
  const Dataset& d = edge();
  const VerifyBatch good = d.batch().slice(0, 4);
  std::vector<Verdict> out(4);
  std::vector<Verdict> short_out(3);
  std::vector<std::uint64_t> decreasing{0, 5, 3, 6, 7};
  std::vector<std::uint64_t> past_end{0, 1, 2, 3, 1u << 30};
  std::vector<std::uint64_t> one_offset{0};
  const VerifyBatch bad[] = {
      {good.keys.first(3), good.signatures, good.messages},
      {good.keys, good.signatures.first(3), good.messages},
      {good.keys, good.signatures, good.messages.slice(0, 3)},
      {good.keys, good.signatures, MessageBatch{good.messages.data, decreasing}},
      {good.keys, good.signatures, MessageBatch{good.messages.data, past_end}},
      {good.keys.first(0), good.signatures.first(0), MessageBatch{good.messages.data, one_offset}},
  };
  for (const auto& [name, f] : kVerifiers) {
    for (const auto& b : bad) {
      auto st = f(b, std::span(out).first(b.keys.size()));
      ASSERT_FALSE(st) << name;
      EXPECT_EQ(st.error().code(), Errc::invalid_argument) << name << ": " << st.error().describe();
    }
    auto st = f(good, short_out);
    ASSERT_FALSE(st) << name;
    EXPECT_EQ(st.error().code(), Errc::invalid_argument) << name;
  }
}

#ifndef HETEX_WITH_CUDA
TEST(Ed25519Batch, GpuPathIsUnavailableWithoutCuda) {
  auto st = ops::ed25519_verify_gpu({}, edge().batch(), {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::unavailable);
}
#endif
