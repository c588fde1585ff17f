// SPDX-License-Identifier: MIT
// Ed25519 verification on the GPU, host memory to host memory: one signature per thread, the
// batch cut into chunks that go round-robin over the caller's S streams on the staging pipeline
// (async/staging.hpp), each chunk packed into its slot's pinned memory (one H2D copy, the
// kernel, one D2H copy). S + 1 slots let the host stage chunk k + S while the GPU works on
// chunks k .. k + S - 1.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

// hetex's Future<T> ignores a [[nodiscard]] Result inside std::optional::emplace, which nvcc's
// front end reports (2810) for every instantiation; GCC does not. Not ours to change.
#pragma nv_diag_suppress 2810
#include "async/staging.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/memory/buffer.hpp"
#include "ops/ed25519_batch.hpp"

namespace hetex::ops {
namespace {

namespace ed = hetex::detail::ed25519;

constexpr int kThreadsPerBlock = 64;  // small blocks spread small batches over many SMs
// At least 8 blocks (16 warps) per SM caps the kernel at 128 registers: ptxas otherwise takes
// all 255 for instruction-level parallelism and leaves 8 warps per SM. At 128 the point
// operations of the main loop do not spill (checked with -Xptxas -v); only the one-off parts
// (hash, decoding, inversion) spill a little.
constexpr int kMinBlocksPerSm = 8;
// A chunk is at most 32K signatures (~5.5 MB staged at 64-byte messages): three concurrent
// kernels of that size exceed one wave of resident threads (132 SMs x 512), so the GPU stays
// full, and the per-chunk costs (copies, a launch, an event) stay far below its ~10 ms of work.
// A batch up to that size goes as a single chunk: splitting it would only add latency.
constexpr std::size_t kMaxChunkItems = 32768;
constexpr std::size_t kMaxChunkData = std::size_t(8) << 20;

HETEX_HD constexpr std::size_t align16(std::size_t x) { return (x + 15) & ~std::size_t(15); }

// Where a chunk of n items and `data` message bytes sits in a staging buffer (host and device
// alike): keys, signatures, offsets, message bytes. Verdicts go to a separate region.
struct Layout {
  std::size_t keys = 0, sigs = 0, offsets = 0, data = 0, end = 0;
  HETEX_HD static Layout of(std::size_t n, std::size_t data_bytes) {
    Layout l;
    l.sigs = n * 32;
    l.offsets = l.sigs + n * 64;
    l.data = align16(l.offsets + (n + 1) * 8);
    l.end = align16(l.data + data_bytes);
    return l;
  }
};

__device__ __forceinline__ ed::Bytes32 load32(const std::uint8_t* p) {
  const uint4* q = reinterpret_cast<const uint4*>(p);  // 16-byte aligned by the layout
  const uint4 a = q[0], b = q[1];
  return ed::Bytes32{
      {a.x | (ed::u64(a.y) << 32), a.z | (ed::u64(a.w) << 32), b.x | (ed::u64(b.y) << 32), b.z | (ed::u64(b.w) << 32)}};
}

__global__ void __launch_bounds__(kThreadsPerBlock, kMinBlocksPerSm)
    verify_kernel(const std::uint8_t* __restrict__ staged, std::uint32_t n, std::uint64_t first_offset,
                  const ed::BaseEntry* __restrict__ base, std::uint8_t* __restrict__ verdicts) {
  const std::uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const Layout l = Layout::of(n, 0);
  const auto* offsets = reinterpret_cast<const std::uint64_t*>(staged + l.offsets);
  const std::uint64_t begin = offsets[i] - first_offset, end = offsets[i + 1] - first_offset;
  const ed::Bytes32 a = load32(staged + l.keys + 32 * std::size_t(i));
  const ed::Bytes32 r = load32(staged + l.sigs + 64 * std::size_t(i));
  const ed::Bytes32 s = load32(staged + l.sigs + 64 * std::size_t(i) + 32);
  verdicts[i] = ed::verify(a, r, s, staged + l.data + begin, end - begin, base) ? 1 : 0;
}

// The base-point table on each GPU, uploaded once per device (and again after a fault retired
// the device and its memory). Never freed: it lives as long as the process, like the devices.
Result<const ed::BaseEntry*> device_base_table(Stream& s) {
  static std::mutex m;
  static auto* tables = new std::map<const hetex::detail::GpuDevice*, DeviceBuffer<ed::BaseEntry>>();
  std::lock_guard lock(m);
  auto& t = (*tables)[s.device().backend()];
  if (t.empty() || t.lost()) {
    t = HETEX_TRY(DeviceBuffer<ed::BaseEntry>::allocate(s.device(), ed::kBaseTableEntries));
    const ed::BaseEntry* host = detail::ed25519_base_table();
    HETEX_TRY_VOID(s.impl().copy(t.view().data(), host, sizeof(ed::BaseEntry) * ed::kBaseTableEntries));
    // Other streams read it too: finish the upload before anyone launches.
    HETEX_TRY_VOID(s.impl().synchronize());
  }
  return static_cast<const ed::BaseEntry*>(t.view().data());
}

// A chunk of signatures [b, e) in its slot: its Layout in host_in and device_in (one upload),
// its verdicts in device_out (and host_out, unless the caller's output is page-locked).
class VerifyWork final : public hetex::detail::StagedWork {
 public:
  VerifyWork(const VerifyBatch& batch, std::span<Verdict> out) : batch_(batch), out_(out) {}
  const ed::BaseEntry* base = nullptr;
  bool out_pinned = false;

  Status pack(hetex::detail::Chunk& c, const hetex::detail::SlotMemory& m) override {
    const std::size_t b = c.begin, e = c.end, n = e - b;
    const auto& offsets = batch_.messages.offsets;
    const std::size_t data_bytes = offsets[e] - offsets[b];
    const Layout l = Layout::of(n, data_bytes);
    if (m.host_in.size() < l.end || m.device_out.size() < n)
      return Error(Errc::internal, "ed25519_verify_gpu: a chunk outgrew its staging slot");
    std::uint8_t* h = m.host_in.data();
    std::memcpy(h + l.keys, batch_.keys.data() + b, n * 32);
    std::memcpy(h + l.sigs, batch_.signatures.data() + b, n * 64);
    std::memcpy(h + l.offsets, offsets.data() + b, (n + 1) * 8);
    if (data_bytes) std::memcpy(h + l.data, batch_.messages.data.data() + offsets[b], data_bytes);
    c.upload(m.device_in.data(), h, l.end, true);
    c.download(out_.data() + b, m.device_out.data(), n, out_pinned);
    return {};
  }

  Status launch(Stream& s, const hetex::detail::Chunk& c, const hetex::detail::SlotMemory& m) override {
    const std::size_t n = c.end - c.begin;
    const std::uint64_t first = batch_.messages.offsets[c.begin];
    const ed::BaseEntry* table = base;
    const std::uint8_t* dev_in = m.device_in.data();
    std::uint8_t* dev_out = m.device_out.data();
    hetex::detail::UniqueFunction<void(NativeStream)> fn([=](NativeStream st) {
      const unsigned blocks = unsigned((n + kThreadsPerBlock - 1) / kThreadsPerBlock);
      verify_kernel<<<blocks, kThreadsPerBlock, 0, st>>>(dev_in, std::uint32_t(n), first, table, dev_out);
    });
    (void)HETEX_TRY(s.impl().launch_and_record(fn));
    return {};
  }

 private:
  const VerifyBatch& batch_;
  std::span<Verdict> out_;
};

bool pinned_range(const Device& dev, const void* p, std::size_t bytes) {
  auto* gpu = dev.backend();
  return bytes && gpu->is_pinned(p) && gpu->is_pinned(static_cast<const char*>(p) + bytes - 1);
}

// Chunk limits and slots, and the pipeline over them. One slot more than streams keeps every
// stream busy while the host stages the next chunk. Short of device or pinned memory, fewer
// slots, then smaller chunks (never below one message): a batch of any size goes through.
Status verify(std::span<Stream> streams, const VerifyBatch& batch, std::span<Verdict> out) {
  const std::size_t n = batch.size();
  const auto& offsets = batch.messages.offsets;
  VerifyWork work(batch, out);
  work.base = HETEX_TRY(device_base_table(streams[0]));
  work.out_pinned = pinned_range(streams[0].device(), out.data(), out.size());
  std::size_t max_msg = 0;
  for (std::size_t i = 0; i < n; ++i) max_msg = std::max<std::size_t>(max_msg, offsets[i + 1] - offsets[i]);
  const std::size_t total = batch.messages.total_bytes();
  std::size_t item_cap = std::min(n, kMaxChunkItems);
  // Room for a chunk of average messages plus the longest one (so uneven sizes rarely cut a
  // chunk short), and never less than the longest message.
  const std::size_t avg = (total + n - 1) / n;
  std::size_t data_cap = std::max(max_msg, std::min({total, kMaxChunkData, avg * item_cap + max_msg}));
  std::size_t slots = std::min(streams.size() + 1, (n + item_cap - 1) / item_cap);
  for (;;) {
    hetex::detail::StagingOptions o;
    o.slots = slots;
    o.bytes.host_in = o.bytes.device_in = Layout::of(item_cap, data_cap).end;
    o.bytes.device_out = item_cap;
    o.bytes.host_out = work.out_pinned ? 0 : item_cap;
    auto p = hetex::detail::StagingPipeline::create(streams, work, o);
    if (!p) {
      if (p.error().code() != Errc::out_of_memory) return std::move(p).error();
      if (slots > 1) {
        slots = (slots + 1) / 2;
      } else if (item_cap > 1 || data_cap > max_msg) {
        item_cap = std::max<std::size_t>(1, item_cap / 2);
        data_cap = std::max(max_msg, data_cap / 2);
      } else {
        return std::move(p).error();
      }
      continue;
    }
    for (std::size_t b = 0; b < n;) {
      std::size_t e = b + 1;
      while (e < n && e - b < item_cap && offsets[e + 1] - offsets[b] <= data_cap) ++e;
      HETEX_TRY_VOID(p->submit(b, e));
      b = e;
    }
    return p->finish();
  }
}

}  // namespace

Status ed25519_verify_gpu(std::span<Stream> streams, const VerifyBatch& batch, std::span<Verdict> out) {
  HETEX_TRY_VOID(detail::check_verify_args(batch, out));
  if (streams.empty()) return Error(Errc::invalid_argument, "ed25519_verify_gpu needs at least one stream");
  for (const Stream& s : streams)
    if (!(s.device() == streams[0].device()))
      return Error(Errc::invalid_argument, "ed25519_verify_gpu: all streams must belong to one GPU, got " +
                                               streams[0].device().id().to_string() + " and " +
                                               s.device().id().to_string());
  if (batch.size() == 0) return {};
  static_assert(sizeof(Verdict) == 1);
  return verify(streams, batch, out);
}

}  // namespace hetex::ops
