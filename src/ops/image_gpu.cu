// SPDX-License-Identifier: MIT
// The image pipeline on the GPU. The fused kernel does gray -> blur -> Sobel for one 32x32 output
// tile per block in shared memory: the (gray) source with its halo, the horizontally blurred
// rows (Q8, uint16) and the blurred tile (uint8) all stay on chip. Integer arithmetic throughout,
// as on the CPU, so the two agree exactly. Larger blurs and blurs of colour images use separable
// passes through global memory.
#include <cuda_runtime.h>

#include <algorithm>
#include <optional>
#include <vector>

// nvcc's front end (not the host compiler) reads future.hpp's emplace() of a [[nodiscard]]
// Result as a discarded value.
#pragma nv_diag_suppress 2810
#include "async/staging.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/async/transfer.hpp"
#include "hetex/exec/gpu_lane.hpp"
#include "hetex/memory/pool.hpp"
#include "hetex/ops/image.hpp"
#include "image_rows.hpp"
#pragma nv_diag_default 2810

namespace hetex::image {
namespace {

constexpr int kTile = 32;          // output tile, square
constexpr int kRowsPerThread = 4;  // block of 32 x 8 threads
constexpr int kMaxHalo = kMaxFusedRadius + 1;
constexpr int kSrc = kTile + 2 * kMaxHalo;  // gray source tile side, at most

struct FusedParams {
  const std::uint8_t* in;
  std::size_t in_pitch;
  int in_row0, in_rows;  // image rows [in_row0, in_row0 + in_rows) are in `in`
  int width, height, channels;
  bool gray;
  std::uint8_t* out;
  std::size_t out_pitch;
  int out_row0, out_rows;  // output rows produced: image rows [out_row0, out_row0 + out_rows)
  int radius;
  int sobel;  // 0 none, 1 magnitude, 2 binary
  std::int32_t threshold2;
  std::uint16_t taps[2 * kMaxFusedRadius + 1];
};

__device__ __forceinline__ int reflect(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

__device__ __forceinline__ std::uint8_t gray_of(const std::uint8_t* p, int channels, bool gray) {
  if (!gray) return p[0];
  return std::uint8_t((p[0] * 9798u + p[1] * 19235u + p[2] * 3735u + 16384u) >> 15);
}

__global__ void __launch_bounds__(kTile*(kTile / kRowsPerThread)) fused_kernel(const FusedParams p) {
  __shared__ std::uint8_t src[kSrc][kSrc];
  __shared__ std::uint16_t hblur[kSrc][kTile + 2];
  __shared__ std::uint8_t blurred[kTile + 2][kTile + 2 + 2];

  const int halo = p.sobel ? 1 : 0;
  const int r = p.radius;
  const int tx0 = blockIdx.x * kTile;               // image column of the tile's first output
  const int ty0 = p.out_row0 + blockIdx.y * kTile;  // image row of the tile's first output
  const int tid = threadIdx.y * blockDim.x + threadIdx.x;
  const int threads = blockDim.x * blockDim.y;

  // 1. The gray source with the blur and Sobel halos, borders reflected.
  const int src_rows = kTile + 2 * (halo + r), src_cols = kTile + 2 * (halo + r);
  for (int i = tid; i < src_rows * src_cols; i += threads) {
    const int ry = i / src_cols, rx = i - ry * src_cols;
    // A tile may reach past the rows this launch has (a stripe shorter than a tile); those rows
    // feed no output it writes, so any row that is there will do.
    const int gy = min(max(reflect(ty0 - halo - r + ry, p.height), p.in_row0), p.in_row0 + p.in_rows - 1);
    const int gx = reflect(tx0 - halo - r + rx, p.width);
    src[ry][rx] =
        gray_of(p.in + std::size_t(gy - p.in_row0) * p.in_pitch + std::size_t(gx) * p.channels, p.channels, p.gray);
  }
  __syncthreads();

  const int b_rows = kTile + 2 * halo, b_cols = kTile + 2 * halo;
  if (r > 0) {
    // 2. Horizontal taps (Q8; fits 16 bits), 3. vertical taps, rounded from Q16 to 8 bits.
    for (int i = tid; i < src_rows * b_cols; i += threads) {
      const int ry = i / b_cols, rx = i - ry * b_cols;
      std::uint32_t acc = 0;
      for (int k = 0; k <= 2 * r; ++k) acc += p.taps[k] * src[ry][rx + k];
      hblur[ry][rx] = std::uint16_t(acc);
    }
    __syncthreads();
    for (int i = tid; i < b_rows * b_cols; i += threads) {
      const int ry = i / b_cols, rx = i - ry * b_cols;
      std::uint32_t acc = 32768u;
      for (int k = 0; k <= 2 * r; ++k) acc += std::uint32_t(p.taps[k]) * hblur[ry + k][rx];
      blurred[ry][rx] = std::uint8_t(acc >> 16);
    }
  } else {
    for (int i = tid; i < b_rows * b_cols; i += threads) {
      const int ry = i / b_cols, rx = i - ry * b_cols;
      blurred[ry][rx] = src[ry][rx];
    }
  }
  __syncthreads();

  // 4. Sobel (or the blurred pixel itself) for this thread's outputs.
  const int x = threadIdx.x;
  if (tx0 + x >= p.width) return;
  for (int k = 0; k < kRowsPerThread; ++k) {
    const int y = threadIdx.y + k * blockDim.y;
    const int row = blockIdx.y * kTile + y;  // within this launch's output rows
    if (row >= p.out_rows) return;
    std::uint8_t v;
    if (!p.sobel) {
      v = blurred[y][x];
    } else {
      const int bx = x + 1, by = y + 1;
      const int gx = (blurred[by - 1][bx + 1] - blurred[by - 1][bx - 1]) +
                     2 * (blurred[by][bx + 1] - blurred[by][bx - 1]) +
                     (blurred[by + 1][bx + 1] - blurred[by + 1][bx - 1]);
      const int gy = (blurred[by + 1][bx - 1] + 2 * blurred[by + 1][bx] + blurred[by + 1][bx + 1]) -
                     (blurred[by - 1][bx - 1] + 2 * blurred[by - 1][bx] + blurred[by - 1][bx + 1]);
      const std::int32_t s2 = gx * gx + gy * gy;
      if (p.sobel == 2)
        v = s2 >= p.threshold2 ? 255 : 0;
      else
        v = std::uint8_t(min(__float2int_rn(__fsqrt_rn(float(s2))), 255));
    }
    p.out[std::size_t(row) * p.out_pitch + tx0 + x] = v;
  }
}

// Separable passes over interleaved rows (n = width * channels elements per row), for blurs the
// fused kernel does not take.
struct Taps {
  std::uint16_t v[kMaxTaps];
};

__global__ void gray_kernel(const std::uint8_t* in, int channels, std::size_t pixels, std::uint8_t* out) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < pixels;
       i += std::size_t(gridDim.x) * blockDim.x)
    out[i] = gray_of(in + i * channels, channels, true);
}

__global__ void hblur_kernel(const std::uint8_t* in, int width, int height, int c, int radius, const Taps taps,
                             std::uint16_t* out) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= width * c) return;
  const int x = j / c, ch = j - x * c;
  for (int y = blockIdx.y; y < height; y += gridDim.y) {  // grids are at most 65535 high
    const std::uint8_t* row = in + std::size_t(y) * width * c;
    std::uint32_t acc = 0;
    for (int k = 0; k <= 2 * radius; ++k) acc += taps.v[k] * row[reflect(x + k - radius, width) * c + ch];
    out[std::size_t(y) * width * c + j] = std::uint16_t(acc);
  }
}

__global__ void vblur_kernel(const std::uint16_t* in, int n, int height, int radius, const Taps taps,
                             std::uint8_t* out) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= n) return;
  for (int y = blockIdx.y; y < height; y += gridDim.y) {
    std::uint32_t acc = 32768u;
    for (int k = 0; k <= 2 * radius; ++k)
      acc += std::uint32_t(taps.v[k]) * in[std::size_t(reflect(y + k - radius, height)) * n + j];
    out[std::size_t(y) * n + j] = std::uint8_t(acc >> 16);
  }
}

// A launch error is ready at once; a fault inside the kernel reaches whoever waits on the stream.
Status submitted(Future<void> f) {
  if (f.is_ready()) return f.get();
  return {};
}

bool fusable(const detail::Plan& plan) { return plan.out.channels == 1 && plan.radius <= kMaxFusedRadius; }

FusedParams fused_params(const detail::Plan& plan, int radius, bool gray, int channels) {
  FusedParams f{};
  f.width = plan.in.width;
  f.height = plan.in.height;
  f.channels = channels;
  f.gray = gray;
  f.in_pitch = std::size_t(plan.in.width) * channels;
  f.out_pitch = std::size_t(plan.in.width);
  f.radius = radius;
  if (radius > 0) std::copy(plan.taps.begin(), plan.taps.end(), f.taps);
  f.sobel = plan.edges == Edges::none ? 0 : plan.edges == Edges::magnitude ? 1 : 2;
  f.threshold2 = plan.threshold2;
  return f;
}

// Rows [row0, row0 + rows) of the output; `in` holds image rows [in_row0, in_row0 + in_rows).
void launch_fused(NativeStream s, FusedParams f, const std::uint8_t* in, int in_row0, int in_rows, std::uint8_t* out,
                  int row0, int rows) {
  f.in = in;
  f.in_row0 = in_row0;
  f.in_rows = in_rows;
  f.out = out;
  f.out_row0 = row0;
  f.out_rows = rows;
  const dim3 grid((f.width + kTile - 1) / kTile, (rows + kTile - 1) / kTile);
  fused_kernel<<<grid, dim3(kTile, kTile / kRowsPerThread), 0, s>>>(f);
}

}  // namespace

// The whole image, device to device, enqueued on `s`.
Status detail::enqueue_gpu(Stream& s, const Plan& plan, const std::uint8_t* in, std::uint8_t* out) {
  const int w = plan.in.width, h = plan.in.height;
  if (fusable(plan)) {
    const FusedParams f = fused_params(plan, plan.radius, plan.gray, plan.in.channels);
    return submitted(s.enqueue([&](NativeStream ns) { launch_fused(ns, f, in, 0, h, out, 0, h); }));
  }
  if (!plan.blur && !plan.gray) {  // nothing to compute
    return submitted(
        s.enqueue([&](NativeStream ns) { cudaMemcpyAsync(out, in, plan.out.bytes(), cudaMemcpyDeviceToDevice, ns); }));
  }
  auto pool = HETEX_TRY(DevicePool::shared(s.device()));
  const int c = plan.work_channels;
  const std::size_t n = std::size_t(w) * c;
  std::optional<DeviceBuffer<std::uint8_t>> gray, blurred;
  auto hbuf = HETEX_TRY(pool->allocate<std::uint16_t>(s, n * h));
  if (plan.gray) gray = HETEX_TRY(pool->allocate<std::uint8_t>(s, std::size_t(w) * h));
  const bool edges = plan.edges != Edges::none;
  if (edges) blurred = HETEX_TRY(pool->allocate<std::uint8_t>(s, std::size_t(w) * h));
  Taps taps{};
  std::copy(plan.taps.begin(), plan.taps.end(), taps.v);
  const std::uint8_t* src = gray ? gray->view().data() : in;
  std::uint8_t* dst = edges ? blurred->view().data() : out;
  std::uint16_t* hp = hbuf.view().data();
  std::uint8_t* gp = gray ? gray->view().data() : nullptr;
  return submitted(s.enqueue([&](NativeStream ns) {
    if (gp)
      gray_kernel<<<std::min<std::size_t>((plan.in.pixels() + 255) / 256, 8192), 256, 0, ns>>>(in, plan.in.channels,
                                                                                               plan.in.pixels(), gp);
    const dim3 grid(unsigned((n + 255) / 256), unsigned(std::min(h, 65535)));
    hblur_kernel<<<grid, 256, 0, ns>>>(src, w, h, c, plan.radius, taps, hp);
    vblur_kernel<<<grid, 256, 0, ns>>>(hp, int(n), h, plan.radius, taps, dst);
    if (edges) launch_fused(ns, fused_params(plan, 0, false, 1), dst, 0, h, out, 0, h);
  }));
}

Status run_gpu(Stream& s, const Pipeline& p, const DeviceImage& in, DeviceImage& out) {
  auto plan = HETEX_TRY(detail::make_plan(p, in.shape));
  if (out.shape != plan.out)
    return Error(Errc::invalid_argument,
                 "output image is " + std::to_string(out.shape.width) + "x" + std::to_string(out.shape.height) + "x" +
                     std::to_string(out.shape.channels) + "; the pipeline gives " + std::to_string(plan.out.width) +
                     "x" + std::to_string(plan.out.height) + "x" + std::to_string(plan.out.channels));
  if (in.pixels.size() < in.shape.bytes() || out.pixels.size() < out.shape.bytes())
    return Error(Errc::invalid_argument, "image buffers are smaller than their shapes");
  for (int index : {in.pixels.device_index(), out.pixels.device_index()}) {
    if (in.pixels.lost() || out.pixels.lost()) return Error(Errc::device_lost, "an image buffer's device was lost");
    if (index != s.device().id().index)
      return Error(Errc::invalid_argument,
                   "image buffers must live on the stream's GPU " + s.device().id().to_string());
  }
  const auto& cin = in.pixels;
  return detail::enqueue_gpu(s, plan, cin.view().data(), out.pixels.view().data());
}

Status run_gpu(GpuLane& lane, const Pipeline& p, ImageView in, std::span<std::uint8_t> out) {
  auto plan = HETEX_TRY(detail::make_plan(p, in.shape));
  if (out.size() != plan.out.bytes())
    return Error(Errc::invalid_argument, "output holds " + std::to_string(out.size()) + " bytes; the result needs " +
                                             std::to_string(plan.out.bytes()));
  return detail::run_gpu_rows(lane, plan, in.data, out.data(), 0, in.shape.height);
}

namespace {

// A stripe of output rows [begin, end): the input rows it adds to `din` (those above are up
// already), the fused kernel over what is up, its rows of `dout` down to `out`.
class StripeWork final : public hetex::detail::StagedWork {
 public:
  StripeWork(const detail::Plan& plan, const FusedParams& f)
      : in_row_(plan.in.row_bytes()), out_row_(plan.out.row_bytes()), f_(f) {}
  const std::uint8_t* in = nullptr;
  std::uint8_t* out = nullptr;
  std::uint8_t *din = nullptr, *dout = nullptr;  // input rows from in0, output rows from y0
  int in0 = 0, in1 = 0, y0 = 0, halo = 0;
  int uploaded = 0;  // input rows [in0, uploaded) are queued
  bool in_pinned = false, out_pinned = false;
  std::vector<int> in_rows;  // per slot: the input rows its stripe's kernel may read

  Status pack(hetex::detail::Chunk& c, const hetex::detail::SlotMemory& m) override {
    const int row0 = int(c.begin), rows = int(c.end - c.begin);
    const int need = std::min(in1, row0 + rows + halo);
    c.upload(din + std::size_t(uploaded - in0) * in_row_, in + std::size_t(uploaded) * in_row_,
             std::size_t(need - uploaded) * in_row_, in_pinned);
    uploaded = need;
    in_rows[m.index] = uploaded - in0;
    c.download(out + std::size_t(row0) * out_row_, dout + std::size_t(row0 - y0) * out_row_,
               std::size_t(rows) * out_row_, out_pinned);
    return {};
  }

  Status launch(Stream& s, const hetex::detail::Chunk& c, const hetex::detail::SlotMemory& m) override {
    // The kernel sees only the rows uploaded so far: a tile reaching past them clamps its reads.
    const int row0 = int(c.begin), rows = int(c.end - c.begin), from = in0, have = in_rows[m.index];
    const std::uint8_t* src = din;
    std::uint8_t* dst = dout + std::size_t(row0 - y0) * out_row_;
    const FusedParams f = f_;
    hetex::detail::UniqueFunction<void(NativeStream)> fn(
        [=](NativeStream ns) { launch_fused(ns, f, src, from, have, dst, row0, rows); });
    (void)HETEX_TRY(s.impl().launch_and_record(fn));
    return {};
  }

 private:
  std::size_t in_row_, out_row_;
  FusedParams f_;
};

}  // namespace

namespace detail {

Status run_gpu_rows(GpuLane& lane, const Plan& plan, const std::uint8_t* in_data, std::uint8_t* out_data, int y0,
                    int y1) {
  auto pool = HETEX_TRY(DevicePool::shared(lane.device()));
  const int h = plan.in.height;
  const std::size_t in_row = plan.in.row_bytes(), out_row = plan.out.row_bytes();
  if (y0 >= y1) return {};
  if (!fusable(plan)) {  // whole image: the separable passes need every row
    if (y0 != 0 || y1 != h)
      return Error(Errc::unavailable, "the GPU runs this pipeline (blur radius over " +
                                          std::to_string(kMaxFusedRadius) +
                                          " or a colour output) on whole images only");
    Stream& s = lane.stream(0);
    auto din = HETEX_TRY(pool->allocate<std::uint8_t>(s, plan.in.bytes()));
    auto dout = HETEX_TRY(pool->allocate<std::uint8_t>(s, plan.out.bytes()));
    HETEX_TRY(hetex::detail::upload_bytes(s, din.view().data(), din.allocation().get(), in_data, plan.in.bytes(),
                                          hetex::detail::SourceUse::borrowed));
    HETEX_TRY_VOID(enqueue_gpu(s, plan, din.view().data(), dout.view().data()));
    auto done = HETEX_TRY(
        hetex::detail::download_bytes(s, out_data, dout.view().data(), dout.allocation().get(), plan.out.bytes()));
    if (done) HETEX_TRY_VOID(done->wait());
    return {};
  }
  // Stripes of 4 or 8 MiB of input (see below) on the staging pipeline with a stream per stage:
  // stream 0 uploads the input stripe after stripe (a pageable source is staged through the
  // slots as it goes), stream 1 runs a stripe's kernel once the rows it reads are up, stream 2
  // downloads its output once the kernel is done. The host's copies (pageable input into
  // staging, staged output to a pageable destination) bound this path, so finished stripes land
  // whenever a submit finds them done, oldest first: the host never waits for a download while
  // input remains to be staged.
  const int halo = plan.radius + (plan.edges != Edges::none ? 1 : 0);
  // A pageable source costs each stripe a parallel host copy into staging, whose start and end
  // (waking TBB's workers, waiting for the slowest) are per stripe: on an H100 host, stripes of
  // 2 / 4 / 8 / 16 MiB took a 4K frame host->host in 2.4 / 1.4 / 1.03 / 1.2 ms. A pinned source
  // is DMA'd directly, and smaller stripes start the pipeline sooner.
  auto& gpu = *lane.device().backend();
  const bool in_pinned = gpu.is_pinned(in_data), out_pinned = gpu.is_pinned(out_data);
  const std::size_t stripe_bytes = std::size_t(in_pinned ? 4 : 8) << 20;
  const int stripe = std::max(kTile, int(stripe_bytes / std::max<std::size_t>(in_row, 1)) / kTile * kTile);
  const int in0 = std::max(0, y0 - halo), in1 = std::min(h, y1 + halo);
  auto din = HETEX_TRY(pool->allocate<std::uint8_t>(lane.stream(0), std::size_t(in1 - in0) * in_row));
  auto dout = HETEX_TRY(pool->allocate<std::uint8_t>(lane.stream(0), std::size_t(y1 - y0) * out_row));
  StripeWork work(plan, fused_params(plan, plan.radius, plan.gray, plan.in.channels));
  work.in = in_data;
  work.out = out_data;
  work.din = din.view().data();
  work.dout = dout.view().data();
  work.in0 = work.uploaded = in0;
  work.in1 = in1;
  work.y0 = y0;
  work.halo = halo;
  work.in_pinned = in_pinned;
  work.out_pinned = out_pinned;
  // A pageable destination gets its stripes through a ring of four pinned slots; with nothing to
  // stage, a slot per stripe, so the host never waits at all.
  const int stripes = (y1 - y0 + stripe - 1) / stripe;
  hetex::detail::StagingOptions o;
  o.slots = in_pinned && out_pinned ? std::size_t(stripes) : std::min<std::size_t>(4, stripes);
  o.bytes.host_in = in_pinned ? 0 : std::size_t(stripe + 2 * halo) * in_row;
  o.bytes.host_out = out_pinned ? 0 : std::size_t(stripe) * out_row;
  o.roles = hetex::detail::StreamRoles::by_stage;
  o.eager_landing = true;
  work.in_rows.assign(o.slots, 0);
  auto p = HETEX_TRY(hetex::detail::StagingPipeline::create(lane.streams(), work, o));
  for (int row0 = y0; row0 < y1; row0 += stripe) HETEX_TRY_VOID(p.submit(row0, std::min(y1, row0 + stripe)));
  return p.finish();
}

}  // namespace detail

}  // namespace hetex::image
