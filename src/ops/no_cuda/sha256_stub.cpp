// SPDX-License-Identifier: MIT
// Built without CUDA: the GPU entry points of SHA-256 say so.
#include "ops/sha256_detail.hpp"

namespace hetex::detail::sha256 {

Status gpu_with_options(std::span<Stream>, const ops::MessageBatch&, std::span<ops::Digest>, const GpuOptions&) {
  return Error(Errc::unavailable, "sha256_gpu: hetex was built without CUDA; use sha256_cpu");
}

}  // namespace hetex::detail::sha256

namespace hetex::ops {

Future<void> sha256_gpu_device(Stream&, ReadView<std::uint8_t>, ReadView<std::uint64_t>, WriteView<Digest>) {
  return make_error_future<void>(Error(Errc::unavailable, "sha256_gpu_device: hetex was built without CUDA"));
}

}  // namespace hetex::ops
