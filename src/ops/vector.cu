#include <cuda_runtime.h>

#include <algorithm>
#include <optional>

#include "hetex/async/transfer.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/ops/vector.hpp"

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

// Pieces of 4 Mi items (16 MiB per array): large enough to amortise a launch and three
// transfers, small enough that device scratch stays modest whatever the batch size.
constexpr std::size_t kPiece = std::size_t(1) << 22;

}  // namespace

Status vector_gpu(GpuLane& lane, VectorKind kind, const ZipBatch<float>& in, std::span<float> out) {
  if (in.x.size() != in.y.size() || in.x.size() != out.size())
    return Error(Errc::invalid_argument, "vector operation: inputs and output differ in length");
  const std::size_t n = out.size();
  if (n == 0) return {};
  auto pool = HETEX_TRY(DevicePool::shared(lane.device()));
  struct Piece {
    std::size_t begin = 0, len = 0;
    DeviceBuffer<float> x, y, out;
    Stream* stream = nullptr;
  };
  // Upload and compute piece k on one stream, then bring piece k-1 back from another: the
  // download of one piece overlaps the upload of the next (two copy engines).
  auto issue = [&](std::size_t k, std::size_t begin) -> Result<Piece> {
    Piece p;
    p.begin = begin;
    p.len = std::min(kPiece, n - begin);
    p.stream = &lane.stream(k);
    Stream& s = *p.stream;
    p.x = HETEX_TRY(pool->allocate<float>(s, p.len));
    p.y = HETEX_TRY(pool->allocate<float>(s, p.len));
    p.out = HETEX_TRY(pool->allocate<float>(s, p.len));
    const std::size_t bytes = p.len * sizeof(float);
    HETEX_TRY(detail::upload_bytes(s, p.x.view().data(), p.x.allocation().get(), in.x.data() + begin, bytes,
                                   detail::SourceUse::borrowed));
    HETEX_TRY(detail::upload_bytes(s, p.y.view().data(), p.y.allocation().get(), in.y.data() + begin, bytes,
                                   detail::SourceUse::borrowed));
    const int threads = 256;
    const int blocks = static_cast<int>(std::min<std::size_t>((p.len / 4 + threads - 1) / threads + 1, 4096));
    const float* x = p.x.view().data();
    const float* y = p.y.view().data();
    float* o = p.out.view().data();
    const std::size_t len = p.len;
    auto launched = s.enqueue(
        [=](NativeStream st) {
          if (kind == VectorKind::add)
            vector_kernel<VectorKind::add><<<blocks, threads, 0, st>>>(x, y, o, len);
          else
            vector_kernel<VectorKind::mul><<<blocks, threads, 0, st>>>(x, y, o, len);
        },
        p.x.read(), p.y.read(), p.out.write());
    if (launched.is_ready()) HETEX_TRY_VOID(launched.get());  // a launch error is ready at once
    return p;
  };
  auto retrieve = [&](Piece& p) -> Status {
    // Pageable downloads return once the data is in `out`.
    auto done = HETEX_TRY(detail::download_bytes(*p.stream, out.data() + p.begin, p.out.view().data(),
                                                 p.out.allocation().get(), p.len * sizeof(float)));
    if (done) HETEX_TRY_VOID(done->wait());
    return {};
  };
  std::optional<Piece> previous;
  for (std::size_t begin = 0, k = 0; begin < n; begin += kPiece, ++k) {
    auto current = HETEX_TRY(issue(k, begin));
    if (previous) HETEX_TRY_VOID(retrieve(*previous));
    previous = std::move(current);
  }
  HETEX_TRY_VOID(retrieve(*previous));
  return {};
}

}  // namespace hetex::ops
