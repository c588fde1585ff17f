// SPDX-License-Identifier: MIT
#pragma once
// Shared by the ledger tests: signature verdicts by libsodium, workload files, a sink that keeps
// blocks in memory, temporary directories.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hetex/ledger/store.hpp"
#include "hetex/ledger/transfer.hpp"
#include "hetex/ledger/workload.hpp"
#include "hetex/ops/ed25519.hpp"

namespace hetex::ledger::test {

// A device field of the scheduler's reports as text, whether it is a name or a DeviceId.
template <class D>
std::string device_name(const D& d) {
  if constexpr (requires { d.to_string(); })
    return d.to_string();
  else
    return std::string(d);
}

inline std::vector<VerifiedTransfer> verified(const std::vector<Transfer>& transfers) {
  const std::size_t n = transfers.size();
  std::vector<PublicKey> keys(n);
  std::vector<Signature> sigs(n);
  ops::PackedMessages msgs;
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = transfers[i].from;
    sigs[i] = transfers[i].signature;
    const auto m = signing_message(transfers[i]);
    msgs.add(std::span<const std::uint8_t>(m));
  }
  std::vector<ops::Verdict> v(n);
  EXPECT_TRUE(ops::ed25519_verify_cpu(ops::VerifyBatch{keys, sigs, msgs.view()}, v));
  std::vector<VerifiedTransfer> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {transfers[i], v[i] == ops::Verdict::valid};
  return out;
}

// A directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("hetex-ledger-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::binary);
  for (const auto& l : lines) out << l << '\n';
}

inline std::vector<std::string> transfer_lines(const std::vector<Transfer>& transfers) {
  std::vector<std::string> lines;
  for (const auto& t : transfers) lines.push_back(format_transfer(t));
  return lines;
}

// Keeps every committed block, as a sink.
struct MemorySink final : BlockSink {
  struct Kept {
    BlockHeader header;
    Hash hash;
    std::vector<Hash> ids;
    std::vector<TxStatus> statuses;
    std::vector<std::pair<PublicKey, Account>> accounts;
  };
  std::vector<Kept> blocks;
  std::size_t fail_at_height = 0;  // commit() of this height fails (0: never)
  Status commit(const CommittedBlock& b) override {
    if (b.header.height == fail_at_height) return Error(Errc::io, "injected commit failure");
    blocks.push_back({b.header,
                      b.hash,
                      {b.ids.begin(), b.ids.end()},
                      {b.statuses.begin(), b.statuses.end()},
                      {b.accounts.begin(), b.accounts.end()}});
    return {};
  }
};

}  // namespace hetex::ledger::test
