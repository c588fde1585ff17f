// SPDX-License-Identifier: MIT
#include "hetex/ops/sha256.hpp"
#if defined(HETEX_WITH_VULKAN)
#include "vulkan/lane_ops.hpp"
#endif

namespace hetex::ops {

const Operation<MessageBatch, Digest>& sha256() {
  static const Operation<MessageBatch, Digest> op = [] {
    Operation<MessageBatch, Digest> o(
        "sha256", [](const MessageBatch& in, std::span<Digest> out) { return sha256_cpu_serial(in, out); },
        // A GPU call moves a chunk through three streams; below ~64K short messages it cannot
        // fill the device.
        // 64 short messages are a few microseconds on one core: enough to pay for a task, small
        // enough that a batch of a thousand still reaches every core.
        OperationOptions{.cpu_grain = 64, .gpu_min_chunk = 1u << 16});
    o.with_cost_class([](const MessageBatch& in) { return length_cost_class(in); });
    o.with_gpu([](GpuLane& lane, const MessageBatch& in, std::span<Digest> out) {
      return sha256_gpu(lane.streams(), in, out);
    });
#if defined(HETEX_WITH_VULKAN)
    o.with_vulkan(vulkan::sha256_on_lane);
#endif
    return o;
  }();
  return op;
}

}  // namespace hetex::ops
