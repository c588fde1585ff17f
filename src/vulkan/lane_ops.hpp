// SPDX-License-Identifier: MIT
#pragma once
// The built-in operations' Vulkan implementations (Operation::with_vulkan), called with a lane of
// a Vulkan device: the host -> host entry points of vulkan/ops.hpp on that device. No Vulkan
// header, so the ops layer includes it where the backend is built.
#include <span>

#include "hetex/exec/gpu_lane.hpp"
#include "hetex/ops/ed25519.hpp"
#include "hetex/ops/image_scheduled.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"

namespace hetex::vulkan {

Status vector_on_lane(GpuLane& lane, ops::VectorKind kind, const ZipBatch<float>& in, std::span<float> out);
Status sha256_on_lane(GpuLane& lane, const ops::MessageBatch& in, std::span<ops::Digest> out);
Status ed25519_on_lane(GpuLane& lane, const ops::VerifyBatch& in, std::span<ops::Verdict> out);
// Output rows [y0, y1) of `plan` (image_rows.hpp) from the whole input into the whole output.
Status image_rows_on_lane(GpuLane& lane, const image::detail::Plan& plan, const std::uint8_t* in, std::uint8_t* out,
                          int y0, int y1);

}  // namespace hetex::vulkan
