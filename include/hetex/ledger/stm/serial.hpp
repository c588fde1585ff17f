// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The plain sequential executor: each transaction in block order against the values left by the
/// ones before it. The reference stm::Executor is checked against (same Program, same outputs and
/// final values), kept as simple as it can be.

#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "hetex/ledger/stm/executor.hpp"
#include "hetex/ledger/stm/program.hpp"

namespace hetex::ledger::stm {

/// The outcome of execute_serially: what stm::Executor must reproduce.
template <Program P>
struct SerialResult {
  std::vector<typename P::Output> outputs;              ///< per transaction
  std::map<typename P::Key, typename P::Value> writes;  ///< every key written, with its last value
  bool misused = false;                                 ///< a transaction wrote a key it declared for reading only
};

template <Program P, Storage<P> S>
SerialResult<P> execute_serially(const P& program, std::span<const typename P::Transaction> txs, const S& storage) {
  using Key = typename P::Key;
  using Value = typename P::Value;
  SerialResult<P> r;
  for (const auto& tx : txs) {
    Declare<Key> d;
    program.declare(tx, d);
    std::vector<std::optional<Value>> values(d.size());
    std::vector<std::optional<Value>*> at(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) at[i] = &values[i];
    std::vector<std::uint8_t> written(d.size(), 0);
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (auto it = r.writes.find(d.keys()[i]); it != r.writes.end())
        values[i] = it->second;
      else if (const Value* v = storage.find(d.keys()[i]))
        values[i] = *v;
    }
    Access<Key, Value> a(d.keys(), d.writes(), at, written);
    r.outputs.push_back(program.execute(tx, a));
    r.misused |= a.misused();
    for (std::size_t i = 0; i < d.size(); ++i)
      if (written[i]) r.writes[d.keys()[i]] = *values[i];
  }
  return r;
}

}  // namespace hetex::ledger::stm
