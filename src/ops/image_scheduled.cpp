// SPDX-License-Identifier: MIT
#include "hetex/ops/image_scheduled.hpp"

#include <algorithm>
#include <bit>

#include "hetex/exec/scheduler.hpp"
#include "image_rows.hpp"
#if defined(HETEX_WITH_VULKAN)
#include "vulkan/lane_ops.hpp"
#endif

namespace hetex::image {
namespace {

// Rows of frames of about the same width through the same steps cost about the same.
std::string cost_class(const FrameRows& rows) {
  if (!rows.plan) return {};
  const auto& p = *rows.plan;
  // Appended piece by piece: g++ 12 warns (-Wrestrict, a false positive) on "w" + std::string.
  std::string key = "w";
  key += std::to_string(std::bit_ceil(static_cast<unsigned>(std::max(1, p.in.width))));
  key += 'c';
  key += std::to_string(p.in.channels);
  if (p.gray) key += 'g';
  key += 'r';
  key += std::to_string(p.radius);
  key += 'e';
  key += std::to_string(static_cast<int>(p.edges));
  return key;
}

void mark_done(std::span<std::uint8_t> out) { std::fill(out.begin(), out.end(), std::uint8_t(1)); }

}  // namespace

const Operation<FrameRows, std::uint8_t>& rows_operation() {
  static const Operation<FrameRows, std::uint8_t> op = [] {
    Operation<FrameRows, std::uint8_t> o(
        "image_rows",
        [](const FrameRows& r, std::span<std::uint8_t> done) -> Status {
          if (!r.plan) return Error(Errc::invalid_argument, "image rows without a pipeline");
          detail::run_band(*r.plan, r.in, r.out, r.row0, r.row0 + r.rows);
          mark_done(done);
          return {};
        },
        // CPU tasks of 16-32 rows (TBB halves a range while it exceeds the grain), as run_cpu's
        // smallest bands: each recomputes 2R + 2 halo rows, yet a small frame still reaches
        // every core. A GPU call below ~256 rows of a large frame is mostly fixed cost.
        OperationOptions{.cpu_grain = 32, .gpu_min_chunk = 256});
    o.with_cost_class(cost_class);
    o.with_gpu([](GpuLane& lane, const FrameRows& r, std::span<std::uint8_t> done) -> Status {
      if (!r.plan) return Error(Errc::invalid_argument, "image rows without a pipeline");
      HETEX_TRY_VOID(detail::run_gpu_rows(lane, *r.plan, r.in, r.out, r.row0, r.row0 + r.rows));
      mark_done(done);
      return {};
    });
#if defined(HETEX_WITH_VULKAN)
    o.with_vulkan([](GpuLane& lane, const FrameRows& r, std::span<std::uint8_t> done) -> Status {
      if (!r.plan) return Error(Errc::invalid_argument, "image rows without a pipeline");
      HETEX_TRY_VOID(vulkan::image_rows_on_lane(lane, *r.plan, r.in, r.out, r.row0, r.row0 + r.rows));
      mark_done(done);
      return {};
    });
#endif
    return o;
  }();
  return op;
}

Result<FrameRows> frame_rows(const Pipeline& p, ImageView in, std::span<std::uint8_t> out) {
  auto plan = HETEX_TRY(detail::make_plan(p, in.shape));
  if (out.size() != plan.out.bytes())
    return Error(Errc::invalid_argument, "output holds " + std::to_string(out.size()) + " bytes; the result needs " +
                                             std::to_string(plan.out.bytes()));
  return FrameRows{std::make_shared<const detail::Plan>(std::move(plan)), in.data, out.data(), 0, in.shape.height};
}

Status run(Scheduler& scheduler, const Pipeline& p, ImageView in, std::span<std::uint8_t> out) {
  auto rows = HETEX_TRY(frame_rows(p, in, out));
  std::vector<std::uint8_t> done(rows.size(), 0);
  auto report = HETEX_TRY(scheduler.run(rows_operation(), rows, std::span(done)));
  HETEX_TRY_VOID(report.status());
  if (std::find(done.begin(), done.end(), std::uint8_t(0)) != done.end())
    return Error(Errc::internal, "image: the scheduler reported success but left rows unwritten");
  return {};
}

}  // namespace hetex::image
