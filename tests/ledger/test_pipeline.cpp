// SPDX-License-Identifier: MIT
// The whole pipeline on generated files: blocks equal to the reference, chained headers, RFC 6962
// roots; a GPU that faults loses nothing; a bad line stops the run before its block commits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hetex/ledger/pipeline.hpp"
#include "hetex/ledger/stages.hpp"
#include "hetex/ledger/workload.hpp"
#include "ledger_test_util.hpp"

namespace hetex::ledger {
namespace {

Runtime cpu_runtime() { return Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(); }

SchedulerOptions quiet_options() {
  SchedulerOptions o;
  o.use_gpus = false;
  o.faults = FaultPlan{};
  o.calibration_file = std::filesystem::path{};
  return o;
}

struct Fixture {
  Workload w;
  test::TempDir dir;
  std::filesystem::path file;
  explicit Fixture(WorkloadOptions o) : w(generate_workload(o).value()), file(dir / "txs.txt") {
    test::write_lines(file, test::transfer_lines(w.transfers));
  }
};

// Expected blocks: statuses by the reference, headers chained from the genesis hash.
void expect_blocks(const Fixture& f, const test::MemorySink& sink, std::size_t block_size, std::size_t from_block = 0,
                   const AccountState* final_state = nullptr) {
  const auto txs = test::verified(f.w.transfers);
  const auto lines = test::transfer_lines(f.w.transfers);
  AccountState ref(f.w.genesis);
  Hash parent = f.w.genesis.hash;
  const std::size_t blocks = (txs.size() + block_size - 1) / block_size;
  ASSERT_EQ(sink.blocks.size(), blocks - from_block);
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t begin = b * block_size, n = std::min(block_size, txs.size() - begin);
    const auto statuses = apply_in_order(ref, std::span(txs).subspan(begin, n));
    std::vector<Hash> ids;
    for (std::size_t i = 0; i < n; ++i) ids.push_back(transaction_id(lines[begin + i]));
    BlockHeader h{b + 1, parent, merkle_root_reference(ids), 0, 0};
    for (auto s : statuses) (s == TxStatus::applied ? h.accepted : h.rejected)++;
    parent = block_hash(h);
    if (b < from_block) continue;
    const auto& got = sink.blocks[b - from_block];
    ASSERT_EQ(got.header, h) << "block " << b + 1;
    EXPECT_EQ(got.hash, parent);
    EXPECT_EQ(got.statuses, statuses) << "block " << b + 1;
    EXPECT_EQ(got.ids, ids);
    for (const auto& [key, account] : got.accounts) EXPECT_EQ(*ref.find(key), account);
  }
  if (final_state) {
    EXPECT_TRUE(*final_state == ref);
  }
}

TEST(Pipeline, BlocksEqualTheReferenceAndChainFromTheGenesis) {
  Fixture f({.accounts = 300, .transactions = 2100, .zipf = 1.1, .invalid = 0.15, .seed = 11});
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  for (unsigned threads : {1u, 3u}) {
    AccountState state(f.w.genesis);
    test::MemorySink sink;
    std::size_t callbacks = 0;
    PipelineOptions o{.block_size = 256, .executor_threads = threads, .queue_blocks = 1};
    o.on_commit = [&](const CommittedBlock& b) { EXPECT_EQ(b.header.height, ++callbacks); };
    auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, o);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->blocks, 9u);
    EXPECT_EQ(r->transactions, 2100u);
    EXPECT_EQ(r->first_height, 1u);
    EXPECT_EQ(r->last_height, 9u);
    EXPECT_EQ(callbacks, 9u);
    expect_blocks(f, sink, 256, 0, &state);
  }
}

// Counts what the scheduler redid on the CPU after a (simulated) GPU failed.
struct FallbackCounter final : SchedulerObserver {
  std::atomic<std::size_t> fallback{0}, gpu_items{0};
  void on_batch(const ExecStats& s) override {
    fallback += s.fallback_items;
    for (const auto& d : s.devices)
      if (test::device_name(d.device) != "cpu") gpu_items += d.items;
  }
};

TEST(Pipeline, AFaultyGpuCostsNoTransaction) {
  Fixture f({.accounts = 200, .transactions = 1500, .zipf = 0.5, .invalid = 0.2, .seed = 12});
  auto observer = std::make_shared<FallbackCounter>();
  auto o = quiet_options();
  SimulatedGpu gpu;
  gpu.latency = std::chrono::microseconds(10);
  gpu.items_per_second = 1e12;
  o.simulated_gpus = {gpu};
  o.faults = FaultPlan{.out_of_memory = 0.2, .kernel_fault = 0.3, .seed = 5};
  o.policy = ThresholdPolicy{.min_gpu_items = 1};  // every batch to the (faulty) GPU first
  o.breaker_backoff = std::chrono::milliseconds(0);
  o.observer = observer;
  auto sched = Scheduler::create(cpu_runtime(), o).value();
  AccountState state(f.w.genesis);
  test::MemorySink sink;
  auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, {.block_size = 300});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_GT(observer->fallback.load(), 0u) << "the injected faults should have sent work back to the CPU";
  EXPECT_GT(observer->gpu_items.load(), 0u);
  expect_blocks(f, sink, 300, 0, &state);
}

// On the GPU machine: the real GPU verifies and hashes, once cleanly and once with injected
// faults (reported in place of the chunks' real outcomes); the blocks are the reference's both times.
TEST(Pipeline, TheGpuGivesTheReferenceBlocksWithAndWithoutFaults) {
  auto rt = Runtime::create({.announce_cpu_only = false}).value();
  if (!rt.has_gpu()) GTEST_SKIP() << "no GPU: " << rt.gpu_unavailable_reason();
  Fixture f({.accounts = 2000, .transactions = 30000, .zipf = 0.8, .invalid = 0.1, .seed = 18});
  for (bool faults : {false, true}) {
    auto observer = std::make_shared<FallbackCounter>();
    auto o = quiet_options();
    o.use_gpus = true;
    o.policy = ThresholdPolicy{.min_gpu_items = 1};
    if (faults) o.faults = FaultPlan{.out_of_memory = 0.1, .kernel_fault = 0.2, .seed = 9};
    o.breaker_backoff = std::chrono::milliseconds(0);
    o.observer = observer;
    auto sched = Scheduler::create(rt, o).value();
    AccountState state(f.w.genesis);
    test::MemorySink sink;
    auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, {.block_size = 10000});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_GT(observer->gpu_items.load(), 0u) << "faults " << faults;
    if (faults) {
      EXPECT_GT(observer->fallback.load(), 0u);
    }
    expect_blocks(f, sink, 10000, 0, &state);
  }
}

TEST(Pipeline, ABadLineStopsTheRunBeforeItsBlockNamingTheLine) {
  Fixture f({.accounts = 50, .transactions = 1000, .seed = 13});
  auto lines = test::transfer_lines(f.w.transfers);
  lines[2 * 128 + 17] += " extra";  // line 274, block 3
  test::write_lines(f.file, lines);
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  AccountState state(f.w.genesis);
  test::MemorySink sink;
  auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, {.block_size = 128});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find("line 274"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("unexpected field 6"), std::string::npos) << r.error().message();
  ASSERT_EQ(sink.blocks.size(), 2u) << "blocks 1 and 2 commit; nothing of block 3 does";
  EXPECT_EQ(sink.blocks.back().header.height, 2u);
}

TEST(Pipeline, ACommitFailureStopsEverythingAfterIt) {
  Fixture f({.accounts = 50, .transactions = 1000, .seed = 14});
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  AccountState state(f.w.genesis);
  test::MemorySink sink;
  sink.fail_at_height = 4;
  auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, {.block_size = 100});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("injected commit failure"), std::string::npos);
  EXPECT_EQ(sink.blocks.size(), 3u);
}

TEST(Pipeline, ResumingChecksTheInputAgainstTheTip) {
  Fixture f({.accounts = 80, .transactions = 900, .invalid = 0.1, .seed = 15});
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  AccountState full_state(f.w.genesis);
  test::MemorySink full;
  ASSERT_TRUE(run_pipeline(*sched, f.file, full_state, Tip{0, f.w.genesis.hash, {}}, full, {.block_size = 100}));
  ASSERT_EQ(full.blocks.size(), 9u);

  // From the tip after block 4 (its state rebuilt from the committed accounts), blocks 5..9.
  AccountState state(f.w.genesis);
  for (std::size_t b = 0; b < 4; ++b)
    for (const auto& [k, a] : full.blocks[b].accounts) state.set(k, a);
  const Tip tip{4, full.blocks[3].hash, full.blocks[3].header};
  test::MemorySink rest;
  auto r = run_pipeline(*sched, f.file, state, tip, rest, {.block_size = 100});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->first_height, 5u);
  expect_blocks(f, rest, 100, 4, &state);
  EXPECT_TRUE(state == full_state);

  // Another file (one line changed in block 4) is refused, as is one shorter than the chain.
  auto lines = test::transfer_lines(f.w.transfers);
  std::swap(lines[350], lines[351]);
  test::write_lines(f.dir / "other.txt", lines);
  test::MemorySink none;
  auto other = run_pipeline(*sched, f.dir / "other.txt", state, tip, none, {.block_size = 100});
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("not the input this database was built from"), std::string::npos)
      << other.error().message();
  lines.resize(300);
  test::write_lines(f.dir / "short.txt", lines);
  auto shorter = run_pipeline(*sched, f.dir / "short.txt", state, tip, none, {.block_size = 100});
  ASSERT_FALSE(shorter);
  EXPECT_NE(shorter.error().message().find("fewer than 4 blocks"), std::string::npos) << shorter.error().message();
  EXPECT_TRUE(none.blocks.empty());
}

TEST(Pipeline, MetricsCountEveryStageAndTheTraceShowsBlocksOverlapping) {
  Fixture f({.accounts = 100, .transactions = 1200, .invalid = 0.1, .seed = 17});
  metrics::Registry registry;
  auto trace = std::make_shared<metrics::TraceRecorder>();
  auto m = LedgerMetrics::create(registry, trace).value();
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  AccountState state(f.w.genesis);
  test::MemorySink sink;
  auto r = run_pipeline(*sched, f.file, state, Tip{0, f.w.genesis.hash, {}}, sink, {.block_size = 100, .metrics = m});
  ASSERT_TRUE(r) << r.error().describe();
  const auto text = registry.prometheus_text();
  for (const char* stage : {"parse", "verify", "hash", "execute", "commit"})
    EXPECT_NE(text.find(std::string("hetex_ledger_stage_items_total{stage=\"") + stage + "\"} 1200"), std::string::npos)
        << stage << "\n"
        << text;
  EXPECT_NE(text.find("hetex_ledger_blocks_total 12"), std::string::npos);
  EXPECT_NE(text.find("hetex_ledger_height 12"), std::string::npos);
  EXPECT_NE(text.find("hetex_ledger_executions_total"), std::string::npos);
  EXPECT_NE(text.find("hetex_ledger_stage_seconds_count{stage=\"verify\"} 12"), std::string::npos);
  EXPECT_NE(text.find("hetex_ledger_transactions_total{status=\"applied\"} " + std::to_string(r->by_status[0])),
            std::string::npos);

  // Events of the ledger's stages, one per stage and block; some of different blocks overlap.
  struct Span {
    double begin, end;
    std::int64_t height;
  };
  std::vector<Span> spans;
  const auto json = nlohmann::json::parse(trace->chrome_trace_json());
  for (const auto& e : json["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "ledger")
      spans.push_back({e["ts"].get<double>(), e["ts"].get<double>() + e["dur"].get<double>(),
                       e["args"]["height"].get<std::int64_t>()});
  EXPECT_EQ(spans.size(), 5u * 12u);
  bool overlap = false;
  for (const auto& a : spans)
    for (const auto& b : spans) overlap |= a.height != b.height && a.begin < b.end && b.begin < a.end;
  EXPECT_TRUE(overlap) << "no two blocks were in the pipeline at once";
}

TEST(Stages, MerkleRootsFollowRfc6962) {
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  std::vector<Hash> ids;
  for (std::size_t n = 0; n <= 70; ++n) {
    EXPECT_EQ(merkle_root(*sched, ids).value(), merkle_root_reference(ids)) << n;
    Hash h{};
    h[0] = static_cast<std::uint8_t>(n);
    h[31] = 0xAB;
    ids.push_back(h);
  }
  // A width that goes through the scheduler (levels >= 2048 nodes), odd at several levels.
  std::vector<Hash> many(5001);
  for (std::size_t i = 0; i < many.size(); ++i)
    many[i] = sha256_of(std::span(reinterpret_cast<const std::uint8_t*>(&i), sizeof i));
  EXPECT_EQ(merkle_root(*sched, many).value(), merkle_root_reference(many));
  // The definition by hand for three leaves: node(node(leaf0, leaf1), leaf2).
  auto leaf = [](const Hash& id) {
    std::vector<std::uint8_t> b{0x00};
    b.insert(b.end(), id.begin(), id.end());
    return sha256_of(b);
  };
  auto node = [](const Hash& l, const Hash& r) {
    std::vector<std::uint8_t> b{0x01};
    b.insert(b.end(), l.begin(), l.end());
    b.insert(b.end(), r.begin(), r.end());
    return sha256_of(b);
  };
  const std::vector<Hash> three(ids.begin(), ids.begin() + 3);
  EXPECT_EQ(merkle_root_reference(three), node(node(leaf(three[0]), leaf(three[1])), leaf(three[2])));
  EXPECT_EQ(to_hex(merkle_root_reference({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Stages, VerificationMatchesLibsodiumOnEveryTransfer) {
  const auto w = generate_workload({.accounts = 30, .transactions = 400, .invalid = 0.5, .seed = 16}).value();
  auto sched = Scheduler::create(cpu_runtime(), quiet_options()).value();
  std::vector<VerifiedTransfer> txs(w.transfers.size());
  for (std::size_t i = 0; i < txs.size(); ++i) txs[i].transfer = w.transfers[i];
  ASSERT_TRUE(verify_signatures(*sched, txs));
  for (std::size_t i = 0; i < txs.size(); ++i)
    EXPECT_EQ(txs[i].signature_valid, w.intended[i] != TxStatus::bad_signature) << i;
}

}  // namespace
}  // namespace hetex::ledger
