// SPDX-License-Identifier: MIT
#include "vulkan/lane_ops.hpp"

#include "vulkan/backend.hpp"
#include "vulkan/ops.hpp"

namespace hetex::vulkan {

Status vector_on_lane(GpuLane& lane, ops::VectorKind kind, const ZipBatch<float>& in, std::span<float> out) {
  return vector(*HETEX_TRY(device_of(lane.device())), kind, in, out);
}

Status sha256_on_lane(GpuLane& lane, const ops::MessageBatch& in, std::span<ops::Digest> out) {
  return sha256(*HETEX_TRY(device_of(lane.device())), in, out);
}

Status ed25519_on_lane(GpuLane& lane, const ops::VerifyBatch& in, std::span<ops::Verdict> out) {
  return ed25519_verify(*HETEX_TRY(device_of(lane.device())), in, out);
}

Status image_rows_on_lane(GpuLane& lane, const image::detail::Plan& plan, const std::uint8_t* in, std::uint8_t* out,
                          int y0, int y1) {
  return image_rows(*HETEX_TRY(device_of(lane.device())), plan, in, out, y0, y1);
}

}  // namespace hetex::vulkan
