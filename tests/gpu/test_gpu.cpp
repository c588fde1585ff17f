// SPDX-License-Identifier: MIT
// GPU suite: runs on the lent GPU machine; skips, with the reason, where no GPU is usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "gpu/gpu_test.hpp"
#include "hetex/hetex.hpp"
#include "kernels.hpp"

using namespace hetex;
using namespace std::chrono_literals;

namespace {

using Gpu = hetex_test::GpuTest;

std::vector<std::uint32_t> random_words(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& x : v) x = static_cast<std::uint32_t>(rng() >> 17);
  return v;
}

// Where the first difference is, for readable failures on large arrays.
::testing::AssertionResult same(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  auto m = std::mismatch(a.begin(), a.end(), b.begin());
  if (m.first == a.end()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "first difference at " << (m.first - a.begin()) << ": " << *m.first << " vs "
                                       << *m.second;
}

}  // namespace

TEST_F(Gpu, DiscoveryReportsTheDevice) {
  const GpuInfo* g = gpu.gpu_info();
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(g->name.empty());
  EXPECT_GT(g->multiprocessors, 0);
  EXPECT_GT(g->total_memory, std::size_t(1) << 30);
  EXPECT_GE(g->compute_major, 7);
  auto m = gpu.memory_info();
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_LE(m->free, m->total);
  EXPECT_EQ(hetex_test::gpu_runtime().select("auto").value().kind(), DeviceKind::cuda);
}

TEST_F(Gpu, InvalidDeviceIndexIsAClearError) {
  auto d = hetex_test::gpu_runtime().select("cuda:99");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), Errc::invalid_argument);
  auto r = Runtime::create({.devices = "cuda:99"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("cuda:99"), std::string::npos);
}

TEST_F(Gpu, EveryBufferKindAllocatesAligned) {
  auto d = DeviceBuffer<float>::allocate(gpu, 1000);
  auto p = PinnedBuffer<float>::allocate(1000);
  auto m = MappedBuffer<float>::allocate(gpu, 1000);
  auto u = ManagedBuffer<float>::allocate(gpu, 1000);
  ASSERT_TRUE(d && p && m && u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(d->view().data()) % kBufferAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p->span().data()) % kBufferAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->view().data()) % kBufferAlignment, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(u->view().data()) % kBufferAlignment, 0u);
  EXPECT_TRUE(p->page_locked());
  EXPECT_EQ(d->device_index(), gpu.id().index);
}

TEST_F(Gpu, AnEmptyBufferStillBelongsToItsGpu) {
  auto d = DeviceBuffer<float>::allocate(gpu, 0);
  auto u = ManagedBuffer<float>::allocate(gpu, 0);
  ASSERT_TRUE(d && u);
  EXPECT_TRUE(d->empty());
  EXPECT_EQ(d->device_index(), gpu.id().index);
  EXPECT_EQ(d->view().device_index(), gpu.id().index);
  EXPECT_EQ(u->device_index(), gpu.id().index);
  EXPECT_FALSE(d->lost());
}

TEST_F(Gpu, RoundTripsRandomDataAtAwkwardSizes) {
  for (std::size_t n :
       {std::size_t(0), std::size_t(1), std::size_t(7), std::size_t(1023), std::size_t(1025), std::size_t(65535),
        std::size_t(65537), (std::size_t(1) << 20) + 1, (std::size_t(3) << 21) - 1}) {
    SCOPED_TRACE(n);
    auto host = random_words(n, n + 1);
    auto buf = DeviceBuffer<std::uint32_t>::allocate(gpu, n).value();
    {
      auto up = upload(s(), std::span<const std::uint32_t>(host), buf.write());
      ASSERT_TRUE(up.wait()) << up.wait().error().describe();
    }
    auto back = download(s(), buf.read()).get();
    ASSERT_TRUE(back) << back.error().describe();
    EXPECT_TRUE(same(*back, host));
    // and through pinned memory, asynchronously
    auto pinned = PinnedBuffer<std::uint32_t>::allocate(n).value();
    std::fill(pinned.span().begin(), pinned.span().end(), 0xDEADBEEFu);  // poison
    auto down = download(s(), buf.read(), pinned.span());
    ASSERT_TRUE(down.wait());
    EXPECT_TRUE(same(std::vector<std::uint32_t>(pinned.span().begin(), pinned.span().end()), host));
  }
}

TEST_F(Gpu, RoundTripsMoreThanOneGiB) {
  const std::size_t n = (std::size_t(1) << 28) + 3;  // 1 GiB + 12 bytes of uint32
  auto host = random_words(n, 42);
  auto expected = host;
  auto buf = to_device(s(), std::move(host)).get();
  ASSERT_TRUE(buf) << buf.error().describe();
  EXPECT_TRUE(host.empty()) << "an owning upload releases the vector";
  // add one on the device, so the round trip proves the data went through a kernel
  auto k = s().enqueue([&](NativeStream ns) { hetex_test::add_one(ns, buf->view().data(), n); });
  ASSERT_TRUE(k.get());
  for (auto& x : expected) x += 1;
  auto back = download(s(), buf->read()).get();
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_TRUE(same(*back, expected));
}

TEST_F(Gpu, DeviceToDeviceAndMappedCopies) {
  const std::size_t n = 100003;
  auto host = random_words(n, 9);
  auto a = to_device(s(), std::vector<std::uint32_t>(host)).get().value();
  auto b = DeviceBuffer<std::uint32_t>::allocate(gpu, n).value();
  auto mapped = MappedBuffer<std::uint32_t>::allocate(gpu, n).value();
  ASSERT_TRUE(s().copy(a.read(), b.write()).get());
  ASSERT_TRUE(s().copy(b.read(), mapped.write()).get());
  auto h = mapped.host();
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_TRUE(same(std::vector<std::uint32_t>(h->begin(), h->end()), host));
  auto wrong = DeviceBuffer<std::uint32_t>::allocate(gpu, n - 1).value();
  auto f = s().copy(a.read(), wrong.write());
  auto r = f.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
}

TEST_F(Gpu, MoreThanTheDeviceHasIsOutOfMemory) {
  const std::size_t total = gpu.gpu_info()->total_memory;
  auto big = DeviceBuffer<char>::allocate(gpu, total + (std::size_t(1) << 30));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), Errc::out_of_memory) << big.error().describe();
  auto managed = ManagedBuffer<char>::allocate(gpu, total + (std::size_t(1) << 30));
  ASSERT_FALSE(managed);
  EXPECT_EQ(managed.error().code(), Errc::out_of_memory);
  // the process and the device carry on
  auto small = DeviceBuffer<std::uint32_t>::allocate(gpu, 1024);
  ASSERT_TRUE(small);
  EXPECT_TRUE(s().enqueue([&](NativeStream ns) { hetex_test::add_one(ns, small->view().data(), 1024); }).get());
}

TEST_F(Gpu, LaunchErrorIsReturnedNotThrown) {
  auto r = s().enqueue([](NativeStream ns) { hetex_test::bad_launch(ns); }).get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument) << r.error().describe();
  EXPECT_TRUE(s().enqueue([](NativeStream ns) { hetex_test::empty_kernel(ns); }).get());
}

TEST_F(Gpu, FuturesComposeOverDeviceWork) {
  const std::size_t n = 4096;
  auto buf = to_device(s(), std::vector<std::uint32_t>(n, 1)).get().value();
  auto* p = buf.view().data();
  auto chained = s().enqueue([&](NativeStream ns) { hetex_test::slow_add_one(ns, p, n, 2000); })
                     .then([&] { return download(s(), buf.read()); })
                     .then([](std::vector<std::uint32_t> v) { return v[0] + v[n - 1]; });
  auto r = chained.get();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(*r, 4u);

  auto other = Stream::create(gpu).value();
  std::vector<Future<void>> work;
  work.push_back(s().enqueue([&](NativeStream ns) { hetex_test::slow_add_one(ns, p, n, 1000); }));
  work.push_back(other.enqueue([](NativeStream ns) { hetex_test::empty_kernel(ns); }));
  auto all = when_all(std::move(work)).get();
  ASSERT_TRUE(all);
  for (auto& x : *all) EXPECT_TRUE(x);
}

TEST_F(Gpu, EventsOrderWorkAcrossStreams) {
  const std::size_t n = 1 << 20;
  auto buf = to_device(s(), std::vector<std::uint32_t>(n, 0)).get().value();
  auto* p = buf.view().data();
  auto other = Stream::create(gpu).value();
  ASSERT_TRUE(s().enqueue([&](NativeStream ns) { hetex_test::slow_add_one(ns, p, n, 5000); }).valid());
  auto ev = s().record().value();
  ASSERT_TRUE(other.wait(ev));
  auto v = download(other, buf.read()).get().value();  // must see the slow kernel's result
  EXPECT_EQ(std::count(v.begin(), v.end(), 1u), static_cast<std::ptrdiff_t>(n));
}

TEST_F(Gpu, MappedBufferRefusesHostAccessWhileDeviceUsesIt) {
  const std::size_t n = 1 << 16;
  auto mapped = MappedBuffer<std::uint32_t>::allocate(gpu, n).value();
  {
    auto h = mapped.host().value();
    std::fill(h.begin(), h.end(), 5u);
    // device work is refused while the host holds the buffer
    auto refused = s().enqueue([](NativeStream) {}, mapped.view()).get();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Errc::busy);
  }
  auto* dp = mapped.view().data();
  auto work = s().enqueue([&](NativeStream ns) { hetex_test::slow_add_one(ns, dp, n, 200000); }, mapped.view());
  auto busy = mapped.host();
  ASSERT_FALSE(busy) << "host access granted while a kernel writes the buffer";
  EXPECT_EQ(busy.error().code(), Errc::busy);
  auto waited = mapped.host_wait();
  ASSERT_TRUE(waited) << waited.error().describe();
  EXPECT_TRUE(work.is_ready());
  EXPECT_EQ(std::count(waited->begin(), waited->end(), 6u), static_cast<std::ptrdiff_t>(n));
}

TEST_F(Gpu, ManagedBufferRefusesHostAccessWhileDeviceUsesIt) {
  const std::size_t n = 1 << 16;
  auto managed = ManagedBuffer<std::uint32_t>::allocate(gpu, n).value();
  {
    auto h = managed.host().value();
    std::fill(h.begin(), h.end(), 1u);
  }
  auto* dp = managed.view().data();
  auto work = s().enqueue([&](NativeStream ns) { hetex_test::slow_add_one(ns, dp, n, 200000); }, managed.view());
  auto busy = managed.host();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), Errc::busy);
  ASSERT_TRUE(work.get());
  auto h = managed.host();
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(std::count(h->begin(), h->end(), 2u), static_cast<std::ptrdiff_t>(n));
}

TEST_F(Gpu, OwnedUploadSurvivesTheCallerDroppingEverything) {
  const std::size_t n = (std::size_t(1) << 22) + 5;  // staged: several chunks
  auto host = random_words(n, 77);
  auto expected = host;
  auto buf = DeviceBuffer<std::uint32_t>::allocate(gpu, n).value();
  auto f = upload(s(), std::move(host), buf.write());
  ASSERT_TRUE(f.get());
  EXPECT_TRUE(same(download(s(), buf.read()).get().value(), expected));
}
