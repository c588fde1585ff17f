// SPDX-License-Identifier: MIT
// hetex::dist across the ranks of one job. Every test is collective: each rank runs it, in the
// same order (tests/dist/main.cpp starts MPI under a launcher, or one rank without it).
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "dist_test.hpp"
#include "hetex/dist/batch.hpp"
#include "hetex/dist/journal.hpp"
#include "hetex/dist/metrics.hpp"
#include "hetex/ops/sha256.hpp"

namespace hetex::dist {
namespace {

using namespace std::chrono_literals;

Runtime cpu_runtime() { return Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(); }

std::unique_ptr<Scheduler> cpu_scheduler(SchedulerOptions o = {}) {
  o.use_gpus = false;
  o.faults = FaultPlan{};
  o.calibration_file = std::filesystem::path{};
  return Scheduler::create(cpu_runtime(), std::move(o)).value();
}

// Small chunks, so that even a small batch is spread over every rank.
JobOptions small_chunks() {
  JobOptions o;
  o.chunk_seconds = 0.002;
  o.probe_cost = 64;
  o.min_cost = 16;
  o.max_cost = 4096;
  o.timeout = 20s;
  return o;
}

// Sets HETEX_DIST_FAULTS on every rank for the scope (every rank reads it: one spec, one job).
struct FaultsEnv {
  explicit FaultsEnv(const char* spec) { setenv("HETEX_DIST_FAULTS", spec, 1); }
  ~FaultsEnv() { unsetenv("HETEX_DIST_FAULTS"); }
};

// out[i] = 3 in[i] + 1, counting the items each rank computes. `work` adds that many rounds of
// arithmetic per item, for tests whose ranks must be measurably busy.
struct Affine {
  std::atomic<std::uint64_t> computed{0};
  std::atomic<std::uint64_t> poison{~0ull};
  int work = 0;
  Operation<SpanBatch<std::uint64_t>, std::uint64_t> op{
      "dist_affine",
      [this](const SpanBatch<std::uint64_t>& in, std::span<std::uint64_t> out) -> Status {
        for (std::size_t i = 0; i < in.size(); ++i) {
          if (in[i] == poison.load()) return Error(Errc::invalid_argument, "poisoned item");
          std::uint64_t x = in[i];
          for (int k = 0; k < work; ++k) x = x * 6364136223846793005ull + 1442695040888963407ull;
          asm volatile("" : : "r"(x));  // the rounds are the point: keep them
          out[i] = in[i] * 3 + 1;
        }
        computed += in.size();
        return {};
      },
      OperationOptions{.cpu_grain = 64, .gpu_min_chunk = 64}};
};

std::uint64_t sum_over_ranks(std::uint64_t mine) {
  auto all = comm().gather(std::to_string(mine)).value();
  std::uint64_t s = 0;
  for (auto& v : all) s += std::stoull(v);
  return std::stoull(comm().broadcast(std::to_string(s)).value());
}

// A path every rank agrees on (rank 0's temporary directory; the ranks share a host here).
std::filesystem::path shared_temp(const std::string& name) {
  std::string p;
  if (comm().is_root()) {
    p = (std::filesystem::temp_directory_path() / ("hetex-dist-" + std::to_string(::getpid()) + "-" + name)).string();
    std::filesystem::remove(p);
  }
  return comm().broadcast(p).value();
}

TEST(Comm, KnowsEveryRankAndItsHost) {
  const auto& c = comm();
  ASSERT_GE(c.size(), 1);
  ASSERT_EQ(c.hosts().size(), static_cast<std::size_t>(c.size()));
  for (const auto& h : c.hosts()) EXPECT_FALSE(h.empty());
  EXPECT_NE(c.describe(c.rank()).find("rank " + std::to_string(c.rank())), std::string::npos);
  auto all = c.gather("r" + std::to_string(c.rank())).value();
  if (c.is_root()) {
    ASSERT_EQ(all.size(), static_cast<std::size_t>(c.size()));
    for (int r = 0; r < c.size(); ++r) EXPECT_EQ(all[r], "r" + std::to_string(r));
  } else {
    EXPECT_TRUE(all.empty());
  }
  EXPECT_EQ(c.broadcast(c.is_root() ? "from root" : "").value(), "from root");
  EXPECT_TRUE(c.all(true).value());
  EXPECT_EQ(c.all(c.rank() != c.size() - 1).value(), false);
  // Debian's Open MPI is not CUDA-aware; whatever the library, the answer is a plain bool.
  if (c.uses_mpi()) EXPECT_NE(c.library(), "none");
}

TEST(Run, ResultsInInputOrderFromEveryRank) {
  Affine a;
  auto sched = cpu_scheduler();
  const std::size_t n = 20000;
  std::vector<std::uint64_t> in(comm().is_root() ? n : 0);
  std::iota(in.begin(), in.end(), 7);
  std::vector<std::uint64_t> out(in.size(), 0);
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), small_chunks());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed), n) << "every item computed exactly once, somewhere";
  if (!comm().is_root()) return;
  EXPECT_TRUE(r->all_ok());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i] * 3 + 1) << "item " << i;
  ASSERT_EQ(r->job.ranks.size(), static_cast<std::size_t>(comm().size()));
  std::size_t chunks = 0;
  for (const auto& rank : r->job.ranks) {
    EXPECT_GT(rank.chunks, 0u) << "rank " << rank.rank << " was given nothing";
    chunks += rank.chunks;
  }
  EXPECT_EQ(chunks, r->job.chunks);
}

// Chunks large enough that their items travel by reference from rank 0's input (a message of
// several parts), and rank 0's own results written in place: the output is still exact.
TEST(Run, LargeChunksTravelFromTheInputAndBack) {
  Affine a;
  auto sched = cpu_scheduler();
  const std::size_t n = 400'000;
  std::vector<std::uint64_t> in(comm().is_root() ? n : 0);
  std::iota(in.begin(), in.end(), 11);
  std::vector<std::uint64_t> out(in.size(), 0);
  auto o = small_chunks();
  o.probe_cost = o.min_cost = 20'000;  // 160 KB of input: spliced, not copied
  o.max_cost = 40'000;
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed), n);
  if (!comm().is_root()) return;
  EXPECT_TRUE(r->all_ok());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i] * 3 + 1) << "item " << i;
  for (const auto& rank : r->job.ranks) EXPECT_GT(rank.chunks, 0u) << "rank " << rank.rank << " was given nothing";
}

TEST(Run, Sha256OfMessagesMatchesOneProcess) {
  auto sched = cpu_scheduler();
  ops::PackedMessages msgs;
  std::mt19937_64 rng(42);
  if (comm().is_root())
    for (int i = 0; i < 3000; ++i) {
      std::vector<std::uint8_t> m(rng() % 700);
      for (auto& b : m) b = static_cast<std::uint8_t>(rng());
      msgs.add(std::span<const std::uint8_t>(m));
    }
  std::vector<ops::Digest> out(msgs.size()), want(msgs.size());
  auto o = small_chunks();
  o.probe_cost = 16;
  auto r = run(comm(), *sched, ops::sha256(), msgs.view(), std::span(out), o);
  ASSERT_TRUE(r) << r.error().describe();
  if (!comm().is_root()) return;
  ASSERT_TRUE(ops::sha256_cpu(msgs.view(), want));
  EXPECT_TRUE(out == want);
}

TEST(Run, Ed25519VerdictsMatchLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  auto sched = cpu_scheduler();
  std::vector<ops::PublicKey> keys;
  std::vector<ops::Signature> sigs;
  ops::PackedMessages msgs;
  std::vector<ops::Verdict> want;
  if (comm().is_root()) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 600; ++i) {
      ops::PublicKey pk;
      std::array<std::uint8_t, 64> sk;
      crypto_sign_keypair(pk.data(), sk.data());
      std::vector<std::uint8_t> m(rng() % 200);
      for (auto& b : m) b = static_cast<std::uint8_t>(rng());
      ops::Signature sig;
      crypto_sign_detached(sig.data(), nullptr, m.data(), m.size(), sk.data());
      if (i % 3 == 1) sig[rng() % 64] ^= 1;  // a third corrupted
      keys.push_back(pk);
      sigs.push_back(sig);
      msgs.add(std::span<const std::uint8_t>(m));
    }
  }
  ops::VerifyBatch batch{keys, sigs, msgs.view()};
  std::vector<ops::Verdict> out(batch.size());
  auto o = small_chunks();
  o.probe_cost = 8;
  auto r = run(comm(), *sched, ops::ed25519_verify(), batch, std::span(out), o);
  ASSERT_TRUE(r) << r.error().describe();
  if (!comm().is_root()) return;
  want.resize(batch.size());
  ASSERT_TRUE(ops::ed25519_verify_cpu(batch, want));
  EXPECT_TRUE(out == want);
  EXPECT_GT(std::count(out.begin(), out.end(), ops::Verdict::invalid), 100);
}

TEST(Run, MoreRanksThanChunks) {
  Affine a;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in(comm().is_root() ? 2 : 0, 5);
  std::vector<std::uint64_t> out(in.size());
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), small_chunks());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed), 2u);
  if (comm().is_root()) EXPECT_EQ(out, (std::vector<std::uint64_t>{16, 16}));
}

// One rank without a journal: the batch is one scheduler batch, with the same results.
TEST(Run, OneRankRunsOneSchedulerBatch) {
  if (comm().size() != 1) GTEST_SKIP() << "one rank only";
  Affine a;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in(50'000);
  std::iota(in.begin(), in.end(), 5);
  std::vector<std::uint64_t> out(in.size());
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), small_chunks());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->job.chunks, 1u);
  ASSERT_EQ(r->job.ranks.size(), 1u);
  EXPECT_EQ(r->job.ranks[0].cost, 50'000.0);
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] * 3 + 1) << "item " << i;
}

TEST(Run, EmptyBatch) {
  Affine a;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in, out;
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), small_chunks());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->job.chunks, 0u);
}

TEST(Run, ItemErrorsComeBackWithTheirInputIndex) {
  Affine a;
  a.poison = 1234;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in(comm().is_root() ? 5000 : 0);
  std::iota(in.begin(), in.end(), 0);
  std::vector<std::uint64_t> out(in.size());
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), small_chunks());
  ASSERT_TRUE(r) << r.error().describe();
  if (!comm().is_root()) return;
  ASSERT_FALSE(r->all_ok());
  std::size_t failed = 0;
  std::vector<bool> in_error(in.size(), false);
  for (const auto& e : r->errors) {
    EXPECT_LE(e.begin, 1234u);
    EXPECT_GT(e.end, 1234u) << "an error range that does not hold the poisoned item";
    failed += e.end - e.begin;
    for (auto i = e.begin; i < e.end; ++i) in_error[i] = true;
  }
  EXPECT_LT(failed, 5000u);
  // Every other item has its result; an item without one reads as zero, whichever rank ran it.
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in_error[i] ? 0 : in[i] * 3 + 1) << "item " << i;
}

// A rank at a fifth of its speed: the others take more chunks, and nothing is lost.
TEST(Run, UnevenRanksShareByThroughput) {
  if (comm().size() < 3) GTEST_SKIP() << "needs three ranks (a slow one and two others)";
  FaultsEnv slow("speed=1:0.2");
  Affine a;
  a.work = 2000;  // a few µs an item: about a second of work in all
  auto sched = cpu_scheduler();
  const std::size_t n = 100000;
  std::vector<std::uint64_t> in(comm().is_root() ? n : 0);
  std::iota(in.begin(), in.end(), 1);
  std::vector<std::uint64_t> out(in.size());
  auto o = small_chunks();
  o.chunk_seconds = 0.01;
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed), n);
  if (!comm().is_root()) return;
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i] * 3 + 1);
  const auto& ranks = r->job.ranks;
  EXPECT_LT(ranks[1].cost, 0.6 * ranks[2].cost) << "the rank at a fifth of its speed took about as much as rank 2";
}

// A rank whose scheduler has only a slow simulated GPU takes a smaller share.
TEST(Run, SlowSimulatedGpuRankTakesLess) {
  if (comm().size() < 2) GTEST_SKIP() << "needs two ranks";
  Affine a;
  a.work = 2000;
  SchedulerOptions so;
  if (comm().rank() == 1) {
    so.simulated_gpus.push_back({.latency = 200us, .items_per_second = 2e5});
    so.policy = PinnedPolicy{DeviceId::sim(0)};
  }
  auto sched = cpu_scheduler(so);
  const std::size_t n = 60000;
  std::vector<std::uint64_t> in(comm().is_root() ? n : 0);
  std::iota(in.begin(), in.end(), 1);
  std::vector<std::uint64_t> out(in.size());
  auto o = small_chunks();
  o.chunk_seconds = 0.01;
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o);
  ASSERT_TRUE(r) << r.error().describe();
  if (!comm().is_root()) return;
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i] * 3 + 1);
  EXPECT_LT(r->job.ranks[1].cost, r->job.ranks[0].cost + (comm().size() > 2 ? r->job.ranks[2].cost : 0));
  EXPECT_GT(r->job.ranks[1].cost, 0);
}

TEST(Journal, ResumeComputesOnlyWhatIsMissing) {
  const auto path = shared_temp("resume.journal");
  Affine a;
  auto sched = cpu_scheduler();
  const std::size_t n = 30000;
  std::vector<std::uint64_t> in(comm().is_root() ? n : 0);
  std::iota(in.begin(), in.end(), 3);
  auto o = small_chunks();
  o.journal = path;
  o.fingerprint = "iota-3";

  std::vector<std::uint64_t> first(in.size());
  auto r1 = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(first), o);
  ASSERT_TRUE(r1) << r1.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed.exchange(0)), n);

  // Everything is in the journal: a second run computes nothing.
  std::vector<std::uint64_t> second(in.size());
  auto r2 = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(second), o);
  ASSERT_TRUE(r2) << r2.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed.exchange(0)), 0u);
  if (comm().is_root()) {
    EXPECT_EQ(second, first);
    EXPECT_EQ(r2->job.journal_units, n);
    EXPECT_EQ(r2->job.chunks, 0u);
  }

  // Keep the first half of the journal's bytes (the cut lands inside a record): the rest is
  // computed again, and only the rest.
  std::uint64_t kept_units = 0;
  if (comm().is_root()) {
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size / 2);
    std::vector<Journal::Record> records;
    auto j = Journal::open(path, "dist_affine|" + std::to_string(n) + "|r2|iota-3", records);
    ASSERT_TRUE(j) << j.error().describe();
    for (auto& rec : records) kept_units += rec.range.end - rec.range.begin;
    EXPECT_GT(kept_units, 0u);
    EXPECT_LT(kept_units, n);
  }
  kept_units = std::stoull(comm().broadcast(std::to_string(kept_units)).value());
  std::vector<std::uint64_t> third(in.size());
  auto r3 = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(third), o);
  ASSERT_TRUE(r3) << r3.error().describe();
  EXPECT_EQ(sum_over_ranks(a.computed.exchange(0)), n - kept_units) << "redid more than what was missing";
  if (comm().is_root()) {
    EXPECT_EQ(third, first);
    EXPECT_EQ(r3->job.journal_units, kept_units);
    std::filesystem::remove(path);
  }
}

TEST(Journal, OfAnotherJobIsRefused) {
  const auto path = shared_temp("other.journal");
  Affine a;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in(comm().is_root() ? 100 : 0, 1), out(in.size());
  auto o = small_chunks();
  o.journal = path;
  o.fingerprint = "first input";
  ASSERT_TRUE(run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o));
  o.fingerprint = "another input";
  auto r = run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o);
  if (comm().is_root()) {
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("belongs to another job"), std::string::npos) << r.error().message();
    std::filesystem::remove(path);
  } else {
    EXPECT_FALSE(r) << "a worker of a refused job must hear that it is over";
  }
}

TEST(Metrics, EveryRankLabelsItsSeriesAndRankZeroAggregates) {
  metrics::Registry reg;
  auto trace = std::make_shared<metrics::TraceRecorder>();
  auto obs = RankObserver::create(comm(), reg, trace).value();
  Affine a;
  auto sched = cpu_scheduler();
  std::vector<std::uint64_t> in(comm().is_root() ? 20000 : 0, 2), out(in.size());
  auto o = small_chunks();
  o.observer = obs;
  o.heartbeat = 20ms;
  ASSERT_TRUE(run(comm(), *sched, a.op, SpanBatch<std::uint64_t>{in}, std::span(out), o));
  const auto mine = obs->rank_text();
  EXPECT_NE(mine.find("hetex_dist_chunks_total{rank=\"" + std::to_string(comm().rank()) + "\"}"), std::string::npos)
      << mine;
  if (!comm().is_root()) return;
  const auto all = obs->aggregate_text();
  EXPECT_EQ(all.find("# TYPE hetex_dist_chunks_total counter"), all.rfind("# TYPE hetex_dist_chunks_total counter"))
      << "a family declared twice";
  // Snapshots travel with heartbeats: short jobs may end before every rank sent one.
  EXPECT_NE(all.find("hetex_dist_chunks_total{rank=\"0\"}"), std::string::npos);
  auto json = nlohmann::json::parse(obs->merged_trace_json());
  std::set<int> pids;
  for (const auto& e : json["traceEvents"]) pids.insert(e["pid"].get<int>());
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(comm().size())) << "one process row per rank";
}

// Pure functions: the same on every rank.
TEST(Metrics, LabelsAndMerge) {
  const std::string text =
      "# HELP a_total A\n# TYPE a_total counter\na_total 3\n# HELP b B\n# TYPE b gauge\nb{x=\"1\"} 2\nb{} 1\n";
  const auto labelled = with_label(text, "rank", "4");
  EXPECT_NE(labelled.find("a_total{rank=\"4\"} 3\n"), std::string::npos) << labelled;
  EXPECT_NE(labelled.find("b{rank=\"4\",x=\"1\"} 2\n"), std::string::npos) << labelled;
  EXPECT_NE(labelled.find("b{rank=\"4\"} 1\n"), std::string::npos) << labelled;
  const auto merged = merge_expositions({labelled, with_label(text, "rank", "5")});
  EXPECT_EQ(merged.find("# TYPE a_total"), merged.rfind("# TYPE a_total"));
  EXPECT_NE(merged.find("a_total{rank=\"5\"} 3\n"), std::string::npos) << merged;
  EXPECT_LT(merged.find("# TYPE a_total"), merged.find("a_total{rank=\"5\"}"));
}

TEST(JournalFile, TornTailIsCutAndAppendsFollowTheLastGoodRecord) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("hetex-journal-" + std::to_string(::getpid()) + "-" + std::to_string(comm().rank()));
  std::filesystem::remove(path);
  std::vector<Journal::Record> recs;
  {
    auto j = Journal::open(path, "fp", recs).value();
    EXPECT_TRUE(recs.empty());
    ASSERT_TRUE(j.append({0, 10}, 10, std::vector<std::uint8_t>(10, 1)));
    ASSERT_TRUE(j.append({10, 25}, 15, std::vector<std::uint8_t>(15, 2)));
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  {
    auto j = Journal::open(path, "fp", recs).value();
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_EQ(recs[0].range, (Range{0, 10}));
    EXPECT_EQ(recs[0].result, std::vector<std::uint8_t>(10, 1));
    ASSERT_TRUE(j.append({10, 20}, 10, std::vector<std::uint8_t>(3, 7)));
  }
  {
    auto j = Journal::open(path, "fp", recs).value();
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[1].range, (Range{10, 20}));
    EXPECT_EQ(recs[1].result, std::vector<std::uint8_t>(3, 7));
  }
  auto other = Journal::open(path, "another", recs);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), Errc::invalid_argument);
  std::ofstream(path) << "not a journal at all";
  EXPECT_FALSE(Journal::open(path, "fp", recs));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hetex::dist
