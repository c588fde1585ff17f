// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Transfers as the parallel executor's Program, the account state they run against, and the
/// one-by-one reference that defines what applying a transfer means.

#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "hetex/ledger/stm/program.hpp"
#include "hetex/ledger/text.hpp"
#include "hetex/ledger/types.hpp"

namespace hetex::ledger {

/// A transfer with its signature's verdict (from the verification stage).
struct VerifiedTransfer {
  Transfer transfer;
  bool signature_valid = false;
};

/// The rules, in order: a bad signature, a sender without an account, a nonce other than the
/// sender's, an amount above the sender's balance each reject the transfer (no state change);
/// otherwise the amount moves (the receiver's account is created if new; a transfer to oneself
/// moves nothing) and the sender's nonce goes up by one.
struct TransferProgram {
  using Key = PublicKey;
  using KeyHash = ledger::KeyHash;
  using Value = Account;
  using Transaction = VerifiedTransfer;
  using Output = TxStatus;

  void declare(const VerifiedTransfer& t, stm::Declare<Key>& d) const {
    if (!t.signature_valid) return;  // rejected before it reads anything
    d.write(t.transfer.from);
    d.write(t.transfer.to);  // merged with `from` when they are equal
  }
  TxStatus execute(const VerifiedTransfer& t, stm::Access<Key, Value>& a) const;
};

// Inline: the executor's loop over a block's transfers costs about as much as a transfer itself.
inline TxStatus TransferProgram::execute(const VerifiedTransfer& vt, stm::Access<Key, Value>& a) const {
  if (!vt.signature_valid) return TxStatus::bad_signature;
  const Transfer& t = vt.transfer;
  const Account* from = a.read_at(0);
  if (!from) return TxStatus::unknown_sender;
  if (from->nonce != t.nonce) return TxStatus::bad_nonce;
  if (t.amount > from->balance) return TxStatus::insufficient_balance;
  Account sender = *from;
  ++sender.nonce;
  if (KeyEqual{}(t.from, t.to)) {  // one declared key
    a.write_at(0, sender);
    return TxStatus::applied;
  }
  const Account* to = a.read_at(1);
  Account receiver = to ? *to : Account{};
  sender.balance -= t.amount;
  // Cannot overflow: balances only move, and the genesis total fits in 64 bits.
  receiver.balance += t.amount;
  a.write_at(0, sender);
  a.write_at(1, receiver);
  return TxStatus::applied;
}

/// Accounts in memory (the ledger keeps the whole state here; RocksDB holds the durable copy), in
/// an open-addressing table (absl::flat_hash_map: one probe of a 16-slot group per lookup, keys
/// and balances inline). find() and prefetch() are safe from many threads while nothing modifies
/// the state; inserting an account may move the others (pointers from find() last until then).
class AccountState {
 public:
  AccountState() = default;
  explicit AccountState(const Genesis& g);

  const Account* find(const PublicKey& k) const {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second;
  }
  /// Starts loading what find(k) will read, so that many lookups overlap their memory latency.
  void prefetch(const PublicKey& k) const { map_.prefetch(k); }
  Account* find_mutable(const PublicKey& k) {
    auto it = map_.find(k);
    return it == map_.end() ? nullptr : &it->second;
  }
  void set(const PublicKey& k, const Account& a) { map_[k] = a; }
  /// Sets keys[i] to *values[i] wherever values[i] holds one (keys distinct): existing accounts on
  /// every core, new ones after. found[i], when given, is find(keys[i]) as of before (what the
  /// executor saw), which spares a second lookup.
  void apply(std::span<const PublicKey> keys, std::span<const std::optional<Account>> values,
             std::span<const Account* const> found = {});
  std::size_t size() const noexcept { return map_.size(); }
  void reserve(std::size_t n) { map_.reserve(n); }
  /// Every account, sorted by key.
  std::vector<std::pair<PublicKey, Account>> sorted() const;

  friend bool operator==(const AccountState& a, const AccountState& b) { return a.map_ == b.map_; }

 private:
  absl::flat_hash_map<PublicKey, Account, KeyHash, KeyEqual> map_;
};

/// The reference: applies txs one by one to state, in order; one status per transfer.
std::vector<TxStatus> apply_in_order(AccountState& state, std::span<const VerifiedTransfer> txs);

}  // namespace hetex::ledger
