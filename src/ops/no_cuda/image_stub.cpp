// SPDX-License-Identifier: MIT
#include "hetex/ops/image.hpp"
#include "../image_rows.hpp"

namespace hetex::image {

Status run_gpu(Stream&, const Pipeline&, const DeviceImage&, DeviceImage&) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

Status run_gpu(GpuLane&, const Pipeline&, ImageView, std::span<std::uint8_t>) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

Status detail::run_gpu_rows(GpuLane&, const Plan&, const std::uint8_t*, std::uint8_t*, int, int) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

Status detail::enqueue_gpu(Stream&, const Plan&, const std::uint8_t*, std::uint8_t*) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

}  // namespace hetex::image
