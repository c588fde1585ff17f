// SPDX-License-Identifier: MIT
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>

#include "hetex/ops/image.hpp"
#include "image_rows.hpp"

namespace hetex::image {

Status check_shape(const Shape& s, std::string_view what) {
  if (s.width < 1 || s.height < 1)
    return Error(Errc::invalid_argument, std::string(what) + " is " + std::to_string(s.width) + "x" +
                                             std::to_string(s.height) + "; width and height must be at least 1");
  if (s.channels != 1 && s.channels != 3 && s.channels != 4)
    return Error(Errc::invalid_argument, std::string(what) + " has " + std::to_string(s.channels) +
                                             " channels; hetex handles 1 (gray), 3 (RGB) and 4 (RGBA)");
  if (s.pixels() > (std::size_t(1) << 31))
    return Error(Errc::invalid_argument, std::string(what) + " has more than 2^31 pixels");
  return {};
}

Image make_image(Shape s) { return Image{s, std::vector<std::uint8_t>(s.bytes())}; }

int gaussian_ksize(double sigma) noexcept {
  // OpenCV: cvRound(sigma * 3 * 2 + 1) | 1 for 8-bit images.
  if (!(sigma > 0) || sigma > 1e6) return 0;
  return int(std::lrint(sigma * 3 * 2 + 1)) | 1;
}

Result<std::vector<std::uint16_t>> gaussian_taps(double sigma, int ksize) {
  if (!std::isfinite(sigma)) return Error(Errc::invalid_argument, "blur sigma must be a finite number");
  if (ksize == 0) {
    if (!(sigma > 0)) return Error(Errc::invalid_argument, "a Gaussian blur needs a positive sigma or a kernel size");
    ksize = gaussian_ksize(sigma);
  }
  if (ksize < 1 || ksize % 2 == 0 || ksize > kMaxTaps)
    return Error(Errc::invalid_argument, "Gaussian kernel size " + std::to_string(ksize) + " (sigma " +
                                             std::to_string(sigma) + ") must be odd and at most " +
                                             std::to_string(kMaxTaps) + " (sigma up to about 170)");
  const int n = ksize, half = n / 2;
  std::vector<std::uint16_t> taps(n);
  // Without a sigma OpenCV uses fixed binomial-like kernels up to 7 taps.
  static const std::uint16_t small[4][7] = {{256}, {64, 128, 64}, {16, 64, 96, 64, 16}, {8, 28, 56, 72, 56, 28, 8}};
  if (sigma <= 0 && n <= 7) {
    std::copy(small[half], small[half] + n, taps.begin());
    return taps;
  }
  // The Gaussian normalised in double (OpenCV does this in soft-float, bit-exact across machines),
  // then quantized to Q8 by carrying each tap's rounding error into the next, the centre taking
  // what is left so the taps sum to exactly 256.
  const double s = sigma > 0 ? sigma : std::fma(double(n), 0.15, 0.35);
  const double scale = -0.125 / (s * s);
  std::vector<double> value(half);
  double sum = 0;
  for (int i = 0, x = 1 - n; i < half; ++i, x += 2) {
    value[i] = std::exp(double(x * x) * scale);
    sum += value[i];
  }
  sum = sum * 2 + 1;
  const double norm = 1 / sum;
  double err = 0;
  int total = 0;
  for (int i = 0; i < half; ++i) {
    const double adjusted = value[i] * norm * 256 + err;
    const long v = std::lrint(adjusted);
    err = adjusted - double(v);
    taps[i] = taps[n - 1 - i] = std::uint16_t(v);
    total += int(v);
  }
  taps[half] = std::uint16_t(256 - 2 * total);
  return taps;
}

Status validate(const Pipeline& p) {
  if (p.sigma < 0 || !std::isfinite(p.sigma)) return Error(Errc::invalid_argument, "blur sigma must be 0 or more");
  if (blurs(p)) HETEX_TRY_VOID(gaussian_taps(p.sigma, p.ksize));
  if (p.edges == Edges::binary && !(p.threshold > 0 && p.threshold <= 8))
    return Error(Errc::invalid_argument,
                 "edge threshold must be in (0, 8] (a fraction of full scale), got " + std::to_string(p.threshold));
  return {};
}

bool blurs(const Pipeline& p) noexcept { return p.sigma > 0 || p.ksize > 1; }

Shape output_shape(const Pipeline& p, const Shape& in) noexcept {
  Shape s = in;
  if (p.gray || p.edges != Edges::none) s.channels = 1;
  return s;
}

std::int32_t edge_threshold_squared(double threshold) noexcept {
  const double t = threshold * 255;
  return std::int32_t(std::ceil(t * t));
}

namespace detail {

Result<Plan> make_plan(const Pipeline& p, const Shape& in) {
  HETEX_TRY_VOID(check_shape(in, "input image"));
  HETEX_TRY_VOID(validate(p));
  Plan plan;
  plan.in = in;
  plan.out = output_shape(p, in);
  plan.gray = plan.out.channels == 1 && in.channels > 1;
  plan.work_channels = plan.out.channels;
  plan.blur = blurs(p);
  if (plan.blur) {
    plan.taps = HETEX_TRY(gaussian_taps(p.sigma, p.ksize));
    plan.radius = int(plan.taps.size()) / 2;
  }
  plan.edges = p.edges;
  plan.threshold2 = edge_threshold_squared(p.threshold);
  return plan;
}

}  // namespace detail

namespace {

Status check_out(const detail::Plan& plan, std::span<std::uint8_t> out) {
  if (out.size() != plan.out.bytes())
    return Error(Errc::invalid_argument, "output holds " + std::to_string(out.size()) + " bytes; the result needs " +
                                             std::to_string(plan.out.bytes()));
  return {};
}

}  // namespace

Status run_cpu(const Pipeline& p, ImageView in, std::span<std::uint8_t> out) {
  auto plan = HETEX_TRY(detail::make_plan(p, in.shape));
  HETEX_TRY_VOID(check_out(plan, out));
  detail::run_bands(plan, in.data, out.data(), 0, in.shape.height);
  return {};
}

void detail::run_bands(const Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0, int y1) {
  // Two bands per core: each band recomputes 2R + 2 rows of halo, so fewer, taller bands are
  // cheaper, but some slack balances the cores.
  const int rows = y1 - y0;
  if (rows <= 0) return;
  const int threads = std::max(1, tbb::this_task_arena::max_concurrency());
  const int band = std::max(16, (rows + 2 * threads - 1) / (2 * threads));
  tbb::parallel_for(
      tbb::blocked_range<int>(0, (rows + band - 1) / band, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int b = r.begin(); b < r.end(); ++b)
          run_band(plan, in, out, y0 + b * band, std::min(y1, y0 + (b + 1) * band));
      },
      tbb::simple_partitioner());
}

Status run_cpu_serial(const Pipeline& p, ImageView in, std::span<std::uint8_t> out) {
  auto plan = HETEX_TRY(detail::make_plan(p, in.shape));
  HETEX_TRY_VOID(check_out(plan, out));
  detail::run_band(plan, in.data, out.data(), 0, in.shape.height);
  return {};
}

Result<Image> run_cpu(const Pipeline& p, ImageView in) {
  HETEX_TRY_VOID(check_shape(in.shape, "input image"));
  Image out = make_image(output_shape(p, in.shape));
  HETEX_TRY_VOID(run_cpu(p, in, out.pixels));
  return out;
}

Result<Image> to_gray(ImageView in) { return run_cpu(Pipeline{.gray = true}, in); }

Result<Image> gaussian_blur(ImageView in, double sigma, int ksize) {
  if (!(sigma > 0) && ksize == 0)
    return Error(Errc::invalid_argument, "a Gaussian blur needs a positive sigma or a kernel size");
  return run_cpu(Pipeline{.sigma = std::max(0.0, sigma), .ksize = ksize}, in);
}

namespace {
Status need_gray(const ImageView& gray) {
  HETEX_TRY_VOID(check_shape(gray.shape, "input image"));
  if (gray.shape.channels != 1)
    return Error(Errc::invalid_argument, "Sobel takes a gray image; convert with to_gray first (got " +
                                             std::to_string(gray.shape.channels) + " channels)");
  return {};
}
}  // namespace

Result<Image> sobel_magnitude(ImageView gray) {
  HETEX_TRY_VOID(need_gray(gray));
  return run_cpu(Pipeline{.edges = Edges::magnitude}, gray);
}

Result<Image> edge_map(ImageView gray, double threshold) {
  HETEX_TRY_VOID(need_gray(gray));
  return run_cpu(Pipeline{.edges = Edges::binary, .threshold = threshold}, gray);
}

Status sobel(ImageView gray, std::span<std::int16_t> dx, std::span<std::int16_t> dy) {
  HETEX_TRY_VOID(need_gray(gray));
  const int w = gray.shape.width, h = gray.shape.height;
  if (dx.size() != gray.shape.pixels() || dy.size() != gray.shape.pixels())
    return Error(Errc::invalid_argument, "sobel: dx and dy must each hold width * height values");
  tbb::parallel_for(tbb::blocked_range<int>(0, h, 64), [&](const tbb::blocked_range<int>& r) {
    for (int y = r.begin(); y < r.end(); ++y) {
      const std::uint8_t* rows[3];
      for (int i = 0; i < 3; ++i) rows[i] = gray.data + std::size_t(detail::reflect101(y - 1 + i, h)) * w;
      for (int x = 0; x < w; ++x) {
        const int xl = detail::reflect101(x - 1, w), xr = detail::reflect101(x + 1, w);
        int gx = 0, gy = 0;
        for (int i = 0; i < 3; ++i) {
          const int wv = i == 1 ? 2 : 1;
          gx += wv * (rows[i][xr] - rows[i][xl]);
        }
        gy = (rows[2][xl] + 2 * rows[2][x] + rows[2][xr]) - (rows[0][xl] + 2 * rows[0][x] + rows[0][xr]);
        dx[std::size_t(y) * w + x] = std::int16_t(gx);
        dy[std::size_t(y) * w + x] = std::int16_t(gy);
      }
    }
  });
  return {};
}

}  // namespace hetex::image

namespace hetex::image {

Result<DeviceImage> make_device_image(const Device& gpu, Shape s) {
  HETEX_TRY_VOID(check_shape(s, "device image"));
  auto buf = HETEX_TRY(DeviceBuffer<std::uint8_t>::allocate(gpu, s.bytes()));
  return DeviceImage{s, std::move(buf)};
}

}  // namespace hetex::image
