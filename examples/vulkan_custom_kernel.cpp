// SPDX-License-Identifier: MIT
// Your own GPU kernel, portable to every Vulkan device, in hetex's scheduler: shard 32-bit user
// ids into buckets with MurmurHash3's finalizer. The operation has a CPU implementation and a
// Vulkan one, a GLSL compute shader compiled at first use; the scheduler runs batches on the
// Vulkan device, then shares them between it and the CPU. Every result is checked against the CPU.
//
// It uses the Vulkan devices (HETEX_DEVICES=vulkan picks lavapipe on a machine without a GPU);
// without one it runs on the CPU alone and says so.
//
//   example_vulkan_custom_kernel [ITEMS]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "hetex/exec/vulkan_kernel.hpp"
#include "hetex/hetex.hpp"

namespace {

constexpr std::uint32_t kShards = 1000;

std::uint32_t shard_of(std::uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h % kShards;
}

// The same function as a Vulkan compute shader: binding 0 the ids, binding 1 the shards.
const hetex::VulkanKernel kShardKernel{.name = "shard",
                                       .glsl = R"(#version 450
layout(local_size_x_id = 0) in;
layout(set = 0, binding = 0) readonly buffer Ids { uint ids[]; };
layout(set = 0, binding = 1) writeonly buffer Shards { uint shards[]; };
layout(push_constant) uniform Push { uint count; uint buckets; } p;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= p.count) return;
  uint h = ids[i];
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
  shards[i] = h % p.buckets;
}
)",
                                       .buffers = 2,
                                       .push_bytes = 8,
                                       .workgroup_size = 64};

using ShardOp = hetex::Operation<hetex::SpanBatch<std::uint32_t>, std::uint32_t>;

ShardOp make_shard_op() {
  ShardOp op("shard", [](const hetex::SpanBatch<std::uint32_t>& in, std::span<std::uint32_t> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = shard_of(in[i]);
    return hetex::Status{};
  });
  op.with_vulkan([](hetex::GpuLane& lane, const hetex::SpanBatch<std::uint32_t>& in, std::span<std::uint32_t> out) {
    struct Push {
      std::uint32_t count, buckets;
    } push{static_cast<std::uint32_t>(out.size()), kShards};
    return hetex::run_vulkan_kernel(lane, kShardKernel,
                                    {hetex::VulkanBinding::input(in.items), hetex::VulkanBinding::output(out)}, push,
                                    hetex::vulkan_groups(out.size(), kShardKernel));
  });
  return op;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'003;
  std::vector<std::uint32_t> ids(n), shards(n), want(n);
  std::mt19937 rng(42);
  for (auto& id : ids) id = rng();
  for (std::size_t i = 0; i < n; ++i) want[i] = shard_of(ids[i]);

  auto rt = hetex::Runtime::create({.devices = "cpu,vulkan"});
  if (!rt) {
    std::printf("no Vulkan device (%s): running on the CPU only\n", rt.error().describe().c_str());
    rt = hetex::Runtime::create({.devices = "cpu"});
  }
  if (!rt) return std::fprintf(stderr, "%s\n", rt.error().describe().c_str()), 1;
  const hetex::DeviceId device = rt->has_gpu() ? rt->gpus().front().id() : hetex::DeviceId::cpu();
  static const ShardOp op = make_shard_op();

  // Pinned to the device; then Split, which first times each device alone on a few batches and
  // then shares batches so that both finish together (or keeps them on the faster one).
  for (hetex::Policy policy : {hetex::Policy{hetex::PinnedPolicy{device}}, hetex::Policy{hetex::SplitPolicy{}}}) {
    const bool split = std::holds_alternative<hetex::SplitPolicy>(policy);
    auto sched = hetex::Scheduler::create(*rt, {.policy = policy, .calibration_file = std::filesystem::path()});
    if (!sched) return std::fprintf(stderr, "%s\n", sched.error().describe().c_str()), 1;
    for (int batch = 0; batch < (split ? 8 : 2); ++batch) {
      std::fill(shards.begin(), shards.end(), ~0u);
      auto report = (*sched)->run(op, hetex::SpanBatch<std::uint32_t>{ids}, std::span(shards));
      if (!report) return std::fprintf(stderr, "%s\n", report.error().describe().c_str()), 1;
      if (shards != want) return std::fprintf(stderr, "wrong shards on batch %d\n", batch), 1;
      std::printf("%s batch %d:", split ? "split " : "pinned", batch);
      for (const auto& d : report->stats.devices) std::printf(" %s %zu items", d.device.to_string().c_str(), d.items);
      std::printf("\n");
    }
  }
  std::printf("%zu ids sharded, every result equal to the CPU's\n", n);
}
