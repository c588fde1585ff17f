// SPDX-License-Identifier: MIT
// Ed25519 verification on the CPU: libsodium (the reference verdict) serially and over every
// core, and the GPU kernel's portable core compiled for the host.
#include <sodium.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <string>

#include "ops/ed25519_batch.hpp"

namespace hetex::ops {
namespace {

Status sodium_ready() {
  static const int rc = sodium_init();  // thread-safe once; 1 = already initialised elsewhere
  if (rc < 0) return Error(Errc::unavailable, "sodium_init failed");
  return {};
}

// libsodium may be handed a null pointer for an empty message; give it a real one.
const std::uint8_t* message_pointer(std::span<const std::uint8_t> m) {
  static const std::uint8_t empty = 0;
  return m.empty() ? &empty : m.data();
}

void verify_range_sodium(const VerifyBatch& b, std::span<Verdict> out, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    const auto m = b.messages[i];
    const int rc = crypto_sign_verify_detached(b.signatures[i].data(), message_pointer(m), m.size(), b.keys[i].data());
    out[i] = rc == 0 ? Verdict::valid : Verdict::invalid;
  }
}

}  // namespace

Status VerifyBatch::validate() const {
  if (signatures.size() != keys.size() || messages.size() != keys.size())
    return Error(Errc::invalid_argument, "verify batch has " + std::to_string(keys.size()) + " keys, " +
                                             std::to_string(signatures.size()) + " signatures and " +
                                             std::to_string(messages.size()) + " messages; they must be equal");
  return messages.validate();
}

namespace detail {

Status check_verify_args(const VerifyBatch& batch, std::span<const Verdict> out) {
  HETEX_TRY_VOID(batch.validate());
  if (out.size() != batch.size())
    return Error(Errc::invalid_argument, "verify batch has " + std::to_string(batch.size()) +
                                             " items but the output has room for " + std::to_string(out.size()));
  return {};
}

const hetex::detail::ed25519::BaseEntry* ed25519_base_table() {
  struct Table {
    hetex::detail::ed25519::BaseEntry e[hetex::detail::ed25519::kBaseTableEntries];
    Table() { hetex::detail::ed25519::build_base_table(e); }
  };
  static const Table table;
  return table.e;
}

Status ed25519_verify_portable(const VerifyBatch& batch, std::span<Verdict> out) {
  namespace ed = hetex::detail::ed25519;
  HETEX_TRY_VOID(check_verify_args(batch, out));
  const ed::BaseEntry* base = ed25519_base_table();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto m = batch.messages[i];
    const bool ok = ed::verify(ed::load_bytes32(batch.keys[i].data()), ed::load_bytes32(batch.signatures[i].data()),
                               ed::load_bytes32(batch.signatures[i].data() + 32), m.data(), m.size(), base);
    out[i] = ok ? Verdict::valid : Verdict::invalid;
  }
  return {};
}

}  // namespace detail

Status ed25519_verify_cpu_serial(const VerifyBatch& batch, std::span<Verdict> out) {
  HETEX_TRY_VOID(detail::check_verify_args(batch, out));
  HETEX_TRY_VOID(sodium_ready());
  verify_range_sodium(batch, out, 0, batch.size());
  return {};
}

Status ed25519_verify_cpu(const VerifyBatch& batch, std::span<Verdict> out) {
  HETEX_TRY_VOID(detail::check_verify_args(batch, out));
  HETEX_TRY_VOID(sodium_ready());
  // ~40 us per item: chunks of 16 already dwarf TBB's per-task cost.
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, batch.size(), 16),
      [&](const tbb::blocked_range<std::size_t>& r) { verify_range_sodium(batch, out, r.begin(), r.end()); });
  return {};
}

}  // namespace hetex::ops
