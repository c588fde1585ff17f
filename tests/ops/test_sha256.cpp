// SPDX-License-Identifier: MIT
// The public SHA-256 operations on the CPU (and the GPU entry points where no GPU can run).
#include "hetex/ops/sha256.hpp"
#include "ops/sha256_reference.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace hetex;
using hetex::ops::Digest;

namespace {

using hetex_test::hex;
using hetex_test::random_batch;
using hetex_test::reference;

using Fn = Status (*)(const ops::MessageBatch&, std::span<Digest>);

class Sha256Cpu : public ::testing::TestWithParam<Fn> {};

}  // namespace

TEST_P(Sha256Cpu, FipsVectors) {
  ops::PackedMessages pm;
  pm.add(std::string());
  pm.add(std::string("abc"));
  pm.add(std::string("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
  pm.add(
      std::string("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnop"
                  "qrstnopqrstu"));
  pm.add(std::string(1000000, 'a'));
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(GetParam()(pm.view(), out));
  EXPECT_EQ(hex(out[0]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(out[1]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(out[2]), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(out[3]), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(hex(out[4]), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_P(Sha256Cpu, EveryLengthTo300) {
  std::vector<std::uint8_t> bytes(300);
  std::mt19937_64 rng(1);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
  ops::PackedMessages pm;
  for (std::size_t len = 0; len <= 300; ++len) pm.add(std::span<const std::uint8_t>(bytes.data(), len));
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(GetParam()(pm.view(), out));
  for (std::size_t len = 0; len <= 300; ++len) EXPECT_EQ(out[len], reference(pm.view()[len])) << len;
}

TEST_P(Sha256Cpu, RandomMessagesMatchOpenSsl) {
  auto pm = random_batch(100000, 3000, 2);
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(GetParam()(pm.view(), out));
  for (std::size_t i = 0; i < pm.size(); ++i) ASSERT_EQ(out[i], reference(pm.view()[i])) << i;
}

TEST_P(Sha256Cpu, EmptyAndSingleBatches) {
  std::vector<Digest> none;
  EXPECT_TRUE(GetParam()(ops::MessageBatch{}, none));
  ops::PackedMessages one;
  one.add(std::string("abc"));
  std::vector<Digest> out(1);
  ASSERT_TRUE(GetParam()(one.view(), out));
  EXPECT_EQ(hex(out[0]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_P(Sha256Cpu, SlicesKeepAbsoluteOffsets) {
  auto pm = random_batch(1000, 200, 3);
  const auto in = pm.view().slice(100, 900);
  std::vector<Digest> out(in.size());
  ASSERT_TRUE(GetParam()(in, out));
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], reference(in[i])) << i;
}

TEST_P(Sha256Cpu, InvalidBatchesAreInvalidArgument) {
  std::vector<std::uint8_t> data(100, 7);
  auto expect_invalid = [&](std::vector<std::uint64_t> offs, std::size_t outs, const char* needle) {
    std::vector<Digest> out(outs);
    auto st = GetParam()(ops::MessageBatch{data, offs}, out);
    ASSERT_FALSE(st) << needle;
    EXPECT_EQ(st.error().code(), Errc::invalid_argument);
    EXPECT_NE(st.error().message().find(needle), std::string::npos) << st.error().message();
  };
  expect_invalid({0, 10, 5, 20}, 3, "decrease at message 1");
  expect_invalid({0, 10, 101}, 2, "ends at byte 101");
  expect_invalid({0, 1000000, 50}, 2, "message 0");  // would read far past the data
  expect_invalid({0, 10, 20}, 3, "room for 3 digests");
  expect_invalid({0, 10, 20}, 1, "room for 1 digests");
  expect_invalid({5}, 0, "one offset");
  // Many messages, the bad one deep inside: found by every parallel range, reported as the first.
  std::vector<std::uint64_t> many(20001);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = i % 100;
  expect_invalid(many, 20000, "decrease at message 99");
}

INSTANTIATE_TEST_SUITE_P(Paths, Sha256Cpu, ::testing::Values(&ops::sha256_cpu_serial, &ops::sha256_cpu),
                         [](const auto& info) {
                           return info.index == 0 ? std::string("Serial") : std::string("AllCores");
                         });

TEST(Sha256Gpu, RefusesWithoutStreamsOrWithoutCuda) {
  ops::PackedMessages pm;
  pm.add(std::string("abc"));
  std::vector<Digest> out(1);
  auto st = ops::sha256_gpu({}, pm.view(), out);
  ASSERT_FALSE(st);
#if defined(HETEX_WITH_CUDA)
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
#else
  EXPECT_EQ(st.error().code(), Errc::unavailable);
#endif
}
