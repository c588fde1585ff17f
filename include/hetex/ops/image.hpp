// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// 8-bit images (gray, RGB, RGBA, channels interleaved, rows packed) and the filters hetex runs on
/// them: grayscale, Gaussian blur, Sobel, and the fused pipeline (gray) -> blur -> Sobel.
///
/// Results are those of OpenCV's cvtColor(RGB[A]2GRAY), GaussianBlur and Sobel on 8-bit images
/// (border BORDER_REFLECT_101, OpenCV's default): the blur uses the same Q8 fixed-point taps as
/// OpenCV's bit-exact 8-bit path, so the CPU, the GPU and OpenCV agree to the level.
///
/// @code
/// auto img = hetex::image::load("in.png").value();
/// hetex::image::Pipeline p{.sigma = 2.0, .edges = hetex::image::Edges::binary};
/// auto out = hetex::image::run_cpu(p, img.view()).value();     // or run_gpu(lane, p, ...)
/// @endcode
///
/// The pipeline converts to gray first and then blurs (cheaper than blurring four channels; the
/// result matches OpenCV's cvtColor -> GaussianBlur -> Sobel, the same order).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/memory/buffer.hpp"

namespace hetex {
class Stream;
class GpuLane;
}  // namespace hetex

namespace hetex::image {

/// An image's size and channel count (8-bit channels, interleaved, rows packed).
struct Shape {
  int width = 0;
  int height = 0;
  int channels = 0;                                                                         ///< 1 gray, 3 RGB, 4 RGBA
  std::size_t pixels() const noexcept { return std::size_t(width) * std::size_t(height); }  ///< width * height
  std::size_t bytes() const noexcept { return pixels() * std::size_t(channels); }           ///< pixels() * channels
  std::size_t row_bytes() const noexcept { return std::size_t(width) * std::size_t(channels); }  ///< width * channels
  friend bool operator==(const Shape&, const Shape&) = default;
};
/// invalid_argument unless width, height >= 1 and channels is 1, 3 or 4 (`what` names the image).
Status check_shape(const Shape& s, std::string_view what = "image");

/// Host pixels someone else owns.
struct ImageView {
  Shape shape;
  const std::uint8_t* data = nullptr;
  std::span<const std::uint8_t> bytes() const noexcept { return {data, shape.bytes()}; }
};

/// An image whose pixels live in one typed buffer: std::vector (host), PinnedBuffer (page-locked
/// host, for fast transfers) or DeviceBuffer (GPU memory).
template <class Storage>
struct BasicImage {
  Shape shape;
  Storage pixels;
};
using Image = BasicImage<std::vector<std::uint8_t>>;         ///< an image in ordinary host memory
using PinnedImage = BasicImage<PinnedBuffer<std::uint8_t>>;  ///< an image in page-locked host memory
using DeviceImage = BasicImage<DeviceBuffer<std::uint8_t>>;  ///< an image in GPU memory

/// A view of the image's pixels, valid while it lives.
inline ImageView view(const Image& i) noexcept { return {i.shape, i.pixels.data()}; }
inline ImageView view(const PinnedImage& i) noexcept { return {i.shape, i.pixels.span().data()}; }
Image make_image(Shape s);  ///< zero-filled
/// Uninitialized; Errc::invalid_argument for a bad shape, DeviceBuffer's errors otherwise.
Result<DeviceImage> make_device_image(const Device& gpu, Shape s);

// --- Gaussian kernel, as OpenCV builds it for 8-bit images --------------------------------------
/// The kernel size OpenCV picks for `sigma` on 8-bit images: round(6 sigma + 1), made odd.
int gaussian_ksize(double sigma) noexcept;
inline constexpr int kMaxTaps = 1023;  ///< the largest kernel gaussian_taps() builds
/// Odd `ksize` taps in Q8 (summing to exactly 256); ksize 0 takes gaussian_ksize(sigma); sigma <= 0
/// takes OpenCV's sigma for that size (0.3 ((ksize - 1) / 2 - 1) + 0.8). invalid_argument for an
/// even or too large size (kMaxTaps) or neither a positive sigma nor a size.
Result<std::vector<std::uint16_t>> gaussian_taps(double sigma, int ksize = 0);

// --- The pipeline ---------------------------------------------------------------------------
enum class Edges : std::uint8_t {
  none,       ///< output the (gray and/or blurred) image
  magnitude,  ///< output min(255, round(sqrt(dx^2 + dy^2))) of the 3x3 Sobel derivatives
  binary,     ///< output 255 where the magnitude reaches threshold * 255, else 0 (the design notes' step())
};
/// What to do to each image: gray, blur, edges, in that order; each step optional.
struct Pipeline {
  bool gray = false;          ///< convert to gray first (implied by edges)
  double sigma = 0;           ///< Gaussian sigma; 0 and ksize 0: no blur
  int ksize = 0;              ///< taps; 0 takes gaussian_ksize(sigma)
  Edges edges = Edges::none;  ///< edge detection last, on the gray image
  double threshold = 0.1;     ///< for Edges::binary, a fraction of full scale, in (0, 8]
};
Status validate(const Pipeline& p);      ///< Errc::invalid_argument naming what is out of range
bool blurs(const Pipeline& p) noexcept;  ///< whether the pipeline has a blur step
/// Edges and gray give one channel; a blur alone keeps the input's channels.
Shape output_shape(const Pipeline& p, const Shape& in) noexcept;
/// Binary edges compare dx^2 + dy^2 (an integer) with this; shared by the CPU and the GPU.
std::int32_t edge_threshold_squared(double threshold) noexcept;

// --- CPU (all cores, TBB; the inner loops vectorize) -------------------------------------------
/// `out` must hold output_shape(p, in.shape).bytes() bytes.
Status run_cpu(const Pipeline& p, ImageView in, std::span<std::uint8_t> out);
Result<Image> run_cpu(const Pipeline& p, ImageView in);  ///< as above, into a new image
/// The same on the calling thread only (for callers that run many images side by side).
Status run_cpu_serial(const Pipeline& p, ImageView in, std::span<std::uint8_t> out);

/// The single operations, as OpenCV names them.
Result<Image> to_gray(ImageView in);                                     ///< cvtColor RGB[A]2GRAY
Result<Image> gaussian_blur(ImageView in, double sigma, int ksize = 0);  ///< GaussianBlur, per channel
Result<Image> sobel_magnitude(ImageView gray);                           ///< Edges::magnitude on a gray image
Result<Image> edge_map(ImageView gray, double threshold);                ///< Edges::binary on a gray image
/// Sobel(gray, CV_16S, 1, 0) and Sobel(gray, CV_16S, 0, 1), 3x3; each span holds width*height.
Status sobel(ImageView gray, std::span<std::int16_t> dx, std::span<std::int16_t> dy);

// --- GPU ------------------------------------------------------------------------------------
inline constexpr int kMaxFusedRadius = 32;  ///< the largest blur radius the fused kernel takes
/// Device-resident: enqueues on `s`; `out` must have output_shape(p, in.shape) and live on s's GPU.
/// One kernel (shared-memory tiles; the blurred image never reaches global memory) for the gray
/// -> blur -> Sobel pipeline with up to kMaxFusedRadius; separable passes otherwise.
Status run_gpu(Stream& s, const Pipeline& p, const DeviceImage& in, DeviceImage& out);
/// Host memory to host memory: the image goes through in horizontal stripes, uploads, kernels and
/// downloads of different stripes overlapping on the lane's streams. Returns once `out` is filled.
Status run_gpu(GpuLane& lane, const Pipeline& p, ImageView in, std::span<std::uint8_t> out);

namespace detail {
// Reflect-101 (OpenCV's BORDER_REFLECT_101, repeated for indices further out than the length).
constexpr int reflect101(int i, int n) noexcept {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}
}  // namespace detail

}  // namespace hetex::image
