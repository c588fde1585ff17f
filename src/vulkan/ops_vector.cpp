// SPDX-License-Identifier: MIT
// Vector add/multiply: host data goes through the chunk pipeline (x and y of a chunk staged side by
// side, the result back); device-resident buffers are dispatched over directly.
#include <cstring>

#include "async/staging.hpp"
#include "hetex/async/transfer.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/ops_common.hpp"
#include "vulkan/recording.hpp"
#include "vulkan/staging.hpp"

namespace hetex::vulkan {
namespace {

constexpr std::uint32_t kGroup = 256;
// 4 Mi floats (16 MiB per array) per chunk: large enough to amortise three submissions, small
// enough that three chunks in flight keep staging modest; less where bindings are smaller.
constexpr std::uint64_t kChunkItems = std::uint64_t(1) << 22;

struct Push {
  std::uint32_t quads;
};

Result<const Kernel*> vector_kernel(Device& dev, ops::VectorKind kind) {
  return detail::builtin_kernel(dev, "vector", 3, sizeof(Push),
                                {detail::workgroup(dev, kGroup), kind == ops::VectorKind::add ? 0u : 1u});
}

std::uint64_t chunk_items(const Device& dev) {
  // Each array of a chunk is one binding; bindings hold at most maxStorageBufferRange bytes.
  return std::min<std::uint64_t>(kChunkItems, dev.info().max_storage_buffer_range / 4 / 256 * 256);
}

}  // namespace

Future<void> as_future(Device& device, Result<TimelinePoint> point) {
  if (!point) return make_error_future<void>(std::move(point).error());
  return make_gated_future(make_gate(device.shared_from_this(), *point));
}

Status vector(Device& dev, ops::VectorKind kind, const ZipBatch<float>& in, std::span<float> out) {
  if (in.x.size() != in.y.size() || in.x.size() != out.size())
    return Error(Errc::invalid_argument, "vector operation: inputs of " + std::to_string(in.x.size()) + " and " +
                                             std::to_string(in.y.size()) + " items, output of " +
                                             std::to_string(out.size()));
  const std::size_t n = out.size();
  if (n == 0) return {};
  const Kernel* k = HETEX_TRY(vector_kernel(dev, kind));
  const std::uint64_t per = std::min<std::uint64_t>(chunk_items(dev), detail::round_up(n, 256));
  const std::uint64_t array_bytes = detail::round_up(per * 4, 256);
  SlotSizes sizes{2 * array_bytes, 2 * array_bytes, array_bytes, array_bytes};
  auto len_of = [&](std::size_t c) { return std::min<std::uint64_t>(per, n - c * per); };
  ChunkSteps steps;
  steps.pack = [&](std::size_t c, Slot& s) -> Result<ChunkWork> {
    const std::uint64_t len = len_of(c), bytes = len * 4;
    // Both arrays in one parallel region: one fork and join per chunk.
    const hetex::detail::CopyRegion regions[] = {{s.up.host().data(), in.x.data() + c * per, bytes},
                                                 {s.up.host().data() + array_bytes, in.y.data() + c * per, bytes}};
    hetex::detail::parallel_copy_regions(regions, true);
    return ChunkWork{0, array_bytes + bytes, bytes};
  };
  steps.dispatch = [&](std::size_t c, Slot& s, Recording& rec) -> Status {
    const std::uint64_t len = len_of(c), quads = (len + 3) / 4, bytes = quads * 16;
    return rec.dispatch(*k, {{&s.in, 0, bytes}, {&s.in, array_bytes, bytes}, {&s.out, 0, bytes}},
                        Push{static_cast<std::uint32_t>(quads)}, detail::groups_for(dev, quads, kGroup));
  };
  steps.unpack = [&](std::size_t c, Slot& s) -> Status {
    hetex::detail::parallel_copy(out.data() + c * per, s.down.host().data(), len_of(c) * 4);
    return {};
  };
  return run_chunks(dev, sizes, 3, chunk_count(n, per), steps);
}

Result<TimelinePoint> vector_resident(Device& dev, ops::VectorKind kind, const Buffer& x, const Buffer& y,
                                      const Buffer& out, std::uint64_t n) {
  for (const Buffer* b : {&x, &y, &out}) {
    if (!*b || &b->device() != &dev)
      return Error(Errc::invalid_argument, "vector_resident: buffers must live on " + dev.name());
    if (b->size() < n * 4)
      return Error(Errc::invalid_argument, "vector_resident: a buffer of " + std::to_string(b->size()) +
                                               " bytes holds fewer than " + std::to_string(n) + " floats");
  }
  const Kernel* k = HETEX_TRY(vector_kernel(dev, kind));
  auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
  // Floats per dispatch: each binding stays within the device's largest binding.
  const std::uint64_t per =
      std::min<std::uint64_t>(std::uint64_t(1) << 30, dev.info().max_storage_buffer_range / 4 / 256 * 256);
  for (std::uint64_t b = 0; b < n; b += per) {
    const std::uint64_t len = std::min(per, n - b), quads = (len + 3) / 4, bytes = quads * 16;
    HETEX_TRY_VOID(rec.dispatch(*k, {{&x, b * 4, bytes}, {&y, b * 4, bytes}, {&out, b * 4, bytes}},
                                Push{static_cast<std::uint32_t>(quads)}, detail::groups_for(dev, quads, kGroup)));
  }
  return rec.submit();
}

}  // namespace hetex::vulkan
