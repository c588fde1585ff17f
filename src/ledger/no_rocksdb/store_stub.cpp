// SPDX-License-Identifier: MIT
// The store of a build without RocksDB: every entry point says so.
#include "hetex/ledger/store.hpp"

namespace hetex::ledger {
namespace {
Error no_rocksdb() {
  return Error(Errc::unavailable,
               "this hetex was built without RocksDB, where the ledger keeps its blocks: install librocksdb-dev "
               "(scripts/setup.sh does) and configure again (HETEX_ROCKSDB=AUTO or ON)");
}
}  // namespace

bool store_available() noexcept { return false; }

struct Store::Impl {};
Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path&, const Genesis&, std::uint64_t, StoreOptions) {
  return no_rocksdb();
}
Result<std::unique_ptr<Store>> Store::open_existing(const std::filesystem::path&, StoreOptions) { return no_rocksdb(); }
Tip Store::tip() const { return {}; }
Hash Store::genesis_hash() const { return {}; }
std::uint64_t Store::block_size() const { return 0; }
Status Store::for_each_account(const std::function<void(const PublicKey&, const Account&)>&) const {
  return no_rocksdb();
}
Result<AccountState> Store::load_accounts() const { return no_rocksdb(); }
Result<std::optional<Account>> Store::account(const PublicKey&) const { return no_rocksdb(); }
Result<BlockHeader> Store::header(std::uint64_t) const { return no_rocksdb(); }
Status Store::for_each_receipt(const std::function<void(std::uint64_t, std::size_t, const Hash&, TxStatus)>&) const {
  return no_rocksdb();
}
Status Store::commit(const CommittedBlock&) { return no_rocksdb(); }

}  // namespace hetex::ledger
