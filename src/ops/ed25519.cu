// Ed25519 verification on the GPU, host memory to host memory: one signature per thread, the
// batch cut into chunks that go round-robin over the caller's S streams, each chunk staged
// through pinned memory (one H2D copy, the kernel, one D2H copy). S + 1 staging slots let the
// host stage chunk k + S while the GPU works on chunks k .. k + S - 1.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

// hetex's Future<T> ignores a [[nodiscard]] Result inside std::optional::emplace, which nvcc's
// front end reports (2810) for every instantiation; GCC does not. Not ours to change.
#pragma nv_diag_suppress 2810
#include "hetex/async/stream.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/memory/pool.hpp"
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
  return ed::Bytes32{{a.x | (ed::u64(a.y) << 32), a.z | (ed::u64(a.w) << 32), b.x | (ed::u64(b.y) << 32),
                      b.z | (ed::u64(b.w) << 32)}};
}

__global__ void __launch_bounds__(kThreadsPerBlock, kMinBlocksPerSm) verify_kernel(const std::uint8_t* __restrict__ staged,
                                                                  std::uint32_t n, std::uint64_t first_offset,
                                                                  const ed::BaseEntry* __restrict__ base,
                                                                  std::uint8_t* __restrict__ verdicts) {
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

// Staging: slot k of `slots` owns [k * slot_bytes, (k + 1) * slot_bytes) of one pinned and one
// device allocation (the same layout on both sides): the chunk's input, then its verdicts.
struct Staging {
  PinnedBuffer<std::uint8_t> host;
  DeviceBuffer<std::uint8_t> dev;
  std::size_t slots = 0, slot_bytes = 0, out_offset = 0;
};

// The only allocations of a call, from the pools: a fresh cudaMalloc and cudaHostRegister of
// tens of MiB cost ~1.5 ms a call, which dominated batches below a few thousand signatures.
Status allocate_staging(Staging& st, Stream& s, std::size_t slots, std::size_t items, std::size_t data) {
  st.out_offset = (Layout::of(items, data).end + 255) & ~std::size_t(255);
  st.slot_bytes = (st.out_offset + items + 255) & ~std::size_t(255);
  st.slots = slots;
  st.dev = {};
  st.host = {};
  auto pool = HETEX_TRY(DevicePool::shared(s.device()));
  st.dev = HETEX_TRY(pool->allocate<std::uint8_t>(s, slots * st.slot_bytes));
  // Slots run on every stream: the stream-ordered allocation must be complete before they start.
  // (It is freed on `s` only after ~GpuVerifier has waited for every slot.)
  HETEX_TRY_VOID(s.synchronize());
  st.host = HETEX_TRY(PinnedPool::shared().acquire<std::uint8_t>(slots * st.slot_bytes));
  return {};
}

class GpuVerifier {
 public:
  GpuVerifier(std::span<Stream> streams, const VerifyBatch& batch, std::span<Verdict> out)
      : streams_(streams), batch_(batch), out_(out) {}

  // Waits for the chunks still in flight, so no DMA outlives the staging on an error path.
  ~GpuVerifier() {
    for (auto& f : in_flight_)
      if (f.done) (void)f.done->wait();
  }

  Status run() {
    const std::size_t n = batch_.size();
    const auto& offsets = batch_.messages.offsets;
    base_ = HETEX_TRY(device_base_table(streams_[0]));
    HETEX_TRY_VOID(plan_staging());

    std::size_t slot = 0;
    for (std::size_t b = 0; b < n;) {
      std::size_t e = b + 1;
      while (e < n && e - b < item_cap_ && offsets[e + 1] - offsets[b] <= data_cap_) ++e;
      HETEX_TRY_VOID(retire(slot));
      HETEX_TRY_VOID(submit(slot, streams_[slot % streams_.size()], b, e));
      slot = (slot + 1) % staging_.slots;
      b = e;
    }
    for (std::size_t k = 0; k < staging_.slots; ++k) HETEX_TRY_VOID(retire(k));
    return {};
  }

 private:
  struct InFlight {
    hetex::detail::GatePtr done;
    std::size_t begin = 0, end = 0;
  };

  // Chunk limits and slot count. One slot more than streams keeps every stream busy while the
  // host stages the next chunk. Short of device or pinned memory, fewer slots, then smaller
  // chunks (never below one message): a batch of any size goes through in pieces.
  Status plan_staging() {
    const std::size_t n = batch_.size();
    const auto& offsets = batch_.messages.offsets;
    std::size_t max_msg = 0;
    for (std::size_t i = 0; i < n; ++i) max_msg = std::max<std::size_t>(max_msg, offsets[i + 1] - offsets[i]);
    const std::size_t total = batch_.messages.total_bytes();
    item_cap_ = std::min(n, kMaxChunkItems);
    // Room for a chunk of average messages plus the longest one (so uneven sizes rarely cut a
    // chunk short), and never less than the longest message.
    const std::size_t avg = (total + n - 1) / n;
    data_cap_ = std::max(max_msg, std::min({total, kMaxChunkData, avg * item_cap_ + max_msg}));
    std::size_t slots = std::min(streams_.size() + 1, (n + item_cap_ - 1) / item_cap_);
    for (;;) {
      auto st = allocate_staging(staging_, streams_[0], slots, item_cap_, data_cap_);
      if (st) break;
      if (st.error().code() != Errc::out_of_memory) return st;
      if (slots > 1) {
        slots = (slots + 1) / 2;
      } else if (item_cap_ > 1 || data_cap_ > max_msg) {
        item_cap_ = std::max<std::size_t>(1, item_cap_ / 2);
        data_cap_ = std::max(max_msg, data_cap_ / 2);
      } else {
        return st;
      }
    }
    in_flight_.assign(staging_.slots, InFlight{});
    return {};
  }

  Status submit(std::size_t slot, Stream& stream, std::size_t b, std::size_t e) {
    auto st = enqueue(slot, stream, b, e);
    // Work enqueued before the failure may still read the staging: let it drain.
    if (!st) (void)stream.impl().synchronize();
    return st;
  }

  Status enqueue(std::size_t slot, Stream& stream, std::size_t b, std::size_t e) {
    const std::size_t n = e - b;
    const auto& offsets = batch_.messages.offsets;
    const std::size_t data_bytes = offsets[e] - offsets[b];
    const Layout l = Layout::of(n, data_bytes);
    const std::size_t base = slot * staging_.slot_bytes;
    std::uint8_t* h = staging_.host.span().data() + base;
    std::memcpy(h + l.keys, batch_.keys.data() + b, n * 32);
    std::memcpy(h + l.sigs, batch_.signatures.data() + b, n * 64);
    std::memcpy(h + l.offsets, offsets.data() + b, (n + 1) * 8);
    if (data_bytes) std::memcpy(h + l.data, batch_.messages.data.data() + offsets[b], data_bytes);

    auto& impl = stream.impl();
    std::uint8_t* dev_in = staging_.dev.view().data() + base;
    std::uint8_t* dev_out = dev_in + staging_.out_offset;
    HETEX_TRY_VOID(impl.copy(dev_in, h, l.end));
    const std::uint64_t first = offsets[b];
    const ed::BaseEntry* table = base_;
    hetex::detail::UniqueFunction<void(NativeStream)> launch([=](NativeStream s) {
      const unsigned blocks = unsigned((n + kThreadsPerBlock - 1) / kThreadsPerBlock);
      verify_kernel<<<blocks, kThreadsPerBlock, 0, s>>>(dev_in, std::uint32_t(n), first, table, dev_out);
    });
    HETEX_TRY_VOID(impl.launch_and_record(launch));
    HETEX_TRY_VOID(impl.copy(h + staging_.out_offset, dev_out, n));
    in_flight_[slot] = InFlight{HETEX_TRY(impl.record()), b, e};
    return {};
  }

  // Waits for the slot's chunk, if any, and copies its verdicts out.
  Status retire(std::size_t slot) {
    InFlight f = std::move(in_flight_[slot]);
    in_flight_[slot] = InFlight{};
    if (!f.done) return {};
    HETEX_TRY_VOID(f.done->wait());
    const std::uint8_t* verdicts = staging_.host.span().data() + slot * staging_.slot_bytes + staging_.out_offset;
    std::memcpy(out_.data() + f.begin, verdicts, f.end - f.begin);
    return {};
  }

  std::span<Stream> streams_;
  const VerifyBatch& batch_;
  std::span<Verdict> out_;
  const ed::BaseEntry* base_ = nullptr;
  std::size_t item_cap_ = 0, data_cap_ = 0;
  Staging staging_;
  std::vector<InFlight> in_flight_;
};

}  // namespace

Status ed25519_verify_gpu(std::span<Stream> streams, const VerifyBatch& batch, std::span<Verdict> out) {
  HETEX_TRY_VOID(detail::check_verify_args(batch, out));
  if (streams.empty()) return Error(Errc::invalid_argument, "ed25519_verify_gpu needs at least one stream");
  for (const Stream& s : streams)
    if (!(s.device() == streams[0].device()))
      return Error(Errc::invalid_argument, "ed25519_verify_gpu: all streams must belong to one GPU, got " +
                                               streams[0].device().id().to_string() + " and " + s.device().id().to_string());
  if (batch.size() == 0) return {};
  static_assert(sizeof(Verdict) == 1);
  GpuVerifier v(streams, batch, out);
  return v.run();
}

}  // namespace hetex::ops
