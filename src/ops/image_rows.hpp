// SPDX-License-Identifier: MIT
#pragma once
// The CPU pipeline's row kernels and the band engine that chains them. A band of output rows is
// produced top to bottom with rolling buffers: a ring of 2R+1 horizontally blurred rows (Q8,
// uint16) and a ring of 3 blurred rows for Sobel, so the intermediates stay in cache and the
// blurred image is never stored whole.
#include <cstdint>
#include <vector>

#include "hetex/ops/image.hpp"

namespace hetex::image::detail {

// What the engine runs, resolved once per call.
struct Plan {
  Shape in;
  Shape out;
  bool gray = false;      // convert to gray (input has 3 or 4 channels and gray was asked for)
  int work_channels = 1;  // channels after the gray stage
  int radius = 0;         // blur radius; 0 with blur off
  bool blur = false;
  std::vector<std::uint16_t> taps;  // 2 radius + 1, Q8
  Edges edges = Edges::none;
  std::int32_t threshold2 = 0;
};
Result<Plan> make_plan(const Pipeline& p, const Shape& in);

// Produces output rows [y0, y1) of `plan` from `in` into `out` (the whole output image).
void run_band(const Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0, int y1);
// The same on all cores, in bands.
void run_bands(const Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0, int y1);
// The same on a GPU, host memory to host memory: the rows in overlapping stripes (each uploads the
// halo rows it reads). Pipelines the fused kernel cannot run go through whole images only.
Status run_gpu_rows(GpuLane& lane, const Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0, int y1);
// The whole image, device memory to device memory, enqueued on `s` (image files stream through
// it, each in a slot of the staging pipeline).
Status enqueue_gpu(Stream& s, const Plan& plan, const std::uint8_t* in, std::uint8_t* out);

}  // namespace hetex::image::detail
