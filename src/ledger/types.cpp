// SPDX-License-Identifier: MIT
#include "hetex/ledger/types.hpp"

namespace hetex::ledger {
namespace {

void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}

}  // namespace

SigningMessage signing_message(const Transfer& t) noexcept {
  SigningMessage m;
  std::memcpy(m.data(), t.from.data(), 32);
  std::memcpy(m.data() + 32, t.to.data(), 32);
  put_u64(m.data() + 64, t.amount);
  put_u64(m.data() + 72, t.nonce);
  return m;
}

std::string_view to_string(TxStatus s) noexcept {
  switch (s) {
    case TxStatus::applied: return "applied";
    case TxStatus::bad_signature: return "bad_signature";
    case TxStatus::unknown_sender: return "unknown_sender";
    case TxStatus::bad_nonce: return "bad_nonce";
    case TxStatus::insufficient_balance: return "insufficient_balance";
  }
  return "unknown";
}

std::array<std::uint8_t, kHeaderBytes> encode(const BlockHeader& h) noexcept {
  std::array<std::uint8_t, kHeaderBytes> b{};
  put_u64(b.data(), h.height);
  std::memcpy(b.data() + 8, h.parent.data(), 32);
  std::memcpy(b.data() + 40, h.merkle_root.data(), 32);
  put_u64(b.data() + 72, h.accepted);
  put_u64(b.data() + 80, h.rejected);
  return b;
}

BlockHeader decode_header(std::span<const std::uint8_t, kHeaderBytes> b) noexcept {
  BlockHeader h;
  h.height = get_u64(b.data());
  std::memcpy(h.parent.data(), b.data() + 8, 32);
  std::memcpy(h.merkle_root.data(), b.data() + 40, 32);
  h.accepted = get_u64(b.data() + 72);
  h.rejected = get_u64(b.data() + 80);
  return h;
}

Hash sha256_of(std::span<const std::uint8_t> bytes) {
  const std::uint64_t offsets[2] = {0, bytes.size()};
  Hash out{};
  // A one-message batch is always well formed: this cannot fail.
  (void)ops::sha256_cpu_serial(ops::MessageBatch{bytes, offsets}, std::span<Hash>(&out, 1));
  return out;
}

Hash block_hash(const BlockHeader& h) {
  const auto bytes = encode(h);
  return sha256_of(bytes);
}

}  // namespace hetex::ledger
