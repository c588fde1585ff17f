// SPDX-License-Identifier: MIT
#include "hetex/ops/vector.hpp"

#if defined(HETEX_WITH_VULKAN)
#include "vulkan/lane_ops.hpp"
#endif
namespace hetex::ops {
namespace {

template <class F>
void apply(const float* __restrict x, const float* __restrict y, float* __restrict out, std::size_t n, F f) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = f(x[i], y[i]);
}

VectorOperation make(VectorKind kind, const char* name) {
  VectorOperation op(
      name, [kind](const ZipBatch<float>& in, std::span<float> out) { return vector_cpu(kind, in, out); },
      // A GPU call costs tens of microseconds; below a million items it cannot pay for itself.
      OperationOptions{.cpu_grain = 1u << 15, .gpu_min_chunk = 1u << 20});
  op.with_gpu([kind](GpuLane& lane, const ZipBatch<float>& in, std::span<float> out) {
    return vector_gpu(lane, kind, in, out);
  });
#if defined(HETEX_WITH_VULKAN)
  op.with_vulkan([kind](GpuLane& lane, const ZipBatch<float>& in, std::span<float> out) {
    return vulkan::vector_on_lane(lane, kind, in, out);
  });
#endif
  return op;
}

}  // namespace

Status vector_cpu(VectorKind kind, const ZipBatch<float>& in, std::span<float> out) noexcept {
  if (in.x.size() != in.y.size() || in.x.size() != out.size())
    return Error(Errc::invalid_argument, "vector operation: inputs of " + std::to_string(in.x.size()) + " and " +
                                             std::to_string(in.y.size()) + " items, output of " +
                                             std::to_string(out.size()));
  if (kind == VectorKind::add)
    apply(in.x.data(), in.y.data(), out.data(), out.size(), [](float a, float b) { return a + b; });
  else
    apply(in.x.data(), in.y.data(), out.data(), out.size(), [](float a, float b) { return a * b; });
  return {};
}

const VectorOperation& vector_add() {
  static const VectorOperation op = make(VectorKind::add, "vector_add");
  return op;
}

const VectorOperation& vector_mul() {
  static const VectorOperation op = make(VectorKind::mul, "vector_mul");
  return op;
}

}  // namespace hetex::ops
