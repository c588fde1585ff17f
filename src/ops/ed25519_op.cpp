// SPDX-License-Identifier: MIT
#include "hetex/ops/ed25519.hpp"
#if defined(HETEX_WITH_VULKAN)
#include "vulkan/lane_ops.hpp"
#endif

namespace hetex::ops {

const Operation<VerifyBatch, Verdict>& ed25519_verify() {
  static const Operation<VerifyBatch, Verdict> op = [] {
    Operation<VerifyBatch, Verdict> o(
        "ed25519_verify",
        [](const VerifyBatch& in, std::span<Verdict> out) { return ed25519_verify_cpu_serial(in, out); },
        // A verification costs ~70 us on one core: small grains keep all cores busy.
        OperationOptions{.cpu_grain = 2, .gpu_min_chunk = 4096});
    o.with_cost_class([](const VerifyBatch& in) { return length_cost_class(in.messages); });
    o.with_gpu([](GpuLane& lane, const VerifyBatch& in, std::span<Verdict> out) {
      return ed25519_verify_gpu(lane.streams(), in, out);
    });
#if defined(HETEX_WITH_VULKAN)
    o.with_vulkan(vulkan::ed25519_on_lane);
#endif
    return o;
  }();
  return op;
}

}  // namespace hetex::ops
