// SPDX-License-Identifier: MIT
// DevicePool and PinnedPool on a GPU; skips, with the reason, where no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>

#include "gpu/gpu_test.hpp"
#include "hetex/hetex.hpp"
#include "hetex/memory/pool.hpp"
#include "kernels.hpp"

using namespace hetex;

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

class GpuPool : public hetex_test::GpuTest {
 protected:
  std::shared_ptr<DevicePool> make_pool(DevicePoolOptions o = {}) {
    auto p = DevicePool::create(gpu, o);
    EXPECT_TRUE(p) << p.error().describe();
    return p ? *p : nullptr;
  }
};

std::vector<std::uint32_t> random_words(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& x : v) x = static_cast<std::uint32_t>(rng() >> 17);
  return v;
}

std::vector<std::uint32_t> plus_one(std::vector<std::uint32_t> v) {
  for (auto& x : v) x += 1;
  return v;
}

::testing::AssertionResult same(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  auto m = std::mismatch(a.begin(), a.end(), b.begin());
  if (m.first == a.end()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "first difference at " << (m.first - a.begin()) << ": " << *m.first << " vs "
                                       << *m.second;
}

}  // namespace

TEST_F(GpuPool, KernelsWriteAndReadPooledMemory) {
  auto pool = make_pool();
  ASSERT_TRUE(pool);
  const std::size_t n = (std::size_t(1) << 20) + 3;
  auto host = random_words(n, 1);
  auto buf = pool->allocate<std::uint32_t>(s(), n);
  ASSERT_TRUE(buf) << buf.error().describe();
  EXPECT_EQ(buf->size(), n);
  EXPECT_EQ(buf->device_index(), gpu.id().index);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf->view().data()) % kBufferAlignment, 0u);
  ASSERT_TRUE(upload(s(), std::span<const std::uint32_t>(host), buf->write()).wait());
  auto* p = buf->view().data();
  ASSERT_TRUE(s().enqueue([&](NativeStream ns) { hetex_test::add_one(ns, p, n); }).get());
  auto back = download(s(), buf->read()).get();
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_TRUE(same(*back, plus_one(host)));
  auto st = pool->stats();
  EXPECT_EQ(st.bytes_in_use, n * 4);
  EXPECT_EQ(st.allocations, 1u);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_GE(st.bytes_reserved, n * 4);
  EXPECT_EQ(st.limit_bytes, std::size_t(double(gpu.gpu_info()->total_memory) * 0.9));
  *buf = DeviceBuffer<std::uint32_t>();
  EXPECT_EQ(pool->stats().bytes_in_use, 0u);
}

TEST_F(GpuPool, SecondRoundReusesTheCacheAndTrimGivesItBack) {
  auto pool = make_pool();
  ASSERT_TRUE(pool);
  auto round = [&] {
    std::vector<DeviceBuffer<std::uint32_t>> bufs;
    for (std::size_t words : {std::size_t(256) * KiB, std::size_t(2) * MiB, std::size_t(8) * MiB}) {
      auto b = pool->allocate<std::uint32_t>(s(), words);
      ASSERT_TRUE(b) << b.error().describe();
      auto* p = b->view().data();
      ASSERT_TRUE(s().enqueue([=](NativeStream ns) { hetex_test::add_one(ns, p, words); }).valid());
      bufs.push_back(std::move(*b));
    }
    bufs.clear();  // freed in stream order
    ASSERT_TRUE(s().synchronize());
  };
  round();
  const auto first = pool->stats();
  EXPECT_EQ(first.bytes_in_use, 0u);
  EXPECT_GE(first.bytes_reserved, (256 * KiB + 10 * MiB) * 4) << "freed memory stays cached across a synchronize";
  round();
  const auto second = pool->stats();
  EXPECT_EQ(second.bytes_reserved, first.bytes_reserved) << "the second round allocates nothing new from the device";
  EXPECT_EQ(second.allocations, 6u);
  EXPECT_EQ(second.peak_bytes_in_use, (256 * KiB + 10 * MiB) * 4);
  ASSERT_TRUE(pool->trim());
  EXPECT_EQ(pool->stats().bytes_reserved, 0u);
}

TEST_F(GpuPool, TheLimitRefusesWithOutOfMemoryNamingTheFigures) {
  auto pool = make_pool({.max_bytes = 1 * MiB});
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->limit_bytes(), 1 * MiB);
  auto a = pool->allocate<std::byte>(s(), 512 * KiB);
  ASSERT_TRUE(a) << a.error().describe();
  auto b = pool->allocate<std::byte>(s(), 768 * KiB);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code(), Errc::out_of_memory);
  const auto& msg = b.error().message();
  EXPECT_NE(msg.find("786432"), std::string::npos) << msg;   // the request
  EXPECT_NE(msg.find("524288"), std::string::npos) << msg;   // in use
  EXPECT_NE(msg.find("1048576"), std::string::npos) << msg;  // the limit
  auto alone = pool->allocate<std::byte>(s(), 2 * MiB);
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code(), Errc::out_of_memory);
  auto st = pool->stats();
  EXPECT_EQ(st.failures, 2u);
  EXPECT_EQ(st.allocations, 1u);
  EXPECT_EQ(st.bytes_in_use, 512 * KiB);
  *a = DeviceBuffer<std::byte>();
  auto c = pool->allocate<std::byte>(s(), 768 * KiB);
  EXPECT_TRUE(c) << "room again once the first buffer is gone";
}

TEST_F(GpuPool, ARealDeviceOutOfMemoryIsOutOfMemoryToo) {
  const std::size_t total = gpu.gpu_info()->total_memory;
  auto pool = make_pool({.max_bytes = 4 * total});
  ASSERT_TRUE(pool);
  auto big = pool->allocate<char>(s(), 2 * total);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), Errc::out_of_memory) << big.error().describe();
  auto st = pool->stats();
  EXPECT_EQ(st.failures, 1u);
  EXPECT_EQ(st.bytes_in_use, 0u);
  // the pool and the device carry on
  auto small = pool->allocate<std::uint32_t>(s(), 1024);
  ASSERT_TRUE(small) << small.error().describe();
  auto* p = small->view().data();
  EXPECT_TRUE(s().enqueue([&](NativeStream ns) { hetex_test::add_one(ns, p, 1024); }).get());
}

TEST_F(GpuPool, TracksThePeak) {
  auto pool = make_pool();
  ASSERT_TRUE(pool);
  auto a = pool->allocate<std::byte>(s(), 1 * MiB).value();
  {
    auto b = pool->allocate<std::byte>(s(), 2 * MiB).value();
    EXPECT_EQ(pool->stats().bytes_in_use, 3 * MiB);
  }
  auto c = pool->allocate<std::byte>(s(), 512 * KiB).value();
  auto st = pool->stats();
  EXPECT_EQ(st.bytes_in_use, 1 * MiB + 512 * KiB);
  EXPECT_EQ(st.peak_bytes_in_use, 3 * MiB);
}

TEST_F(GpuPool, DroppingABufferWhileWorkIsQueuedWaitsForNothingAndCorruptsNothing) {
  auto pool = make_pool();
  ASSERT_TRUE(pool);
  const std::size_t n = std::size_t(1) << 20;
  auto host = random_words(n, 3);
  auto out = PinnedBuffer<std::uint32_t>::allocate(n).value();
  std::fill(out.span().begin(), out.span().end(), 0xDEADBEEFu);
  Future<void> slow, copied;
  {
    auto buf = pool->allocate<std::uint32_t>(s(), n).value();
    ASSERT_TRUE(upload(s(), std::span<const std::uint32_t>(host), buf.write()).wait());
    auto* p = buf.view().data();
    slow = s().enqueue([=](NativeStream ns) { hetex_test::slow_add_one(ns, p, n, 300000); });  // ~0.3 s
    copied = s().copy(buf.read(), out.write());
    const auto t0 = std::chrono::steady_clock::now();
    buf = DeviceBuffer<std::uint32_t>();  // freed in stream order, behind the kernel and the copy
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50)) << "dropping must not wait";
  }
  EXPECT_FALSE(slow.is_ready()) << "the kernel should still be running; the test proves nothing otherwise";
  // Another stream allocates and writes at once; it must not be handed the memory the kernel
  // still writes. The same stream may reuse it, after the queued work.
  auto other_stream = Stream::create(gpu).value();
  auto other = pool->allocate<std::uint32_t>(other_stream, n).value();
  const std::vector<std::uint32_t> pattern(n, 0xABCDu);
  ASSERT_TRUE(upload(other_stream, std::span<const std::uint32_t>(pattern), other.write()).wait());
  auto again = pool->allocate<std::uint32_t>(s(), n).value();
  ASSERT_TRUE(upload(s(), std::span<const std::uint32_t>(pattern), again.write()).wait());
  ASSERT_TRUE(slow.get());
  ASSERT_TRUE(copied.get());
  EXPECT_TRUE(same(std::vector<std::uint32_t>(out.span().begin(), out.span().end()), plus_one(host)));
  EXPECT_TRUE(same(download(other_stream, other.read()).get().value(), pattern));
  EXPECT_TRUE(same(download(s(), again.read()).get().value(), pattern));
}

TEST_F(GpuPool, SharedIsOnePoolPerGpu) {
  auto a = DevicePool::shared(gpu);
  auto b = DevicePool::shared(gpu);
  ASSERT_TRUE(a && b) << (a ? b.error().describe() : a.error().describe());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_TRUE((*a)->device() == gpu);
  EXPECT_EQ((*a)->limit_bytes(), std::size_t(double(gpu.gpu_info()->total_memory) * 0.9));
}

TEST_F(GpuPool, BadOptionsAreInvalidArguments) {
  for (double f : {0.0, -0.5, 1.5}) {
    auto p = DevicePool::create(gpu, {.max_fraction = f});
    ASSERT_FALSE(p) << f;
    EXPECT_EQ(p.error().code(), Errc::invalid_argument);
  }
  EXPECT_TRUE(DevicePool::create(gpu, {.max_fraction = 1.0}));
}

TEST_F(GpuPool, ThreadsShareAPoolWithStreamsOfTheirOwn) {
  auto pool = make_pool();
  ASSERT_TRUE(pool);
  constexpr int kThreads = 4, kRounds = 40;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto st = Stream::create(gpu);
      if (!st) {
        errors[t] = st.error().describe();
        return;
      }
      std::mt19937 rng(t);
      for (int r = 0; r < kRounds && errors[t].empty(); ++r) {
        const std::size_t n = 1 + rng() % (std::size_t(1) << 18);
        auto b = pool->allocate<std::uint32_t>(*st, n);
        if (!b) {
          errors[t] = b.error().describe();
          break;
        }
        // Every few rounds, check the memory is this thread's alone: stamp, add one, read back.
        if (r % 4 == 0) {
          const std::vector<std::uint32_t> stamp(n, std::uint32_t(t * 1000 + r));
          if (!upload(*st, std::span<const std::uint32_t>(stamp), b->write()).wait()) errors[t] = "upload failed";
        }
        auto* p = b->view().data();
        if (!st->enqueue([=](NativeStream ns) { hetex_test::add_one(ns, p, n); }).valid()) errors[t] = "launch failed";
        if (r % 4 == 0) {
          auto v = download(*st, b->read()).get();
          if (!v || std::count(v->begin(), v->end(), std::uint32_t(t * 1000 + r + 1)) != std::ptrdiff_t(n))
            errors[t] = "round " + std::to_string(r) + ": wrong contents";
        }
      }
      if (auto ok = st->synchronize(); !ok) errors[t] = ok.error().describe();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  auto st = pool->stats();
  EXPECT_EQ(st.allocations, std::uint64_t(kThreads * kRounds));
  EXPECT_EQ(st.bytes_in_use, 0u);
  EXPECT_EQ(st.failures, 0u);
}

TEST_F(GpuPool, PinnedPoolBlocksArePageLockedAndServeAsyncCopies) {
  PinnedPool pool;
  const std::size_t n = (std::size_t(1) << 20) + 11;
  auto host = random_words(n, 5);
  auto dev = to_device(s(), std::vector<std::uint32_t>(host)).get().value();
  const void* first = nullptr;
  for (int round = 0; round < 3; ++round) {
    auto pinned = pool.acquire<std::uint32_t>(n);
    ASSERT_TRUE(pinned) << pinned.error().describe();
    EXPECT_TRUE(pinned->page_locked());
    if (round == 0) first = pinned->span().data();
    EXPECT_EQ(static_cast<const void*>(pinned->span().data()), first) << "the block is reused";
    std::fill(pinned->span().begin(), pinned->span().end(), 0u);
    ASSERT_TRUE(download(s(), dev.read(), pinned->span()).wait());
    EXPECT_TRUE(same(std::vector<std::uint32_t>(pinned->span().begin(), pinned->span().end()), host));
  }
  auto st = pool.stats();
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.hits, 2u);
}

// Retiring the GPU ends its use for the whole process, so this runs in a child process of its
// own (gtest re-executes the binary for the "threadsafe" death-test style; a fork would inherit
// the parent's CUDA context, which CUDA forbids).
TEST_F(GpuPool, RetiredDeviceRefusesWithDeviceLostAndLateFreesDoNotCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto child = [this] {
    auto fail = [](const std::string& what) {
      std::fprintf(stderr, "FAILED: %s\n", what.c_str());
      std::fflush(stderr);
      std::_Exit(1);
    };
    auto pool = DevicePool::create(gpu).value();
    auto before = pool->allocate<std::uint32_t>(s(), 1024).value();
    auto r = s().enqueue([](NativeStream ns) { hetex_test::trap(ns); }).get();
    if (r) fail("the trap kernel succeeded");
    if (gpu.healthy()) fail("the device is still healthy after a trap");
    if (!before.lost()) fail("a pooled buffer from before the fault is not marked lost");
    auto after = pool->allocate<std::uint32_t>(s(), 1024);
    if (after) fail("allocation on a retired device succeeded");
    if (after.error().code() != Errc::device_lost) fail("allocate: " + after.error().describe());
    auto fresh = DevicePool::create(gpu);
    if (fresh) fail("a new pool on a retired device was created");
    if (fresh.error().code() != Errc::device_lost) fail("create: " + fresh.error().describe());
    (void)pool->stats();
    (void)pool->trim();
    before = DeviceBuffer<std::uint32_t>();  // the free after retirement
    pool.reset();
    std::fprintf(stderr, "pool survived retirement\n");
    std::fflush(stderr);
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "pool survived retirement");
}
