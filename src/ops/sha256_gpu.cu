// SHA-256 on a GPU: the host->host chunk pipeline (pinned staging, chunks round-robin over
// streams so that the upload of one, the hashing of another and the download of a third
// overlap) and the device-resident entry. The kernel is in sha256_kernel.cuh.

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <vector>

// nvcc's front end (not the host compiler) reads future.hpp's emplace() of a [[nodiscard]]
// Result as a discarded value.
#pragma nv_diag_suppress 2810
#include "hetex/memory/buffer.hpp"
#include "ops/sha256_detail.hpp"
#include "ops/sha256_kernel.cuh"
#pragma nv_diag_default 2810

namespace hetex::detail::sha256 {
namespace {

// ---- host->host pipeline ------------------------------------------------------------------

// Staging of one chunk in flight: pinned and device copies of [offsets | data] and the digests.
struct Slot {
  PinnedBuffer<std::uint8_t> h_in;
  DeviceBuffer<std::uint8_t> d_in;
  PinnedBuffer<ops::Digest> h_out;
  DeviceBuffer<ops::Digest> d_out;
  GatePtr done;  // the download of the chunk in flight
  Chunk chunk;
  bool busy = false;        // a chunk is in flight
  bool out_direct = false;  // its digests are downloaded straight into the caller's output
  bool unpack = false;      // finished, its digests still in h_out
};

// Chunks in flight when the data is page-locked (see gpu_with_options).
constexpr std::size_t kPinnedSlots = 8;

struct Workspace {
  Device device;
  std::vector<Slot> slots;
};

std::size_t round_mib(std::size_t bytes) {
  constexpr std::size_t kMiB = std::size_t(1) << 20;
  return (bytes + kMiB - 1) / kMiB * kMiB;
}

// Grows a slot to hold `host_in` bytes of pinned staging, `device_in` on the device (more when
// the data goes there straight from the caller's page-locked memory) and `outs` digests. The one
// place that allocates (to be pointed at the buffer pool).
Status ensure(Slot& s, const Device& dev, std::size_t host_in, std::size_t device_in, std::size_t outs) {
  if (s.h_in.size() < host_in) {
    s.h_in = {};
    s.h_in = HETEX_TRY(PinnedBuffer<std::uint8_t>::allocate(round_mib(host_in)));
  }
  if (s.d_in.size() < device_in) {
    s.d_in = {};
    s.d_in = HETEX_TRY(DeviceBuffer<std::uint8_t>::allocate(dev, round_mib(device_in)));
  }
  if (s.h_out.size() < outs || s.d_out.size() < outs) {
    const std::size_t n = round_mib(outs * sizeof(ops::Digest)) / sizeof(ops::Digest);
    s.h_out = {};
    s.d_out = {};
    s.h_out = HETEX_TRY(PinnedBuffer<ops::Digest>::allocate(n));
    s.d_out = HETEX_TRY(DeviceBuffer<ops::Digest>::allocate(dev, n));
  }
  return {};
}

// A few idle workspaces per process, so that repeated calls do not pay for pinning memory
// (cudaHostRegister) again. Leaked at exit like the devices they serve.
class WorkspaceCache {
 public:
  static WorkspaceCache& get() {
    static auto* c = new WorkspaceCache;
    return *c;
  }
  std::unique_ptr<Workspace> take(const Device& d) {
    std::lock_guard lock(m_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if ((*it)->device == d) {
        auto w = std::move(*it);
        idle_.erase(it);
        return w;
      }
    }
    auto w = std::make_unique<Workspace>();
    w->device = d;
    return w;
  }
  void give_back(std::unique_ptr<Workspace> w) {
    std::lock_guard lock(m_);
    if (idle_.size() < kIdle) idle_.push_back(std::move(w));
  }

 private:
  static constexpr std::size_t kIdle = 2;
  std::mutex m_;
  std::vector<std::unique_ptr<Workspace>> idle_;
};

bool pinned_range(const Device& dev, const void* p, std::size_t bytes) {
  if (!p || bytes == 0) return false;
  auto* gpu = dev.backend();
  return gpu->is_pinned(p) && gpu->is_pinned(static_cast<const char*>(p) + bytes - 1);
}

struct Pipeline {
  std::span<Stream> streams;
  const ops::MessageBatch& in;
  std::span<ops::Digest> out;
  Workspace& ws;
  bool in_pinned = false, out_pinned = false;
  bool streaming = true;
  int sms = 1;

  // Waits for the chunk in flight in `s`; its digests are then in s.h_out (or already in `out`).
  Status wait(Slot& s) {
    if (!s.busy) return {};
    HETEX_TRY_VOID(s.done->wait());
    s.done.reset();
    s.busy = false;
    s.unpack = !s.out_direct;
    return {};
  }
  // Moves a finished chunk's digests from staging to `out`.
  void unpack(Slot& s) {
    if (!s.unpack) return;
    s.unpack = false;
    const std::size_t n = s.chunk.end - s.chunk.begin;
    parallel_copy(out.data() + s.chunk.begin, s.h_out.span().data(), n * sizeof(ops::Digest), streaming);
  }

  // Packs chunk c into `s` (while the slot's previous digests are copied out: one parallel
  // region) and enqueues its upload, kernel and download on `st`.
  Status submit(Slot& s, Stream& st, const Chunk& c) {
    const std::size_t n = c.end - c.begin;
    std::optional<Result<Packed>> packed;
    in_parallel([&] { unpack(s); },
                [&] {
                  packed = pack_chunk(in, c.begin, c.end, s.h_in.span(),
                                      in_pinned ? DataCopy::none : streaming ? DataCopy::streaming : DataCopy::plain);
                });
    const Packed p = HETEX_TRY(std::move(*packed));
    auto& impl = st.impl();
    std::uint8_t* d_in = s.d_in.write().data();
    const std::uint8_t* h_in = s.h_in.span().data();
    const std::size_t doff = data_offset(n);
    if (p.upload_end > p.upload_begin)
      HETEX_TRY_VOID(impl.copy(d_in + p.upload_begin, h_in + p.upload_begin, p.upload_end - p.upload_begin));
    if (in_pinned && p.data_bytes)
      HETEX_TRY_VOID(impl.copy(d_in + doff, in.data.data() + in.offsets[c.begin], p.data_bytes));

    const DeviceSource src{reinterpret_cast<const uint4*>(d_in + doff), p.data_bytes};
    auto* d_out = reinterpret_cast<std::uint8_t*>(s.d_out.write().data());
    const int sms_ = sms;
    UniqueFunction<void(NativeStream)> fn;
    if (p.uniform) {
      fn = [=](NativeStream ns) { launch(ns, src, UniformOffsets{0, p.length}, n, sms_, d_out); };
    } else {
      const Rel32Offsets offs{reinterpret_cast<const std::uint32_t*>(d_in), 0};
      fn = [=](NativeStream ns) { launch(ns, src, offs, n, sms_, d_out); };
    }
    (void)HETEX_TRY(impl.launch_and_record(fn));

    s.out_direct = out_pinned;
    void* dst = out_pinned ? static_cast<void*>(out.data() + c.begin) : static_cast<void*>(s.h_out.span().data());
    HETEX_TRY_VOID(impl.copy(dst, s.d_out.read().data(), n * sizeof(ops::Digest)));
    s.done = HETEX_TRY(impl.record());
    s.chunk = c;
    s.busy = true;
    return {};
  }

  Status run(const std::vector<Chunk>& plan, std::size_t nslots) {
    std::size_t k = 0;
    for (const Chunk& c : plan) {
      if (c.host) {
        // Messages longer than a chunk, each a serial chain: one core each, while the GPU
        // works through the chunks already queued.
        HETEX_TRY_VOID(hash_parallel(in, c.begin, c.end, out.data() + c.begin));
        continue;
      }
      Slot& s = ws.slots[k % nslots];
      Stream& st = streams[k % nslots % streams.size()];
      ++k;
      HETEX_TRY_VOID(wait(s));
      const std::size_t n = c.end - c.begin;
      const std::size_t bytes = static_cast<std::size_t>(in.offsets[c.end] - in.offsets[c.begin]);
      const std::size_t staged = staging_bytes(n, bytes), host_in = in_pinned ? data_offset(n) : staged;
      if (s.unpack && (s.h_in.size() < host_in || s.h_out.size() < n)) unpack(s);  // before regrowing
      HETEX_TRY_VOID(ensure(s, ws.device, host_in, staged, n));
      HETEX_TRY_VOID(submit(s, st, c));
    }
    // Oldest first.
    for (std::size_t i = 0; i < nslots; ++i) {
      Slot& s = ws.slots[(k + i) % nslots];
      HETEX_TRY_VOID(wait(s));
      unpack(s);
    }
    return {};
  }
};

Status run_guarded(Pipeline& p, const std::vector<Chunk>& plan, std::size_t nslots) {
  try {
    return p.run(plan, nslots);
  } catch (const std::bad_alloc&) {
    return Error(Errc::out_of_memory, "sha256_gpu: out of host memory");
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("sha256_gpu: ") + e.what());
  }
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
  // From page-locked memory the host only enqueues each chunk, but it must run to do so: with
  // three chunks in flight (~1 ms of PCIe) the GPU idled whenever this thread waited for a core
  // (the CPU hashing its share of a split on every other one), and a 2 ms call took 20 ms. A
  // deeper ring keeps the GPU fed across such waits; it costs device memory only.
  if (in_pinned && !options.slots) nslots = kPinnedSlots;
  const std::size_t device_chunks = static_cast<std::size_t>(std::count_if(plan.begin(), plan.end(), [](const Chunk& c) { return !c.host; }));
  nslots = std::max<std::size_t>(1, std::min(nslots, device_chunks));

  auto ws = WorkspaceCache::get().take(dev);
  if (ws->slots.size() < nslots) ws->slots.resize(nslots);
  Pipeline p{streams, in, out, *ws};
  p.sms = multiprocessors(dev);
  p.streaming = options.streaming_stores;
  p.in_pinned = in_pinned;
  p.out_pinned = pinned_range(dev, out.data(), out.size_bytes());

  const Status st = run_guarded(p, plan, nslots);
  if (!st) {
    // Nothing may still read or write staging (or the caller's pinned memory) after we return.
    for (Stream& s : streams) (void)s.synchronize();
    for (Slot& s : ws->slots) {
      s.busy = s.unpack = false;
      s.done.reset();
    }
    if (!dev.healthy()) return st;  // its memory is gone; drop the workspace
  }
  WorkspaceCache::get().give_back(std::move(ws));
  return st;
}

}  // namespace hetex::detail::sha256

namespace hetex::ops {

Future<void> sha256_gpu_device(Stream& s, ReadView<std::uint8_t> data, ReadView<std::uint64_t> offsets, WriteView<Digest> out) {
  if (offsets.size() == 1)
    return make_error_future<void>(Error(Errc::invalid_argument, "sha256_gpu_device: one offset; n messages need n + 1"));
  const std::size_t n = offsets.empty() ? 0 : offsets.size() - 1;
  if (out.size() != n)
    return make_error_future<void>(Error(Errc::invalid_argument, "sha256_gpu_device: output has room for " +
                                                                     std::to_string(out.size()) + " digests but there are " +
                                                                     std::to_string(n) + " messages"));
  if (n == 0) return make_ready_future();
  const int gpu = s.device().id().index;
  auto reachable = [&](MemoryKind k, int dev, const char* what) -> Status {
    if ((k == MemoryKind::device && dev == gpu) || k == MemoryKind::managed || k == MemoryKind::mapped) return {};
    return Error(Errc::invalid_argument, std::string("sha256_gpu_device: ") + what + " is " + std::string(to_string(k)) +
                                             " memory" + (k == MemoryKind::device ? " of another GPU" : "") +
                                             "; it must be a device, managed or mapped buffer of " + s.device().id().to_string() +
                                             " (use sha256_gpu for host memory)");
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
