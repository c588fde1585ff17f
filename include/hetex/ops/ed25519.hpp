// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Batched Ed25519 signature verification on the CPU and the GPU, with libsodium 1.0.18's verdict
/// (crypto_sign_verify_detached) on every input: S >= L, small-order R or A, non-canonical or
/// undecodable A are invalid, and the check is the cofactorless encode([S]B - [h]A) == R.
///
/// @code
/// VerifyBatch batch{keys, signatures, messages.view()};
/// std::vector<Verdict> out(batch.size());
/// HETEX_TRY_VOID(ed25519_verify_gpu(streams, batch, out));   // or ed25519_verify_cpu
/// @endcode
///
/// A bad signature is Verdict::invalid, never an error; a Status error means the batch itself is
/// malformed (invalid_argument) or the device failed (out_of_memory, unavailable, kernel_fault...).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "hetex/core/error.hpp"
#include "hetex/exec/operation.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex {
class Stream;
}

namespace hetex::ops {

using PublicKey = std::array<std::uint8_t, 32>;                ///< an Ed25519 public key (32 bytes, RFC 8032 encoding)
using Signature = std::array<std::uint8_t, 64>;                ///< R (32 bytes) then S (32 bytes, little endian)
enum class Verdict : std::uint8_t { invalid = 0, valid = 1 };  ///< the result of verifying one signature

/// Item i is (keys[i], signatures[i], messages[i]); the three must have equal lengths.
struct VerifyBatch {
  std::span<const PublicKey> keys;        ///< the signers' public keys
  std::span<const Signature> signatures;  ///< one per key
  MessageBatch messages;                  ///< the signed messages, one per key

  std::size_t size() const noexcept { return keys.size(); }  ///< the number of items
  const void* host_data() const noexcept { return messages.host_data(); }
  /// Items [begin, end), without copying.
  VerifyBatch slice(std::size_t begin, std::size_t end) const noexcept {
    if (begin >= end) return {keys.subspan(0, 0), signatures.subspan(0, 0), messages.slice(0, 0)};
    return {keys.subspan(begin, end - begin), signatures.subspan(begin, end - begin), messages.slice(begin, end)};
  }
  Status validate() const;  ///< Errc::invalid_argument when the lengths differ or the messages are malformed
};

/// libsodium on the calling thread alone (the hybrid scheduler calls it on chunks from its own
/// TBB loop). out.size() must equal batch.size().
Status ed25519_verify_cpu_serial(const VerifyBatch& batch, std::span<Verdict> out);
/// libsodium on every core (TBB).
Status ed25519_verify_cpu(const VerifyBatch& batch, std::span<Verdict> out);

/// On the GPU of `streams` (one or more streams of one GPU), host memory to host memory: returns
/// when `out` is filled. The batch goes in chunks, round-robin over the streams, so uploads,
/// kernels and downloads of different chunks overlap; any batch size works, one larger than the
/// device's memory too. Without CUDA: Errc::unavailable.
Status ed25519_verify_gpu(std::span<Stream> streams, const VerifyBatch& batch, std::span<Verdict> out);

/// Verification as a scheduler operation: libsodium on CPU chunks, the kernel on the lane's streams.
const Operation<VerifyBatch, Verdict>& ed25519_verify();

namespace detail {
// The GPU kernel's own verification code compiled for the host, serially. It proves the device
// arithmetic on machines without a GPU (the differential tests run it against libsodium).
Status ed25519_verify_portable(const VerifyBatch& batch, std::span<Verdict> out);
}  // namespace detail

}  // namespace hetex::ops
