// SPDX-License-Identifier: MIT
// Ed25519 verification on Vulkan with libsodium's verdicts, with 64-bit shader integers and with
// the 32-bit fallback: the RFC 8032 vectors, the crafted edge cases (small-order and
// non-canonical points, S >= L, mixed-order keys), a random batch of real signatures (a third
// corrupted), and malformed batches.
#include <gtest/gtest.h>

#include "../ops/test_ed25519_cases.hpp"
#include "vk_test.hpp"
#include "vulkan/ops.hpp"

using namespace ed25519_test;
using hetex::Errc;
namespace vk = hetex::vulkan;

namespace {

class VulkanEd25519 : public vk_test::VulkanTest, public ::testing::WithParamInterface<vk::Arithmetic> {
 protected:
  void SetUp() override {
    vk_test::VulkanTest::SetUp();
    if (IsSkipped()) return;
    if (GetParam() == vk::Arithmetic::int64 && !device().info().int64) GTEST_SKIP() << "no shaderInt64 on this device";
  }
  std::vector<Verdict> verify(const VerifyBatch& b) {
    std::vector<Verdict> out(b.size(), Verdict{7});  // neither verdict: an unwritten slot shows
    auto st = vk::ed25519_verify(device(), b, out, GetParam());
    EXPECT_TRUE(st) << st.error().describe();
    return out;
  }
};

// lavapipe runs a signature in about a millisecond a core: a few hundred keep the suite quick.
const RandomDataset& random_set() {
  static const RandomDataset r = random_dataset(301, 17);
  return r;
}

}  // namespace

// One test per arithmetic, so that each process compiles the two kernels once (lavapipe takes
// seconds a pipeline).
TEST_P(VulkanEd25519, VerdictsMatchSodium) {
  {
    SCOPED_TRACE("RFC 8032 vectors");
    Dataset d;
    for (const auto& v : rfc8032_vectors())
      d.add(array_from_hex<32>(v.public_key), array_from_hex<64>(v.signature), from_hex(v.message), v.name, 1);
    EXPECT_EQ(verify(d.batch()), std::vector<Verdict>(d.size(), Verdict::valid));
  }
  {
    SCOPED_TRACE("edge cases");
    const Dataset d = edge_cases();
    EXPECT_TRUE(same_verdicts(sodium_verdicts(d.batch()), verify(d.batch()), d));
  }
  {
    SCOPED_TRACE("random signatures, a third corrupted");
    const auto& set = random_set();
    EXPECT_TRUE(same_verdicts(sodium_verdicts(set.data.batch()), verify(set.data.batch()), set.data));
  }
  {
    SCOPED_TRACE("3 MiB messages: chunks of at most 8 MiB of message bytes, so two chunks");
    sodium_ready();
    Dataset d;
    std::mt19937_64 rng(23);
    const KeyPair kp = keypair_from_seed(5);
    for (int i = 0; i < 4; ++i) {
      Bytes m((std::size_t(3) << 20) + i);
      for (auto& b : m) b = std::uint8_t(rng());
      Signature sig = sign(kp, m);
      if (i == 2) m[m.size() / 2] ^= 4;
      d.add(kp.pk, sig, m, "long message " + std::to_string(i), i != 2);
    }
    EXPECT_TRUE(same_verdicts(sodium_verdicts(d.batch()), verify(d.batch()), d));
  }
}

INSTANTIATE_TEST_SUITE_P(Arithmetic, VulkanEd25519, ::testing::Values(vk::Arithmetic::int64, vk::Arithmetic::int32),
                         [](const auto& info) { return info.param == vk::Arithmetic::int64 ? "int64" : "int32"; });

using vk_test::VulkanTest;

TEST_F(VulkanTest, Ed25519RejectsMalformedBatches) {
  const Dataset d = edge_cases();
  std::vector<Verdict> out(d.size() - 1);
  auto st = vk::ed25519_verify(device(), d.batch(), out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  VerifyBatch b = d.batch();
  b.keys = b.keys.first(b.keys.size() - 1);
  std::vector<Verdict> out2(b.keys.size());
  st = vk::ed25519_verify(device(), b, out2);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
}
