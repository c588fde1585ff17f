// SPDX-License-Identifier: MIT
// Transfers on the parallel executor against the one-by-one reference, block by block: uniform
// and heavily skewed accounts, every kind of invalid transaction, several thread counts.
#include <gtest/gtest.h>

#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/transfer.hpp"
#include "hetex/ledger/workload.hpp"
#include "ledger_test_util.hpp"

namespace hetex::ledger {
namespace {

struct Case {
  const char* name;
  WorkloadOptions options;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class SerialEquivalence : public ::testing::TestWithParam<Case> {};

TEST_P(SerialEquivalence, BlockByBlockStateAndReceiptsEqualTheReference) {
  const auto& c = GetParam();
  const auto w = generate_workload(c.options).value();
  const auto txs = test::verified(w.transfers);
  constexpr std::size_t kBlock = 250;

  // The reference, once: statuses per transaction and the state after each block.
  AccountState ref(w.genesis);
  std::vector<TxStatus> ref_status;
  std::vector<AccountState> ref_after;
  for (std::size_t b = 0; b < txs.size(); b += kBlock) {
    const auto block = std::span(txs).subspan(b, std::min(kBlock, txs.size() - b));
    const auto s = apply_in_order(ref, block);
    ref_status.insert(ref_status.end(), s.begin(), s.end());
    ref_after.push_back(ref);
  }
  // The generator's claims hold: each transaction fails exactly as it was made to (or applies).
  EXPECT_EQ(ref_status, w.intended);
  if (c.options.invalid > 0) {
    for (int k = 0; k < kTxStatusCount; ++k)
      EXPECT_NE(std::count(ref_status.begin(), ref_status.end(), static_cast<TxStatus>(k)), 0)
          << "no transaction with status " << to_string(static_cast<TxStatus>(k));
  }

  const TransferProgram program;
  for (unsigned threads : {1u, 2u, 4u, 8u}) {
    for (stm::Path path : {stm::Path::scheduled, stm::Path::parallel, stm::Path::in_order, stm::Path::measured}) {
      stm::Executor<TransferProgram> exec(program, {.threads = threads, .path = path});
      AccountState state(w.genesis);
      for (std::size_t b = 0, i = 0; b < txs.size(); b += kBlock, ++i) {
        const auto block = std::span(txs).subspan(b, std::min(kBlock, txs.size() - b));
        const auto index = stm::index_block(program, block).value();
        auto r = exec.execute(index, state).value();
        state.apply(index.slot_key, r.final_values, r.found);
        const std::string where = std::string(c.name) + " threads " + std::to_string(threads) + " path " +
                                  std::to_string(int(path)) + " block " + std::to_string(i);
        ASSERT_TRUE(std::equal(r.outputs.begin(), r.outputs.end(), ref_status.begin() + b)) << where;
        ASSERT_TRUE(state == ref_after[i]) << where;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Workloads, SerialEquivalence,
    ::testing::Values(
        Case{"uniform", {.accounts = 500, .transactions = 1500, .zipf = 0, .invalid = 0.2, .seed = 1}},
        Case{"zipf1_2", {.accounts = 500, .transactions = 1500, .zipf = 1.2, .invalid = 0.2, .seed = 2}},
        // Nearly every transfer involves the first account or two.
        Case{"zipf3", {.accounts = 200, .transactions = 1500, .zipf = 3.0, .invalid = 0.2, .seed = 3}},
        // Three accounts, small balances: long conflict chains and many overdrafts.
        Case{"three_accounts",
             {.accounts = 3, .transactions = 1000, .invalid = 0.1, .seed = 4, .balance = 300, .max_amount = 200}},
        Case{"all_valid", {.accounts = 50, .transactions = 1000, .zipf = 0.8, .invalid = 0, .seed = 5}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Transfers, TheRulesOnAHandfulOfAccounts) {
  PublicKey a{}, b{}, c{}, stranger{};
  a[0] = 1, b[0] = 2, c[0] = 3, stranger[0] = 9;
  AccountState state(make_genesis({{a, 100}, {b, 5}}));
  auto t = [](PublicKey from, PublicKey to, std::uint64_t amount, std::uint64_t nonce, bool ok = true) {
    return VerifiedTransfer{Transfer{from, to, amount, nonce, {}}, ok};
  };
  const std::vector<VerifiedTransfer> txs = {
      t(a, b, 30, 0),        // applied: a 70/1, b 35/0
      t(a, c, 10, 0),        // bad nonce
      t(a, c, 71, 1),        // insufficient
      t(a, c, 70, 1),        // applied, c created: a 0/2, c 70/0
      t(stranger, a, 1, 0),  // unknown sender
      t(b, b, 35, 0),        // to oneself: nonce only, b 35/1
      t(b, b, 36, 1),        // insufficient even to oneself
      t(c, a, 5, 0, false),  // bad signature (checked first)
      t(c, a, 0, 0),         // a zero amount is fine: c 70/1
  };
  for (auto [threads, path] :
       {std::pair{1u, stm::Path::parallel}, std::pair{4u, stm::Path::parallel}, std::pair{4u, stm::Path::scheduled}}) {
    AccountState s = state;
    stm::Executor<TransferProgram> exec({}, {.threads = threads, .path = path});
    const auto index = stm::index_block(TransferProgram{}, std::span<const VerifiedTransfer>(txs)).value();
    auto r = exec.execute(index, s).value();
    s.apply(index.slot_key, r.final_values);
    using S = TxStatus;
    EXPECT_EQ(r.outputs,
              (std::vector<S>{S::applied, S::bad_nonce, S::insufficient_balance, S::applied, S::unknown_sender,
                              S::applied, S::insufficient_balance, S::bad_signature, S::applied}));
    EXPECT_EQ(*s.find(a), (Account{0, 2}));
    EXPECT_EQ(*s.find(b), (Account{35, 1}));
    EXPECT_EQ(*s.find(c), (Account{70, 1}));
    EXPECT_EQ(s.find(stranger), nullptr);
    AccountState reference = state;
    EXPECT_EQ(apply_in_order(reference, txs), r.outputs);
    EXPECT_TRUE(reference == s);
  }
}

TEST(Workload, IsDeterministicForASeedAndSignedForReal) {
  WorkloadOptions o{.accounts = 20, .transactions = 200, .zipf = 1, .invalid = 0.3, .seed = 77};
  const auto a = generate_workload(o).value(), b = generate_workload(o).value();
  EXPECT_EQ(a.transfers, b.transfers);
  EXPECT_EQ(a.genesis.hash, b.genesis.hash);
  o.seed = 78;
  EXPECT_NE(generate_workload(o)->genesis.hash, a.genesis.hash);
  const auto v = test::verified(a.transfers);
  for (std::size_t i = 0; i < v.size(); ++i)
    EXPECT_EQ(v[i].signature_valid, a.intended[i] != TxStatus::bad_signature) << i;
  EXPECT_FALSE(generate_workload({.accounts = 0}));
  EXPECT_FALSE(generate_workload({.invalid = 1.5}));
  EXPECT_FALSE(generate_workload({.zipf = -1}));
}

}  // namespace
}  // namespace hetex::ledger
