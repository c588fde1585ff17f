// SPDX-License-Identifier: MIT
// The SHA-256 arithmetic the GPU runs (src/ops/sha256_core.hpp), compiled for the host and
// checked against OpenSSL; and the host half of the GPU pipeline: chunk planning, packing into
// staging, and the kernel's warp loop run on a packed chunk.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../src/ops/sha256_core.hpp"
#include "ops/sha256_reference.hpp"
#include "../../src/ops/sha256_detail.hpp"

using namespace hetex;
using hetex::ops::Digest;
namespace core = hetex::detail::sha256;

namespace {

Digest openssl(const std::uint8_t* p, std::size_t n) { return hetex_test::reference({p, n}); }
using hetex_test::hex;

// Host memory seen as granules from `base`, zero past `bytes`: what DeviceSource gives the GPU.
struct Source {
  const std::uint8_t* base;
  std::uint64_t bytes;
  void granule(std::uint64_t g, std::uint32_t w[4]) const {
    std::uint8_t b[16] = {};
    for (std::uint64_t k = 0; k < 16; ++k)
      if (16 * g + k < bytes) b[k] = base[16 * g + k];
    std::memcpy(w, b, 16);
  }
};

// The message at byte `lead` of a buffer, hashed by the core one block at a time.
Digest core_hash(const std::vector<std::uint8_t>& buf, std::size_t lead, std::size_t len) {
  const Source src{buf.data(), lead + len};
  core::Lane lane;
  lane.begin(lead, len);
  std::uint64_t steps = 0;
  while (!lane.step(src)) ++steps;
  EXPECT_EQ(steps + 1, core::block_count(len));
  Digest d{};
  core::store_digest(lane.state, d.data());
  return d;
}

Digest core_hash(const std::string& s, std::size_t lead = 0) {
  std::vector<std::uint8_t> buf(lead + s.size(), 0xee);
  if (!s.empty()) std::memcpy(buf.data() + lead, s.data(), s.size());
  return core_hash(buf, lead, s.size());
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kRandomMessages = 100000;
#else
constexpr std::size_t kRandomMessages = 20000;  // Debug/ASan: the portable core is slow there
#endif

// Mostly short messages, a tail up to 4 KiB: all the block shapes, in seconds.
std::size_t random_length(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0: return rng() % 4097;
    case 1: return 64 * (rng() % 8);
    default: return rng() % 300;
  }
}

ops::PackedMessages random_batch(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  ops::PackedMessages pm;
  std::vector<std::uint8_t> msg;
  for (std::size_t i = 0; i < n; ++i) {
    msg.resize(random_length(rng));
    for (auto& b : msg) b = static_cast<std::uint8_t>(rng());
    pm.add(msg);
  }
  return pm;
}

ops::PackedMessages uniform_batch(std::size_t n, std::size_t len, std::uint64_t seed) {
  ops::PackedMessages pm;
  auto bytes = random_bytes(n * len, seed);
  for (std::size_t i = 0; i < n; ++i) pm.add(std::span<const std::uint8_t>(bytes.data() + i * len, len));
  return pm;
}

}  // namespace

TEST(Sha256Core, FipsVectors) {
  EXPECT_EQ(hex(core_hash(std::string())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(core_hash(std::string("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(core_hash(std::string("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      hex(core_hash(std::string("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnop"
                                "qrlmnopqrsmnopqrstnopqrstu"))),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256Core, OneMillionAIsOneLongMessage) {
  // 15,626 blocks through one lane: the long-message path of the kernel, on a misaligned start.
  EXPECT_EQ(hex(core_hash(std::string(1000000, 'a'), 7)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Core, EveryLengthTo300AtEveryAlignment) {
  const auto bytes = random_bytes(16 + 300, 1);
  for (std::size_t lead = 0; lead < 16; ++lead) {
    for (std::size_t len = 0; len <= 300; ++len) {
      ASSERT_EQ(core_hash(bytes, lead, len), openssl(bytes.data() + lead, len))
          << "length " << len << " at offset " << lead;
    }
  }
}

TEST(Sha256Core, PaddingBoundaries) {
  // 55/56 bytes: the length still fits / spills into a second block; 63/64/65 around a block.
  const auto bytes = random_bytes(4096, 2);
  for (std::size_t len : {55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1023, 1024, 1025, 4096 - 3})
    for (std::size_t lead : {0, 1, 2, 3, 4, 15})
      if (lead + len <= bytes.size()) ASSERT_EQ(core_hash(bytes, lead, len), openssl(bytes.data() + lead, len)) << len;
}

TEST(Sha256Core, DataEndingMidGranuleIsNotReadPast) {
  // The granule holding the last byte is partly outside the data: those bytes must read as zero
  // and the hash must not depend on what follows (the Source zeroes past `bytes`).
  std::vector<std::uint8_t> buf = random_bytes(40, 3);
  const Digest want = openssl(buf.data() + 5, 30);
  const Source src{buf.data(), 35};
  core::Lane lane;
  lane.begin(5, 30);
  while (!lane.step(src)) {}
  Digest got{};
  core::store_digest(lane.state, got.data());
  EXPECT_EQ(got, want);
}

TEST(Sha256Core, ByteHelpersMatchThePtxSemantics) {
  EXPECT_EQ(core::byte_perm(0x44332211u, 0x88776655u, 0x0123u), 0x11223344u);
  EXPECT_EQ(core::byte_perm(0x44332211u, 0x88776655u, 0x1234u), 0x22334455u);
  EXPECT_EQ(core::byte_perm(0x44332211u, 0x88776655u, 0x3456u), 0x44556677u);
  EXPECT_EQ(core::rotr(0x80000001u, 1), 0xc0000000u);
  EXPECT_EQ(core::rotr(0x12345678u, 0), 0x12345678u);
  core::WarpCursor c{100, 200};
  EXPECT_EQ(c.claim(0b1011u, 0), 100u);
  EXPECT_EQ(c.claim(0b1011u, 1), 101u);
  EXPECT_EQ(c.claim(0b1011u, 3), 102u);
  c.advance(0b1011u);
  EXPECT_EQ(c.next, 103u);
}

TEST(Sha256Core, Abs64OffsetsClampIntoTheData) {
  const std::uint64_t offs[] = {0, 10, 5, 100, 200};
  const core::Abs64Offsets o{offs, 3, 50};
  EXPECT_EQ(o.begin(0), 3u);
  EXPECT_EQ(o.size(0), 10u);
  EXPECT_EQ(o.size(1), 0u);  // decreasing
  EXPECT_EQ(o.begin(2), 8u);
  EXPECT_EQ(o.size(2), 45u);  // clamped to the data end
  EXPECT_EQ(o.begin(3), 53u);
  EXPECT_EQ(o.size(3), 0u);
}

// ---- host half of the GPU pipeline ---------------------------------------------------------

namespace {

// plan_chunks + pack_chunk + the kernel's warp loop on the host, as gpu_with_options does with
// a GPU; host chunks go through sha256_cpu as there.
Status emulate_gpu(const ops::MessageBatch& in, std::span<Digest> out, const core::GpuOptions& o,
                   std::size_t slots = 3) {
  const auto plan = core::plan_chunks(in, o, slots);
  std::vector<std::uint8_t> staging;
  for (const auto& c : plan) {
    if (c.host) {
      HETEX_TRY_VOID(core::hash_parallel(in, c.begin, c.end, out.data() + c.begin));
      continue;
    }
    const std::size_t n = c.end - c.begin;
    const std::size_t bytes = in.offsets[c.end] - in.offsets[c.begin];
    EXPECT_LE(core::staging_bytes(n, bytes), o.chunk_bytes);
    staging.assign(core::staging_bytes(n, bytes), 0xcd);
    auto p = core::pack_chunk(in, c.begin, c.end, staging);
    if (!p) return std::move(p).error();
    core::hash_packed_on_host(staging, *p, out.subspan(c.begin, n));
  }
  return {};
}

void expect_matches_openssl(const ops::MessageBatch& in, std::span<const Digest> out) {
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto m = in[i];
    ASSERT_EQ(out[i], openssl(m.data(), m.size())) << "message " << i << " of " << m.size() << " bytes";
  }
}

}  // namespace

TEST(Sha256Plan, ChunksPartitionTheBatchWithinTheLimits) {
  auto pm = random_batch(5000, 4);
  const auto in = pm.view();
  core::GpuOptions o;
  o.chunk_bytes = 16 << 10;
  o.chunk_messages = 100;
  o.min_chunk_bytes = 1024;
  const auto plan = core::plan_chunks(in, o, 3);
  ASSERT_FALSE(plan.empty());
  std::size_t next = 0;
  for (const auto& c : plan) {
    EXPECT_EQ(c.begin, next);
    EXPECT_LT(c.begin, c.end);
    EXPECT_FALSE(c.host);  // 4 KiB messages fit a 16 KiB chunk
    EXPECT_LE(c.end - c.begin, o.chunk_messages);
    EXPECT_LE(core::staging_bytes(c.end - c.begin, in.offsets[c.end] - in.offsets[c.begin]), o.chunk_bytes);
    next = c.end;
  }
  EXPECT_EQ(next, in.size());
}

TEST(Sha256Plan, SmallBatchesAreSpreadOverSlotsButNotBelowTheMinimum) {
  auto pm = uniform_batch(10000, 64, 5);  // 640 KB
  core::GpuOptions o;
  EXPECT_EQ(core::plan_chunks(pm.view(), o, 3).size(), 1u);  // below min_chunk_bytes: one chunk
  o.min_chunk_bytes = 16 << 10;
  const auto plan = core::plan_chunks(pm.view(), o, 3);
  EXPECT_GE(plan.size(), 10u);  // ~4 per slot
  EXPECT_LE(plan.size(), 14u);
}

TEST(Sha256Plan, MessagesLongerThanAChunkGoToTheHost) {
  ops::PackedMessages pm;
  pm.add(std::string(10, 'x'));
  pm.add(std::string(5000, 'y'));  // > 4 KiB chunk
  pm.add(std::string(6000, 'z'));  // > 4 KiB chunk, consecutive: same host chunk
  pm.add(std::string(3, 'w'));
  const auto plan = core::plan_chunks(pm.view(), {.chunk_bytes = 4096, .min_chunk_bytes = 1024}, 2);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_FALSE(plan[0].host);
  EXPECT_EQ(plan[0].end, 1u);
  EXPECT_TRUE(plan[1].host);
  EXPECT_EQ(plan[1].begin, 1u);
  EXPECT_EQ(plan[1].end, 3u);
  EXPECT_FALSE(plan[2].host);
}

TEST(Sha256Pack, UniformChunksUploadDataOnly) {
  auto pm = uniform_batch(1000, 64, 6);
  const auto in = pm.view();
  std::vector<std::uint8_t> staging(core::staging_bytes(500, 500 * 64));
  auto p = core::pack_chunk(in, 250, 750, staging, core::DataCopy::plain);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_TRUE(p->uniform);
  EXPECT_EQ(p->length, 64u);
  EXPECT_EQ(p->upload_begin, core::data_offset(500));
  EXPECT_EQ(p->upload_end, core::data_offset(500) + 500 * 64);
  EXPECT_EQ(std::memcmp(staging.data() + p->upload_begin, in.data.data() + 250 * 64, 500 * 64), 0);
  std::vector<Digest> out(500);
  core::hash_packed_on_host(staging, *p, out);
  expect_matches_openssl(in.slice(250, 750), out);
}

TEST(Sha256Pack, MixedChunksUploadRelativeOffsets) {
  auto pm = random_batch(3000, 7);
  const auto in = pm.view();
  const std::size_t b = 1000, e = 2000, bytes = in.offsets[e] - in.offsets[b];
  std::vector<std::uint8_t> staging(core::staging_bytes(e - b, bytes));
  auto p = core::pack_chunk(in, b, e, staging);
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_FALSE(p->uniform);
  EXPECT_EQ(p->upload_begin, 0u);
  EXPECT_EQ(p->upload_end, core::data_offset(e - b) + bytes);
  std::uint32_t rel[3];
  std::memcpy(rel, staging.data(), sizeof rel);
  EXPECT_EQ(rel[0], 0u);
  EXPECT_EQ(rel[1], in.offsets[b + 1] - in.offsets[b]);
  EXPECT_EQ(rel[2], in.offsets[b + 2] - in.offsets[b]);
  std::vector<Digest> out(e - b);
  core::hash_packed_on_host(staging, *p, out);
  expect_matches_openssl(in.slice(b, e), out);
}

TEST(Sha256Pack, DirectDataUploadsOnlyTheOffsets) {
  auto pm = random_batch(100, 8);
  // Room for the offsets alone: the data goes to the device from the caller's memory.
  std::vector<std::uint8_t> staging(core::data_offset(100), 0);
  auto small = core::pack_chunk(pm.view(), 0, 100, std::span(staging).first(4 * 100), core::DataCopy::none);
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message().find("too small"), std::string::npos) << small.error().message();
  auto p = core::pack_chunk(pm.view(), 0, 100, staging, core::DataCopy::none);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->upload_begin, 0u);
  EXPECT_EQ(p->upload_end, 4u * 101);
  auto u = uniform_batch(100, 32, 9);
  auto q = core::pack_chunk(u.view(), 0, 100, staging, core::DataCopy::none);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->upload_begin, q->upload_end);  // nothing from staging
}

TEST(Sha256Pack, MalformedMessagesAreRejectedBeforeTheirDataIsRead) {
  std::vector<std::uint8_t> data(100, 1);
  std::vector<std::uint8_t> staging(4096);
  {
    std::vector<std::uint64_t> offs = {0, 10, 5, 20};
    auto p = core::pack_chunk({data, offs}, 0, 3, staging);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code(), Errc::invalid_argument);
    EXPECT_NE(p.error().message().find("decrease at message 1"), std::string::npos) << p.error().message();
  }
  {
    std::vector<std::uint64_t> offs = {0, 1000000, 50};  // message 0 would read far past the data
    auto p = core::pack_chunk({data, offs}, 0, 2, staging);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message().find("message 0"), std::string::npos) << p.error().message();
  }
  {
    std::vector<std::uint64_t> offs = {0, 10, 101};
    auto p = core::pack_chunk({data, offs}, 0, 2, staging);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message().find("ends at byte 101"), std::string::npos) << p.error().message();
  }
}

TEST(Sha256Pipeline, RandomMessagesMatchOpenSsl) {
  auto pm = random_batch(kRandomMessages, 10);
  std::vector<Digest> out(pm.size());
  core::GpuOptions o;
  o.chunk_bytes = 256 << 10;  // many chunks, mixed and uniform
  o.min_chunk_bytes = 64 << 10;
  ASSERT_TRUE(emulate_gpu(pm.view(), out, o));
  expect_matches_openssl(pm.view(), out);
}

TEST(Sha256Pipeline, MessagesCrossingChunkBoundaries) {
  // Chunks of 2 KiB: messages straddle every cut, and 3 KiB ones exceed a chunk outright.
  ops::PackedMessages pm;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 400; ++i) {
    std::vector<std::uint8_t> m(i % 50 == 0 ? 3000 : rng() % 700);
    for (auto& b : m) b = static_cast<std::uint8_t>(rng());
    pm.add(m);
  }
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(emulate_gpu(pm.view(), out, {.chunk_bytes = 2048, .chunk_messages = 7, .min_chunk_bytes = 1024}));
  expect_matches_openssl(pm.view(), out);
}

TEST(Sha256Pipeline, EmptyMessagesAndUniformChunks) {
  ops::PackedMessages pm;
  for (int i = 0; i < 3000; ++i) pm.add(std::string());
  for (int i = 0; i < 3000; ++i) pm.add(std::string(64, char(i)));
  for (int i = 0; i < 100; ++i) pm.add(std::string(1024, char(i * 7)));
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(emulate_gpu(pm.view(), out, {.chunk_bytes = 32 << 10, .chunk_messages = 1000, .min_chunk_bytes = 1024}));
  expect_matches_openssl(pm.view(), out);
}

TEST(Sha256Pipeline, SlicedBatchKeepsAbsoluteOffsets) {
  auto pm = random_batch(500, 12);
  const auto in = pm.view().slice(123, 456);
  std::vector<Digest> out(in.size());
  ASSERT_TRUE(emulate_gpu(in, out, {.chunk_bytes = 8192, .min_chunk_bytes = 1024}));
  expect_matches_openssl(in, out);
}

TEST(Sha256Pipeline, ErrorsNameAbsoluteMessageIndices) {
  // A malformed message among the long ones hashed on the host, and one in a device chunk.
  std::vector<std::uint8_t> data(20000, 3);
  const core::GpuOptions o{.chunk_bytes = 2048, .min_chunk_bytes = 1024};
  std::vector<Digest> out(5);
  {
    std::vector<std::uint64_t> offs = {0, 10, 20, 5000, 4000, 4100};
    auto st = emulate_gpu({data, offs}, out, o);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("decrease at message 3"), std::string::npos) << st.error().message();
  }
  {
    std::vector<std::uint64_t> offs = {0, 10, 20, 30, 25, 40};
    auto st = emulate_gpu({data, offs}, out, o);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find("decrease at message 3"), std::string::npos) << st.error().message();
  }
}
