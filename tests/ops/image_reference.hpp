// SPDX-License-Identifier: MIT
#pragma once
// Test images and OpenCV's results for the image pipeline (shared by the CPU and GPU tests).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "hetex/ops/image.hpp"

#if defined(HETEX_HAVE_OPENCV)
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace hetex_test {

using hetex::image::Image;
using hetex::image::Shape;

// Random noise, or (structured) gradients, a box and stripes with some noise: the blur and the
// edges both have something to do.
inline Image test_image(Shape s, std::uint32_t seed, bool structured = false) {
  Image img = hetex::image::make_image(s);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255), noise(-12, 12);
  for (int y = 0; y < s.height; ++y)
    for (int x = 0; x < s.width; ++x)
      for (int c = 0; c < s.channels; ++c) {
        int v = byte(rng);
        if (structured) {
          const bool box = x > s.width / 4 && x < 3 * s.width / 4 && y > s.height / 3 && y < 2 * s.height / 3;
          v = (x * 255 / std::max(1, s.width - 1) + c * 40) % 256;
          if (box) v = 230 - c * 30;
          if ((x / 5 + y / 7) % 9 == 0) v = 20;
          v = std::clamp(v + noise(rng), 0, 255);
        }
        img.pixels[(std::size_t(y) * s.width + x) * s.channels + c] = std::uint8_t(v);
      }
  return img;
}

// Largest absolute difference between two byte images of the same size (-1 when sizes differ).
inline int max_diff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size()) return -1;
  int m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(int(a[i]) - int(b[i])));
  return m;
}

#if defined(HETEX_HAVE_OPENCV)
inline cv::Mat as_mat(const Image& img) {
  return cv::Mat(img.shape.height, img.shape.width, CV_8UC(img.shape.channels),
                 const_cast<std::uint8_t*>(img.pixels.data()))
      .clone();
}
inline std::vector<std::uint8_t> bytes_of(const cv::Mat& m) {
  cv::Mat c = m.isContinuous() ? m : m.clone();
  return std::vector<std::uint8_t>(c.data, c.data + c.total() * c.elemSize());
}

// OpenCV's result for a hetex pipeline, in the same order: cvtColor -> GaussianBlur -> Sobel.
inline std::vector<std::uint8_t> opencv_pipeline(const Image& in, const hetex::image::Pipeline& p) {
  cv::Mat m = as_mat(in);
  const bool gray = p.gray || p.edges != hetex::image::Edges::none;
  if (gray && m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_RGB2GRAY);
  if (gray && m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_RGBA2GRAY);
  if (hetex::image::blurs(p)) {
    const int k = p.ksize ? p.ksize : hetex::image::gaussian_ksize(p.sigma);
    cv::Mat b;
    cv::GaussianBlur(m, b, cv::Size(k, k), p.sigma, p.sigma, cv::BORDER_REFLECT_101);
    m = b;
  }
  if (p.edges == hetex::image::Edges::none) return bytes_of(m);
  cv::Mat dx, dy, fx, fy, mag, out;
  cv::Sobel(m, dx, CV_16S, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
  cv::Sobel(m, dy, CV_16S, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
  if (p.edges == hetex::image::Edges::binary) {
    const std::int32_t t2 = hetex::image::edge_threshold_squared(p.threshold);
    std::vector<std::uint8_t> r(m.total());
    for (std::size_t i = 0; i < r.size(); ++i) {
      const int gx = dx.ptr<std::int16_t>()[i], gy = dy.ptr<std::int16_t>()[i];
      r[i] = gx * gx + gy * gy >= t2 ? 255 : 0;
    }
    return r;
  }
  dx.convertTo(fx, CV_32F);
  dy.convertTo(fy, CV_32F);
  cv::magnitude(fx, fy, mag);
  mag.convertTo(out, CV_8U);
  return bytes_of(out);
}
#endif

}  // namespace hetex_test
