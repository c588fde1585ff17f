// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The ledger's text formats.
/// @code
/// transactions: one per line, "<from hex> <to hex> <amount> <nonce> <signature hex>"
/// genesis:      one account per line, "<public key hex> <balance>"
/// @endcode
/// Fields are separated by single spaces; numbers are unsigned decimal (u64); keys are 64 hex
/// digits and signatures 128, either case. A trailing carriage return is ignored (files written on Windows);
/// anything else out of place is an error that says what and where.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/ledger/types.hpp"

namespace hetex::ledger {

/// One line without its newline. The error names the field and the column; the caller adds the
/// line number.
Result<Transfer> parse_transfer(std::string_view line);
/// The canonical text of t (lower-case hex): what `hetex ledger gen` writes.
std::string format_transfer(const Transfer& t);  ///< the transfer's line, as parse_transfer reads it

/// A transaction's id: SHA-256 of its text line, without the newline (and without a trailing carriage return).
Hash transaction_id(std::string_view line);

/// The accounts a chain starts from.
struct Genesis {
  std::vector<std::pair<PublicKey, std::uint64_t>> accounts;  ///< sorted by key, no duplicates
  /// SHA-256 of the accounts in key order, each key || balance (u64 LE): the same accounts give
  /// the same hash whatever the file's order. Block 1's parent.
  Hash hash{};
};

/// Accounts from their lines. Errors: a malformed line ("line N: ..."), a key given twice (both
/// lines named), or balances whose sum exceeds 2^64 - 1 (balances only move between accounts, so
/// this is what guarantees that no balance can overflow).
Result<Genesis> parse_genesis(std::string_view text);
Result<Genesis> read_genesis(const std::filesystem::path& file);
Genesis make_genesis(std::vector<std::pair<PublicKey, std::uint64_t>> accounts);  ///< sorts; no checks
std::string format_genesis_line(const PublicKey& key, std::uint64_t balance);

/// Strips one trailing carriage return.
inline std::string_view trim_cr(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace hetex::ledger
