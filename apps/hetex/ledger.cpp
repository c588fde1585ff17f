// SPDX-License-Identifier: MIT
// hetex ledger: generate signed transfers, run them through the ledger pipeline into RocksDB,
// inspect the state, measure it.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ledger_cli.hpp"

namespace hetex::cli {

void add_ledger(CLI::App& app, Common& common, int& status) {
  auto* cmd = app.add_subcommand("ledger", "A ledger of Ed25519-signed transfers: generate, run, inspect, benchmark");
  cmd->require_subcommand(1);
  cmd->footer(
      "A pipeline over blocks of transactions: parse, verify signatures (GPU with CPU fallback), hash (ids and\n"
      "Merkle root), execute in parallel (Block-STM over multi-version memory), commit to RocksDB.\n"
      "Examples:\n"
      "  hetex ledger gen --accounts 100000 --txs 1000000 --zipf 1 --invalid 0.01 --genesis g.txt --out txs.txt\n"
      "  hetex ledger run --db chain.db --genesis g.txt --block-size 10000 --receipts receipts.txt txs.txt\n"
      "  hetex ledger state --db chain.db <public key hex>\n"
      "  hetex ledger bench --accounts 1000000 --txs 1000000");
  ledger::add_gen(*cmd, status);
  ledger::add_run(*cmd, common, status);
  ledger::add_state(*cmd, status);
  ledger::add_bench(*cmd, status);
}

}  // namespace hetex::cli
