// SPDX-License-Identifier: MIT
// The image pipeline on Vulkan: the fused tile kernel over stripes of rows (each stripe uploads
// the halo rows it reads; its taps are specialization constants), or separable passes over the
// whole image (their taps travel in front of the pixels).
#include <cstring>
#include <optional>

#include "hetex/async/transfer.hpp"
#include "ops/image_rows.hpp"
#include "vulkan/ops.hpp"
#include "vulkan/ops_common.hpp"
#include "vulkan/recording.hpp"
#include "vulkan/staging.hpp"

namespace hetex::vulkan {
namespace {

using image::detail::Plan;

constexpr int kTile = 32;
constexpr std::uint64_t kTapsBytes = 4096;  // room for kMaxTaps (1023) taps as 32-bit words, in front of the pixels

struct FusedPush {
  std::int32_t width, height, in_row0, in_rows, out_row0, out_rows, out_base, threshold2;
};
struct PassPush {
  std::int32_t width, height;
};

int sobel_mode(const Plan& plan) {
  return plan.edges == image::Edges::none ? 0 : plan.edges == image::Edges::magnitude ? 1 : 2;
}

Status check_device(const Device& dev) {
  if (!dev.info().storage8)
    return Error(Errc::unavailable,
                 dev.name() + " has no 8-bit storage buffers (storageBuffer8BitAccess), which the image kernels need");
  return {};
}

// Shared memory the fused kernel's tile takes for this radius and halo (three uint arrays).
std::uint64_t fused_shared_bytes(int radius, int halo) {
  const std::uint64_t src = kTile + 2 * (radius + halo), b = kTile + 2 * halo;
  return 4 * (src * src + src * b + b * b);
}

constexpr int kMaxFusedRadius = 32;  // the kernel's 65 tap constants

bool fusable(const Device& dev, const Plan& plan) {
  const int halo = plan.edges == image::Edges::none ? 0 : 1;
  return plan.out.channels == 1 && plan.radius <= kMaxFusedRadius &&
         fused_shared_bytes(plan.radius, halo) <= dev.info().max_shared_memory;
}

// The fused kernel for this plan: radius, stages, channels and taps are specialization constants
// (ids 1-4, and 8 on for the taps), so each blur gets a pipeline of its own, taps as immediates.
Result<const Kernel*> fused_kernel(Device& dev, const Plan& plan, int radius, int sobel, bool gray, int channels) {
  std::vector<std::uint32_t> c = {std::uint32_t(kTile),
                                  std::uint32_t(radius),
                                  std::uint32_t(sobel),
                                  gray ? 1u : 0u,
                                  std::uint32_t(channels),
                                  0,
                                  0,
                                  0};
  if (radius > 0)
    for (int k = 0; k <= 2 * radius; ++k) c.push_back(plan.taps[std::size_t(k)]);
  return detail::builtin_kernel(dev, "image_fused", 2, sizeof(FusedPush), std::move(c));
}

Result<const Kernel*> pass_kernel(Device& dev, int pass, int radius, int channels) {
  return detail::builtin_kernel(
      dev, "image_passes", 4, sizeof(PassPush),
      {detail::workgroup(dev, 256), std::uint32_t(pass), std::uint32_t(radius), std::uint32_t(channels)});
}

void write_taps(const Plan& plan, std::uint8_t* dst) {
  auto* t = reinterpret_cast<std::uint32_t*>(dst);
  for (std::size_t k = 0; k < plan.taps.size(); ++k) t[k] = plan.taps[k];
  if (plan.taps.empty()) t[0] = 0;
}

// Output rows [row0, row0 + rows) of the fused kernel; `in` holds image rows [in_row0, in_row0 +
// in_rows); `out` starts at image row out_base.
Status record_fused(Device& dev, Recording& rec, const Plan& plan, const Binding& in, int in_row0, int in_rows,
                    const Binding& out, int out_base, int row0, int rows) {
  const Kernel* k = HETEX_TRY(fused_kernel(dev, plan, plan.radius, sobel_mode(plan), plan.gray, plan.in.channels));
  const std::uint32_t gx = static_cast<std::uint32_t>((plan.in.width + kTile - 1) / kTile);
  // Grids are at most 65535 groups high on some devices: tall images go in several dispatches.
  const int max_rows = int(std::min<std::uint32_t>(dev.info().max_workgroup_count[1], 65535)) * kTile;
  for (int r = row0; r < row0 + rows; r += max_rows) {
    const int n = std::min(max_rows, row0 + rows - r);
    const FusedPush push{plan.in.width, plan.in.height, in_row0, in_rows, r, n, out_base, plan.threshold2};
    HETEX_TRY_VOID(rec.dispatch(*k, {in, out}, push, gx, static_cast<std::uint32_t>((n + kTile - 1) / kTile)));
  }
  return {};
}

// The whole image through separable passes (device to device), with scratch buffers the caller
// keeps until the work is done.
Status record_passes(Device& dev, Recording& rec, const Plan& plan, const Binding& taps, const Binding& in,
                     const Binding& out, std::vector<Buffer>& scratch) {
  const std::uint64_t pixels = plan.in.pixels();
  const int c = plan.work_channels;
  const std::uint32_t group = detail::workgroup(dev, 256);
  const PassPush push{plan.in.width, plan.in.height};
  auto make = [&](std::uint64_t bytes) -> Result<Binding> {
    scratch.push_back(HETEX_TRY(Buffer::create(dev.shared_from_this(), bytes, MemoryUse::device)));
    return Binding{&scratch.back(), 0, detail::round_up(std::max<std::uint64_t>(bytes, 4), 16)};
  };
  scratch.reserve(4);
  const bool edges = plan.edges != image::Edges::none;
  Binding src = in;
  if (plan.gray) {
    const Binding gray = HETEX_TRY(make(pixels));
    const Kernel* k = HETEX_TRY(pass_kernel(dev, 0, 0, plan.in.channels));
    const Binding target = (!plan.blur && !edges) ? out : gray;
    HETEX_TRY_VOID(
        rec.dispatch(*k, {src, taps, target, taps}, push, detail::groups_for(dev, pixels, group)));  // binding 1 unused
    rec.barrier(Access::compute, Access::compute);
    src = target;
  }
  if (plan.blur) {
    const Binding q8 = HETEX_TRY(make(pixels * c * 4));
    const Binding blurred = edges ? HETEX_TRY(make(pixels * c)) : out;
    const Kernel* h = HETEX_TRY(pass_kernel(dev, 1, plan.radius, c));
    const Kernel* v = HETEX_TRY(pass_kernel(dev, 2, plan.radius, c));
    HETEX_TRY_VOID(rec.dispatch(*h, {src, q8, blurred, taps}, push, detail::groups_for(dev, pixels * c, group)));
    rec.barrier(Access::compute, Access::compute);
    HETEX_TRY_VOID(rec.dispatch(*v, {src, q8, blurred, taps}, push, detail::groups_for(dev, pixels * c, group)));
    rec.barrier(Access::compute, Access::compute);
    src = blurred;
  }
  if (edges) {
    Plan sobel = plan;
    sobel.radius = 0;
    sobel.gray = false;
    sobel.in.channels = 1;
    HETEX_TRY_VOID(record_fused(dev, rec, sobel, src, 0, plan.in.height, out, 0, 0, plan.in.height));
  }
  return {};
}

Status check_binding(const Device& dev, std::uint64_t bytes, const char* what) {
  if (bytes > dev.info().max_storage_buffer_range)
    return Error(Errc::unavailable, std::string(what) + " of " + std::to_string(bytes) + " bytes exceeds " +
                                        dev.name() + "'s largest binding (" +
                                        std::to_string(dev.info().max_storage_buffer_range) + " bytes)");
  return {};
}

}  // namespace

Status image_run(Device& dev, const image::Pipeline& p, image::ImageView in, std::span<std::uint8_t> out) {
  const Plan plan = HETEX_TRY(image::detail::make_plan(p, in.shape));
  if (out.size() != plan.out.bytes())
    return Error(Errc::invalid_argument, "output holds " + std::to_string(out.size()) + " bytes; the result needs " +
                                             std::to_string(plan.out.bytes()));
  if (!in.data) return Error(Errc::invalid_argument, "input image has no pixels");
  return image_rows(dev, plan, in.data, out.data(), 0, plan.in.height);
}

Status image_rows(Device& dev, const image::detail::Plan& plan, const std::uint8_t* in_data, std::uint8_t* out_data,
                  int y0, int y1) {
  HETEX_TRY_VOID(check_device(dev));
  const std::uint64_t in_row = plan.in.row_bytes(), out_row = plan.out.row_bytes();
  const int h = plan.in.height;
  if (y0 < 0 || y1 > h || y0 > y1)
    return Error(Errc::invalid_argument, "rows [" + std::to_string(y0) + ", " + std::to_string(y1) +
                                             ") of an image of " + std::to_string(h) + " rows");
  if (y0 == y1) return {};
  if (!plan.blur && !plan.gray && plan.edges == image::Edges::none) {  // nothing to compute
    std::memcpy(out_data + std::uint64_t(y0) * out_row, in_data + std::uint64_t(y0) * in_row,
                std::uint64_t(y1 - y0) * out_row);
    return {};
  }
  const image::ImageView in{plan.in, in_data};

  if (!fusable(dev, plan)) {
    // Whole image, one chunk: [taps | pixels] up, the passes, the result down (rows [y0, y1) of
    // it: the passes run over whole images).
    std::vector<std::uint8_t> whole;
    if (y0 != 0 || y1 != h) whole.resize(plan.out.bytes());
    const std::span<std::uint8_t> out(whole.empty() ? out_data : whole.data(), plan.out.bytes());
    HETEX_TRY_VOID(check_binding(dev, plan.in.pixels() * plan.work_channels * 4, "the blur's intermediate image"));
    std::vector<Buffer> scratch;
    const SlotSizes sizes{kTapsBytes + plan.in.bytes(), kTapsBytes + plan.in.bytes(), plan.out.bytes(),
                          plan.out.bytes()};
    ChunkSteps steps;
    steps.pack = [&](std::size_t, Slot& s) -> Result<ChunkWork> {
      write_taps(plan, s.up.host().data());
      hetex::detail::parallel_copy(s.up.host().data() + kTapsBytes, in.data, plan.in.bytes());
      return ChunkWork{0, kTapsBytes + plan.in.bytes(), plan.out.bytes()};
    };
    steps.dispatch = [&](std::size_t, Slot& s, Recording& rec) -> Status {
      return record_passes(dev, rec, plan, {&s.in, 0, kTapsBytes},
                           {&s.in, kTapsBytes, detail::round_up(plan.in.bytes(), 16)},
                           {&s.out, 0, detail::round_up(plan.out.bytes(), 16)}, scratch);
    };
    steps.unpack = [&](std::size_t, Slot& s) -> Status {
      hetex::detail::parallel_copy(out.data(), s.down.host().data(), plan.out.bytes());
      return {};
    };
    HETEX_TRY_VOID(run_chunks(dev, sizes, 1, 1, steps));
    if (!whole.empty())
      std::memcpy(out_data + std::uint64_t(y0) * out_row, whole.data() + std::uint64_t(y0) * out_row,
                  std::uint64_t(y1 - y0) * out_row);
    return {};
  }

  // Stripes of about 8 MiB of input rows (whole tiles), each with the halo rows it reads: the
  // stripe the CUDA path measured fastest for pageable frames (src/ops/image_gpu.cu), four in flight.
  const int halo = plan.radius + (plan.edges != image::Edges::none ? 1 : 0);
  const std::uint64_t budget = std::min<std::uint64_t>(std::uint64_t(8) << 20, dev.info().max_storage_buffer_range / 2);
  int stripe = std::max(kTile, int(budget / std::max<std::uint64_t>(in_row, 1)) / kTile * kTile);
  stripe = std::min(stripe, (y1 - y0 + kTile - 1) / kTile * kTile);
  const std::uint64_t in_bytes = std::uint64_t(stripe + 2 * halo) * in_row, out_bytes = std::uint64_t(stripe) * out_row;
  HETEX_TRY_VOID(check_binding(dev, in_bytes, "a stripe of the image"));
  const std::size_t stripes = chunk_count(std::size_t(y1 - y0), std::size_t(stripe));
  const SlotSizes sizes{in_bytes, in_bytes, out_bytes, out_bytes};
  auto rows_of = [&](std::size_t k, int& row0, int& rows, int& a, int& b) {
    row0 = y0 + int(k) * stripe;
    rows = std::min(stripe, y1 - row0);
    a = std::max(0, row0 - halo);
    b = std::min(h, row0 + rows + halo);
  };
  ChunkSteps steps;
  steps.pack = [&](std::size_t k, Slot& s) -> Result<ChunkWork> {
    int row0, rows, a, b;
    rows_of(k, row0, rows, a, b);
    const std::uint64_t bytes = std::uint64_t(b - a) * in_row;
    hetex::detail::parallel_copy(s.up.host().data(), in.data + std::uint64_t(a) * in_row, bytes);
    return ChunkWork{0, bytes, std::uint64_t(rows) * out_row};
  };
  steps.dispatch = [&](std::size_t k, Slot& s, Recording& rec) -> Status {
    int row0, rows, a, b;
    rows_of(k, row0, rows, a, b);
    const std::uint64_t bytes = std::uint64_t(b - a) * in_row;
    return record_fused(dev, rec, plan, {&s.in, 0, detail::round_up(bytes, 16)}, a, b - a,
                        {&s.out, 0, detail::round_up(std::uint64_t(rows) * out_row, 16)}, row0, row0, rows);
  };
  steps.unpack = [&](std::size_t k, Slot& s) -> Status {
    int row0, rows, a, b;
    rows_of(k, row0, rows, a, b);
    hetex::detail::parallel_copy(out_data + std::uint64_t(row0) * out_row, s.down.host().data(),
                                 std::uint64_t(rows) * out_row);
    return {};
  };
  return run_chunks(dev, sizes, 4, stripes, steps);
}

Result<TimelinePoint> image_run_resident(Device& dev, const image::Pipeline& p, const image::Shape& shape,
                                         const Buffer& in, const Buffer& out) {
  HETEX_TRY_VOID(check_device(dev));
  const Plan plan = HETEX_TRY(image::detail::make_plan(p, shape));
  for (const Buffer* b : {&in, &out})
    if (!*b || &b->device() != &dev)
      return Error(Errc::invalid_argument, "image_run_resident: buffers must live on " + dev.name());
  if (in.size() < plan.in.bytes() || out.size() < plan.out.bytes())
    return Error(Errc::invalid_argument, "image_run_resident: the buffers are smaller than the images");
  HETEX_TRY_VOID(check_binding(dev, plan.in.bytes(), "the input image"));
  const Binding ib{&in, 0, detail::round_up(plan.in.bytes(), 16)}, ob{&out, 0, detail::round_up(plan.out.bytes(), 16)};
  auto rec = HETEX_TRY(Recording::begin(dev, QueueRole::compute));
  if (!plan.blur && !plan.gray && plan.edges == image::Edges::none) {
    rec.copy(in, 0, out, 0, plan.out.bytes());
    return rec.submit();
  }
  if (fusable(dev, plan)) {
    HETEX_TRY_VOID(record_fused(dev, rec, plan, ib, 0, plan.in.height, ob, 0, 0, plan.in.height));
    return rec.submit();
  }
  // Separable passes: the taps and the intermediate images live only for this call, so it waits.
  HETEX_TRY_VOID(check_binding(dev, plan.in.pixels() * plan.work_channels * 4, "the blur's intermediate image"));
  auto taps = HETEX_TRY(Buffer::create(dev.shared_from_this(), kTapsBytes, MemoryUse::upload));
  write_taps(plan, taps.host().data());
  HETEX_TRY_VOID(taps.flush(0, kTapsBytes));
  auto taps_dev = HETEX_TRY(Buffer::create(dev.shared_from_this(), kTapsBytes, MemoryUse::device));
  rec.copy(taps, 0, taps_dev, 0, kTapsBytes);
  rec.barrier(Access::transfer, Access::compute);
  std::vector<Buffer> scratch;
  HETEX_TRY_VOID(record_passes(dev, rec, plan, {&taps_dev, 0, kTapsBytes}, ib, ob, scratch));
  const TimelinePoint done = HETEX_TRY(rec.submit());
  HETEX_TRY_VOID(dev.wait(done));
  return done;
}

}  // namespace hetex::vulkan
