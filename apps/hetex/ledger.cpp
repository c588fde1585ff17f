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

namespace ledger {

Status write_file_atomically(const std::filesystem::path& path, const std::function<Status(std::FILE*)>& write) {
  auto tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error(Errc::io, path.string() + ": cannot create (" + std::strerror(errno) + ")");
  std::vector<char> buffer(1 << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  Status st = write(f);
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int saved = errno;
  std::fclose(f);
  if (st && !flushed) st = Error(Errc::io, path.string() + ": write failed (" + std::strerror(saved) + ")");
  std::error_code ec;
  if (st) std::filesystem::rename(tmp, path, ec);
  if (st && ec)
    st = Error(Errc::io, path.string() + ": cannot rename the finished file into place (" + ec.message() + ")");
  if (!st) std::filesystem::remove(tmp, ec);
  return st;
}

}  // namespace ledger
}  // namespace hetex::cli
