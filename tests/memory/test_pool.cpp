// SPDX-License-Identifier: MIT
// Pool behaviour that needs no GPU: the pinned pool (page-locked with a GPU, plain host memory
// without one) and the device pool's refusal on the CPU. tests/gpu/test_pool_gpu.cpp covers the
// device pool on a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hetex/async/stream.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/memory/pool.hpp"

using namespace hetex;

namespace {

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

const void* address(const PinnedBuffer<std::byte>& b) { return b.span().data(); }

PinnedBuffer<std::byte> take(PinnedPool& pool, std::size_t bytes) {
  auto b = pool.acquire<std::byte>(bytes);
  EXPECT_TRUE(b) << b.error().describe();
  return b ? std::move(*b) : PinnedBuffer<std::byte>{};
}

// Pools take the same element types as buffers.
template <class T>
concept acquirable = requires(PinnedPool& p) {
  p.acquire<T>(1);
};
static_assert(acquirable<double>);
static_assert(!acquirable<std::string>);

}  // namespace

TEST(PinnedPool, ReusesAReturnedBlock) {
  PinnedPool pool;
  const void* first = nullptr;
  {
    auto b = pool.acquire<float>(25'000);  // 100 000 bytes: the 128 KiB class
    ASSERT_TRUE(b) << b.error().describe();
    EXPECT_EQ(b->size(), 25'000u);
    EXPECT_EQ(b->size_bytes(), 100'000u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->span().data()) % kBufferAlignment, 0u);
    b->span()[24'999] = 3.5f;  // the whole request is usable
    first = b->span().data();
    EXPECT_EQ(pool.stats().bytes_in_use, 128 * KiB);
  }
  auto s = pool.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.bytes_cached, 128 * KiB);
  auto again = pool.acquire<float>(25'000).value();
  EXPECT_EQ(static_cast<const void*>(again.span().data()), first);
  // Page-locked exactly when an unpooled PinnedBuffer would be (with a GPU).
  EXPECT_EQ(again.page_locked(), PinnedBuffer<float>::allocate(1).value().page_locked());
  s = pool.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.bytes_cached, 0u);
}

TEST(PinnedPool, SizeClassesArePowersOfTwoFrom64KiB) {
  PinnedPool pool;
  {
    auto tiny = take(pool, 1);
    EXPECT_EQ(pool.stats().bytes_in_use, 64 * KiB);
    auto just_over = take(pool, 64 * KiB + 1);
    EXPECT_EQ(pool.stats().bytes_in_use, 64 * KiB + 128 * KiB);
    auto exact = take(pool, 1 * MiB);
    EXPECT_EQ(pool.stats().bytes_in_use, 64 * KiB + 128 * KiB + 1 * MiB);
  }
  EXPECT_EQ(pool.stats().bytes_cached, 64 * KiB + 128 * KiB + 1 * MiB);
  // Any request of the same class reuses the block; a request of another class does not.
  const void* block128 = nullptr;
  {
    auto b = take(pool, 70 * KiB);
    block128 = address(b);
    EXPECT_EQ(pool.stats().hits, 1u);
  }
  {
    auto b = take(pool, 128 * KiB);
    EXPECT_EQ(address(b), block128);
    EXPECT_EQ(pool.stats().hits, 2u);
  }
  auto other = take(pool, 129 * KiB);  // the 256 KiB class: nothing cached there
  auto s = pool.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 4u);
  EXPECT_EQ(s.bytes_in_use, 256 * KiB);
}

TEST(PinnedPool, RequestsAboveTheBlockCapBypassTheCache) {
  PinnedPool pool({.max_cached_bytes = 64 * MiB, .max_block_bytes = 1 * MiB});
  {
    auto big = take(pool, 2 * MiB + 1);
    ASSERT_EQ(big.size(), 2 * MiB + 1);
    big.span()[2 * MiB] = std::byte{7};
    EXPECT_EQ(pool.stats().bytes_in_use, 2 * MiB + 4 * KiB);  // rounded to pages, not to a class
  }
  auto s = pool.stats();
  EXPECT_EQ(s.bytes_cached, 0u);
  EXPECT_EQ(s.bytes_in_use, 0u);
  auto again = take(pool, 2 * MiB + 1);
  EXPECT_EQ(pool.stats().misses, 2u);
  EXPECT_EQ(pool.stats().hits, 0u);
  // At the cap itself the block is cached.
  { auto at_cap = take(pool, 1 * MiB); }
  EXPECT_EQ(pool.stats().bytes_cached, 1 * MiB);
}

TEST(PinnedPool, CachedBytesStayWithinTheBound) {
  PinnedPool pool({.max_cached_bytes = 256 * KiB});
  {
    std::vector<PinnedBuffer<std::byte>> held;
    for (int i = 0; i < 4; ++i) held.push_back(take(pool, 128 * KiB));
    EXPECT_EQ(pool.stats().bytes_in_use, 512 * KiB);
    EXPECT_EQ(pool.stats().peak_bytes_in_use, 512 * KiB);
  }
  auto s = pool.stats();
  EXPECT_EQ(s.bytes_cached, 256 * KiB) << "two blocks kept, two freed";
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_EQ(s.peak_bytes_in_use, 512 * KiB);
  // A block larger than the whole bound is never kept.
  { auto b = take(pool, 512 * KiB); }
  EXPECT_EQ(pool.stats().bytes_cached, 256 * KiB);
  std::vector<PinnedBuffer<std::byte>> again;
  for (int i = 0; i < 3; ++i) again.push_back(take(pool, 100 * KiB));
  EXPECT_EQ(pool.stats().hits, 2u);
}

TEST(PinnedPool, TrimEmptiesTheCache) {
  PinnedPool pool;
  { auto a = take(pool, 300 * KiB), b = take(pool, 5 * KiB); }
  EXPECT_EQ(pool.stats().bytes_cached, 512 * KiB + 64 * KiB);
  pool.trim();
  EXPECT_EQ(pool.stats().bytes_cached, 0u);
  auto c = take(pool, 300 * KiB);
  EXPECT_EQ(pool.stats().hits, 0u);
  EXPECT_EQ(pool.stats().misses, 3u);
}

TEST(PinnedPool, ZeroElementsTouchNothingAndAbsurdSizesAreErrors) {
  PinnedPool pool;
  auto empty = pool.acquire<int>(0);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(empty->span().empty());
  auto absurd = pool.acquire<double>(std::size_t(1) << 62);
  ASSERT_FALSE(absurd);
  EXPECT_EQ(absurd.error().code(), Errc::invalid_argument);
  auto s = pool.stats();
  EXPECT_EQ(s.hits + s.misses, 0u);
  EXPECT_EQ(s.bytes_in_use, 0u);
}

TEST(PinnedPool, BuffersMayOutliveTheirPool) {
  std::optional<PinnedBuffer<std::uint32_t>> survivor;
  {
    PinnedPool pool;
    survivor = pool.acquire<std::uint32_t>(50'000).value();
    { auto cached = pool.acquire<std::uint32_t>(10).value(); }
  }
  // The pool is gone: the block is still valid, and freed (not cached) when the buffer dies.
  std::fill(survivor->span().begin(), survivor->span().end(), 9u);
  EXPECT_EQ(survivor->span()[49'999], 9u);
  survivor.reset();
}

TEST(PinnedPool, SharedIsOneProcessWidePool) {
  EXPECT_EQ(&PinnedPool::shared(), &PinnedPool::shared());
  EXPECT_EQ(PinnedPool::shared().options().max_cached_bytes, default_pinned_cache_bytes());
  EXPECT_LE(default_pinned_cache_bytes(), std::size_t(1) << 30);
  EXPECT_GT(default_pinned_cache_bytes(), 0u);
  auto b = PinnedPool::shared().acquire<char>(100);
  ASSERT_TRUE(b) << b.error().describe();
}

TEST(PinnedPool, ManyThreadsNeverShareABlock) {
  // Each thread stamps its blocks with its own id and checks the stamp survived: a block handed
  // to two holders at once would show another thread's stamp.
  PinnedPool pool({.max_cached_bytes = 8 * MiB});
  constexpr int kThreads = 4, kRounds = 400;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<PinnedBuffer<std::uint32_t>> held;
      for (int r = 0; r < kRounds; ++r) {
        const std::size_t n = 1 + rng() % (300 * KiB / 4);  // 64 KiB .. 512 KiB classes
        auto b = pool.acquire<std::uint32_t>(n);
        if (!b) {
          ++errors;
          continue;
        }
        const std::uint32_t stamp = std::uint32_t(t * 1'000'000 + r);
        std::fill(b->span().begin(), b->span().end(), stamp);
        held.push_back(std::move(*b));
        if (held.size() > 3 || rng() % 2) {
          auto& victim = held[rng() % held.size()];
          const auto expect = victim.span()[0];
          for (auto x : victim.span())
            if (x != expect) {
              ++errors;
              break;
            }
          std::swap(victim, held.back());
          held.pop_back();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto s = pool.stats();
  EXPECT_EQ(s.hits + s.misses, std::uint64_t(kThreads * kRounds));
  EXPECT_GT(s.hits, s.misses) << "steady state is served from the cache";
  EXPECT_EQ(s.bytes_in_use, 0u);
  EXPECT_LE(s.bytes_cached, 8 * MiB);
  EXPECT_LE(s.peak_bytes_in_use, std::size_t(kThreads) * 4 * 512 * KiB);
}

TEST(DevicePool, OnTheCpuIsUnavailableWithAClearError) {
  auto rt = Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value();
  auto p = DevicePool::create(rt.cpu());
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), Errc::unavailable);
  EXPECT_NE(p.error().message().find("needs a GPU"), std::string::npos) << p.error().describe();
  EXPECT_NE(p.error().message().find("PinnedPool"), std::string::npos) << p.error().describe();
  auto s = DevicePool::shared(rt.cpu());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unavailable);
}

// Code written for DeviceBuffer<T>::allocate switches to a pool by changing only the call.
static_assert(std::is_same_v<decltype(std::declval<DevicePool&>().allocate<float>(std::declval<Stream&>(), 1)),
                             Result<DeviceBuffer<float>>>);
static_assert(std::is_same_v<decltype(std::declval<PinnedPool&>().acquire<float>(1)), Result<PinnedBuffer<float>>>);
