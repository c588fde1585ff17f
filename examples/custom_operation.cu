// SPDX-License-Identifier: MIT
// The GPU half of the SAXPY example: copy x and y to the GPU, run a kernel, copy the result back,
// all in order on one stream of the lane.
#include <algorithm>

#include "custom_operation.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/memory/pool.hpp"

namespace example {
namespace {

__global__ void saxpy_kernel(float a, const float* __restrict__ x, float* __restrict__ y, std::size_t n) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x)
    y[i] = fmaf(a, x[i], y[i]);
}

}  // namespace

hetex::Status saxpy_gpu(hetex::GpuLane& lane, float a, const hetex::ZipBatch<float>& in, std::span<float> out) {
  const std::size_t n = out.size();
  if (n == 0) return {};
  hetex::Stream& s = lane.stream(0);
  // Pooled device memory: after the first batch, no cudaMalloc per call.
  auto pool = HETEX_TRY(hetex::DevicePool::shared(lane.device()));
  auto x = HETEX_TRY(pool->allocate<float>(s, n));
  auto y = HETEX_TRY(pool->allocate<float>(s, n));

  auto up_x = hetex::upload(s, in.x, x.write());
  auto up_y = hetex::upload(s, in.y, y.write());
  const int blocks = static_cast<int>(std::min<std::size_t>((n + 255) / 256, 4096));
  const float* dx = x.view().data();
  float* dy = y.view().data();
  // A launch error (bad configuration, no kernel image for this GPU) is this future's error.
  auto kernel = s.enqueue([=](hetex::NativeStream st) { saxpy_kernel<<<blocks, 256, 0, st>>>(a, dx, dy, n); });
  // The stream runs in order: when the download is done, so is everything before it, and a fault
  // in the kernel is the download's error.
  auto down = hetex::download(s, y.read(), out);
  HETEX_TRY_VOID(up_x.wait());
  HETEX_TRY_VOID(up_y.wait());
  HETEX_TRY_VOID(kernel.get());
  return down.wait();
}

}  // namespace example
