// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "hetex/core/runtime.hpp"
#include "hetex/memory/buffer.hpp"

using namespace hetex;

// The access modes are enforced by the compiler.
template <class V>
concept writable = requires(V v) {
  v[0] = 1;
};
template <class V>
concept readable = requires(V v) {
  int(v[0]);
};
static_assert(!writable<ReadView<int>>, "writing through a ReadView must not compile");
static_assert(readable<ReadView<int>>);
static_assert(writable<ReadWriteView<int>>);
static_assert(!readable<WriteView<int>>, "a WriteView offers no reads");
static_assert(std::is_convertible_v<ReadWriteView<int>, ReadView<int>>);
static_assert(std::is_convertible_v<ReadWriteView<int>, WriteView<int>>);
static_assert(!std::is_convertible_v<ReadView<int>, ReadWriteView<int>>, "nothing widens access");
static_assert(!std::is_convertible_v<ReadView<int>, WriteView<int>>);
static_assert(std::is_same_v<decltype(std::declval<ReadView<int>>().data()), const int*>);

// Element types must be trivially copyable.
static_assert(DeviceCopyable<float>);
static_assert(!DeviceCopyable<std::vector<int>>);
static_assert(!DeviceCopyable<int*>);
template <class T>
concept bufferable = requires {
  typename DeviceBuffer<T>;
  DeviceBuffer<T>::allocate(std::declval<Device>(), 1);
};
static_assert(bufferable<int>);
static_assert(!bufferable<std::string>, "a non-trivially-copyable element type must not compile");

// Buffers are move-only.
static_assert(!std::is_copy_constructible_v<DeviceBuffer<int>>);
static_assert(std::is_nothrow_move_constructible_v<DeviceBuffer<int>>);

namespace {
Runtime cpu_runtime() { return Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(); }
}  // namespace

TEST(PinnedBuffer, WorksWithOrWithoutAGpu) {
  auto b = PinnedBuffer<double>::allocate(1001);
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_EQ(b->size(), 1001u);
  EXPECT_EQ(b->size_bytes(), 1001u * sizeof(double));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b->span().data()) % kBufferAlignment, 0u);
  std::iota(b->span().begin(), b->span().end(), 0.0);
  EXPECT_EQ(b->span()[1000], 1000.0);
  ReadView<double> v = b->view();
  EXPECT_EQ(v.size(), 1001u);
  EXPECT_EQ(v[10], 10.0);
  EXPECT_EQ(v.subview(1000).size(), 1u);
  EXPECT_EQ(v.subview(5000).size(), 0u);
  auto moved = std::move(*b);
  EXPECT_EQ(moved.size(), 1001u);
}

TEST(PinnedBuffer, ZeroElementsIsFine) {
  auto b = PinnedBuffer<int>::allocate(0);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->empty());
  EXPECT_TRUE(b->span().empty());
}

TEST(PinnedBuffer, AbsurdSizeIsAnErrorNotACrash) {
  auto b = PinnedBuffer<double>::allocate(std::size_t(1) << 62);
  ASSERT_FALSE(b);
  EXPECT_TRUE(b.error().code() == Errc::invalid_argument || b.error().code() == Errc::out_of_memory);
}

TEST(DeviceKindBuffers, OnTheCpuAreUnavailableWithAClearError) {
  auto rt = cpu_runtime();
  auto d = DeviceBuffer<float>::allocate(rt.cpu(), 10);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), Errc::unavailable);
  EXPECT_NE(d.error().message().find("PinnedBuffer"), std::string::npos);
  EXPECT_FALSE(MappedBuffer<float>::allocate(rt.cpu(), 10));
  EXPECT_FALSE(ManagedBuffer<float>::allocate(rt.cpu(), 10));
}

TEST(View, OverHostMemory) {
  std::vector<int> v{1, 2, 3};
  ReadWriteView<int> rw{std::span<int>(v)};
  rw[1] = 20;
  EXPECT_EQ(v[1], 20);
  ReadView<int> r = rw;
  EXPECT_EQ(r[1], 20);
  EXPECT_EQ(r.memory(), MemoryKind::host);
  EXPECT_EQ(r.device_index(), -1);
  EXPECT_TRUE(r.host_accessible());
  EXPECT_EQ(r.owner(), nullptr);
}

TEST(MappedBuffer, HostAccessOfAnEmptyOrMovedFromBufferIsEmptyNotACrash) {
  MappedBuffer<int> empty;
  auto h = empty.host();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size(), 0u);
  EXPECT_EQ(h->data(), nullptr);
  EXPECT_TRUE(h->span().empty());
  EXPECT_EQ(h->begin(), h->end());
}
