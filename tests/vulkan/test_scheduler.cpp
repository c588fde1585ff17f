// SPDX-License-Identifier: MIT
// The Vulkan backend as a scheduler device: a Runtime asked for the CPU and a Vulkan device (the
// hardware ones, else lavapipe), batches Pinned to it, Split across it and the CPU, and routed by
// Adaptive give the CPU reference's results bit for bit, and the reports show the Vulkan device's
// items; injected out-of-memory and device loss on it are redone on the CPU, each item once.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "../ops/test_ed25519_cases.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/image_scheduled.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"
#include "vulkan/instance.hpp"

namespace hetex {
namespace {

// The Runtime of these tests: the CPU and the first Vulkan device asked for by kind (a hardware
// one, else lavapipe), or why there is none. The library's Vulkan instance runs with the
// validation layer; every message it gives fails the test that caused it.
const Result<Runtime>& runtime() {
  static const Result<Runtime> rt = []() -> Result<Runtime> {
    ::setenv("HETEX_VULKAN_VALIDATION", "1", 0);
    auto any = HETEX_TRY(Runtime::create({.devices = "vulkan", .announce_cpu_only = false}));
    return Runtime::create({.devices = "cpu," + any.gpus().front().id().to_string(), .announce_cpu_only = false});
  }();
  return rt;
}

std::uint64_t validation_messages() {
  auto instance = vulkan::Instance::process();
  return instance ? (*instance)->message_count() : 0;
}

class VulkanScheduling : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!runtime()) GTEST_SKIP() << "no Vulkan device: " << runtime().error().describe();
    ASSERT_EQ(runtime()->gpus().size(), 1u);
    vk = runtime()->gpus().front().id();
    ASSERT_EQ(vk.kind, DeviceKind::vulkan);
    messages_before = validation_messages();
  }
  void TearDown() override {
    EXPECT_EQ(validation_messages(), messages_before) << "Vulkan validation messages (on stderr)";
  }
  std::unique_ptr<Scheduler> scheduler(Policy policy, FaultPlan faults = {}) {
    SchedulerOptions o;
    o.policy = policy;
    o.faults = faults;
    o.calibration_file = std::filesystem::path();  // nothing learnt elsewhere, nothing saved
    auto s = Scheduler::create(*runtime(), o);
    EXPECT_TRUE(s) << s.error().describe();
    return s ? std::move(*s) : nullptr;
  }
  // Tells a scheduler that the CPU and the Vulkan device run `key` equally fast, so Split shares
  // its batches between them (lavapipe, on the CPU's own cores, would rarely earn a share).
  // (`per_item` seconds an item: enough that a split pays for its hand-offs.)
  void believe_equal(Scheduler& s, const std::string& key, double per_item = 1e-8) const {
    for (DeviceId d : {DeviceId::cpu(), vk})
      for (std::size_t n = 512; n <= (std::size_t(1) << 24); n *= 2)
        for (std::size_t i = 0; i < CostModel::kCalibrated; ++i)
          s.cost_model().record(CostModel::Key::alone(key, d, Residency::host), n, 1e-5 + double(n) * per_item);
  }
  static std::size_t items_on(const ExecReport& r, DeviceId id) {
    std::size_t n = 0;
    for (const auto& d : r.stats.devices)
      if (d.device == id) n += d.items;
    return n;
  }
  DeviceId vk;
  std::uint64_t messages_before = 0;
};

struct Vectors {
  std::vector<float> x, y, want;
  explicit Vectors(std::size_t n, unsigned seed) : x(n), y(n), want(n) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-1e3f, 1e3f);
    for (std::size_t i = 0; i < n; ++i) x[i] = d(rng), y[i] = d(rng);
    EXPECT_TRUE(ops::vector_cpu(ops::VectorKind::add, {x, y}, want));
  }
};

struct Messages {
  std::vector<std::uint8_t> data;
  std::vector<std::uint64_t> offsets{0};
  std::vector<ops::Digest> want;
  Messages(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t len = rng() % 120;
      for (std::size_t b = 0; b < len; ++b) data.push_back(static_cast<std::uint8_t>(rng()));
      offsets.push_back(data.size());
    }
    want.resize(n);
    EXPECT_TRUE(ops::sha256_cpu(batch(), want));
  }
  ops::MessageBatch batch() const { return {data, offsets}; }
};

TEST_F(VulkanScheduling, PinnedToTheVulkanDeviceMatchesTheCpu) {
  auto s = scheduler(PinnedPolicy{vk});
  ASSERT_TRUE(s);
  const Vectors v((1 << 20) + 37, 1);
  std::vector<float> out(v.x.size(), -1);
  auto r = s->run(ops::vector_add(), ZipBatch<float>{v.x, v.y}, std::span(out));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(out, v.want);
  EXPECT_EQ(items_on(*r, vk), v.x.size());

  const Messages m(5003, 2);
  std::vector<ops::Digest> digests(m.want.size());
  auto h = s->run(ops::sha256(), m.batch(), std::span(digests));
  ASSERT_TRUE(h) << h.error().describe();
  EXPECT_EQ(digests, m.want);
  EXPECT_EQ(items_on(*h, vk), m.want.size());

  const auto set = ed25519_test::random_dataset(97, 3);
  const auto want = ed25519_test::sodium_verdicts(set.data.batch());
  std::vector<ops::Verdict> verdicts(want.size(), ops::Verdict{7});
  auto e = s->run(ops::ed25519_verify(), set.data.batch(), std::span(verdicts));
  ASSERT_TRUE(e) << e.error().describe();
  EXPECT_TRUE(ed25519_test::same_verdicts(want, verdicts, set.data));
  EXPECT_EQ(items_on(*e, vk), want.size());
}

// The image pipeline's rows: pinned to the Vulkan device (each stripe with its halo rows) and
// split between it and the CPU, OpenCV-identical like the CPU's; a blur on colour frames is not
// fused and runs over whole images.
TEST_F(VulkanScheduling, ImageRowsMatchTheCpu) {
  std::mt19937 rng(9);
  image::Image img = image::make_image({301, 640, 3});
  for (auto& px : img.pixels) px = static_cast<std::uint8_t>(rng());
  for (bool split : {false, true}) {
    SCOPED_TRACE(split ? "split" : "pinned");
    auto s = split ? scheduler(SplitPolicy{}) : scheduler(PinnedPolicy{vk});
    ASSERT_TRUE(s);
    for (const image::Pipeline& p :
         {image::Pipeline{.sigma = 2.0, .edges = image::Edges::magnitude}, image::Pipeline{.sigma = 1.5}}) {
      const auto want = image::run_cpu(p, image::view(img)).value();
      std::vector<std::uint8_t> out(want.pixels.size(), 7);
      if (split) {
        auto probe = image::frame_rows(p, image::view(img), out).value();
        believe_equal(*s, image::rows_operation().cost_key(probe), 1e-4);
      }
      std::vector<std::uint8_t> done(static_cast<std::size_t>(img.shape.height));
      auto rows = image::frame_rows(p, image::view(img), out);
      ASSERT_TRUE(rows) << rows.error().describe();
      auto r = s->run(image::rows_operation(), *rows, std::span(done));
      ASSERT_TRUE(r) << r.error().describe();
      EXPECT_EQ(out, want.pixels);
      EXPECT_GT(items_on(*r, vk), 0u);
      if (split) EXPECT_GT(items_on(*r, DeviceId::cpu()), 0u);
    }
  }
}

// Split shares batches between devices it believes equally fast; Adaptive calibrates each device
// alone, then routes each batch whole. Either way every batch is the CPU's result.
template <class Run>
void until_shared(Run run, bool both, int batches) {
  bool seen = false;
  for (int i = 0; i < batches && !seen; ++i) seen = run(both);
  EXPECT_TRUE(seen) << "no batch in " << batches << " ran " << (both ? "on the CPU and" : "on") << " the Vulkan device";
}

TEST_F(VulkanScheduling, SplitAndAdaptiveVectorsMatchTheCpu) {
  const Vectors v(3 << 20, 4);
  for (bool split : {true, false}) {
    SCOPED_TRACE(split ? "split" : "adaptive");
    auto s = split ? scheduler(SplitPolicy{}) : scheduler(AdaptivePolicy{});
    ASSERT_TRUE(s);
    if (split) believe_equal(*s, ops::vector_add().name());
    until_shared(
        [&](bool both) {
          std::vector<float> out(v.x.size(), -1);
          auto r = s->run(ops::vector_add(), ZipBatch<float>{v.x, v.y}, std::span(out));
          EXPECT_TRUE(r) << r.error().describe();
          if (!r) return true;
          EXPECT_EQ(out, v.want);
          return items_on(*r, vk) > 0 && (!both || items_on(*r, DeviceId::cpu()) > 0);
        },
        split, 8);
  }
}

TEST_F(VulkanScheduling, SplitAndAdaptiveSha256MatchTheCpu) {
  const Messages m(150000, 5);
  for (bool split : {true, false}) {
    SCOPED_TRACE(split ? "split" : "adaptive");
    auto s = split ? scheduler(SplitPolicy{}) : scheduler(AdaptivePolicy{});
    ASSERT_TRUE(s);
    if (split) believe_equal(*s, ops::sha256().cost_key(m.batch()));
    until_shared(
        [&](bool both) {
          std::vector<ops::Digest> out(m.want.size());
          auto r = s->run(ops::sha256(), m.batch(), std::span(out));
          EXPECT_TRUE(r) << r.error().describe();
          if (!r) return true;
          EXPECT_EQ(out, m.want);
          return items_on(*r, vk) > 0 && (!both || items_on(*r, DeviceId::cpu()) > 0);
        },
        split, 8);
  }
}

TEST_F(VulkanScheduling, AdaptiveEd25519MatchesSodium) {
  const auto set = ed25519_test::random_dataset(64, 6);
  const auto want = ed25519_test::sodium_verdicts(set.data.batch());
  auto s = scheduler(AdaptivePolicy{});
  ASSERT_TRUE(s);
  until_shared(
      [&](bool) {
        std::vector<ops::Verdict> out(want.size(), ops::Verdict{7});
        auto r = s->run(ops::ed25519_verify(), set.data.batch(), std::span(out));
        EXPECT_TRUE(r) << r.error().describe();
        if (!r) return true;
        EXPECT_TRUE(ed25519_test::same_verdicts(want, out, set.data));
        return items_on(*r, vk) > 0;
      },
      false, 6);
}

// A split needs a share of at least the operation's gpu_min_chunk (4096 signatures) for the
// device: lavapipe verifies its first piece (half of that) in a few seconds.
TEST_F(VulkanScheduling, SplitEd25519MatchesSodium) {
  const auto& min_share = ops::ed25519_verify().info().options.gpu_min_chunk;
  const auto set = ed25519_test::random_dataset(2 * min_share + 11, 10);
  const auto want = ed25519_test::sodium_verdicts(set.data.batch());
  auto s = scheduler(SplitPolicy{});
  ASSERT_TRUE(s);
  believe_equal(*s, ops::ed25519_verify().cost_key(set.data.batch()), 1e-4);
  std::vector<ops::Verdict> out(want.size(), ops::Verdict{7});
  auto r = s->run(ops::ed25519_verify(), set.data.batch(), std::span(out));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(ed25519_test::same_verdicts(want, out, set.data));
  EXPECT_GT(items_on(*r, vk), 0u);
  EXPECT_GT(items_on(*r, DeviceId::cpu()), 0u);
}

// Every attempt on the Vulkan device fails before it runs: each item is computed on the CPU,
// exactly once (the records of done work tile the batch), and the results are the CPU's.
TEST_F(VulkanScheduling, InjectedFaultsAreRedoneOnTheCpuOnce) {
  for (bool lost : {false, true}) {
    SCOPED_TRACE(lost ? "device lost" : "out of memory");
    FaultPlan plan;
    (lost ? plan.device_lost : plan.out_of_memory) = 1;
    plan.seed = 7;
    auto s = scheduler(PinnedPolicy{vk}, plan);
    ASSERT_TRUE(s);
    const Vectors v((1 << 16) + 5, 8);
    std::vector<float> out(v.x.size(), -1);
    auto r = s->run(ops::vector_add(), ZipBatch<float>{v.x, v.y}, std::span(out));
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(out, v.want);
    EXPECT_EQ(items_on(*r, vk), 0u);
    EXPECT_EQ(items_on(*r, DeviceId::cpu()), v.x.size());
    ASSERT_FALSE(r->stats.faults.empty());
    EXPECT_EQ(r->stats.faults.front(), lost ? Errc::device_lost : Errc::out_of_memory);
    std::vector<int> done(v.x.size(), 0);
    for (const auto& c : r->stats.chunks)
      if (c.outcome == ChunkRecord::Outcome::done)
        for (std::size_t i = c.begin; i < c.end; ++i) ++done[i];
    EXPECT_TRUE(std::all_of(done.begin(), done.end(), [](int d) { return d == 1; }));
    // An injected loss leaves the device itself healthy (it is suspended, not retired).
    EXPECT_TRUE(runtime()->gpus().front().healthy());
  }
}

// With nothing asked for, a Runtime leaves software Vulkan devices (lavapipe) out.
TEST(VulkanRuntime, SoftwareDevicesRunOnlyWhenAskedFor) {
  auto rt = Runtime::create({.devices = std::nullopt, .announce_cpu_only = false});
  ASSERT_TRUE(rt) << rt.error().describe();
  for (const auto& g : rt->gpus()) EXPECT_FALSE(g.backend()->software()) << g.describe();
  auto asked = Runtime::create({.devices = "vulkan:0", .announce_cpu_only = false});
  if (!asked) GTEST_SKIP() << asked.error().describe();
  ASSERT_EQ(asked->gpus().size(), 1u);
  EXPECT_EQ(asked->gpus().front().id(), (DeviceId{DeviceKind::vulkan, 0}));
  EXPECT_EQ(asked->gpus().front().describe().rfind("vulkan:0 (", 0), 0u);
}

}  // namespace
}  // namespace hetex
