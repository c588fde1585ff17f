// SPDX-License-Identifier: MIT
// SHA-256 on the GPU against OpenSSL: host->host (sha256_gpu, and the pipeline with small chunks
// so that every path runs on modest data) and device-resident (sha256_gpu_device). Skips with
// the reason where no GPU is usable.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../../src/ops/sha256_detail.hpp"
#include "gpu/gpu_test.hpp"
#include "hetex/hetex.hpp"
#include "hetex/ops/sha256.hpp"
#include "ops/sha256_reference.hpp"

using namespace hetex;
using hetex::ops::Digest;

namespace {

using hetex_test::hex;
using hetex_test::random_batch;
using hetex_test::random_pool;
using hetex_test::reference;
using hetex_test::uniform_batch;

::testing::AssertionResult matches_openssl(const ops::MessageBatch& in, std::span<const Digest> out) {
  if (out.size() != in.size())
    return ::testing::AssertionFailure() << out.size() << " digests for " << in.size() << " messages";
  for (std::size_t i = 0; i < in.size(); ++i)
    if (out[i] != reference(in[i]))
      return ::testing::AssertionFailure() << "message " << i << " (" << in[i].size() << " bytes): got " << hex(out[i])
                                           << ", OpenSSL says " << hex(reference(in[i]));
  return ::testing::AssertionSuccess();
}

class Sha256Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    HETEX_REQUIRE_GPU();
    gpu = hetex_test::gpu_runtime().gpus().front();
    for (int i = 0; i < 3; ++i) {
      auto s = Stream::create(gpu);
      ASSERT_TRUE(s) << s.error().describe();
      streams.push_back(std::move(*s));
    }
  }
  Status hash(const ops::MessageBatch& in, std::span<Digest> out) { return ops::sha256_gpu(streams, in, out); }
  Status hash(const ops::MessageBatch& in, std::span<Digest> out, const detail::sha256::GpuOptions& o) {
    return detail::sha256::gpu_with_options(streams, in, out, o);
  }

  Device gpu;
  std::vector<Stream> streams;
};

// Small chunks: many of them, messages straddling cuts, long ones sent to the host.
const detail::sha256::GpuOptions kSmallChunks{.chunk_bytes = 8192, .chunk_messages = 100, .min_chunk_bytes = 1024};

}  // namespace

TEST_F(Sha256Gpu, FipsVectorsAndOneMillionA) {
  ops::PackedMessages pm;
  pm.add(std::string());
  pm.add(std::string("abc"));
  pm.add(std::string("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
  pm.add(
      std::string("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnop"
                  "qrstnopqrstu"));
  pm.add(std::string(1000000, 'a'));  // 15,626 blocks in one GPU lane
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(hash(pm.view(), out));
  EXPECT_EQ(hex(out[0]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(out[1]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(out[2]), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(out[3]), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(hex(out[4]), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_F(Sha256Gpu, EveryLengthTo300) {
  const auto bytes = random_pool(304, 1);
  ops::PackedMessages pm;
  for (std::size_t len = 0; len <= 300; ++len) pm.add(std::span<const std::uint8_t>(bytes.data(), len));
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(hash(pm.view(), out));
  EXPECT_TRUE(matches_openssl(pm.view(), out));
}

TEST_F(Sha256Gpu, RandomMessagesMatchOpenSsl) {
  auto pm = random_batch(100000, 4096, 2);
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(hash(pm.view(), out));
  EXPECT_TRUE(matches_openssl(pm.view(), out));
}

TEST_F(Sha256Gpu, RandomMessagesInSmallChunks) {
  auto pm = random_batch(20000, 3000, 3);
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(hash(pm.view(), out, kSmallChunks));
  EXPECT_TRUE(matches_openssl(pm.view(), out));
}

TEST_F(Sha256Gpu, UniformMessagesAcrossChunks) {
  // Equal lengths upload no offsets; 40 MB is a few full-size chunks over the three streams.
  for (std::size_t len : {64, 1024}) {
    auto pm = uniform_batch((std::size_t(40) << 20) / len, len, 4);
    std::vector<Digest> out(pm.size());
    ASSERT_TRUE(hash(pm.view(), out));
    EXPECT_TRUE(matches_openssl(pm.view(), out)) << len;
  }
}

TEST_F(Sha256Gpu, MessagesCrossingChunksAndLongerThanAChunk) {
  ops::PackedMessages pm;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> m(i % 97 == 0 ? 9000 + i : rng() % 2000);  // 9 KB+ exceeds an 8 KiB chunk
    for (auto& b : m) b = static_cast<std::uint8_t>(rng());
    pm.add(m);
  }
  for (unsigned slots : {1u, 2u, 4u}) {
    auto o = kSmallChunks;
    o.slots = slots;
    std::vector<Digest> out(pm.size());
    ASSERT_TRUE(hash(pm.view(), out, o)) << slots;
    EXPECT_TRUE(matches_openssl(pm.view(), out)) << slots;
  }
  // One stream, default slots.
  std::vector<Digest> out(pm.size());
  ASSERT_TRUE(detail::sha256::gpu_with_options(std::span<Stream>(streams.data(), 1), pm.view(), out, kSmallChunks));
  EXPECT_TRUE(matches_openssl(pm.view(), out));
}

TEST_F(Sha256Gpu, EmptyAndSingleMessageBatches) {
  std::vector<Digest> none;
  EXPECT_TRUE(hash(ops::MessageBatch{}, none));
  ops::PackedMessages one;
  one.add(std::string("abc"));
  std::vector<Digest> out(1);
  ASSERT_TRUE(hash(one.view(), out));
  EXPECT_EQ(hex(out[0]), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ops::PackedMessages empties;
  for (int i = 0; i < 1000; ++i) empties.add(std::string());
  std::vector<Digest> e(1000);
  ASSERT_TRUE(hash(empties.view(), e));
  EXPECT_TRUE(matches_openssl(empties.view(), e));
}

TEST_F(Sha256Gpu, SlicedBatch) {
  auto pm = random_batch(5000, 500, 6);
  const auto in = pm.view().slice(1234, 4321);
  std::vector<Digest> out(in.size());
  ASSERT_TRUE(hash(in, out));
  EXPECT_TRUE(matches_openssl(in, out));
}

TEST_F(Sha256Gpu, PinnedInputAndOutputGoDirect) {
  auto pm = random_batch(30000, 700, 7);
  const auto src = pm.view();
  auto data = PinnedBuffer<std::uint8_t>::allocate(src.data.size()).value();
  std::memcpy(data.span().data(), src.data.data(), src.data.size());
  auto out = PinnedBuffer<Digest>::allocate(src.size()).value();
  const ops::MessageBatch in{std::span<const std::uint8_t>(data.span()), src.offsets};
  ASSERT_TRUE(hash(in, out.span(), kSmallChunks));
  EXPECT_TRUE(matches_openssl(in, out.span()));
  ASSERT_TRUE(hash(in, out.span()));
  EXPECT_TRUE(matches_openssl(in, out.span()));
}

TEST_F(Sha256Gpu, InvalidBatchesAreInvalidArgumentAndTheGpuCarriesOn) {
  std::vector<std::uint8_t> data(100, 7);
  auto expect_invalid = [&](std::vector<std::uint64_t> offs, std::size_t outs, const char* needle) {
    std::vector<Digest> out(outs);
    auto st = hash(ops::MessageBatch{data, offs}, out);
    ASSERT_FALSE(st) << needle;
    EXPECT_EQ(st.error().code(), Errc::invalid_argument);
    EXPECT_NE(st.error().message().find(needle), std::string::npos) << st.error().message();
  };
  expect_invalid({0, 10, 5, 20}, 3, "decrease at message 1");
  expect_invalid({0, 10, 101}, 2, "ends at byte 101");
  expect_invalid({0, 1000000, 50}, 2, "message 0");
  expect_invalid({0, 10, 20}, 3, "room for 3 digests");
  // A bad message deep in a large batch fails after earlier chunks are in flight.
  auto pm = uniform_batch(200000, 64, 8);
  std::vector<std::uint64_t> offs(pm.view().offsets.begin(), pm.view().offsets.end());
  offs[150000] = offs[150001] + 1;
  std::vector<Digest> out(pm.size());
  auto st = hash(ops::MessageBatch{pm.view().data, offs}, out, {.chunk_bytes = 1 << 20, .min_chunk_bytes = 1 << 20});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  EXPECT_NE(st.error().message().find("decrease at message 150000"), std::string::npos) << st.error().message();
  // No streams is refused; then the same batch, fixed, hashes fine.
  EXPECT_FALSE(ops::sha256_gpu({}, pm.view(), out));
  ASSERT_TRUE(hash(pm.view(), out));
  EXPECT_TRUE(matches_openssl(pm.view(), out));
}

TEST_F(Sha256Gpu, ConcurrentCallsOnSeparateStreams) {
  auto a = random_batch(20000, 1000, 9);
  auto b = uniform_batch(100000, 64, 10);
  std::vector<Digest> out_a(a.size()), out_b(b.size());
  Status st_a, st_b;
  std::thread t([&] { st_a = ops::sha256_gpu(std::span<Stream>(streams.data(), 1), a.view(), out_a); });
  st_b = ops::sha256_gpu(std::span<Stream>(streams.data() + 1, 2), b.view(), out_b);
  t.join();
  ASSERT_TRUE(st_a) << st_a.error().describe();
  ASSERT_TRUE(st_b) << st_b.error().describe();
  EXPECT_TRUE(matches_openssl(a.view(), out_a));
  EXPECT_TRUE(matches_openssl(b.view(), out_b));
}

// ---- device-resident ------------------------------------------------------------------------

namespace {
struct DeviceBatch {
  DeviceBuffer<std::uint8_t> data;
  DeviceBuffer<std::uint64_t> offsets;
  DeviceBuffer<Digest> out;
};

// The batch on the device, its data `lead` bytes into the buffer (so not 16-byte aligned).
std::optional<DeviceBatch> upload_batch(Stream& s, const ops::MessageBatch& in, std::size_t lead) {
  std::vector<std::uint8_t> data(lead + in.data.size(), 0x5a);
  std::memcpy(data.data() + lead, in.data.data(), in.data.size());
  DeviceBatch b;
  auto d = to_device(s, std::move(data)).get();
  auto o = to_device(s, std::vector<std::uint64_t>(in.offsets.begin(), in.offsets.end())).get();
  auto r = DeviceBuffer<Digest>::allocate(s.device(), in.size());
  if (!d || !o || !r) return std::nullopt;
  b.data = std::move(*d);
  b.offsets = std::move(*o);
  b.out = std::move(*r);
  return b;
}
}  // namespace

TEST_F(Sha256Gpu, DeviceResidentMatchesOpenSsl) {
  auto pm = random_batch(50000, 3000, 11);
  for (std::size_t lead : {0, 3, 16}) {
    auto b = upload_batch(streams[0], pm.view(), lead);
    ASSERT_TRUE(b);
    // The data view ends where the messages do, mid-granule: no read may pass it.
    auto data = b->data.read().subview(lead, pm.view().data.size());
    auto r = ops::sha256_gpu_device(streams[0], data, b->offsets.read(), b->out.write()).get();
    ASSERT_TRUE(r) << r.error().describe();
    auto got = download(streams[0], b->out.read()).get();
    ASSERT_TRUE(got);
    EXPECT_TRUE(matches_openssl(pm.view(), *got)) << "lead " << lead;
  }
}

TEST_F(Sha256Gpu, DeviceResidentUniformKiB) {
  auto pm = uniform_batch(100000, 1024, 12);
  auto b = upload_batch(streams[1], pm.view(), 0);
  ASSERT_TRUE(b);
  auto r = ops::sha256_gpu_device(streams[1], b->data.read(), b->offsets.read(), b->out.write()).get();
  ASSERT_TRUE(r) << r.error().describe();
  auto got = download(streams[1], b->out.read()).get();
  ASSERT_TRUE(got);
  EXPECT_TRUE(matches_openssl(pm.view(), *got));
}

TEST_F(Sha256Gpu, DeviceResidentChecksItsArguments) {
  auto pm = random_batch(100, 100, 13);
  auto b = upload_batch(streams[0], pm.view(), 0);
  ASSERT_TRUE(b);
  auto r = ops::sha256_gpu_device(streams[0], b->data.read(), b->offsets.read(), b->out.write().subview(1)).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  std::vector<Digest> host_out(pm.size());
  r = ops::sha256_gpu_device(streams[0], b->data.read(), b->offsets.read(),
                             WriteView<Digest>(std::span<Digest>(host_out)))
          .get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  std::vector<Digest> none;
  EXPECT_TRUE(ops::sha256_gpu_device(streams[0], b->data.read(), b->offsets.read().subview(0, 0),
                                     WriteView<Digest>(std::span<Digest>(none)))
                  .get());
}

TEST_F(Sha256Gpu, DeviceResidentBadOffsetsStayInsideTheData) {
  auto pm = random_batch(1000, 200, 14);
  std::vector<std::uint64_t> offs(pm.view().offsets.begin(), pm.view().offsets.end());
  offs[10] = offs[11] + 5;             // decreasing
  offs[500] = std::uint64_t(1) << 60;  // far past the data
  const ops::MessageBatch bad{pm.view().data, offs};
  auto b = upload_batch(streams[0], bad, 0);
  ASSERT_TRUE(b);
  auto r = ops::sha256_gpu_device(streams[0], b->data.read(), b->offsets.read(), b->out.write()).get();
  ASSERT_TRUE(r) << r.error().describe();
  auto got = download(streams[0], b->out.read()).get();
  ASSERT_TRUE(got);
  for (std::size_t i = 0; i < bad.size(); ++i)
    if (i != 9 && i != 10 && i != 499 && i != 500) ASSERT_EQ((*got)[i], reference(bad[i])) << i;
  // The device is still healthy.
  EXPECT_TRUE(gpu.healthy());
}
