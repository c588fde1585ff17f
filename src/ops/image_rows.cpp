// SPDX-License-Identifier: MIT
// Row kernels of the CPU image pipeline. The loops are written so that the compiler vectorizes
// them (contiguous, no aliasing, integer arithmetic in the narrowest lanes that hold the values),
// and are cloned for AVX2 and AVX-512 with a run-time choice, since the library is built for the
// baseline x86-64. The clones are the x86-64 feature levels (v3: AVX2, v4: AVX-512BW), which GCC
// dispatches on CPU features: arch=<cpu name> clones are dispatched on the CPU model, so an AMD
// CPU ran the SSE2 baseline.
#include "image_rows.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

// ThreadSanitizer's runtime is not ready when ifunc resolvers run at load: no clones under it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define HETEX_ROW_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define HETEX_ROW_CLONES
#endif

namespace hetex::image::detail {
namespace {

// The hot loops are written on 32-byte GCC/Clang vectors (one AVX2 register, two SSE ones): auto-
// vectorization leaves the row loops scalar in places (it unrolls and jams the vertical blur's
// tap loop into a scalar loop). Wider vectors are lowered badly on AVX2, and GCC
// scalarizes narrowing vector conversions, so the narrowing to bytes goes through `narrow`, a
// plain loop the compiler vectorizes with packs.
using u16x16 = std::uint16_t __attribute__((vector_size(32)));
using u32x8 = std::uint32_t __attribute__((vector_size(32)));

// Rows seen as vectors at any alignment (aligned(1)) and without breaking the aliasing rules
// (may_alias). Returning references keeps vectors out of function signatures, whose ABI differs
// between the clones (GCC's -Wpsabi note).
using u8x16_u = std::uint8_t __attribute__((vector_size(16), aligned(1), may_alias));
using u16x8_u = std::uint16_t __attribute__((vector_size(16), aligned(1), may_alias));
using u16x16_u = std::uint16_t __attribute__((vector_size(32), aligned(1), may_alias));
using u32x8_u = std::uint32_t __attribute__((vector_size(32), aligned(1), may_alias));
#if defined(__clang__)
// clang ignores aligned(1) on vector types and moves such rows with aligned loads and stores,
// which fault on rows at odd addresses (tests/fuzz/fuzz_image_decode covers it): there, rows are
// read as values and written through a proxy, both with memcpy (unaligned moves once optimized).
// A vector returned by value would have another ABI with AVX enabled: these are internal and
// inlined, so no call crosses that boundary.
#pragma clang diagnostic ignored "-Wpsabi"
template <class V, class T>
[[gnu::always_inline]] inline V at(const T* p) noexcept {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V, class T>
struct RowStore {
  T* p;
  void operator=(const V& v) const noexcept { std::memcpy(p, &v, sizeof v); }
};
template <class V, class T>
RowStore<V, T> at(T* p) noexcept {
  return {p};
}
#else
template <class V, class T>
const V& at(const T* p) noexcept {
  return *reinterpret_cast<const V*>(p);
}
template <class V, class T>
V& at(T* p) noexcept {
  return *reinterpret_cast<V*>(p);
}
#endif

// dst[k] = bits [shift, shift + 8) of sums[k], for 16 sums just stored from vectors. The empty asm
// makes the compiler reload them as a whole; otherwise it forwards each element from the vectors
// one by one, scalar again.
[[gnu::always_inline]] inline void narrow(const std::uint32_t* __restrict sums, int shift,
                                          std::uint8_t* __restrict dst) {
  asm("" : : "r"(sums) : "memory");
  for (int k = 0; k < 16; ++k) dst[k] = std::uint8_t(sums[k] >> shift);
}

// cvtColor's fixed point: 0.299 R + 0.587 G + 0.114 B in Q15, rounded (bit-exact with OpenCV 4).
constexpr std::uint32_t kR = 9798, kG = 19235, kB = 3735;

HETEX_ROW_CLONES
void gray_row(const std::uint8_t* __restrict src, int channels, int width, std::uint8_t* __restrict dst) {
  if (channels == 4) {
    int x = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // 16 RGBA pixels as 16 words, R in the low byte.
    alignas(32) std::uint32_t sums[16];
    for (; x + 16 <= width; x += 16) {
      for (int half = 0; half < 2; ++half) {
        const u32x8 px = at<u32x8_u>(src + 4 * (x + 8 * half));
        at<u32x8_u>(sums + 8 * half) = (px & 0xff) * kR + ((px >> 8) & 0xff) * kG + ((px >> 16) & 0xff) * kB + 16384;
      }
      narrow(sums, 15, dst + x);
    }
#endif
    for (; x < width; ++x)
      dst[x] = std::uint8_t((src[4 * x] * kR + src[4 * x + 1] * kG + src[4 * x + 2] * kB + 16384) >> 15);
  } else {
    for (int x = 0; x < width; ++x)
      dst[x] = std::uint8_t((src[3 * x] * kR + src[3 * x + 1] * kG + src[3 * x + 2] * kB + 16384) >> 15);
  }
}

// Horizontal Q8 blur of one row of `width` pixels of `c` interleaved channels. Every partial sum
// fits in 16 bits (taps sum to 256, pixels are at most 255), so the interior runs on uint16 lanes,
// 16 elements at a time with the sum in registers; the taps are symmetric, so mirrored pixels are
// added before the multiply.
HETEX_ROW_CLONES
void hblur_row(const std::uint8_t* __restrict src, int width, int c, const std::uint16_t* __restrict taps, int radius,
               std::uint16_t* __restrict dst) {
  const int n = width * c;
  const int lo = std::min(radius, width) * c;         // first element whose taps are all inside
  const int hi = std::max(lo, (width - radius) * c);  // first element past the interior
  const std::uint16_t centre = taps[radius];
  int j = lo;
  for (; j + 16 <= hi; j += 16) {
    u16x16 acc = centre * __builtin_convertvector(at<u8x16_u>(src + j), u16x16);
    for (int i = 0; i < radius; ++i) {
      const int off = (radius - i) * c;
      const u16x16 left = __builtin_convertvector(at<u8x16_u>(src + j - off), u16x16);
      const u16x16 right = __builtin_convertvector(at<u8x16_u>(src + j + off), u16x16);
      acc += taps[i] * (left + right);
    }
    at<u16x16_u>(dst + j) = acc;
  }
  for (; j < hi; ++j) {
    std::uint32_t acc = centre * src[j];
    for (int i = 0; i < radius; ++i) acc += taps[i] * (src[j - (radius - i) * c] + src[j + (radius - i) * c]);
    dst[j] = std::uint16_t(acc);
  }
  // Borders (and rows narrower than the kernel): reflected taps, one element at a time.
  auto edge = [&](int j) {
    const int x = j / c, ch = j % c;
    std::uint32_t acc = 0;
    for (int i = 0; i <= 2 * radius; ++i) acc += taps[i] * src[reflect101(x + i - radius, width) * c + ch];
    dst[j] = std::uint16_t(acc);
  };
  for (int j = 0; j < std::min(lo, n); ++j) edge(j);
  for (int j = std::max(hi, lo); j < n; ++j) edge(j);
}

// Vertical Q8 blur of 2R+1 horizontally blurred rows, rounded to 8 bits: OpenCV's Q16 result.
// 32-bit sums (two Q8 rows overflow 16 bits), 2 x 8 elements at a time in registers; mirrored rows
// are added before the multiply (the taps are symmetric). The sum is exact, so order is free.
HETEX_ROW_CLONES
void vblur_row(const std::uint16_t* const* rows, int radius, const std::uint16_t* __restrict taps, int n,
               std::uint8_t* __restrict dst) {
  const std::uint32_t centre = taps[radius];
  const std::uint16_t* mid = rows[radius];
  alignas(32) std::uint32_t sums[16];
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    u32x8 lo = 32768u + centre * __builtin_convertvector(at<u16x8_u>(mid + j), u32x8);
    u32x8 hi = 32768u + centre * __builtin_convertvector(at<u16x8_u>(mid + j + 8), u32x8);
    for (int i = 0; i < radius; ++i) {
      const std::uint16_t* above = rows[i] + j;
      const std::uint16_t* below = rows[2 * radius - i] + j;
      const std::uint32_t k = taps[i];
      lo +=
          k * (__builtin_convertvector(at<u16x8_u>(above), u32x8) + __builtin_convertvector(at<u16x8_u>(below), u32x8));
      hi += k * (__builtin_convertvector(at<u16x8_u>(above + 8), u32x8) +
                 __builtin_convertvector(at<u16x8_u>(below + 8), u32x8));
    }
    at<u32x8_u>(sums) = lo;
    at<u32x8_u>(sums + 8) = hi;
    narrow(sums, 16, dst + j);
  }
  for (; j < n; ++j) {
    std::uint32_t acc = 32768u + centre * mid[j];
    for (int i = 0; i < radius; ++i) acc += taps[i] * (std::uint32_t(rows[i][j]) + rows[2 * radius - i][j]);
    dst[j] = std::uint8_t(acc >> 16);
  }
}

// 3x3 Sobel of the middle row from three blurred rows, into the magnitude or the binary edge map.
// The vertical smoothing and difference go first (16-bit lanes: |values| <= 1020), so each
// output needs two horizontal neighbours; `v` and `d` hold width + 2 (one padding element a side).
HETEX_ROW_CLONES
void sobel_row(const std::uint8_t* __restrict up, const std::uint8_t* __restrict mid,
               const std::uint8_t* __restrict down, int width, bool binary, std::int32_t threshold2,
               std::int16_t* __restrict v, std::int16_t* __restrict d, std::uint8_t* __restrict dst) {
  for (int x = 0; x < width; ++x) {
    v[x + 1] = std::int16_t(up[x] + 2 * mid[x] + down[x]);
    d[x + 1] = std::int16_t(down[x] - up[x]);
  }
  v[0] = v[reflect101(-1, width) + 1];
  d[0] = d[reflect101(-1, width) + 1];
  v[width + 1] = v[reflect101(width, width) + 1];
  d[width + 1] = d[reflect101(width, width) + 1];
  if (binary) {
    for (int x = 0; x < width; ++x) {
      const std::int32_t gx = v[x + 2] - v[x], gy = d[x] + 2 * d[x + 1] + d[x + 2];
      dst[x] = gx * gx + gy * gy >= threshold2 ? 255 : 0;
    }
  } else {
    for (int x = 0; x < width; ++x) {
      const std::int32_t gx = v[x + 2] - v[x], gy = d[x] + 2 * d[x + 1] + d[x + 2];
      // OpenCV rounds the float magnitude half to even and saturates: min(255, round(sqrt(s))).
      // Clamping s to 255.5^2 first keeps the root <= 255.5; the root of an integer is never
      // k + 1/2 and stays more than 4e-4 from it, far beyond float's error here, so truncating
      // root + 1/2 rounds correctly (checked for every s the Sobel can give). The float root
      // vectorizes (sqrtps) where libm's sqrt or an integer search would not.
      const std::int32_t s2 = std::min(gx * gx + gy * gy, 65280);
      dst[x] = std::uint8_t(std::int32_t(__builtin_sqrtf(float(s2)) + 0.5f));
    }
  }
}

}  // namespace

void run_band(const Plan& plan, const std::uint8_t* in, std::uint8_t* out, int y0, int y1) {
  const int width = plan.in.width, height = plan.in.height;
  const int c = plan.work_channels;
  const int n = width * c;
  const bool sobel = plan.edges != Edges::none;
  const int radius = plan.radius;
  const int ring = 2 * radius + 1;

  std::vector<std::uint8_t> gray(plan.gray ? std::size_t(width) : 0);
  std::vector<std::uint16_t> hrows(plan.blur ? std::size_t(ring) * n : 0);
  std::vector<std::uint8_t> brows(sobel ? std::size_t(3) * n : 0);
  std::vector<std::int16_t> v(sobel ? width + 2 : 0), d(sobel ? width + 2 : 0);
  std::vector<const std::uint16_t*> taps_rows(plan.blur ? ring : 0);

  // Row `y` of the (gray) source, reflected into the image.
  auto source_row = [&](int y) -> const std::uint8_t* {
    const std::uint8_t* row = in + std::size_t(reflect101(y, height)) * plan.in.row_bytes();
    if (!plan.gray) return row;
    gray_row(row, plan.in.channels, width, gray.data());
    return gray.data();
  };
  auto hslot = [&](int m) { return hrows.data() + std::size_t(((m % ring) + ring) % ring) * n; };
  int next_h = y0 - (sobel ? 1 : 0) - radius;  // the next horizontally blurred row to compute
  // Blurred (or just gray) row `l` into dst.
  auto blurred_row = [&](int l, std::uint8_t* dst) {
    if (!plan.blur) {
      const std::uint8_t* src = source_row(l);
      std::copy(src, src + n, dst);
      return;
    }
    for (; next_h <= l + radius; ++next_h)
      hblur_row(source_row(next_h), width, c, plan.taps.data(), radius, hslot(next_h));
    for (int i = 0; i < ring; ++i) taps_rows[i] = hslot(l - radius + i);
    vblur_row(taps_rows.data(), radius, plan.taps.data(), n, dst);
  };
  const std::size_t out_row = plan.out.row_bytes();
  if (!sobel) {
    for (int y = y0; y < y1; ++y) blurred_row(y, out + std::size_t(y) * out_row);
    return;
  }
  auto bslot = [&](int l) { return brows.data() + std::size_t(((l % 3) + 3) % 3) * n; };
  blurred_row(y0 - 1, bslot(y0 - 1));
  blurred_row(y0, bslot(y0));
  for (int y = y0; y < y1; ++y) {
    blurred_row(y + 1, bslot(y + 1));
    sobel_row(bslot(y - 1), bslot(y), bslot(y + 1), width, plan.edges == Edges::binary, plan.threshold2, v.data(),
              d.data(), out + std::size_t(y) * out_row);
  }
}

}  // namespace hetex::image::detail
