// SPDX-License-Identifier: MIT
// SHA-256 on Vulkan against OpenSSL: the FIPS 180-4 vectors, every length to 300 at every
// alignment (one batch), random and equal-length batches over several chunks, a message longer
// than a chunk (hashed on the CPU), malformed batches, and device-resident batches whose bad
// offsets are clamped instead of read past.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "../ops/sha256_reference.hpp"
#include "vk_test.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/recording.hpp"

using hetex::Errc;
using hetex::ops::Digest;
using hetex::ops::MessageBatch;
using hetex::ops::PackedMessages;
namespace vk = hetex::vulkan;
using vk_test::VulkanTest;

namespace {

std::vector<Digest> openssl_all(const MessageBatch& b) {
  std::vector<Digest> d(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) d[i] = hetex_test::reference(b[i]);
  return d;
}

::testing::AssertionResult same(const std::vector<Digest>& want, const std::vector<Digest>& got) {
  if (want.size() != got.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] != got[i])
      return ::testing::AssertionFailure()
             << "message " << i << ": want " << hetex_test::hex(want[i]) << ", got " << hetex_test::hex(got[i]);
  return ::testing::AssertionSuccess();
}

class VulkanSha256 : public VulkanTest {
 protected:
  std::vector<Digest> hash(const MessageBatch& b) {
    std::vector<Digest> out(b.size());
    for (auto& d : out) d.fill(0xa5);  // an unwritten digest shows
    auto st = vk::sha256(device(), b, out);
    EXPECT_TRUE(st) << st.error().describe();
    return out;
  }
};

}  // namespace

TEST_F(VulkanSha256, FipsVectors) {
  PackedMessages pm;
  for (const char* m : {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
                        "rsmnopqrstnopqrstu"})
    pm.add(std::string_view(m));
  const auto got = hash(pm.view());
  EXPECT_EQ(hetex_test::hex(got[0]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hetex_test::hex(got[1]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hetex_test::hex(got[2]), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hetex_test::hex(got[3]), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_F(VulkanSha256, OneMillionAIsOneLongMessageAmongShortOnes) {
  PackedMessages pm;
  pm.add(std::string_view("x"));  // the long one starts misaligned
  pm.add(std::string(1000000, 'a'));
  pm.add(std::string_view("abc"));
  const auto got = hash(pm.view());
  EXPECT_EQ(hetex_test::hex(got[1]), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(hetex_test::hex(got[2]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(VulkanSha256, EveryLengthTo300AtEveryAlignment) {
  const auto bytes = hetex_test::random_pool(4096, 1);
  PackedMessages pm;
  // Consecutive messages of every length, so that each starts at every offset modulo 16 in turn.
  for (std::size_t lead = 0; lead < 16; ++lead)
    for (std::size_t len = 0; len <= 300; len += 1 + lead % 3)
      pm.add(std::span<const std::uint8_t>(bytes.data() + (lead * 131 + len) % 1024, len));
  EXPECT_TRUE(same(openssl_all(pm.view()), hash(pm.view())));
}

TEST_F(VulkanSha256, RandomBatchOverSeveralChunks) {
  // ~2.8 MiB: the planner cuts it into several chunks that go round the staging slots.
  const auto pm = hetex_test::random_batch(26'003, 220, 7);
  EXPECT_TRUE(same(openssl_all(pm.view()), hash(pm.view())));
}

TEST_F(VulkanSha256, EqualLengthsUploadNoOffsets) {
  for (std::size_t len : {std::size_t(0), std::size_t(55), std::size_t(64), std::size_t(1000)}) {
    const auto pm = hetex_test::uniform_batch(1'001, len, 3 + len);
    ASSERT_TRUE(same(openssl_all(pm.view()), hash(pm.view()))) << "length " << len;
  }
}

TEST_F(VulkanSha256, AMessageLongerThanAChunkIsHashedOnTheCpu) {
  const auto big = hetex_test::random_pool((std::size_t(17) << 20) + 5, 9);
  PackedMessages pm;
  pm.add(std::string_view("before"));
  pm.add(std::span<const std::uint8_t>(big));
  pm.add(std::string_view("after"));
  EXPECT_TRUE(same(openssl_all(pm.view()), hash(pm.view())));
}

TEST_F(VulkanSha256, MalformedBatchesAreRejected) {
  const std::vector<std::uint8_t> data(100, 1);
  const std::vector<std::uint64_t> decreasing = {0, 10, 5, 20}, past = {0, 10, 200};
  std::vector<Digest> out(3);
  auto st = vk::sha256(device(), MessageBatch{data, decreasing}, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  st = vk::sha256(device(), MessageBatch{data, past}, std::span(out).first(2));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  st = vk::sha256(device(), MessageBatch{data, past}, out);  // one output too many
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
}

TEST_F(VulkanSha256, DeviceResidentClampsBadOffsets) {
  const auto pm = hetex_test::random_batch(777, 150, 11);
  const MessageBatch b = pm.view();
  std::vector<std::uint64_t> offs(b.offsets.begin(), b.offsets.end());
  const std::uint64_t bytes = b.offsets.back();
  offs[100] = bytes + 12345;           // past the data: clamped to its end
  offs[200] = std::uint64_t(1) << 40;  // far past, high word set
  const std::size_t n = b.size();
  auto stage = vk::Buffer::create(dev, bytes + 8 * (n + 1), vk::MemoryUse::upload).value();
  std::memcpy(stage.host().data(), b.data.data(), bytes);
  std::memcpy(stage.host().data() + bytes, offs.data(), 8 * (n + 1));
  auto data = vk::Buffer::create(dev, bytes, vk::MemoryUse::device).value();
  auto doffs = vk::Buffer::create(dev, 8 * (n + 1), vk::MemoryUse::device).value();
  auto out = vk::Buffer::create(dev, 32 * n, vk::MemoryUse::device).value();
  auto back = vk::Buffer::create(dev, 32 * n, vk::MemoryUse::readback).value();
  auto up = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  up.copy(stage, 0, data, 0, bytes);
  up.copy(stage, bytes, doffs, 0, 8 * (n + 1));
  up.barrier(vk::Access::transfer, vk::Access::compute);
  ASSERT_TRUE(device().wait(up.submit().value()));
  auto hashed = vk::sha256_resident(device(), data, bytes, doffs, n, out);
  ASSERT_TRUE(hashed) << hashed.error().describe();
  auto down = vk::Recording::begin(device(), vk::QueueRole::compute).value();
  down.barrier(vk::Access::compute, vk::Access::transfer);
  down.copy(out, 0, back, 0, 32 * n);
  down.barrier(vk::Access::transfer, vk::Access::host);
  ASSERT_TRUE(device().wait(down.submit({&*hashed, 1}).value()));
  std::vector<Digest> got(n);
  std::memcpy(got.data(), back.host().data(), 32 * n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 99 || i == 100 || i == 199 || i == 200) continue;  // the messages the bad offsets bound
    ASSERT_EQ(got[i], hetex_test::reference(b[i])) << "message " << i;
  }
  // Message 100 runs from the end of the data to wherever offset 101 is: clamped, it is empty.
  EXPECT_EQ(got[100], hetex_test::reference({}));
}
