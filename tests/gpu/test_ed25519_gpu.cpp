// SPDX-License-Identifier: MIT
// Ed25519 verification on the GPU against libsodium's verdicts: RFC 8032 vectors, the crafted
// edge cases, 2 x 10^5 random signatures over every slicing and stream count, messages larger
// than a staging chunk, bad arguments, and concurrent callers. Skips without a GPU.
#include <gtest/gtest.h>

#include <thread>

#include "../ops/test_ed25519_cases.hpp"
#include "gpu/gpu_test.hpp"
#include "hetex/hetex.hpp"

using namespace ed25519_test;
using hetex::Errc;
using hetex::Stream;
using hetex::ops::ed25519_verify_gpu;

namespace {

std::vector<Stream> make_streams(const hetex::Device& gpu, int n) {
  std::vector<Stream> s;
  for (int i = 0; i < n; ++i) s.push_back(Stream::create(gpu).value());
  return s;
}

class Ed25519Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    HETEX_REQUIRE_GPU();
    gpu = hetex_test::gpu_runtime().gpus().front();
    streams = make_streams(gpu, 3);
  }
  std::vector<Verdict> verify(const VerifyBatch& b, std::span<Stream> s) {
    std::vector<Verdict> out(b.size(), Verdict{7});  // neither verdict: an unwritten slot shows
    auto st = ed25519_verify_gpu(s, b, out);
    EXPECT_TRUE(st) << st.error().describe();
    return out;
  }
  std::vector<Verdict> verify(const VerifyBatch& b) { return verify(b, streams); }

  hetex::Device gpu;
  std::vector<Stream> streams;
};

const RandomDataset& random_set() {
  static const RandomDataset r = random_dataset(200'000, 9);
  return r;
}
const std::vector<Verdict>& random_sodium() {
  static const std::vector<Verdict> v = sodium_verdicts(random_set().data.batch());
  return v;
}

}  // namespace

TEST_F(Ed25519Gpu, Rfc8032VectorsAreValid) {
  Dataset d;
  for (const auto& v : rfc8032_vectors())
    d.add(array_from_hex<32>(v.public_key), array_from_hex<64>(v.signature), from_hex(v.message), v.name, 1);
  EXPECT_EQ(verify(d.batch()), std::vector<Verdict>(d.size(), Verdict::valid));
}

TEST_F(Ed25519Gpu, EdgeCasesMatchSodium) {
  const Dataset d = edge_cases();
  const auto want = sodium_verdicts(d.batch());
  EXPECT_TRUE(same_verdicts(want, verify(d.batch()), d)) << "3 streams";
  EXPECT_TRUE(same_verdicts(want, verify(d.batch(), std::span(streams).first(1)), d)) << "1 stream";
}

TEST_F(Ed25519Gpu, RandomBatchMatchesSodium) {
  const auto& set = random_set();
  EXPECT_TRUE(same_verdicts(random_sodium(), verify(set.data.batch()), set.data));
}

TEST_F(Ed25519Gpu, EverySliceAndStreamCountMatchesSodium) {
  const auto& set = random_set();
  const VerifyBatch all = set.data.batch();
  for (std::size_t n : {1u, 2u, 31u, 63u, 64u, 65u, 257u, 1000u, 4097u, 16383u, 16385u, 50001u}) {
    for (int k : {1, 2, 3}) {
      const std::size_t begin = (n * 7919) % (all.size() - n);
      const VerifyBatch b = all.slice(begin, begin + n);
      const auto got = verify(b, std::span(streams).first(k));
      const std::vector<Verdict> want(random_sodium().begin() + begin, random_sodium().begin() + begin + n);
      ASSERT_EQ(got, want) << n << " items from " << begin << " on " << k << " streams";
    }
  }
}

TEST_F(Ed25519Gpu, MessagesLargerThanAStagingChunk) {
  // Staging holds at most 8 MiB of message bytes per chunk unless one message is longer.
  sodium_ready();
  Dataset d;
  std::mt19937_64 rng(11);
  const KeyPair kp = keypair_from_seed(77);
  for (int i = 0; i < 7; ++i) {
    Bytes m(i % 2 ? (std::size_t(9) << 20) + std::size_t(rng() % 1000) : std::size_t(rng() % 300));
    for (auto& b : m) b = std::uint8_t(rng());
    Signature s = sign(kp, m);
    if (i == 3) s[40] ^= 1;
    d.add(kp.pk, s, m, "message " + std::to_string(i), i != 3);
  }
  const auto want = sodium_verdicts(d.batch());
  EXPECT_TRUE(same_verdicts(want, verify(d.batch()), d));
}

TEST_F(Ed25519Gpu, BadArgumentsAreErrorsNotCrashes) {
  const auto& set = random_set();
  const VerifyBatch b = set.data.batch().slice(0, 10);
  std::vector<Verdict> out(10), short_out(9);
  auto st = ed25519_verify_gpu({}, b, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  st = ed25519_verify_gpu(streams, b, short_out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  std::vector<std::uint64_t> decreasing{0, 5, 3};
  const VerifyBatch bad{b.keys.first(2), b.signatures.first(2), hetex::ops::MessageBatch{b.messages.data, decreasing}};
  st = ed25519_verify_gpu(streams, bad, std::span(out).first(2));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  EXPECT_TRUE(ed25519_verify_gpu(streams, VerifyBatch{}, {}));
  if (hetex_test::gpu_runtime().gpus().size() > 1) {
    std::vector<Stream> mixed;
    mixed.push_back(Stream::create(hetex_test::gpu_runtime().gpus()[0]).value());
    mixed.push_back(Stream::create(hetex_test::gpu_runtime().gpus()[1]).value());
    st = ed25519_verify_gpu(mixed, b, out);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  }
}

TEST_F(Ed25519Gpu, ConcurrentCallersOnOneGpu) {
  const auto& set = random_set();
  const VerifyBatch all = set.data.batch();
  constexpr int kThreads = 4;
  const std::size_t per = 20000;
  std::vector<std::vector<Verdict>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto own = make_streams(gpu, 2);
      got[t].assign(per, Verdict{7});
      auto st = ed25519_verify_gpu(own, all.slice(t * per, (t + 1) * per), got[t]);
      EXPECT_TRUE(st) << st.error().describe();
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(got[t], std::vector<Verdict>(random_sodium().begin() + t * per, random_sodium().begin() + (t + 1) * per))
        << "thread " << t;
}
