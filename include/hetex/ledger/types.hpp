// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The ledger's data: accounts, transfers, receipts and block headers (docs/design/ledger.md has
/// the rules; this header has the byte layouts that hashes and signatures cover).

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "hetex/core/hex.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/sha256.hpp"

namespace hetex::ledger {

using PublicKey = ops::PublicKey;
using Signature = ops::Signature;
using Hash = ops::Digest;

/// What an account holds. Accounts are never deleted.
struct Account {
  std::uint64_t balance = 0;
  std::uint64_t nonce = 0;
  friend bool operator==(const Account&, const Account&) = default;
};

/// A signed transfer of `amount` from `from` to `to`. The signature is Ed25519 by `from` over
/// signing_message(): from || to || amount (u64 LE) || nonce (u64 LE), 80 bytes.
struct Transfer {
  PublicKey from{};
  PublicKey to{};
  std::uint64_t amount = 0;
  std::uint64_t nonce = 0;
  Signature signature{};
  friend bool operator==(const Transfer&, const Transfer&) = default;
};

inline constexpr std::size_t kSigningMessageBytes = 80;
using SigningMessage = std::array<std::uint8_t, kSigningMessageBytes>;
SigningMessage signing_message(const Transfer& t) noexcept;

/// A transaction's outcome. Checks apply in this order; the first that fails is the reason.
enum class TxStatus : std::uint8_t {
  applied = 0,
  bad_signature = 1,         ///< invalid by libsodium's rules
  unknown_sender = 2,        ///< `from` has no account
  bad_nonce = 3,             ///< nonce differs from the sender's current nonce
  insufficient_balance = 4,  ///< amount exceeds the sender's balance
};
inline constexpr int kTxStatusCount = 5;
std::string_view to_string(TxStatus s) noexcept;

/// Block headers. The hash of a header is SHA-256 of encode(): height (u64 LE) || parent (32) ||
/// merkle_root (32) || accepted (u64 LE) || rejected (u64 LE), 88 bytes. Block 1's parent is the
/// genesis hash.
struct BlockHeader {
  std::uint64_t height = 0;
  Hash parent{};
  Hash merkle_root{};
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};
inline constexpr std::size_t kHeaderBytes = 88;
std::array<std::uint8_t, kHeaderBytes> encode(const BlockHeader& h) noexcept;
BlockHeader decode_header(std::span<const std::uint8_t, kHeaderBytes> bytes) noexcept;
Hash block_hash(const BlockHeader& h);

/// One SHA-256 on the calling thread.
Hash sha256_of(std::span<const std::uint8_t> bytes);

/// Lower-case hex, and its inverse (core/hex.hpp).
using hetex::from_hex;
using hetex::to_hex;

/// Hashes a public key for hash tables (keys are uniformly random bytes: the first eight do).
struct KeyHash {
  std::size_t operator()(const PublicKey& k) const noexcept {
    std::uint64_t h;
    std::memcpy(&h, k.data(), sizeof h);
    return static_cast<std::size_t>(h * 0x9E3779B97F4A7C15ull);
  }
};
/// Key equality in four word compares, inlined (std::array's == calls memcmp).
struct KeyEqual {
  bool operator()(const PublicKey& a, const PublicKey& b) const noexcept {
    std::uint64_t x[4], y[4];
    std::memcpy(x, a.data(), 32);
    std::memcpy(y, b.data(), 32);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
  }
};

}  // namespace hetex::ledger
