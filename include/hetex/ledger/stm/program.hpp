// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What the parallel executor (stm::Executor) runs: a Program describes one transaction type.
///
/// @code
/// struct Counter {                                   // "add tx.delta to every key of tx.keys"
///   using Key = std::uint64_t;  using Value = std::int64_t;
///   using Transaction = MyTx;   using Output = int;
///   using KeyHash = std::hash<Key>;
///   void declare(const MyTx& tx, stm::Declare<Key>& d) const { for (auto k : tx.keys) d.write(k); }
///   int execute(const MyTx& tx, stm::Access<Key, Value>& a) const {
///     for (auto k : tx.keys) a.write(k, (a.read(k) ? *a.read(k) : 0) + tx.delta);
///     return 1;
///   }
/// };
/// @endcode
///
/// declare() names every key a transaction may read (d.read) or write (d.write, which may also be
/// read); it sees only the transaction, never the state. execute() is a pure function of the
/// transaction and the values of its declared keys: it must not touch anything else, must give
/// the same result for the same values, and may be run several times (Block-STM re-executes a
/// transaction whose reads were invalidated). Reading or writing an undeclared key makes the
/// block fail with invalid_argument. A key with no value reads as nullptr; values are written,
/// never deleted.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hetex::ledger::stm {

/// The keys one transaction declares, in first-declared order, each once (declaring a key again
/// merges: a write wins over a read).
template <class Key>
class Declare {
 public:
  void read(const Key& k) { add(k, false); }
  void write(const Key& k) { add(k, true); }

  std::size_t size() const noexcept { return keys_.size(); }
  const std::vector<Key>& keys() const noexcept { return keys_; }
  const std::vector<std::uint8_t>& writes() const noexcept { return writes_; }
  void clear() noexcept {
    keys_.clear();
    writes_.clear();
  }

 private:
  void add(const Key& k, bool write) {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == k) {
        writes_[i] |= write;
        return;
      }
    keys_.push_back(k);
    writes_.push_back(write);
  }
  std::vector<Key> keys_;
  std::vector<std::uint8_t> writes_;
};

/// A transaction's view of its declared keys during one execution: the values it read, updated
/// by its own writes (a transaction reads what it wrote). Each declared key's value lives where
/// values[i] points: a copy of its own, or (executed in order on one thread) the key's current
/// value itself, which spares copying it in and out.
template <class Key, class Value>
class Access {
 public:
  Access(std::span<const Key> keys, std::span<const std::uint8_t> writable,
         std::span<std::optional<Value>* const> values, std::span<std::uint8_t> written)
      : keys_(keys), writable_(writable), values_(values), written_(written) {}

  /// The key's value, or nullptr when it has none.
  const Value* read(const Key& k) {
    const std::size_t i = find(k);
    if (i == kNone) return nullptr;
    return *values_[i] ? &**values_[i] : nullptr;
  }
  /// Sets the key's value. A key not declared is ignored; one declared for reading only is not
  /// written, and the misuse is recorded (misused()).
  void write(const Key& k, const Value& v) {
    const std::size_t i = find(k);
    if (i == kNone) return;
    if (!writable_[i]) {
      misused_ = true;
      return;
    }
    *values_[i] = v;
    written_[i] = 1;
  }
  /// By declaration index (0 = first declared), without a key comparison.
  const Value* read_at(std::size_t i) { return *values_[i] ? &**values_[i] : nullptr; }
  /// As write(), by declaration index.
  void write_at(std::size_t i, const Value& v) {
    if (!writable_[i]) {
      misused_ = true;
      return;
    }
    *values_[i] = v;
    written_[i] = 1;
  }

  /// True once the transaction read or wrote an undeclared key, or wrote a key declared read-only.
  bool misused() const noexcept { return misused_; }

 private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t find(const Key& k) {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == k) return i;
    misused_ = true;
    return kNone;
  }
  std::span<const Key> keys_;
  std::span<const std::uint8_t> writable_;
  std::span<std::optional<Value>* const> values_;
  std::span<std::uint8_t> written_;
  bool misused_ = false;
};

/// KeyHash hashes keys (to group a block's declarations); keys that collide are still told apart,
/// by their order (Key must be totally ordered).
template <class P>
concept Program = requires(const P& p, const typename P::Transaction& tx, Declare<typename P::Key>& d,
                           Access<typename P::Key, typename P::Value>& a, const typename P::Key& k) {
  requires std::totally_ordered<typename P::Key>;
  { typename P::KeyHash{}(k) } -> std::convertible_to<std::size_t>;
  requires std::copyable<typename P::Value> && std::default_initializable<typename P::Value>;
  requires std::default_initializable<typename P::Output> && std::movable<typename P::Output>;
  {p.declare(tx, d)};
  { p.execute(tx, a) } -> std::convertible_to<typename P::Output>;
};

}  // namespace hetex::ledger::stm
