// SPDX-License-Identifier: MIT
// Ed25519 verification on Vulkan: chunks of signatures staged as [keys | signatures | relative
// offsets | messages] through the chunk pipeline, one invocation per signature; the kernel's
// tables (base-point multiples and constants) computed by the C++ core and uploaded once per
// device.
#include <cstring>

#include "ops/ed25519_batch.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/ops_common.hpp"
#include "vulkan/recording.hpp"
#include "vulkan/staging.hpp"

namespace hetex::vulkan {
namespace {

namespace ed = hetex::detail::ed25519;

constexpr std::uint32_t kGroup = 64;  // as on CUDA: small groups spread small batches
// A chunk: up to 32K signatures and 8 MiB of messages (the CUDA path's sizes).
constexpr std::size_t kMaxChunkItems = 32768;
constexpr std::size_t kMaxChunkData = std::size_t(8) << 20;

// The table layout the kernel reads (ed25519.comp, in 16-byte units).
constexpr int kBase = 0, kD = ed::kBaseTableEntries * 8, kD2 = kD + 3, kSqrtM1 = kD2 + 3, kBlocklist = kSqrtM1 + 3,
              kMu = kBlocklist + 14, kL = kMu + 3, kTableUnits = kL + 3;

std::vector<std::int32_t> build_tables() {
  std::vector<std::int32_t> t(std::size_t(kTableUnits) * 4, 0);
  std::memcpy(t.data() + kBase * 4, ops::detail::ed25519_base_table(), sizeof(ed::BaseEntry) * ed::kBaseTableEntries);
  auto put_fe = [&](int at, const ed::Fe& f) {
    for (int i = 0; i < 10; ++i) t[std::size_t(at) * 4 + i] = f.v[i];
  };
  put_fe(kD, ed::fe_d());
  put_fe(kD2, ed::fe_d2());
  put_fe(kSqrtM1, ed::fe_sqrt_m1());
  constexpr auto blocklist = ed::small_order_detail::compute_blocklist();
  for (int k = 0; k < 7; ++k)
    for (int w = 0; w < 8; ++w)
      t[std::size_t(kBlocklist + 2 * k) * 4 + w] =
          std::int32_t(std::uint32_t(blocklist.y[k].w[w / 2] >> (32 * (w % 2))));
  constexpr auto mu = ed::scalar_detail::compute_mu();
  constexpr auto l = ed::scalar_detail::order_limbs();
  for (int i = 0; i < 9; ++i) {
    t[std::size_t(kMu) * 4 + i] = std::int32_t(mu.v[i]);
    t[std::size_t(kL) * 4 + i] = std::int32_t(l.v[i]);
  }
  return t;
}

// The tables on `dev`, uploaded on first use and kept for the device's life.
Result<Buffer*> device_tables(Device& dev) {
  return dev.resource<Buffer>("ed25519.tables", [&]() -> Result<std::shared_ptr<Buffer>> {
    static const std::vector<std::int32_t> host = build_tables();
    const std::uint64_t bytes = host.size() * 4;
    auto table = std::make_shared<Buffer>(HETEX_TRY(Buffer::create_owned(dev, bytes, MemoryUse::device)));
    auto stage = HETEX_TRY(Buffer::create_owned(dev, bytes, MemoryUse::upload));
    std::memcpy(stage.host().data(), host.data(), bytes);
    HETEX_TRY_VOID(stage.flush(0, bytes));
    auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
    rec.copy(stage, 0, *table, 0, bytes);
    rec.barrier(Access::transfer, Access::compute);
    const TimelinePoint done = HETEX_TRY(rec.submit());
    HETEX_TRY_VOID(dev.wait(done));  // every queue may read it from now on
    return table;
  });
}

constexpr std::uint64_t kStateBytes = 11 * 16;  // what phase 1 leaves phase 2 per signature

// Phase 1 (checks, hash, decoding) or 2 (the double-scalar multiplication and the comparison).
Result<const Kernel*> verify_kernel(Device& dev, Arithmetic a, int phase) {
  const bool wide = a == Arithmetic::int64 || (a == Arithmetic::automatic && dev.info().int64);
  if (wide && !dev.info().int64)
    return Error(Errc::unavailable, dev.name() + " has no 64-bit integers in shaders (shaderInt64)");
  const std::string name = std::string(wide ? "ed25519_i64" : "ed25519_i32") + (phase == 1 ? "_p1" : "_p2");
  return detail::builtin_kernel(dev, name, 6, 4, {detail::workgroup(dev, kGroup)});
}

// Where a chunk of n items with `data` message bytes sits in its slot.
struct Layout {
  std::uint64_t items = 0, offsets = 0, data = 0, end = 0;
  static Layout of(std::uint64_t n, std::uint64_t data_bytes) {
    Layout l;
    l.offsets = detail::round_up(96 * n, 256);
    l.data = detail::round_up(l.offsets + 4 * (n + 1), 256);
    l.end = l.data + detail::round_up(std::max<std::uint64_t>(data_bytes, 1), 16);
    return l;
  }
};

struct Chunk {
  std::size_t begin = 0, end = 0;
};

}  // namespace

Status ed25519_verify(Device& dev, const ops::VerifyBatch& batch, std::span<ops::Verdict> out, Arithmetic arithmetic) {
  HETEX_TRY_VOID(ops::detail::check_verify_args(batch, out));
  const std::size_t n = batch.size();
  if (n == 0) return {};
  const Kernel* phase1 = HETEX_TRY(verify_kernel(dev, arithmetic, 1));
  const Kernel* phase2 = HETEX_TRY(verify_kernel(dev, arithmetic, 2));
  const Buffer* tables = HETEX_TRY(device_tables(dev));
  const auto& offsets = batch.messages.offsets;
  const std::uint64_t max_binding = dev.info().max_storage_buffer_range / 256 * 256 - 256;

  // Chunks of consecutive items; an item whose message cannot be bound goes to the CPU.
  std::size_t max_msg = 0;
  std::vector<std::size_t> on_cpu;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = offsets[i + 1] - offsets[i];
    if (len > max_binding) {
      on_cpu.push_back(i);
    } else {
      max_msg = std::max(max_msg, len);
    }
  }
  const std::size_t item_cap = std::min(n, kMaxChunkItems);
  const std::size_t data_cap = std::max(max_msg, std::min<std::size_t>(batch.messages.total_bytes(), kMaxChunkData));
  std::vector<Chunk> chunks;
  for (std::size_t b = 0, cpu = 0; b < n;) {
    if (cpu < on_cpu.size() && on_cpu[cpu] == b) {
      ++cpu;
      ++b;
      continue;
    }
    std::size_t e = b + 1;
    while (e < n && e - b < item_cap && offsets[e + 1] - offsets[b] <= data_cap &&
           !(cpu < on_cpu.size() && on_cpu[cpu] == e))
      ++e;
    chunks.push_back({b, e});
    b = e;
  }
  for (std::size_t i : on_cpu) HETEX_TRY_VOID(ops::ed25519_verify_cpu_serial(batch.slice(i, i + 1), out.subspan(i, 1)));

  const Layout most = Layout::of(item_cap, data_cap);
  // The output slot: verdicts, then phase 1's state for phase 2 (never downloaded).
  const std::uint64_t state_at = detail::round_up(item_cap, 256);
  const SlotSizes sizes{most.end, most.end, state_at + kStateBytes * item_cap, detail::round_up(item_cap, 4)};
  ChunkSteps steps;
  steps.pack = [&](std::size_t k, Slot& s) -> Result<ChunkWork> {
    const Chunk& c = chunks[k];
    const std::size_t m = c.end - c.begin;
    const std::uint64_t data_bytes = offsets[c.end] - offsets[c.begin];
    const Layout l = Layout::of(m, data_bytes);
    std::uint8_t* h = s.up.host().data();
    std::memcpy(h, batch.keys.data() + c.begin, 32 * m);
    std::memcpy(h + 32 * m, batch.signatures.data() + c.begin, 64 * m);
    auto* rel = reinterpret_cast<std::uint32_t*>(h + l.offsets);
    for (std::size_t i = 0; i <= m; ++i) rel[i] = static_cast<std::uint32_t>(offsets[c.begin + i] - offsets[c.begin]);
    if (data_bytes) std::memcpy(h + l.data, batch.messages.data.data() + offsets[c.begin], data_bytes);
    return ChunkWork{0, l.end, m};
  };
  steps.dispatch = [&](std::size_t k, Slot& s, Recording& rec) -> Status {
    const Chunk& c = chunks[k];
    const std::size_t m = c.end - c.begin;
    const Layout l = Layout::of(m, offsets[c.end] - offsets[c.begin]);
    rec.fill(s.out, 0, detail::round_up(m, 4), 0);
    rec.barrier(Access::transfer, Access::compute);
    const std::uint32_t push = static_cast<std::uint32_t>(m);
    const std::uint32_t group = detail::workgroup(dev, kGroup);
    const auto groups = static_cast<std::uint32_t>((m + group - 1) / group);
    const std::initializer_list<Binding> bindings = {{tables, 0, Binding::kWhole},
                                                     {&s.in, 0, 96 * m},
                                                     {&s.in, l.offsets, detail::round_up(4 * (m + 1), 16)},
                                                     {&s.in, l.data, l.end - l.data},
                                                     {&s.out, 0, detail::round_up(m, 4)},
                                                     {&s.out, state_at, kStateBytes * m}};
    HETEX_TRY_VOID(rec.dispatch(*phase1, bindings, push, groups));
    rec.barrier(Access::compute, Access::compute);
    return rec.dispatch(*phase2, bindings, push, groups);
  };
  steps.unpack = [&](std::size_t k, Slot& s) -> Status {
    const Chunk& c = chunks[k];
    std::memcpy(out.data() + c.begin, s.down.host().data(), c.end - c.begin);
    return {};
  };
  // One slot more than the copy queues keep busy: the host stages a chunk while two are in flight.
  return run_chunks(dev, sizes, 3, chunks.size(), steps);
}

}  // namespace hetex::vulkan
