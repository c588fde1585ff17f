// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The image pipeline through the hybrid scheduler. The items of a batch are the output rows of
/// one frame: Adaptive sends the frame to the device predicted to finish it first, and Split
/// shares its rows between the CPU and the GPUs (each part reads the halo rows it needs). A GPU
/// that fails has its rows redone on the CPU, like any other operation.
///
/// @code
/// auto sched = hetex::Scheduler::create(rt, {.policy = hetex::SplitPolicy{}}).value();
/// hetex::image::run(*sched, pipeline, img.view(), out);   // out: output_shape(...).bytes()
/// @endcode
#include <cstdint>
#include <memory>
#include <span>

#include "hetex/exec/operation.hpp"
#include "hetex/ops/image.hpp"

namespace hetex {
class Scheduler;
}

namespace hetex::image {

namespace detail {
struct Plan;
}

/// Output rows [row0, row0 + rows) of one frame. The pixels go to `out` (the whole output image);
/// the operation's per-item result is one byte per row, set to 1 when that row is written.
struct FrameRows {
  std::shared_ptr<const detail::Plan> plan;  ///< the pipeline, prepared for this frame
  const std::uint8_t* in = nullptr;          ///< the whole input image
  std::uint8_t* out = nullptr;               ///< the whole output image
  int row0 = 0;                              ///< the first output row
  int rows = 0;                              ///< the number of rows
  std::size_t size() const noexcept { return static_cast<std::size_t>(rows); }
  FrameRows slice(std::size_t b, std::size_t e) const {
    return {plan, in, out, row0 + static_cast<int>(b), static_cast<int>(e - b)};
  }
};

/// All output rows of `p` over `in` into `out` (output_shape(p, in.shape).bytes() bytes), as a
/// batch for rows_operation(); submit it with an output span of in.shape.height bytes.
Result<FrameRows> frame_rows(const Pipeline& p, ImageView in, std::span<std::uint8_t> out);

/// The pipeline as a scheduler operation ("image_rows"; cost classes by frame width and pipeline).
const Operation<FrameRows, std::uint8_t>& rows_operation();

/// Runs `p` over `in` into `out` (output_shape(p, in.shape).bytes() bytes) through `scheduler`.
/// Errors: a bad pipeline or size (invalid_argument), or rows no device could produce.
Status run(Scheduler& scheduler, const Pipeline& p, ImageView in, std::span<std::uint8_t> out);

}  // namespace hetex::image
