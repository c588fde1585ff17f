#include "hetex/ops/image.hpp"

namespace hetex::image {

Status run_gpu(Stream&, const Pipeline&, const DeviceImage&, DeviceImage&) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

Status run_gpu(GpuLane&, const Pipeline&, ImageView, std::span<std::uint8_t>) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

}  // namespace hetex::image
