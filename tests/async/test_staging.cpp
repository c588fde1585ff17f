// SPDX-License-Identifier: MIT
// The staging pipeline on the fake GPU (fake_gpu.hpp): the shared cases (staging_cases.hpp, also
// run on CUDA by tests/gpu), and the transfers built on it, with device work lagging behind the
// host so that a slot reused too early would show as corrupted data.
#include <gtest/gtest.h>

#include <future>
#include <numeric>

#include "async/fake_gpu.hpp"
#include "async/staging_cases.hpp"
#include "hetex/async/transfer.hpp"

using namespace hetex;
using hetex_test::FakeGpu;

namespace {

void fake_xor(NativeStream s, const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::uint8_t key) {
  hetex_test::fake_enqueue(s, [=] {
    for (std::size_t i = 0; i < n; ++i) out[i] = in[i] ^ key;
  });
}

class StagingOnFake : public ::testing::Test {
 protected:
  void SetUp() override {
    fake = FakeGpu::create();
    b.gpu = Device::gpu(fake);
    for (int i = 0; i < 3; ++i) b.streams.push_back(Stream::create(b.gpu).value());
    b.xor_bytes = fake_xor;
    b.bad_launch = hetex_test::fake_fail_launch;
    b.fault = hetex_test::fake_fault;
    b.fail_copy_at = [f = fake.get()](std::size_t n) { f->fail_copy_at(n); };
    b.set_latency = [f = fake.get()](std::chrono::microseconds us) { f->set_latency(us); };
  }
  void TearDown() override {
    b.streams.clear();
    detail::drop_staging_rings(*fake);
  }
  std::shared_ptr<FakeGpu> fake;
  staging_cases::Backend b;
};

}  // namespace

TEST_F(StagingOnFake, ChunksLandOnceInOrderWithTheirOwnData) { staging_cases::ordering(b); }
TEST_F(StagingOnFake, FailingLaunchInTheMiddle) { staging_cases::failing_launch_in_the_middle(b); }
TEST_F(StagingOnFake, FailingPackInTheMiddle) { staging_cases::failing_pack_in_the_middle(b); }
TEST_F(StagingOnFake, FailingCopyInTheMiddle) { staging_cases::failing_copy_in_the_middle(b); }
TEST_F(StagingOnFake, DeviceLostMidBatch) { staging_cases::device_lost_mid_batch(b); }
TEST_F(StagingOnFake, ZeroLengthAndOddTails) { staging_cases::zero_length_and_odd_tails(b); }
TEST_F(StagingOnFake, DetachCoversEveryStream) { staging_cases::detach_covers_every_stream(b); }

TEST_F(StagingOnFake, RingsAreCachedAndReused) {
  const std::size_t total = 300000;
  const auto cuts = staging_cases::cuts_of(total, {40000});
  const std::size_t before = fake->live_allocations();
  for (int round = 0; round < 3; ++round) {
    staging_cases::HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
    staging_cases::fill_random(in.span(), round);
    staging_cases::XorWork w(b, in, out);
    ASSERT_TRUE(staging_cases::run(b, w, cuts, staging_cases::options_for(cuts, 3)).status);
    EXPECT_TRUE(staging_cases::output_is(in, out, cuts, cuts.size()));
    EXPECT_EQ(detail::cached_staging_rings(*fake), 1u);
    // 3 slots of 1 MiB in each of the four regions, allocated once.
    EXPECT_EQ(fake->live_allocations() - before, 12u) << "round " << round;
  }
  detail::drop_staging_rings(*fake);
  EXPECT_EQ(fake->live_allocations(), before);
}

// An upload returns with its DMAs in flight and its ring back in the cache; a run on another
// stream right after it takes a ring of its own instead of waiting for them.
TEST_F(StagingOnFake, ARunDoesNotWaitForTheDmasOfAnother) {
  const std::size_t total = 300000;
  const auto cuts = staging_cases::cuts_of(total, {100000});
  staging_cases::HostBytes src(b.gpu, total, false);
  staging_cases::fill_random(src.span(), 14);
  auto dev = detail::Allocation::create(MemoryKind::device, fake, total, "test").value();
  struct UploadOnly final : detail::StagedWork {
    const std::uint8_t* from;
    std::uint8_t* to;
    Status pack(detail::Chunk& c, const detail::SlotMemory&) override {
      c.upload(to + c.begin, from + c.begin, c.end - c.begin, false);
      return {};
    }
  } up;
  up.from = src.data();
  up.to = static_cast<std::uint8_t*>(dev->device_ptr());
  // Stream 0 is held until the second run is done, so the first run's DMAs are still queued.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  hetex_test::fake_enqueue(b.streams[0].native(), [released] { released.wait(); });
  std::vector<Stream> first(b.streams.begin(), b.streams.begin() + 1);
  auto p = detail::StagingPipeline::create(first, up, staging_cases::options_for(cuts, 3)).value();
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) ASSERT_TRUE(p.submit(cuts[i], cuts[i + 1]));
  auto gate = p.detach().value();
  EXPECT_FALSE(gate->poll()) << "the upload should still be in flight";
  EXPECT_EQ(detail::cached_staging_rings(*fake), 1u);
  staging_cases::HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  staging_cases::fill_random(in.span(), 15);
  staging_cases::XorWork w(b, in, out);
  std::vector<Stream> others(b.streams.begin() + 1, b.streams.end());
  auto q = detail::StagingPipeline::create(others, w, staging_cases::options_for(cuts, 3)).value();
  EXPECT_EQ(detail::cached_staging_rings(*fake), 1u) << "the busy ring stays in the cache";
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) ASSERT_TRUE(q.submit(cuts[i], cuts[i + 1]));
  ASSERT_TRUE(q.finish());
  EXPECT_TRUE(staging_cases::output_is(in, out, cuts, cuts.size()));
  EXPECT_FALSE(gate->poll()) << "the second run finished without waiting for the first";
  release.set_value();
  ASSERT_TRUE(gate->wait());
  EXPECT_EQ(detail::cached_staging_rings(*fake), 2u);
}

TEST_F(StagingOnFake, ARingTooSmallGrowsAndASlotGrowsOnDemand) {
  const std::size_t total = 3 << 20;
  staging_cases::HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  staging_cases::fill_random(in.span(), 12);
  staging_cases::XorWork w(b, in, out);
  detail::StagingOptions o;
  o.slots = 2;
  o.bytes = {1024, 1024, 1024, 1024};
  auto p = detail::StagingPipeline::create(b.streams, w, o).value();
  const std::vector<std::size_t> cuts{0, 1000, total};
  const std::size_t big = total - 1000;
  ASSERT_TRUE(p.submit(0, 1000));
  ASSERT_TRUE(p.submit(1000, total, {big, big, big, big}));
  ASSERT_TRUE(p.finish());
  EXPECT_TRUE(staging_cases::output_is(in, out, cuts, 2));
}

TEST_F(StagingOnFake, DestroyedWithoutFinishDrainsTheStreams) {
  const std::size_t total = 400000;
  const auto cuts = staging_cases::cuts_of(total, {100000});
  fake->set_latency(std::chrono::microseconds(2000));
  // Downloads straight into page-locked memory: they are in once the streams are drained.
  staging_cases::HostBytes in(b.gpu, total, false), out(b.gpu, total, true);
  staging_cases::fill_random(in.span(), 13);
  staging_cases::XorWork w(b, in, out);
  {
    auto p = detail::StagingPipeline::create(b.streams, w, staging_cases::options_for(cuts, 4)).value();
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) ASSERT_TRUE(p.submit(cuts[i], cuts[i + 1]));
  }  // an early return: nothing may still run on the streams
  EXPECT_TRUE(staging_cases::output_is(in, out, cuts, cuts.size())) << "work was still queued";
  EXPECT_TRUE(w.landed.empty());
  fake->set_latency(std::chrono::microseconds(0));
}

// ---- transfers through the pipeline --------------------------------------------------------

TEST_F(StagingOnFake, PageableTransfersOfOddSizesRoundTrip) {
  Stream& s = b.streams[0];
  fake->set_latency(std::chrono::microseconds(300));
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1) << 18, (std::size_t(20) << 20) / 4 + 5}) {
    std::vector<std::uint32_t> src(n);
    std::iota(src.begin(), src.end(), 17u);
    auto dev = DeviceBuffer<std::uint32_t>::allocate(b.gpu, n).value();
    ASSERT_TRUE(upload(s, std::span<const std::uint32_t>(src), dev.write()).wait()) << n;
    std::vector<std::uint32_t> back(n, 0);
    ASSERT_TRUE(download(s, dev.read(), std::span<std::uint32_t>(back)).wait()) << n;
    EXPECT_EQ(back, src) << n;
    // Owned: the vector is freed when upload() returns, its data already staged.
    auto moved = src;
    auto dev2 = to_device(s, std::move(moved)).get();
    ASSERT_TRUE(dev2) << dev2.error().describe();
    auto again = download(s, dev2->read()).get();
    ASSERT_TRUE(again) << again.error().describe();
    EXPECT_EQ(*again, src) << n;
  }
}

TEST_F(StagingOnFake, TransfersFailCleanlyOnALostDevice) {
  Stream& s = b.streams[0];
  std::vector<std::uint32_t> src((std::size_t(12) << 20) / 4, 3u);
  auto dev = DeviceBuffer<std::uint32_t>::allocate(b.gpu, src.size()).value();
  fake->lose();
  auto up = upload(s, std::span<const std::uint32_t>(src), dev.write()).wait();
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code(), Errc::device_lost) << up.error().describe();
  std::vector<std::uint32_t> back(src.size());
  auto down = download(s, dev.read(), std::span<std::uint32_t>(back)).wait();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), Errc::device_lost) << down.error().describe();
}
