// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Batched SHA-256 (FIPS 180-4): one digest per message of a MessageBatch, on the CPU or a GPU.
///
/// @code
/// std::vector<hetex::ops::Digest> out(batch.size());
/// auto st = hetex::ops::sha256_cpu(batch.view(), out);             // every core (OpenSSL + TBB)
/// auto st = hetex::ops::sha256_gpu(streams, batch.view(), out);    // host memory -> host memory
/// @endcode
///
/// Every function checks the batch before it reads a message (offsets non-decreasing and inside
/// the data, one output per message) and reports a bad one as Errc::invalid_argument. On any
/// error the contents of `out` are unspecified. Host-only header: no CUDA types.

#include <array>
#include <cstdint>
#include <span>

#include "hetex/async/future.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/core/error.hpp"
#include "hetex/exec/operation.hpp"
#include "hetex/memory/view.hpp"
#include "hetex/ops/messages.hpp"

namespace hetex::ops {

using Digest = std::array<std::uint8_t, 32>;  ///< a SHA-256 digest

/// One thread, the caller's: for schedulers that split a batch across their own workers.
Status sha256_cpu_serial(const MessageBatch& in, std::span<Digest> out);
/// Every core, through TBB.
Status sha256_cpu(const MessageBatch& in, std::span<Digest> out);

/// Host memory in, host memory out, on the GPU of `streams` (>= 1 streams of one GPU; three let
/// the upload of one chunk, the hashing of another and the download of a third overlap). Returns
/// when `out` is filled. Any batch size works: it is processed in chunks of a few MiB through
/// pinned staging. A message longer than a chunk (16 MiB) is hashed on the host, concurrently:
/// SHA-256 of one message is a serial chain that one CPU core runs ~20x faster than one GPU
/// thread. Many messages of tens of KiB or more keep only a few GPU threads busy per chunk, so
/// such batches belong on the CPU (the GPU wins on many short messages). Data or `out` in
/// page-locked memory (PinnedBuffer) is DMA'd directly, skipping the host copy through staging.
/// On error, no device work still touches `in` or `out` when this returns.
/// Without CUDA: Errc::unavailable.
Status sha256_gpu(std::span<Stream> streams, const MessageBatch& in, std::span<Digest> out);

/// Device-resident batch: message i is data[offsets[i], offsets[i + 1]), offsets absolute into
/// `data` (n + 1 of them for n messages), digests into `out` (n of them). All three views must be
/// memory the GPU of `s` addresses (device, managed or mapped buffers). Enqueued on `s`; the
/// future is ready when the digests are. Offsets live on the device and are not checked on the
/// host: a decreasing or out-of-range offset is clamped into the data (that digest is then
/// meaningless) but never makes the kernel read outside `data`.
/// Without CUDA: Errc::unavailable.
Future<void> sha256_gpu_device(Stream& s, ReadView<std::uint8_t> data, ReadView<std::uint64_t> offsets,
                               WriteView<Digest> out);

/// SHA-256 as a scheduler operation: the CPU path on chunks, the GPU path on the lane's streams.
const Operation<MessageBatch, Digest>& sha256();

}  // namespace hetex::ops
