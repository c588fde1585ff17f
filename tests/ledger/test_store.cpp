// SPDX-License-Identifier: MIT
// The RocksDB store: blocks committed through the pipeline survive a reopen, a run resumes after
// the tip, and a database from another genesis or block size is refused.
#include <gtest/gtest.h>

#include "hetex/ledger/pipeline.hpp"
#include "hetex/ledger/store.hpp"
#include "ledger_test_util.hpp"

namespace hetex::ledger {
namespace {

#define REQUIRE_STORE() \
  if (!store_available()) GTEST_SKIP() << "built without RocksDB (HETEX_ROCKSDB)"

SchedulerOptions quiet_options() {
  SchedulerOptions o;
  o.use_gpus = false;
  o.faults = FaultPlan{};
  o.calibration_file = std::filesystem::path{};
  return o;
}

std::unique_ptr<Scheduler> cpu_scheduler() {
  return Scheduler::create(Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(), quiet_options())
      .value();
}

TEST(Store, WithoutRocksDbItSaysSo) {
  if (store_available()) GTEST_SKIP() << "this build has RocksDB";
  test::TempDir dir;
  auto s = Store::open(dir / "db", make_genesis({}), 10);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unavailable);
  EXPECT_NE(s.error().message().find("without RocksDB"), std::string::npos);
}

TEST(Store, ANewDatabaseHoldsTheGenesisAndRefusesAnotherOne) {
  REQUIRE_STORE();
  test::TempDir dir;
  const auto w = generate_workload({.accounts = 40, .transactions = 0, .seed = 21}).value();
  {
    auto s = Store::open(dir / "db", w.genesis, 100).value();
    EXPECT_EQ(s->tip().height, 0u);
    EXPECT_EQ(s->tip().hash, w.genesis.hash);
    EXPECT_TRUE(s->load_accounts().value() == AccountState(w.genesis));
    EXPECT_EQ(s->account(w.genesis.accounts[3].first).value(), (Account{w.genesis.accounts[3].second, 0}));
    PublicKey nobody{};
    EXPECT_FALSE(s->account(nobody).value());
    // The database is locked while open.
    auto again = Store::open(dir / "db", w.genesis, 100);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), Errc::busy);
  }
  const auto other = generate_workload({.accounts = 40, .transactions = 0, .seed = 22}).value();
  auto refused = Store::open(dir / "db", other.genesis, 100);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("another genesis"), std::string::npos) << refused.error().message();
  auto size = Store::open(dir / "db", w.genesis, 50);
  ASSERT_FALSE(size);
  EXPECT_NE(size.error().message().find("--block-size 100, not 50"), std::string::npos) << size.error().message();
  // Not a ledger at all.
  std::filesystem::create_directories(dir / "empty");
  EXPECT_FALSE(Store::open_existing(dir / "nowhere"));
  EXPECT_FALSE(Store::open_existing(dir / "empty", {.read_only = true}));
}

TEST(Store, CommittedBlocksSurviveAndARunResumesAfterTheTip) {
  REQUIRE_STORE();
  test::TempDir dir;
  const auto w =
      generate_workload({.accounts = 60, .transactions = 1000, .zipf = 1, .invalid = 0.1, .seed = 23}).value();
  const auto lines = test::transfer_lines(w.transfers);
  test::write_lines(dir / "all.txt", lines);
  test::write_lines(dir / "first.txt", std::vector<std::string>(lines.begin(), lines.begin() + 400));
  auto sched = cpu_scheduler();

  // Uninterrupted, in memory.
  AccountState want(w.genesis);
  test::MemorySink mem;
  ASSERT_TRUE(run_pipeline(*sched, dir / "all.txt", want, Tip{0, w.genesis.hash, {}}, mem, {.block_size = 100}));

  // Four blocks, closed, reopened, then the rest.
  {
    auto s = Store::open(dir / "db", w.genesis, 100, {.sync = true}).value();
    auto state = s->load_accounts().value();
    auto r = run_pipeline(*sched, dir / "first.txt", state, s->tip(), *s, {.block_size = 100});
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(s->tip().height, 4u);
  }
  auto s = Store::open(dir / "db", w.genesis, 100).value();
  const Tip tip = s->tip();
  EXPECT_EQ(tip.height, 4u);
  EXPECT_EQ(tip.hash, mem.blocks[3].hash);
  ASSERT_TRUE(tip.header);
  EXPECT_EQ(*tip.header, mem.blocks[3].header);
  auto state = s->load_accounts().value();
  auto r = run_pipeline(*sched, dir / "all.txt", state, tip, *s, {.block_size = 100});
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->first_height, 5u);
  EXPECT_EQ(r->last_height, 10u);
  EXPECT_TRUE(state == want);
  EXPECT_TRUE(s->load_accounts().value() == want);
  EXPECT_EQ(s->tip().hash, mem.blocks.back().hash);
  for (std::uint64_t h = 1; h <= 10; ++h) EXPECT_EQ(s->header(h).value(), mem.blocks[h - 1].header);
  std::vector<std::pair<Hash, TxStatus>> receipts;
  ASSERT_TRUE(s->for_each_receipt([&](std::uint64_t height, std::size_t i, const Hash& id, TxStatus st) {
    EXPECT_EQ(height, receipts.size() / 100 + 1);
    EXPECT_EQ(i, receipts.size() % 100);
    receipts.emplace_back(id, st);
  }));
  ASSERT_EQ(receipts.size(), 1000u);
  for (std::size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(receipts[i].first, mem.blocks[i / 100].ids[i % 100]);
    EXPECT_EQ(receipts[i].second, mem.blocks[i / 100].statuses[i % 100]);
  }
  // Nothing left: a run over the same input commits nothing.
  auto none = run_pipeline(*sched, dir / "all.txt", state, s->tip(), *s, {.block_size = 100});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->blocks, 0u);
  // A block that does not extend the tip is refused.
  BlockHeader h{5, {}, {}, 0, 0};
  EXPECT_FALSE(s->commit(CommittedBlock{h, {}, {}, {}, {}}));
}

TEST(Store, ABadBlockCommitsNothing) {
  REQUIRE_STORE();
  test::TempDir dir;
  const auto w = generate_workload({.accounts = 30, .transactions = 500, .seed = 24}).value();
  auto lines = test::transfer_lines(w.transfers);
  lines[321] = "hello";
  test::write_lines(dir / "bad.txt", lines);
  auto sched = cpu_scheduler();
  auto s = Store::open(dir / "db", w.genesis, 100).value();
  auto state = s->load_accounts().value();
  auto r = run_pipeline(*sched, dir / "bad.txt", state, s->tip(), *s, {.block_size = 100});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("line 322"), std::string::npos) << r.error().message();
  EXPECT_EQ(s->tip().height, 3u);
  AccountState want(w.genesis);
  const auto txs = test::verified(w.transfers);
  apply_in_order(want, std::span(txs).first(300));
  EXPECT_TRUE(s->load_accounts().value() == want) << "exactly blocks 1-3 are in the database";
}

}  // namespace
}  // namespace hetex::ledger
