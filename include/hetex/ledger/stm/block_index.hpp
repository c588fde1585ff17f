// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The declared keys of a block, indexed once before it executes: every distinct key becomes a
/// slot, and every transaction that declares a write to a slot owns one entry in that slot's
/// version chain (entries ordered by transaction). The index depends on the transactions alone,
/// never on the state, so a pipeline builds it for block n + 1 while block n executes.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/ledger/stm/program.hpp"

namespace hetex::ledger::stm {

/// The declared reads and writes of one block's transactions, indexed by key (see the file's
/// description). Built once per block; read-only while the block executes, so shared by all threads.
template <Program P>
struct BlockIndex {
  using Key = typename P::Key;
  using Transaction = typename P::Transaction;

  std::span<const Transaction> txs;  ///< borrowed: must outlive the index
  /// Transaction t's declarations are [decl_begin[t], decl_begin[t + 1]), in its declared order.
  std::vector<std::uint32_t> decl_begin;
  std::vector<Key> decl_key;
  std::vector<std::uint8_t> decl_write;
  std::vector<std::uint32_t> decl_slot;
  /// The entries of the declaration's slot that belong to lower transactions are
  /// [slot_entry_begin[slot], decl_below[d]); a write declaration's own entry is decl_below[d].
  std::vector<std::uint32_t> decl_below;
  std::vector<Key> slot_key;                    ///< distinct keys (grouped by hash, in no useful order)
  std::vector<std::uint32_t> slot_entry_begin;  ///< slots + 1
  std::vector<std::uint32_t> entry_tx;          ///< the writer of each entry, ascending per slot
  /// Per transaction: 1 if a higher transaction declares a key it may write. Only then can its
  /// writes change what a higher transaction reads (and call for validating those again).
  std::vector<std::uint8_t> writes_read_later;
  /// The longest chain of transactions each of which may read a key the one before may write:
  /// no schedule can run the block in fewer sequential steps.
  std::size_t critical_path = 0;

  std::size_t size() const noexcept { return txs.size(); }
  std::size_t slots() const noexcept { return slot_key.size(); }
  std::size_t entries() const noexcept { return entry_tx.size(); }
};

/// Builds the index of txs (parallel: declarations and the key sort use every core through TBB).
/// invalid_argument if the block is too large for 32-bit indices.
template <Program P>
Result<BlockIndex<P>> index_block(const P& program, std::span<const typename P::Transaction> txs) {
  using Key = typename P::Key;
  BlockIndex<P> b;
  b.txs = txs;
  const std::size_t n = txs.size();
  if (n >= std::numeric_limits<std::uint32_t>::max() / 64)
    return Error(Errc::invalid_argument, "block of " + std::to_string(n) + " transactions is too large");
  constexpr std::size_t kGrain = 1024;

  // Declarations: count, then fill (declare() is cheap, and this keeps one flat array).
  b.decl_begin.assign(n + 1, 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kGrain), [&](const auto& r) {
    Declare<Key> d;
    for (std::size_t t = r.begin(); t != r.end(); ++t) {
      d.clear();
      program.declare(txs[t], d);
      b.decl_begin[t + 1] = static_cast<std::uint32_t>(d.size());
    }
  });
  for (std::size_t t = 0; t < n; ++t) b.decl_begin[t + 1] += b.decl_begin[t];
  const std::size_t decls = b.decl_begin[n];
  if (decls >= std::numeric_limits<std::uint32_t>::max() / 2)
    return Error(Errc::invalid_argument, "block declares " + std::to_string(decls) + " keys; too many to index");
  b.decl_key.resize(decls);
  b.decl_write.resize(decls);
  std::vector<std::uint32_t> decl_tx(decls);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kGrain), [&](const auto& r) {
    Declare<Key> d;
    for (std::size_t t = r.begin(); t != r.end(); ++t) {
      d.clear();
      program.declare(txs[t], d);
      const std::size_t at = b.decl_begin[t];
      for (std::size_t i = 0; i < d.size(); ++i) {
        b.decl_key[at + i] = d.keys()[i];
        b.decl_write[at + i] = d.writes()[i];
        decl_tx[at + i] = static_cast<std::uint32_t>(t);
      }
    }
  });

  // Grouped by key: sorted by the key's hash, then by declaration (which is transaction order),
  // 16-byte records that sort fast. Keys whose hashes collide are told apart within their run.
  struct Rec {
    std::uint64_t hash;
    std::uint32_t decl;
    bool operator<(const Rec& o) const noexcept { return hash != o.hash ? hash < o.hash : decl < o.decl; }
  };
  std::vector<Rec> sorted(decls);
  const typename P::KeyHash hasher{};
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, decls, 4 * kGrain), [&](const auto& r) {
    for (std::size_t d = r.begin(); d != r.end(); ++d)
      sorted[d] = {static_cast<std::uint64_t>(hasher(b.decl_key[d])), static_cast<std::uint32_t>(d)};
  });
  tbb::parallel_sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i + 1 < decls;) {
    std::size_t j = i + 1;
    while (j < decls && sorted[j].hash == sorted[i].hash) ++j;
    bool mixed = false;
    for (std::size_t k = i + 1; k < j && !mixed; ++k) mixed = b.decl_key[sorted[k].decl] != b.decl_key[sorted[i].decl];
    if (mixed)  // a collision: order the run by key, keeping declaration order within a key
      std::sort(sorted.begin() + i, sorted.begin() + j, [&](const Rec& x, const Rec& y) {
        const auto& kx = b.decl_key[x.decl];
        const auto& ky = b.decl_key[y.decl];
        return kx < ky || (!(ky < kx) && x.decl < y.decl);
      });
    i = j;
  }

  b.decl_slot.resize(decls);
  b.decl_below.resize(decls);
  b.slot_key.reserve(decls);
  b.slot_entry_begin.reserve(decls + 1);
  b.entry_tx.reserve(decls);
  for (std::size_t i = 0; i < decls; ++i) {
    const auto d = sorted[i].decl;
    if (i == 0 || sorted[i - 1].hash != sorted[i].hash || b.decl_key[sorted[i - 1].decl] != b.decl_key[d]) {
      b.slot_key.push_back(b.decl_key[d]);
      b.slot_entry_begin.push_back(static_cast<std::uint32_t>(b.entry_tx.size()));
    }
    b.decl_slot[d] = static_cast<std::uint32_t>(b.slot_key.size() - 1);
    b.decl_below[d] = static_cast<std::uint32_t>(b.entry_tx.size());
    if (b.decl_write[d]) b.entry_tx.push_back(decl_tx[d]);
  }
  b.slot_entry_begin.push_back(static_cast<std::uint32_t>(b.entry_tx.size()));
  // A slot's declarations are consecutive in `sorted`, in transaction order.
  b.writes_read_later.assign(n, 0);
  for (std::size_t i = 0; i + 1 < decls; ++i) {
    const auto d = sorted[i].decl;
    if (b.decl_write[d] && b.decl_slot[sorted[i + 1].decl] == b.decl_slot[d]) b.writes_read_later[decl_tx[d]] = 1;
  }

  // Critical path: a transaction comes one step after the last earlier writer of any key it
  // declares.
  std::vector<std::uint32_t> depth(b.slot_key.size(), 0);
  std::uint32_t longest = 0;
  for (std::size_t t = 0; t < n; ++t) {
    std::uint32_t mine = 0;
    for (auto d = b.decl_begin[t]; d < b.decl_begin[t + 1]; ++d) mine = std::max(mine, depth[b.decl_slot[d]]);
    ++mine;
    for (auto d = b.decl_begin[t]; d < b.decl_begin[t + 1]; ++d)
      if (b.decl_write[d]) depth[b.decl_slot[d]] = mine;
    longest = std::max(longest, mine);
  }
  b.critical_path = longest;
  return b;
}

}  // namespace hetex::ledger::stm
