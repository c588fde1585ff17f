// SPDX-License-Identifier: MIT
#pragma once
// The staging pipeline's behaviour, written once and run on every backend present: the fake GPU
// (tests/async/test_staging.cpp, everywhere) and CUDA (tests/gpu/test_staging_gpu.cpp and
// tests/gpu_fault, on a GPU machine). A chunk of bytes [b, e) is uploaded, put through
// out = in ^ key(chunk) on the device, and downloaded, so a chunk that lands in the wrong place,
// with another chunk's data, or twice, shows in the output.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "../../src/async/staging.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/memory/buffer.hpp"

namespace staging_cases {

using hetex::Errc;
using hetex::Status;
using hetex::Stream;
namespace hd = hetex::detail;

struct Backend {
  hetex::Device gpu;
  std::vector<Stream> streams;  // three
  // Enqueues out[i] = in[i] ^ key for i < n on the stream (device pointers); nothing for n = 0.
  void (*xor_bytes)(hetex::NativeStream, const std::uint8_t*, std::uint8_t*, std::size_t, std::uint8_t) = nullptr;
  // Called inside a launch, makes it fail at once (a bad launch configuration).
  void (*bad_launch)(hetex::NativeStream) = nullptr;
  // Enqueues work that retires the device when it runs (a kernel fault); null where the
  // process must keep its GPU.
  void (*fault)(hetex::NativeStream) = nullptr;
  // Where the backend can: the n-th copy from now fails when called; lets device work lag.
  std::function<void(std::size_t)> fail_copy_at;
  std::function<void(std::chrono::microseconds)> set_latency;
};

inline std::uint8_t key(std::size_t chunk) { return static_cast<std::uint8_t>(chunk * 37 + 11); }

// Host memory of either kind, with a sentinel everywhere.
class HostBytes {
 public:
  HostBytes(const hetex::Device& gpu, std::size_t n, bool page_locked) : n_(n) {
    if (page_locked) {
      pinned_ = hd::Allocation::create(hetex::MemoryKind::pinned, gpu.backend_ptr(), n, "test").value();
      p_ = static_cast<std::uint8_t*>(pinned_->host_ptr());
    } else {
      v_.resize(n);
      p_ = v_.data();
    }
    std::fill_n(p_, n, std::uint8_t(0xEE));
  }
  std::uint8_t* data() { return p_; }
  std::span<std::uint8_t> span() { return {p_, n_}; }
  bool page_locked() const { return pinned_ != nullptr; }

 private:
  std::size_t n_;
  std::vector<std::uint8_t> v_;
  std::shared_ptr<hd::Allocation> pinned_;
  std::uint8_t* p_ = nullptr;
};

inline void fill_random(std::span<std::uint8_t> s, unsigned seed) {
  std::mt19937 rng(seed);
  for (auto& b : s) b = static_cast<std::uint8_t>(rng());
}

class XorWork final : public hd::StagedWork {
 public:
  XorWork(Backend& b, HostBytes& in, HostBytes& out) : b_(b), in_(in), out_(out) {}

  std::optional<std::size_t> bad_launch_at, fault_at, bad_pack_at;
  std::vector<std::size_t> landed;  // chunk indices, in landing order

  Status pack(hd::Chunk& c, const hd::SlotMemory& m) override {
    if (bad_pack_at == c.index)
      return hetex::Error(Errc::invalid_argument, "chunk " + std::to_string(c.index) + " is malformed");
    const std::size_t n = c.end - c.begin;
    if (m.device_in.size() < n || m.device_out.size() < n) return hetex::Error(Errc::internal, "slot too small");
    c.upload(m.device_in.data(), in_.data() + c.begin, n, in_.page_locked());
    c.download(out_.data() + c.begin, m.device_out.data(), n, out_.page_locked());
    return {};
  }
  Status launch(Stream& s, const hd::Chunk& c, const hd::SlotMemory& m) override {
    const std::size_t n = c.end - c.begin;
    const bool bad = bad_launch_at == c.index, fault = fault_at == c.index;
    const std::uint8_t k = key(c.index);
    auto* in = m.device_in.data();
    auto* out = m.device_out.data();
    Backend& b = b_;
    hd::UniqueFunction<void(hetex::NativeStream)> fn([&b, bad, fault, k, in, out, n](hetex::NativeStream ns) {
      b.xor_bytes(ns, in, out, n, k);
      if (fault) b.fault(ns);
      if (bad) b.bad_launch(ns);
    });
    auto g = s.impl().launch_and_record(fn);
    if (!g) return std::move(g).error();
    return {};
  }
  void land(const hd::Chunk& c, const hd::SlotMemory&) override { landed.push_back(c.index); }

 private:
  Backend& b_;
  HostBytes& in_;
  HostBytes& out_;
};

// Bytes [cuts[i], cuts[i + 1]) form chunk i.
inline std::vector<std::size_t> cuts_of(std::size_t total, std::initializer_list<std::size_t> sizes) {
  std::vector<std::size_t> c{0};
  for (std::size_t s : sizes) c.push_back(std::min(total, c.back() + s));
  while (c.back() < total) c.push_back(std::min(total, c.back() + *(sizes.end() - 1)));
  return c;
}

inline std::size_t largest(const std::vector<std::size_t>& cuts) {
  std::size_t m = 0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) m = std::max(m, cuts[i + 1] - cuts[i]);
  return m;
}

inline hd::StagingOptions options_for(const std::vector<std::size_t>& cuts, std::size_t slots) {
  hd::StagingOptions o;
  o.slots = slots;
  const std::size_t m = largest(cuts);
  o.bytes = {m, m, m, m};
  o.direct_below = 4096;  // stage all but the smallest pieces, so small tests stage too
  return o;
}

struct Outcome {
  Status status;
  std::size_t landed = 0;
  std::optional<std::pair<std::size_t, std::size_t>> unfinished;
};

inline Outcome run(Backend& b, XorWork& w, const std::vector<std::size_t>& cuts, const hd::StagingOptions& o) {
  Outcome out;
  auto p = hd::StagingPipeline::create(b.streams, w, o);
  if (!p) {
    out.status = std::move(p).error();
    return out;
  }
  for (std::size_t i = 0; i + 1 < cuts.size() && out.status; ++i)
    if (auto e = p->submit(cuts[i], cuts[i + 1]); !e) out.status = std::move(e).error();
  if (out.status) out.status = p->finish();
  out.landed = p->chunks_landed();
  out.unfinished = p->first_unfinished();
  return out;
}

// Chunks [0, n) of `cuts` carry in ^ key(chunk); bytes of later chunks still hold the sentinel.
inline ::testing::AssertionResult output_is(HostBytes& in, HostBytes& out, const std::vector<std::size_t>& cuts,
                                            std::size_t n) {
  for (std::size_t c = 0; c + 1 < cuts.size(); ++c)
    for (std::size_t i = cuts[c]; i < cuts[c + 1]; ++i) {
      const std::uint8_t want = c < n ? std::uint8_t(in.data()[i] ^ key(c)) : std::uint8_t(0xEE);
      if (out.data()[i] != want)
        return ::testing::AssertionFailure()
               << "byte " << i << " of chunk " << c << " is " << int(out.data()[i]) << ", expected " << int(want);
    }
  return ::testing::AssertionSuccess();
}

inline std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Every chunk lands once, in order, with its own data, whatever the streams' roles, the landing
// policy and the kinds of host memory; a second run reuses the cached ring.
inline void ordering(Backend& b) {
  const std::size_t total = (std::size_t(1) << 20) + 13;
  const auto cuts = cuts_of(total, {70001, 3, 150000, 65536, 131071});
  if (b.set_latency) b.set_latency(std::chrono::microseconds(300));
  for (int variant = 0; variant < 8; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    auto o = options_for(cuts, variant % 2 ? 2 : 3);
    o.roles = variant & 2 ? hd::StreamRoles::by_stage : hd::StreamRoles::round_robin;
    o.eager_landing = variant & 4;
    o.land_beside_pack = !(variant & 4);
    for (int memory = 0; memory < 3; ++memory) {
      HostBytes in(b.gpu, total, memory == 1), out(b.gpu, total, memory == 2);
      fill_random(in.span(), variant * 3 + memory);
      XorWork w(b, in, out);
      const Outcome r = run(b, w, cuts, o);
      ASSERT_TRUE(r.status) << r.status.error().describe();
      EXPECT_EQ(w.landed, iota(cuts.size() - 1)) << "memory " << memory;
      EXPECT_TRUE(output_is(in, out, cuts, cuts.size())) << "memory " << memory;
      EXPECT_EQ(r.landed, cuts.size() - 1);
      EXPECT_FALSE(r.unfinished);
    }
  }
  if (b.set_latency) b.set_latency(std::chrono::microseconds(0));
}

// A launch that fails in the middle: the chunks before it land (and only they), the failed
// chunk is reported, the streams are drained, and the next run on the same streams succeeds.
inline void failing_launch_in_the_middle(Backend& b) {
  const std::size_t total = 800001;
  const auto cuts = cuts_of(total, {100000});
  if (b.set_latency) b.set_latency(std::chrono::microseconds(200));
  for (bool beside : {false, true}) {
    HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
    fill_random(in.span(), 5);
    XorWork w(b, in, out);
    w.bad_launch_at = 4;
    auto o = options_for(cuts, 3);
    o.land_beside_pack = beside;
    const Outcome r = run(b, w, cuts, o);
    ASSERT_FALSE(r.status);
    EXPECT_EQ(w.landed, iota(4));
    EXPECT_EQ(r.landed, 4u);
    ASSERT_TRUE(r.unfinished);
    EXPECT_EQ(*r.unfinished, std::make_pair(cuts[4], cuts[5]));
    EXPECT_TRUE(output_is(in, out, cuts, 4));
    EXPECT_TRUE(b.gpu.healthy());
  }
  if (b.set_latency) b.set_latency(std::chrono::microseconds(0));
  HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  fill_random(in.span(), 6);
  XorWork w(b, in, out);
  const Outcome again = run(b, w, cuts, options_for(cuts, 3));
  ASSERT_TRUE(again.status) << again.status.error().describe();
  EXPECT_TRUE(output_is(in, out, cuts, cuts.size()));
}

// A chunk whose input is rejected while packing stops the run the same way.
inline void failing_pack_in_the_middle(Backend& b) {
  const std::size_t total = 500000;
  const auto cuts = cuts_of(total, {60000});
  HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  fill_random(in.span(), 7);
  XorWork w(b, in, out);
  w.bad_pack_at = 5;
  const Outcome r = run(b, w, cuts, options_for(cuts, 3));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code(), Errc::invalid_argument);
  EXPECT_EQ(w.landed, iota(5));
  ASSERT_TRUE(r.unfinished);
  EXPECT_EQ(*r.unfinished, std::make_pair(cuts[5], cuts[6]));
  EXPECT_TRUE(output_is(in, out, cuts, 5));
}

// A copy that fails when it is called (where the backend can inject one).
inline void failing_copy_in_the_middle(Backend& b) {
  if (!b.fail_copy_at) GTEST_SKIP() << "this backend cannot fail a copy on demand";
  const std::size_t total = 700000;
  const auto cuts = cuts_of(total, {100000});
  HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  fill_random(in.span(), 8);
  XorWork w(b, in, out);
  b.fail_copy_at(2 * 3 + 1);  // two copies a chunk: the download of chunk 3
  const Outcome r = run(b, w, cuts, options_for(cuts, 2));
  ASSERT_FALSE(r.status);
  EXPECT_EQ(w.landed, iota(3));
  ASSERT_TRUE(r.unfinished);
  EXPECT_EQ(*r.unfinished, std::make_pair(cuts[3], cuts[4]));
  EXPECT_TRUE(output_is(in, out, cuts, 3));
  EXPECT_TRUE(b.gpu.healthy());
}

// The device is retired while chunks are in flight: the run fails fast with the fault, lands
// nothing it cannot vouch for, drops the ring (its memory is gone) and later runs fail clearly.
inline void device_lost_mid_batch(Backend& b) {
  if (!b.fault) GTEST_SKIP() << "a fault would retire this process's GPU";
  const std::size_t total = 1000000;
  const auto cuts = cuts_of(total, {100000});
  if (b.set_latency) b.set_latency(std::chrono::microseconds(500));
  HostBytes in(b.gpu, total, false), out(b.gpu, total, false);
  fill_random(in.span(), 9);
  XorWork w(b, in, out);
  w.fault_at = 3;
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome r = run(b, w, cuts, options_for(cuts, 3));
  if (b.set_latency) b.set_latency(std::chrono::microseconds(0));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20)) << "failing, not hanging";
  ASSERT_FALSE(r.status);
  const Errc code = r.status.error().code();
  EXPECT_TRUE(code == Errc::device_lost || code == Errc::kernel_fault) << r.status.error().describe();
  EXPECT_FALSE(b.gpu.healthy());
  EXPECT_LE(w.landed.size(), 3u);
  EXPECT_EQ(w.landed, iota(w.landed.size()));
  EXPECT_EQ(r.landed, w.landed.size());
  ASSERT_TRUE(r.unfinished);
  EXPECT_EQ(r.unfinished->first, cuts[w.landed.size()]);
  EXPECT_TRUE(output_is(in, out, cuts, w.landed.size()));
  EXPECT_EQ(hd::cached_staging_rings(*b.gpu.backend()), 0u);
  XorWork later(b, in, out);
  const Outcome again = run(b, later, cuts, options_for(cuts, 3));
  ASSERT_FALSE(again.status);
  EXPECT_EQ(again.status.error().code(), Errc::device_lost) << again.status.error().describe();
}

// No chunks, empty chunks, and tails of odd sizes (1 byte, 7 bytes past a MiB).
inline void zero_length_and_odd_tails(Backend& b) {
  {
    HostBytes in(b.gpu, 1, false), out(b.gpu, 1, false);
    XorWork w(b, in, out);
    const Outcome r = run(b, w, {0}, options_for({0, 1}, 3));
    ASSERT_TRUE(r.status) << r.status.error().describe();
    EXPECT_TRUE(w.landed.empty());
    EXPECT_EQ(out.data()[0], 0xEE);
  }
  const std::size_t total = 3 * (std::size_t(1) << 20) + 7;
  for (bool page_locked : {false, true}) {
    HostBytes in(b.gpu, total, page_locked), out(b.gpu, total, page_locked);
    fill_random(in.span(), 10);
    XorWork w(b, in, out);
    const std::size_t MiB = std::size_t(1) << 20;
    const std::vector<std::size_t> cuts{0, 0, 1, 1, MiB + 1, MiB + 1, 2 * MiB + 3, 3 * MiB, total};
    auto o = options_for(cuts, 3);
    o.direct_below = page_locked ? 0 : MiB;  // the default: small pageable pieces go direct
    const Outcome r = run(b, w, cuts, o);
    ASSERT_TRUE(r.status) << r.status.error().describe();
    EXPECT_EQ(w.landed, iota(cuts.size() - 1));
    EXPECT_TRUE(output_is(in, out, cuts, cuts.size()));
  }
}

// Work without downloads handed back before it finishes (detach): the gate covers the chunks of
// every stream.
inline void detach_covers_every_stream(Backend& b) {
  const std::size_t total = 600000;
  const auto cuts = cuts_of(total, {50000});
  HostBytes in(b.gpu, total, false);
  fill_random(in.span(), 11);
  auto dev = hd::Allocation::create(hetex::MemoryKind::device, b.gpu.backend_ptr(), total, "test").value();
  struct UploadOnly final : hd::StagedWork {
    const std::uint8_t* src;
    std::uint8_t* dst;
    Status pack(hd::Chunk& c, const hd::SlotMemory&) override {
      c.upload(dst + c.begin, src + c.begin, c.end - c.begin, false);
      return {};
    }
  } w;
  w.src = in.data();
  w.dst = static_cast<std::uint8_t*>(dev->device_ptr());
  if (b.set_latency) b.set_latency(std::chrono::microseconds(300));
  auto o = options_for(cuts, 3);
  auto p = hd::StagingPipeline::create(b.streams, w, o).value();
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) ASSERT_TRUE(p.submit(cuts[i], cuts[i + 1]));
  auto gate = p.detach();
  ASSERT_TRUE(gate) << gate.error().describe();
  ASSERT_TRUE(*gate);
  ASSERT_TRUE((*gate)->wait());
  if (b.set_latency) b.set_latency(std::chrono::microseconds(0));
  HostBytes back(b.gpu, total, true);
  // Read back on a stream none of the chunks ran on: only the gate orders it after them.
  auto s = Stream::create(b.gpu).value();
  ASSERT_TRUE(s.impl().copy(back.data(), dev->device_ptr(), total));
  ASSERT_TRUE(s.synchronize());
  EXPECT_TRUE(std::equal(back.span().begin(), back.span().end(), in.span().begin()));
}

}  // namespace staging_cases
