// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Generated ledgers for tests and benchmarks (and `hetex ledger gen`): accounts with real Ed25519
/// keys, and transfers signed by libsodium that are valid in order, except for a chosen share made
/// invalid in each of the four ways (bad signature, unknown sender, wrong nonce, amount above the
/// balance), evenly. Deterministic for a seed.

#include <cstdint>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/ledger/text.hpp"
#include "hetex/ledger/types.hpp"

namespace hetex::ledger {

/// The shape of a generated ledger.
struct WorkloadOptions {
  std::size_t accounts = 1000;        ///< accounts in the genesis
  std::size_t transactions = 10'000;  ///< transfers generated
  /// Senders and receivers are drawn with probability ~ 1 / rank^zipf: 0 is uniform, 1 is
  /// Zipf's law, larger values put ever more of the traffic on the first few accounts.
  double zipf = 0;
  double invalid = 0;                 ///< share of transactions made invalid, in [0, 1]
  std::uint64_t seed = 1;             ///< the same seed gives the same ledger
  std::uint64_t balance = 1'000'000;  ///< every account's genesis balance
  std::uint64_t max_amount = 1000;    ///< valid amounts are drawn from [0, min(balance, max_amount)]
};

/// A generated ledger: its genesis and its transfers, signed.
struct Workload {
  Genesis genesis;
  std::vector<Transfer> transfers;
  /// What each transfer was made to be: TxStatus::applied, or the reason it should be rejected.
  std::vector<TxStatus> intended;
};

/// invalid_argument for impossible options (no accounts, a share outside [0, 1], a negative skew).
Result<Workload> generate_workload(const WorkloadOptions& options);

}  // namespace hetex::ledger
