// SPDX-License-Identifier: MIT
#pragma once
// Host-side pieces of the SHA-256 operations, shared by the CPU path (sha256_cpu.cpp), the
// GPU path on the staging pipeline (sha256_gpu.cu) and the tests: batch checks, chunk planning,
// packing into pinned staging. Everything here is host code without CUDA types, so the pipeline's
// logic is tested on machines without a GPU.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "hetex/async/stream.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/core/error.hpp"
#include "hetex/ops/messages.hpp"
#include "hetex/ops/sha256.hpp"

namespace hetex::detail::sha256 {

inline constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// Chunking of host->host GPU batches. A chunk is what one stream uploads, hashes and downloads
// as a unit; `chunk_bytes` bounds its upload (data plus 4 bytes of offset per message) and so
// the pinned and device staging per stream.
struct GpuOptions {
  // Upload per chunk. 16 MiB is ~0.3 ms of PCIe Gen5: large enough that per-chunk costs (three
  // driver calls, an event, a launch) vanish, small enough that the first DMA starts early.
  std::size_t chunk_bytes = std::size_t(16) << 20;
  // Bounds the digests per chunk (32 bytes each) when messages are tiny.
  std::size_t chunk_messages = std::size_t(1) << 19;
  // Smaller batches are not cut finer than this to spread them over streams: below ~1 MiB the
  // fixed cost per chunk outweighs the overlap.
  std::size_t min_chunk_bytes = std::size_t(1) << 20;
  // Staging slots in flight (each bound to stream slot % streams); 0: max(2, streams), at most 4.
  unsigned slots = 0;
  // Host copies into staging and out of it with streaming stores (see parallel_copy). Plain
  // stores can win instead when the staging stays in the last-level cache; measure both.
  bool streaming_stores = true;
};

// The GPU pipeline with explicit options (sha256_gpu uses the defaults); for tests and tuning.
Status gpu_with_options(std::span<Stream> streams, const ops::MessageBatch& in, std::span<ops::Digest> out,
                        const GpuOptions& options);

// invalid_argument describing why message i is malformed (its end decreases or passes the data).
Error bad_message(const ops::MessageBatch& in, std::size_t i);
// The checks every path makes before it reads a byte: a lone offset, the output size.
Status check_shape(const ops::MessageBatch& in, std::size_t outputs);
inline bool message_ok(const ops::MessageBatch& in, std::size_t i) {
  const std::uint64_t b = in.offsets[i], e = in.offsets[i + 1];
  return b <= e && e <= in.data.size();
}

struct Chunk {
  std::size_t begin = 0, end = 0;  // messages [begin, end)
  bool host = false;               // longer than a chunk: hashed on the CPU
};
// Cuts [0, in.size()) into chunks of consecutive messages. Messages too long for a chunk form
// host chunks. Offsets are not assumed valid: a malformed batch still yields a partition whose
// chunks pack_chunk (or the host path) rejects.
std::vector<Chunk> plan_chunks(const ops::MessageBatch& in, const GpuOptions& options, std::size_t slots);

// Staging layout of a chunk of n messages: [n + 1 relative 32-bit offsets | pad | data]. The
// data sits at a fixed place so that it can be copied while the offsets are still being checked;
// a chunk of equal-length messages uploads the data alone (the kernel computes the offsets).
inline std::size_t data_offset(std::size_t messages) { return (4 * (messages + 1) + 255) / 256 * 256; }
inline std::size_t staging_bytes(std::size_t messages, std::size_t data_bytes) {
  return data_offset(messages) + data_bytes;
}

struct Packed {
  std::size_t messages = 0;
  std::size_t data_bytes = 0;
  bool uniform = false;  // every message `length` bytes; no offsets uploaded
  std::uint64_t length = 0;
  std::size_t upload_begin = 0;  // the staging bytes [upload_begin, upload_end) go to the device
  std::size_t upload_end = 0;
};
// How pack_chunk places the data: not at all (the device DMAs it straight from the caller's
// page-locked memory), or copied with streaming or plain stores.
enum class DataCopy { none, streaming, plain };
// Checks messages [begin, end) and writes them into `staging` (>= staging_bytes).
Result<Packed> pack_chunk(const ops::MessageBatch& in, std::size_t begin, std::size_t end,
                          std::span<std::uint8_t> staging, DataCopy data = DataCopy::streaming);

// The kernel's work on a packed chunk, run on the host by the same code (tests).
void hash_packed_on_host(std::span<const std::uint8_t> staging, const Packed& p, std::span<ops::Digest> out);

// Host copies into and out of staging: hetex::detail::parallel_copy (transfer.hpp), streaming
// stores by default: skipping the read-for-ownership saves a third of the copy's memory traffic.

// Hashes messages [begin, end) into out[0, end - begin) on this thread with OpenSSL; checks
// each message before reading it.
Status hash_serial(const ops::MessageBatch& in, std::size_t begin, std::size_t end, ops::Digest* out);
// The same on every core (TBB). Errors name absolute message indices.
Status hash_parallel(const ops::MessageBatch& in, std::size_t begin, std::size_t end, ops::Digest* out);

}  // namespace hetex::detail::sha256
