// SPDX-License-Identifier: MIT
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "hetex/ledger/store.hpp"

namespace hetex::ledger {
namespace {

constexpr std::string_view kFormat = "hetex-ledger 1";
constexpr std::string_view kFormatKey = "m:format", kGenesisKey = "m:genesis", kBlockSizeKey = "m:block_size",
                           kTipKey = "m:tip";

void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<std::uint8_t>(p[i])) << (8 * i);
  return v;
}
void put_u64_be(std::string& s, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get_u64_be(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}
std::string_view bytes(std::span<const std::uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::string account_key(const PublicKey& k) {
  std::string s("a");
  s.append(bytes(k));
  return s;
}
std::string height_key(char prefix, std::uint64_t h) {
  std::string s(1, prefix);
  put_u64_be(s, h);
  return s;
}
std::string account_value(const Account& a) {
  std::string s;
  put_u64(s, a.balance);
  put_u64(s, a.nonce);
  return s;
}

Error db_error(const rocksdb::Status& s, const std::string& what) {
  const auto code = s.IsIOError() || s.IsCorruption() ? Errc::io
                    : s.IsBusy() || s.IsTryAgain()    ? Errc::busy
                                                      : Errc::internal;
  return Error(code, what + ": " + s.ToString());
}

}  // namespace

bool store_available() noexcept { return true; }

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::filesystem::path dir;
  StoreOptions options;
  Hash genesis{};
  std::uint64_t block_size = 0;
  mutable std::mutex m;
  Tip tip;

  Result<std::optional<std::string>> get(std::string_view key) const {
    std::string value;
    const auto s = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return db_error(s, dir.string() + ": reading " + std::string(key));
    return std::optional<std::string>(std::move(value));
  }

  // Reads the metadata of an initialised database.
  Status load_meta() {
    const auto where = dir.string();
    const auto genesis_v = HETEX_TRY(get(kGenesisKey));
    const auto size_v = HETEX_TRY(get(kBlockSizeKey));
    const auto tip_v = HETEX_TRY(get(kTipKey));
    if (!genesis_v || genesis_v->size() != 32 || !size_v || size_v->size() != 8 || !tip_v || tip_v->size() != 40)
      return Error(Errc::io, where + ": the ledger metadata is incomplete or damaged");
    std::memcpy(genesis.data(), genesis_v->data(), 32);
    block_size = get_u64(size_v->data());
    tip.height = get_u64(tip_v->data());
    std::memcpy(tip.hash.data(), tip_v->data() + 8, 32);
    if (tip.height > 0) {
      const auto h = HETEX_TRY(get(height_key('b', tip.height)));
      if (!h || h->size() != kHeaderBytes)
        return Error(Errc::io, where + ": the header of the tip block " + std::to_string(tip.height) + " is missing");
      tip.header = decode_header(
          std::span<const std::uint8_t, kHeaderBytes>(reinterpret_cast<const std::uint8_t*>(h->data()), kHeaderBytes));
    }
    return {};
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

namespace {

Result<std::unique_ptr<rocksdb::DB>> open_db(const std::filesystem::path& dir, const StoreOptions& o, bool create) {
  rocksdb::Options options;
  options.create_if_missing = create;
  options.IncreaseParallelism(static_cast<int>(std::max(2u, std::thread::hardware_concurrency() / 2)));
  // A vector memtable: each block's tens of thousands of account writes are appended, not
  // inserted into a skip list one search at a time (which cost more than everything else a
  // commit does); the vector is sorted once, when it is flushed, on a background thread.
  // Lookups in the unflushed part sort a copy, so they are for start-up and inspection only.
  options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  options.allow_concurrent_memtable_write = false;
  options.write_buffer_size = 64 << 20;
  options.max_write_buffer_number = 4;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (o.read_only)
    s = rocksdb::DB::OpenForReadOnly(options, dir.string(), &raw);
  else
    s = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos)
      return Error(Errc::busy, dir.string() + ": the database is in use by another process (" + s.ToString() + ")");
    return db_error(s, dir.string() + ": cannot open the database");
  }
  return std::unique_ptr<rocksdb::DB>(raw);
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& dir, const Genesis& genesis,
                                           std::uint64_t block_size, StoreOptions options) {
  if (block_size == 0) return Error(Errc::invalid_argument, "block size must be at least 1");
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  const bool existed = std::filesystem::exists(dir);
  if (existed && !std::filesystem::is_directory(dir))
    return Error(Errc::invalid_argument, dir.string() + ": not a directory");
  impl->db = HETEX_TRY(open_db(dir, options, !options.read_only));
  const auto format = HETEX_TRY(impl->get(kFormatKey));
  if (!format) {
    std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid())
      return Error(Errc::invalid_argument, dir.string() + ": a RocksDB database, but not a hetex ledger");
    if (options.read_only) return Error(Errc::invalid_argument, dir.string() + ": an empty database");
    // A new ledger: the genesis accounts and the metadata in one batch, so a crash here leaves
    // either nothing or the whole genesis.
    rocksdb::WriteBatch batch;
    for (const auto& [key, balance] : genesis.accounts) batch.Put(account_key(key), account_value(Account{balance, 0}));
    batch.Put(std::string(kGenesisKey), bytes(genesis.hash));
    std::string size;
    put_u64(size, block_size);
    batch.Put(std::string(kBlockSizeKey), size);
    std::string tip;
    put_u64(tip, 0);
    tip.append(bytes(genesis.hash));
    batch.Put(std::string(kTipKey), tip);
    batch.Put(std::string(kFormatKey), std::string(kFormat));
    rocksdb::WriteOptions wo;
    wo.sync = true;  // once per database: cheap, and a ledger never starts on a lost genesis
    if (auto s = impl->db->Write(wo, &batch); !s.ok()) return db_error(s, dir.string() + ": writing the genesis");
  } else if (*format != kFormat) {
    return Error(Errc::invalid_argument, dir.string() + ": unknown ledger format '" + *format + "'");
  }
  HETEX_TRY_VOID(impl->load_meta());
  if (impl->genesis != genesis.hash)
    return Error(Errc::invalid_argument,
                 dir.string() + ": this database holds a chain from another genesis (its genesis hash is " +
                     to_hex(impl->genesis) + ", the given genesis file's is " + to_hex(genesis.hash) +
                     "); use a new --db directory for this genesis");
  if (impl->block_size != block_size)
    return Error(Errc::invalid_argument, dir.string() + ": this database was built with --block-size " +
                                             std::to_string(impl->block_size) + ", not " + std::to_string(block_size) +
                                             "; blocks are fixed groups of lines, so resume with the same size");
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<std::unique_ptr<Store>> Store::open_existing(const std::filesystem::path& dir, StoreOptions options) {
  if (!std::filesystem::is_directory(dir))
    return Error(Errc::invalid_argument, dir.string() + ": no such database directory");
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->db = HETEX_TRY(open_db(dir, options, false));
  const auto format = HETEX_TRY(impl->get(kFormatKey));
  if (!format || *format != kFormat)
    return Error(Errc::invalid_argument, dir.string() + ": not a hetex ledger database");
  HETEX_TRY_VOID(impl->load_meta());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Tip Store::tip() const {
  std::lock_guard lock(impl_->m);
  return impl_->tip;
}
Hash Store::genesis_hash() const { return impl_->genesis; }
std::uint64_t Store::block_size() const { return impl_->block_size; }

Status Store::for_each_account(const std::function<void(const PublicKey&, const Account&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("a"); it->Valid() && it->key().starts_with("a"); it->Next()) {
    if (it->key().size() != 33 || it->value().size() != 16)
      return Error(Errc::io, impl_->dir.string() + ": a damaged account record");
    PublicKey k;
    std::memcpy(k.data(), it->key().data() + 1, 32);
    fn(k, Account{get_u64(it->value().data()), get_u64(it->value().data() + 8)});
  }
  if (!it->status().ok()) return db_error(it->status(), impl_->dir.string() + ": reading accounts");
  return {};
}

Result<AccountState> Store::load_accounts() const {
  AccountState state;
  HETEX_TRY_VOID(for_each_account([&](const PublicKey& k, const Account& a) { state.set(k, a); }));
  return state;
}

Result<std::optional<Account>> Store::account(const PublicKey& key) const {
  const auto v = HETEX_TRY(impl_->get(account_key(key)));
  if (!v) return std::optional<Account>();
  if (v->size() != 16) return Error(Errc::io, impl_->dir.string() + ": a damaged account record");
  return std::optional<Account>(Account{get_u64(v->data()), get_u64(v->data() + 8)});
}

Result<BlockHeader> Store::header(std::uint64_t height) const {
  const auto v = HETEX_TRY(impl_->get(height_key('b', height)));
  if (!v || v->size() != kHeaderBytes)
    return Error(Errc::invalid_argument, impl_->dir.string() + ": no block " + std::to_string(height));
  return decode_header(
      std::span<const std::uint8_t, kHeaderBytes>(reinterpret_cast<const std::uint8_t*>(v->data()), kHeaderBytes));
}

Status Store::for_each_receipt(const std::function<void(std::uint64_t, std::size_t, const Hash&, TxStatus)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek("r"); it->Valid() && it->key().starts_with("r"); it->Next()) {
    const auto v = it->value();
    if (it->key().size() != 9 || v.size() % 33 != 0)
      return Error(Errc::io, impl_->dir.string() + ": a damaged receipt record");
    const auto height = get_u64_be(it->key().data() + 1);
    for (std::size_t i = 0; i < v.size() / 33; ++i) {
      Hash id;
      std::memcpy(id.data(), v.data() + 33 * i, 32);
      const auto status = static_cast<std::uint8_t>(v.data()[33 * i + 32]);
      if (status >= kTxStatusCount) return Error(Errc::io, impl_->dir.string() + ": a damaged receipt record");
      fn(height, i, id, static_cast<TxStatus>(status));
    }
  }
  if (!it->status().ok()) return db_error(it->status(), impl_->dir.string() + ": reading receipts");
  return {};
}

Status Store::commit(const CommittedBlock& b) {
  if (impl_->options.read_only) return Error(Errc::invalid_argument, impl_->dir.string() + ": opened read-only");
  const Tip tip = this->tip();
  if (b.header.height != tip.height + 1 || b.header.parent != tip.hash)
    return Error(Errc::invalid_argument, "block " + std::to_string(b.header.height) +
                                             " does not extend the tip (height " + std::to_string(tip.height) + ")");
  if (b.ids.size() != b.statuses.size()) return Error(Errc::invalid_argument, "block has unequal ids and statuses");
  rocksdb::WriteBatch batch;
  for (const auto& [key, account] : b.accounts) batch.Put(account_key(key), account_value(account));
  const auto header = encode(b.header);
  batch.Put(height_key('b', b.header.height), bytes(header));
  std::string receipts;
  receipts.reserve(33 * b.ids.size());
  for (std::size_t i = 0; i < b.ids.size(); ++i) {
    receipts.append(bytes(b.ids[i]));
    receipts.push_back(static_cast<char>(b.statuses[i]));
  }
  batch.Put(height_key('r', b.header.height), receipts);
  std::string tip_value;
  put_u64(tip_value, b.header.height);
  tip_value.append(bytes(b.hash));
  batch.Put(std::string(kTipKey), tip_value);
  rocksdb::WriteOptions wo;
  wo.sync = impl_->options.sync;
  if (auto s = impl_->db->Write(wo, &batch); !s.ok())
    return db_error(s, impl_->dir.string() + ": committing block " + std::to_string(b.header.height));
  std::lock_guard lock(impl_->m);
  impl_->tip = Tip{b.header.height, b.hash, b.header};
  return {};
}

}  // namespace hetex::ledger
