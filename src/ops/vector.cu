// SPDX-License-Identifier: MIT
#include <cuda_runtime.h>

#include <algorithm>

// nvcc's front end (not the host compiler) reads future.hpp's emplace() of a [[nodiscard]]
// Result as a discarded value.
#pragma nv_diag_suppress 2810
#include "async/staging.hpp"
#include "hetex/ops/vector.hpp"
#pragma nv_diag_default 2810

namespace hetex::ops {
namespace {

// Grid-stride, four floats per load where the pointers allow it: the kernel is a memory stream.
template <VectorKind K>
__global__ void vector_kernel(const float* __restrict__ x, const float* __restrict__ y, float* __restrict__ out,
                              std::size_t n) {
  auto f = [](float a, float b) { return K == VectorKind::add ? a + b : a * b; };
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  const std::size_t n4 = n / 4;
  const auto* x4 = reinterpret_cast<const float4*>(x);
  const auto* y4 = reinterpret_cast<const float4*>(y);
  auto* o4 = reinterpret_cast<float4*>(out);
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n4; i += stride) {
    const float4 a = x4[i], b = y4[i];
    o4[i] = make_float4(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w));
  }
  for (std::size_t i = n4 * 4 + blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = f(x[i], y[i]);
}

// Chunks of up to 1 Mi items: the 8 MiB of input a chunk stages is one parallel host copy of the
// size that amortises its fork and join, and a batch of a few chunks already overlaps the copies
// of one with the DMA of another. A batch below two chunks' worth is still cut in two (when there
// is enough to stage) so that its halves overlap too.
constexpr std::size_t kChunkItems = std::size_t(1) << 20;
constexpr std::size_t kSplitFrom = std::size_t(1) << 17;
constexpr std::size_t kSlots = 3;

std::size_t align256(std::size_t bytes) { return (bytes + 255) / 256 * 256; }

bool pinned_range(GpuLane& lane, const float* p, std::size_t n) {
  auto* gpu = lane.device().backend();
  return n && gpu->is_pinned(p) && gpu->is_pinned(p + n - 1);
}

// Slot layout: x at 0 and y at align256(len) in device_in, the result in device_out.
class VectorWork final : public detail::StagedWork {
 public:
  VectorWork(VectorKind kind, const ZipBatch<float>& in, std::span<float> out) : kind_(kind), in_(in), out_(out) {}
  bool x_pinned = false, y_pinned = false, out_pinned = false;

  Status pack(detail::Chunk& c, const detail::SlotMemory& m) override {
    const std::size_t bytes = (c.end - c.begin) * sizeof(float);
    c.upload(m.device_in.data(), in_.x.data() + c.begin, bytes, x_pinned);
    c.upload(m.device_in.data() + align256(bytes), in_.y.data() + c.begin, bytes, y_pinned);
    c.download(out_.data() + c.begin, m.device_out.data(), bytes, out_pinned);
    return {};
  }

  Status launch(Stream& s, const detail::Chunk& c, const detail::SlotMemory& m) override {
    const std::size_t len = c.end - c.begin;
    const auto* x = reinterpret_cast<const float*>(m.device_in.data());
    const auto* y = reinterpret_cast<const float*>(m.device_in.data() + align256(len * sizeof(float)));
    auto* o = reinterpret_cast<float*>(m.device_out.data());
    const int threads = 256;
    const int blocks = static_cast<int>(std::min<std::size_t>((len / 4 + threads - 1) / threads + 1, 4096));
    const VectorKind kind = kind_;
    detail::UniqueFunction<void(NativeStream)> fn([=](NativeStream st) {
      if (kind == VectorKind::add)
        vector_kernel<VectorKind::add><<<blocks, threads, 0, st>>>(x, y, o, len);
      else
        vector_kernel<VectorKind::mul><<<blocks, threads, 0, st>>>(x, y, o, len);
    });
    (void)HETEX_TRY(s.impl().launch_and_record(fn));
    return {};
  }

 private:
  VectorKind kind_;
  const ZipBatch<float>& in_;
  std::span<float> out_;
};

}  // namespace

Status vector_gpu(GpuLane& lane, VectorKind kind, const ZipBatch<float>& in, std::span<float> out) {
  if (in.x.size() != in.y.size() || in.x.size() != out.size())
    return Error(Errc::invalid_argument, "vector operation: inputs and output differ in length");
  const std::size_t n = out.size();
  if (n == 0) return {};
  std::size_t chunks = (n + kChunkItems - 1) / kChunkItems;
  if (chunks == 1 && n >= kSplitFrom) chunks = 2;
  const std::size_t per = ((n + chunks - 1) / chunks + 63) / 64 * 64;  // 256-byte multiples: float4 loads stay aligned
  VectorWork work(kind, in, out);
  work.x_pinned = pinned_range(lane, in.x.data(), n);
  work.y_pinned = pinned_range(lane, in.y.data(), n);
  work.out_pinned = pinned_range(lane, out.data(), n);
  const std::size_t bytes = align256(per * sizeof(float));
  detail::StagingOptions o;
  o.slots = std::min(kSlots, chunks);
  o.bytes.host_in = (work.x_pinned ? 0 : bytes) + (work.y_pinned ? 0 : bytes);
  o.bytes.host_out = work.out_pinned ? 0 : bytes;
  o.bytes.device_in = 2 * bytes;
  o.bytes.device_out = bytes;
  o.land_beside_pack = true;
  auto p = HETEX_TRY(detail::StagingPipeline::create(lane.streams(), work, o));
  for (std::size_t b = 0; b < n; b += per) HETEX_TRY_VOID(p.submit(b, std::min(n, b + per)));
  return p.finish();
}

}  // namespace hetex::ops
