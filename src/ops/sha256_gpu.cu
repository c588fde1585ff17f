// SPDX-License-Identifier: MIT
// SHA-256 on a GPU: the host->host path on the staging pipeline (async/staging.hpp: chunks
// round-robin over streams so that the upload of one, the hashing of another and the download of
// a third overlap) and the device-resident entry. What is SHA-256's own here: packing a chunk
// (offsets, and the data unless the device reads it from page-locked memory), the launch, and
// hashing messages too long for a chunk on the CPU. The kernel is in sha256_kernel.cuh.

#include <cuda_runtime.h>

#include <algorithm>
#include <new>
#include <vector>

// nvcc's front end (not the host compiler) reads future.hpp's emplace() of a [[nodiscard]]
// Result as a discarded value.
#pragma nv_diag_suppress 2810
#include "async/staging.hpp"
#include "hetex/memory/buffer.hpp"
#include "ops/sha256_detail.hpp"
#include "ops/sha256_kernel.cuh"
#pragma nv_diag_default 2810

namespace hetex::detail::sha256 {
namespace {

// Chunks in flight when the data is page-locked (see gpu_with_options).
constexpr std::size_t kPinnedSlots = 8;

bool pinned_range(const Device& dev, const void* p, std::size_t bytes) {
  if (!p || bytes == 0) return false;
  auto* gpu = dev.backend();
  return gpu->is_pinned(p) && gpu->is_pinned(static_cast<const char*>(p) + bytes - 1);
}

// A chunk's slot: [n + 1 relative offsets | pad | data] staged in host_in (the offsets alone when
// the data is page-locked: it goes to the device straight from the caller's memory), the same
// layout in device_in, digests in device_out (and host_out for a pageable output).
class ShaWork final : public StagedWork {
 public:
  ShaWork(const ops::MessageBatch& in, std::span<ops::Digest> out, std::size_t slots)
      : in_(in), out_(out), packed_(slots) {}
  bool in_pinned = false, out_pinned = false, streaming = true;
  int sms = 1;

  Status pack(hetex::detail::Chunk& c, const SlotMemory& m) override {
    const std::size_t n = c.end - c.begin;
    const Packed p = HETEX_TRY(pack_chunk(in_, c.begin, c.end, m.host_in,
                                          in_pinned   ? DataCopy::none
                                          : streaming ? DataCopy::streaming
                                                      : DataCopy::plain));
    packed_[m.index] = p;
    if (p.upload_end > p.upload_begin)
      c.upload(m.device_in.data() + p.upload_begin, m.host_in.data() + p.upload_begin, p.upload_end - p.upload_begin,
               true);
    if (in_pinned && p.data_bytes)
      c.upload(m.device_in.data() + data_offset(n), in_.data.data() + in_.offsets[c.begin], p.data_bytes, true);
    c.download(out_.data() + c.begin, m.device_out.data(), n * sizeof(ops::Digest), out_pinned);
    return {};
  }

  Status launch(Stream& st, const hetex::detail::Chunk& c, const SlotMemory& m) override {
    const Packed& p = packed_[m.index];
    const std::size_t n = c.end - c.begin;
    std::uint8_t* d_in = m.device_in.data();
    const DeviceSource src{reinterpret_cast<const uint4*>(d_in + data_offset(n)), p.data_bytes};
    std::uint8_t* d_out = m.device_out.data();
    const int sms_ = sms;
    UniqueFunction<void(NativeStream)> fn;
    if (p.uniform) {
      fn = [=](NativeStream ns) { sha256::launch(ns, src, UniformOffsets{0, p.length}, n, sms_, d_out); };
    } else {
      const Rel32Offsets offs{reinterpret_cast<const std::uint32_t*>(d_in), 0};
      fn = [=](NativeStream ns) { sha256::launch(ns, src, offs, n, sms_, d_out); };
    }
    (void)HETEX_TRY(st.impl().launch_and_record(fn));
    return {};
  }

 private:
  const ops::MessageBatch& in_;
  std::span<ops::Digest> out_;
  std::vector<Packed> packed_;  // per slot: the chunk packed into it
};

Status run(std::span<Stream> streams, const ops::MessageBatch& in, std::span<ops::Digest> out,
           const std::vector<Chunk>& plan, ShaWork& work, const StagingOptions& o) {
  auto p = HETEX_TRY(StagingPipeline::create(streams, work, o));
  for (const Chunk& c : plan) {
    if (c.host) {
      // Messages longer than a chunk, each a serial chain: one core each, while the GPU works
      // through the chunks already queued.
      HETEX_TRY_VOID(hash_parallel(in, c.begin, c.end, out.data() + c.begin));
      continue;
    }
    HETEX_TRY_VOID(p.submit(c.begin, c.end));
  }
  return p.finish();
}

}  // namespace

Status gpu_with_options(std::span<Stream> streams, const ops::MessageBatch& in, std::span<ops::Digest> out,
                        const GpuOptions& options) {
  HETEX_TRY_VOID(check_shape(in, out.size()));
  if (streams.empty()) return Error(Errc::invalid_argument, "sha256_gpu needs at least one stream");
  const Device& dev = streams.front().device();
  for (const Stream& s : streams)
    if (!(s.device() == dev))
      return Error(Errc::invalid_argument, "sha256_gpu: streams of one GPU, got " + dev.id().to_string() + " and " +
                                               s.device().id().to_string());
  if (options.chunk_bytes < 1024 || options.chunk_bytes > (std::size_t(1) << 30))
    return Error(Errc::invalid_argument, "sha256_gpu: chunk_bytes must be within 1 KiB .. 1 GiB");
  if (in.size() == 0) return {};

  std::size_t nslots = options.slots ? options.slots : std::clamp<std::size_t>(streams.size(), 2, 4);
  const auto plan = plan_chunks(in, options, nslots);
  const bool spans = in.offsets.front() <= in.offsets.back() && in.offsets.back() <= in.data.size();
  const bool in_pinned = spans && pinned_range(dev, in.data.data() + in.offsets.front(), in.total_bytes());
  const bool out_pinned = pinned_range(dev, out.data(), out.size_bytes());
  // From page-locked memory the host only enqueues each chunk, but it must run to do so: with
  // three chunks in flight (~1 ms of PCIe) the GPU idled whenever this thread waited for a core
  // (the CPU hashing its share of a split on every other one), and a 2 ms call took 20 ms. A
  // deeper ring keeps the GPU fed across such waits; it costs device memory only.
  if (in_pinned && !options.slots) nslots = kPinnedSlots;

  // Each slot holds the largest chunk of the plan. Offsets of malformed chunks are not trusted:
  // pack_chunk rejects those before any copy, so they need no room.
  StagingOptions o;
  std::size_t device_chunks = 0;
  for (const Chunk& c : plan) {
    if (c.host) continue;
    ++device_chunks;
    const std::size_t n = c.end - c.begin;
    const std::uint64_t b = in.offsets[c.begin], e = in.offsets[c.end];
    const std::size_t staged =
        e >= b && e - b <= options.chunk_bytes ? staging_bytes(n, std::size_t(e - b)) : data_offset(n);
    o.bytes.host_in = std::max(o.bytes.host_in, in_pinned ? data_offset(n) : staged);
    o.bytes.device_in = std::max(o.bytes.device_in, staged);
    o.bytes.host_out = std::max(o.bytes.host_out, out_pinned ? 0 : n * sizeof(ops::Digest));
    o.bytes.device_out = std::max(o.bytes.device_out, n * sizeof(ops::Digest));
  }
  o.slots = std::max<std::size_t>(1, std::min(nslots, device_chunks));
  o.land_beside_pack = true;  // one parallel region per chunk: the last digests out, the next chunk in
  o.streaming_stores = options.streaming_stores;

  ShaWork work(in, out, o.slots);
  work.sms = multiprocessors(dev);
  work.streaming = options.streaming_stores;
  work.in_pinned = in_pinned;
  work.out_pinned = out_pinned;
  try {
    return run(streams, in, out, plan, work, o);
  } catch (const std::bad_alloc&) {
    return Error(Errc::out_of_memory, "sha256_gpu: out of host memory");
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("sha256_gpu: ") + e.what());
  }
}

}  // namespace hetex::detail::sha256

namespace hetex::ops {

Future<void> sha256_gpu_device(Stream& s, ReadView<std::uint8_t> data, ReadView<std::uint64_t> offsets,
                               WriteView<Digest> out) {
  if (offsets.size() == 1)
    return make_error_future<void>(
        Error(Errc::invalid_argument, "sha256_gpu_device: one offset; n messages need n + 1"));
  const std::size_t n = offsets.empty() ? 0 : offsets.size() - 1;
  if (out.size() != n)
    return make_error_future<void>(
        Error(Errc::invalid_argument, "sha256_gpu_device: output has room for " + std::to_string(out.size()) +
                                          " digests but there are " + std::to_string(n) + " messages"));
  if (n == 0) return make_ready_future();
  const int gpu = s.device().id().index;
  auto reachable = [&](MemoryKind k, int dev, const char* what) -> Status {
    if ((k == MemoryKind::device && dev == gpu) || k == MemoryKind::managed || k == MemoryKind::mapped) return {};
    return Error(Errc::invalid_argument, std::string("sha256_gpu_device: ") + what + " is " +
                                             std::string(to_string(k)) + " memory" +
                                             (k == MemoryKind::device ? " of another GPU" : "") +
                                             "; it must be a device, managed or mapped buffer of " +
                                             s.device().id().to_string() + " (use sha256_gpu for host memory)");
  };
  for (auto st : {data.empty() ? Status{} : reachable(data.memory(), data.device_index(), "the data"),
                  reachable(offsets.memory(), offsets.device_index(), "the offsets"),
                  reachable(out.memory(), out.device_index(), "the output")})
    if (!st) return make_error_future<void>(std::move(st).error());

  // Granules are counted from the 16-byte boundary at or before the data; buffers start 256-byte
  // aligned, so that boundary is inside the same allocation.
  const auto addr = reinterpret_cast<std::uintptr_t>(data.data());
  const std::uint64_t lead = addr & 15;
  const detail::sha256::DeviceSource src{reinterpret_cast<const uint4*>(addr - lead), lead + data.size()};
  const detail::sha256::Abs64Offsets offs{offsets.data(), lead, data.size()};
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data());
  const int sms = detail::sha256::multiprocessors(s.device());
  return s.enqueue([=](NativeStream ns) { detail::sha256::launch(ns, src, offs, n, sms, dst); }, data, offsets, out);
}

}  // namespace hetex::ops
