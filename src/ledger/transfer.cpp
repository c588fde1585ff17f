// SPDX-License-Identifier: MIT
#include "hetex/ledger/transfer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>

namespace hetex::ledger {

AccountState::AccountState(const Genesis& g) {
  map_.reserve(g.accounts.size());
  for (const auto& [key, balance] : g.accounts) map_[key] = Account{balance, 0};
}

std::vector<std::pair<PublicKey, Account>> AccountState::sorted() const {
  std::vector<std::pair<PublicKey, Account>> out(map_.begin(), map_.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// Distinct keys are distinct slots, and nothing is inserted until every existing account is
// updated (an insert may move the accounts): existing accounts can be updated in place
// concurrently.
void AccountState::apply(std::span<const PublicKey> keys, std::span<const std::optional<Account>> values,
                         std::span<const Account* const> found) {
  std::vector<std::uint8_t> missing(keys.size(), 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, keys.size(), 2048), [&](const auto& r) {
    for (std::size_t s = r.begin(); s != r.end(); ++s) {
      if (!values[s]) continue;
      // found[s] points into this (non-const) state, handed out by find() as const.
      if (Account* a = found.empty() ? find_mutable(keys[s]) : const_cast<Account*>(found[s]))
        *a = *values[s];
      else
        missing[s] = 1;
    }
  });
  for (std::size_t s = 0; s < keys.size(); ++s)
    if (missing[s]) set(keys[s], *values[s]);
}

std::vector<TxStatus> apply_in_order(AccountState& state, std::span<const VerifiedTransfer> txs) {
  std::vector<TxStatus> out;
  out.reserve(txs.size());
  for (const auto& vt : txs) {
    const Transfer& t = vt.transfer;
    if (!vt.signature_valid) {
      out.push_back(TxStatus::bad_signature);
      continue;
    }
    const Account* from = state.find(t.from);
    if (!from) {
      out.push_back(TxStatus::unknown_sender);
      continue;
    }
    if (from->nonce != t.nonce) {
      out.push_back(TxStatus::bad_nonce);
      continue;
    }
    if (t.amount > from->balance) {
      out.push_back(TxStatus::insufficient_balance);
      continue;
    }
    Account sender = *from;
    sender.balance -= t.amount;
    sender.nonce += 1;
    state.set(t.from, sender);
    const Account* to = state.find(t.to);
    Account receiver = to ? *to : Account{};
    receiver.balance += t.amount;
    state.set(t.to, receiver);
    out.push_back(TxStatus::applied);
  }
  return out;
}

}  // namespace hetex::ledger
