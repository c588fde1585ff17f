// SPDX-License-Identifier: MIT
#include "hetex/ops/vector.hpp"

namespace hetex::ops {

Status vector_gpu(GpuLane&, VectorKind, const ZipBatch<float>&, std::span<float>) {
  return Error(Errc::unavailable, "hetex was built without CUDA");
}

}  // namespace hetex::ops
