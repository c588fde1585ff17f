// SPDX-License-Identifier: MIT
// SHA-256 on Vulkan: chunks planned and packed by the same host code as the CUDA path
// (ops/sha256_detail.hpp: relative 32-bit offsets, or none for equal lengths), through the chunk
// pipeline; messages too long for a chunk hashed on the CPU concurrently.
#include <tbb/task_group.h>

#include "ops/sha256_detail.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/ops_common.hpp"
#include "vulkan/recording.hpp"
#include "vulkan/staging.hpp"

namespace hetex::vulkan {
namespace {

namespace sd = hetex::detail::sha256;

constexpr std::uint32_t kGroup = 256;
enum Offsets : std::uint32_t { kUniform = 0, kRelative = 1, kAbsolute = 2 };

struct Push {
  std::uint32_t n, per_group, data_bytes, first, length;
};

Result<const Kernel*> sha_kernel(Device& dev, Offsets kind) {
  if (!dev.info().subgroup_ballot)
    return Error(Errc::unavailable,
                 dev.name() + " has no subgroup ballot in compute shaders, which the SHA-256 kernel needs");
  return detail::builtin_kernel(dev, "sha256", 3, sizeof(Push), {detail::workgroup(dev, kGroup), kind});
}

// Messages per workgroup: the batch spread over about as many workgroups as the device runs at
// once (equal runs, one wave), at least one message per invocation.
std::uint32_t per_group(const Device& dev, std::uint64_t n, std::uint32_t group) {
  const auto& info = dev.info();
  const std::uint64_t resident = info.multiprocessors ? 4ull * info.multiprocessors : info.is_cpu() ? 16 : 512;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(group, (n + resident - 1) / resident));
}

Status dispatch(Device& dev, Recording& rec, Offsets kind, const Binding& data, std::uint64_t data_bytes,
                const Binding& offs, const Binding& out, std::uint64_t n, std::uint64_t length) {
  const Kernel* k = HETEX_TRY(sha_kernel(dev, kind));
  const std::uint32_t group = detail::workgroup(dev, kGroup);
  const std::uint32_t per = per_group(dev, n, group);
  const auto groups = static_cast<std::uint32_t>((n + per - 1) / per);
  const Push push{static_cast<std::uint32_t>(n), per, static_cast<std::uint32_t>(data_bytes), 0,
                  static_cast<std::uint32_t>(length)};
  return rec.dispatch(*k, {data, offs, out}, push, groups);
}

}  // namespace

Status sha256(Device& dev, const ops::MessageBatch& in, std::span<ops::Digest> out) {
  HETEX_TRY_VOID(sd::check_shape(in, out.size()));
  if (in.size() == 0) return {};
  constexpr std::size_t kSlots = 3;
  sd::GpuOptions opt;
  opt.chunk_bytes = std::min<std::uint64_t>(opt.chunk_bytes, dev.info().max_storage_buffer_range / 256 * 256);
  const std::vector<sd::Chunk> plan = sd::plan_chunks(in, opt, kSlots);
  std::vector<sd::Chunk> device_chunks, host_chunks;
  for (const auto& c : plan) (c.host ? host_chunks : device_chunks).push_back(c);

  // Messages longer than a chunk: on the CPU, while the device works through the rest.
  tbb::task_group host;
  Status host_status;
  if (!host_chunks.empty())
    host.run([&] {
      for (const auto& c : host_chunks) {
        host_status = sd::hash_parallel(in, c.begin, c.end, out.data() + c.begin);
        if (!host_status) return;
      }
    });
  struct Join {
    tbb::task_group& g;
    ~Join() { g.wait(); }
  } join{host};

  const std::uint64_t max_messages = std::min<std::uint64_t>(opt.chunk_messages, opt.chunk_bytes / 4);
  const SlotSizes sizes{opt.chunk_bytes, opt.chunk_bytes, max_messages * 32, max_messages * 32};
  std::vector<sd::Packed> packed(kSlots);
  ChunkSteps steps;
  steps.pack = [&](std::size_t k, Slot& s) -> Result<ChunkWork> {
    const sd::Chunk& c = device_chunks[k];
    const sd::Packed p = HETEX_TRY(sd::pack_chunk(in, c.begin, c.end, s.up.host()));
    packed[k % kSlots] = p;
    return ChunkWork{p.upload_begin, p.upload_end - p.upload_begin, p.messages * 32};
  };
  steps.dispatch = [&](std::size_t k, Slot& s, Recording& rec) -> Status {
    const sd::Packed& p = packed[k % kSlots];
    const std::uint64_t doff = sd::data_offset(p.messages);
    const Binding data{&s.in, doff, detail::round_up(std::max<std::uint64_t>(p.data_bytes, 1), 16)};
    const Binding offs{&s.in, 0, detail::round_up(4 * (p.messages + 1), 16)};
    const Binding digests{&s.out, 0, p.messages * 32};
    return dispatch(dev, rec, p.uniform ? kUniform : kRelative, data, p.data_bytes, offs, digests, p.messages,
                    p.length);
  };
  steps.unpack = [&](std::size_t k, Slot& s) -> Status {
    const sd::Chunk& c = device_chunks[k];
    hetex::detail::parallel_copy(out.data() + c.begin, s.down.host().data(), (c.end - c.begin) * sizeof(ops::Digest));
    return {};
  };
  HETEX_TRY_VOID(run_chunks(dev, sizes, kSlots, device_chunks.size(), steps));
  host.wait();
  return host_status;
}

Result<TimelinePoint> sha256_resident(Device& dev, const Buffer& data, std::uint64_t data_bytes, const Buffer& offsets,
                                      std::uint64_t n, const Buffer& out) {
  for (const Buffer* b : {&data, &offsets, &out})
    if (!*b || &b->device() != &dev)
      return Error(Errc::invalid_argument, "sha256_resident: buffers must live on " + dev.name());
  if (data.size() < data_bytes || offsets.size() < 8 * (n + 1) || out.size() < 32 * n)
    return Error(Errc::invalid_argument,
                 "sha256_resident: the buffers are smaller than " + std::to_string(n) + " messages need");
  const std::uint64_t bind = detail::round_up(std::max<std::uint64_t>(data_bytes, 1), 16);
  if (bind > dev.info().max_storage_buffer_range || data_bytes >= (std::uint64_t(1) << 32))
    return Error(Errc::invalid_argument, "sha256_resident: " + std::to_string(data_bytes) + " bytes of data exceed " +
                                             dev.name() + "'s largest binding (" +
                                             std::to_string(dev.info().max_storage_buffer_range) + " bytes)");
  auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
  if (n > 0)
    HETEX_TRY_VOID(dispatch(dev, rec, kAbsolute, {&data, 0, bind}, data_bytes,
                            {&offsets, 0, detail::round_up(8 * (n + 1), 16)}, {&out, 0, 32 * n}, n, 0));
  return rec.submit();
}

}  // namespace hetex::vulkan
