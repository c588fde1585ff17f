// SPDX-License-Identifier: MIT
// hetex ledger gen: a genesis file and a file of signed transfers (libsodium signatures), valid in
// order except for a chosen share made invalid in each of the four ways.
#include <cstdio>

#include "hetex/ledger/workload.hpp"
#include "hetex/core/file.hpp"
#include "ledger_cli.hpp"

namespace hetex::cli::ledger {

using namespace hetex::ledger;

void add_gen(CLI::App& ledger, int& status) {
  auto* cmd = ledger.add_subcommand("gen", "Generate a genesis file and signed transfers");
  auto o = std::make_shared<WorkloadOptions>();
  auto genesis = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  cmd->add_option("--accounts", o->accounts, "Accounts in the genesis")->required()->check(CLI::Range(1ul, 1ul << 32));
  cmd->add_option("--txs", o->transactions, "Transfers to generate")->required()->check(CLI::Range(0ul, 1ul << 34));
  cmd->add_option("--zipf", o->zipf, "Skew S: senders and receivers drawn with probability ~ 1/rank^S (0: uniform)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option(
         "--invalid", o->invalid,
         "Share R of invalid transfers, evenly: bad signature, unknown sender, wrong nonce, amount above balance")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", o->seed, "Seed: the same options and seed give the same files")->capture_default_str();
  cmd->add_option("--balance", o->balance, "Every account's genesis balance")->capture_default_str();
  cmd->add_option("--genesis", *genesis, "Genesis file to write ('<public key hex> <balance>' per line)")->required();
  cmd->add_option("--out", *out, "Transfers file to write ('<from> <to> <amount> <nonce> <signature>' per line)")
      ->required();
  cmd->footer(
      "Both files are written whole or not at all.\n"
      "Example:\n  hetex ledger gen --accounts 1000000 --txs 1000000 --zipf 1.2 --invalid 0.01 --genesis g.txt --out "
      "txs.txt");
  cmd->callback([o, genesis, out, &status] {
    auto w = generate_workload(*o);
    if (!w) {
      std::fprintf(stderr, "hetex ledger gen: %s\n", w.error().message().c_str());
      status = 2;
      return;
    }
    auto st = write_file_atomic(*genesis, [&](std::FILE* f) -> Status {
      for (const auto& [key, balance] : w->genesis.accounts)
        std::fprintf(f, "%s\n", format_genesis_line(key, balance).c_str());
      return {};
    });
    if (st)
      st = write_file_atomic(*out, [&](std::FILE* f) -> Status {
        for (const auto& t : w->transfers) std::fprintf(f, "%s\n", format_transfer(t).c_str());
        return {};
      });
    if (!st) {
      std::fprintf(stderr, "hetex ledger gen: %s\n", st.error().message().c_str());
      status = 2;
      return;
    }
    std::size_t invalid = 0;
    for (auto k : w->intended) invalid += k != TxStatus::applied;
    std::fprintf(stderr, "hetex ledger gen: %zu accounts -> %s; %zu transfers (%zu made invalid) -> %s\n",
                 w->genesis.accounts.size(), genesis->c_str(), w->transfers.size(), invalid, out->c_str());
  });
}

}  // namespace hetex::cli::ledger
