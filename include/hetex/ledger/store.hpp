// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The ledger's durable copy in RocksDB: accounts, block headers, receipts and the chain's tip.
/// Each block is one atomic WriteBatch (its account writes, header, receipts and the new tip
/// together), so a process killed at any moment leaves the database at the end of some block:
/// a run started again resumes after it. With sync, each batch is also flushed to disk (fsync)
/// before commit() returns, so a power loss cannot take back a block the ledger reported.
///
/// Keys: "a" + public key -> balance, nonce (u64 LE each); "b" + height (u64 BE) -> header (88
/// bytes, types.hpp); "r" + height -> per transaction its id (32 bytes) and status (1 byte);
/// "m:format", "m:genesis" (genesis hash), "m:block_size" (u64 LE), "m:tip" (height u64 LE, hash).
///
/// Built without RocksDB (HETEX_ROCKSDB=OFF, or librocksdb-dev absent), open() answers
/// Errc::unavailable and says so.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "hetex/core/error.hpp"
#include "hetex/ledger/text.hpp"
#include "hetex/ledger/transfer.hpp"
#include "hetex/ledger/types.hpp"

namespace hetex::ledger {

/// Whether this build has the RocksDB store.
bool store_available() noexcept;

/// The last committed block (height 0: none yet; hash is then the genesis hash).
struct Tip {
  std::uint64_t height = 0;
  Hash hash{};
  std::optional<BlockHeader> header;  ///< the tip's header, when height > 0
};

/// A block as it is committed: everything is borrowed for the call.
struct CommittedBlock {
  BlockHeader header;
  Hash hash{};
  std::span<const Hash> ids;                                ///< per transaction
  std::span<const TxStatus> statuses;                       ///< per transaction
  std::span<const std::pair<PublicKey, Account>> accounts;  ///< the accounts the block changed
};

/// Where the pipeline hands its blocks, in height order, each once.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  /// The block is durable (as StoreOptions say) when this returns.
  virtual Status commit(const CommittedBlock& block) = 0;
};

/// How a Store opens its database.
struct StoreOptions {
  bool sync = false;       ///< fsync each block's batch before commit() returns
  bool read_only = false;  ///< for inspection while (or after) another process writes
};

/// The ledger's RocksDB database (see the file's description). Blocks are committed in height
/// order, each once (BlockSink).
class Store final : public BlockSink {
 public:
  /// Opens the database in `dir` for a chain from `genesis` in blocks of `block_size`; creates it
  /// (writing the genesis accounts, height 0) when it does not exist. An existing database made
  /// from another genesis, or with another block size, is refused with the reason.
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& dir, const Genesis& genesis,
                                             std::uint64_t block_size, StoreOptions options = {});
  /// Opens an existing ledger database as it is (read-only when options say so).
  static Result<std::unique_ptr<Store>> open_existing(const std::filesystem::path& dir, StoreOptions options = {});
  ~Store() override;

  Tip tip() const;                   ///< the last committed block
  Hash genesis_hash() const;         ///< the chain's genesis hash
  std::uint64_t block_size() const;  ///< transactions per block of this chain

  /// Every account, in key order.
  Status for_each_account(const std::function<void(const PublicKey&, const Account&)>& fn) const;
  Result<AccountState> load_accounts() const;                          ///< every account, in memory
  Result<std::optional<Account>> account(const PublicKey& key) const;  ///< nullopt when the key has no account
  Result<BlockHeader> header(std::uint64_t height) const;  ///< Errc::invalid_argument for a height not committed
  /// Every receipt, by height, then position in the block.
  Status for_each_receipt(
      const std::function<void(std::uint64_t height, std::size_t index, const Hash& id, TxStatus status)>& fn) const;

  Status commit(const CommittedBlock& block) override;

  struct Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hetex::ledger
