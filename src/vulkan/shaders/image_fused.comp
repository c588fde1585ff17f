// SPDX-License-Identifier: MIT
#version 460
// The image pipeline (gray) -> Gaussian blur -> Sobel, fused: one 32x32 output tile per
// workgroup, the (gray) source with its halo, the horizontally blurred rows (Q8) and the blurred
// tile all in shared memory, so the blurred image never reaches device memory. Integer
// arithmetic throughout, as on the CPU (src/ops/image_rows.cpp) and CUDA (src/ops/image_gpu.cu),
// so all three and OpenCV agree exactly. The radius, taps, channels and stages are specialization
// constants: loops have constant trip counts, taps are immediates and the shared arrays are
// exactly the tile's size.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0, local_size_y = 8) in;  // 32 x 8 invocations, four output rows each
layout(constant_id = 1) const int RADIUS = 0;      // blur radius; 0: no blur
layout(constant_id = 2) const int SOBEL = 0;       // 0 the blurred pixel, 1 magnitude, 2 binary edges
layout(constant_id = 3) const int GRAY = 0;        // convert RGB[A] to gray first
layout(constant_id = 4) const int CHANNELS = 1;    // input channels

// The Q8 taps (2 RADIUS + 1 of them, at most 65) are constants too: immediates in the tap loops.
layout(constant_id = 8) const uint T0 = 0u;
layout(constant_id = 9) const uint T1 = 0u;
layout(constant_id = 10) const uint T2 = 0u;
layout(constant_id = 11) const uint T3 = 0u;
layout(constant_id = 12) const uint T4 = 0u;
layout(constant_id = 13) const uint T5 = 0u;
layout(constant_id = 14) const uint T6 = 0u;
layout(constant_id = 15) const uint T7 = 0u;
layout(constant_id = 16) const uint T8 = 0u;
layout(constant_id = 17) const uint T9 = 0u;
layout(constant_id = 18) const uint T10 = 0u;
layout(constant_id = 19) const uint T11 = 0u;
layout(constant_id = 20) const uint T12 = 0u;
layout(constant_id = 21) const uint T13 = 0u;
layout(constant_id = 22) const uint T14 = 0u;
layout(constant_id = 23) const uint T15 = 0u;
layout(constant_id = 24) const uint T16 = 0u;
layout(constant_id = 25) const uint T17 = 0u;
layout(constant_id = 26) const uint T18 = 0u;
layout(constant_id = 27) const uint T19 = 0u;
layout(constant_id = 28) const uint T20 = 0u;
layout(constant_id = 29) const uint T21 = 0u;
layout(constant_id = 30) const uint T22 = 0u;
layout(constant_id = 31) const uint T23 = 0u;
layout(constant_id = 32) const uint T24 = 0u;
layout(constant_id = 33) const uint T25 = 0u;
layout(constant_id = 34) const uint T26 = 0u;
layout(constant_id = 35) const uint T27 = 0u;
layout(constant_id = 36) const uint T28 = 0u;
layout(constant_id = 37) const uint T29 = 0u;
layout(constant_id = 38) const uint T30 = 0u;
layout(constant_id = 39) const uint T31 = 0u;
layout(constant_id = 40) const uint T32 = 0u;
layout(constant_id = 41) const uint T33 = 0u;
layout(constant_id = 42) const uint T34 = 0u;
layout(constant_id = 43) const uint T35 = 0u;
layout(constant_id = 44) const uint T36 = 0u;
layout(constant_id = 45) const uint T37 = 0u;
layout(constant_id = 46) const uint T38 = 0u;
layout(constant_id = 47) const uint T39 = 0u;
layout(constant_id = 48) const uint T40 = 0u;
layout(constant_id = 49) const uint T41 = 0u;
layout(constant_id = 50) const uint T42 = 0u;
layout(constant_id = 51) const uint T43 = 0u;
layout(constant_id = 52) const uint T44 = 0u;
layout(constant_id = 53) const uint T45 = 0u;
layout(constant_id = 54) const uint T46 = 0u;
layout(constant_id = 55) const uint T47 = 0u;
layout(constant_id = 56) const uint T48 = 0u;
layout(constant_id = 57) const uint T49 = 0u;
layout(constant_id = 58) const uint T50 = 0u;
layout(constant_id = 59) const uint T51 = 0u;
layout(constant_id = 60) const uint T52 = 0u;
layout(constant_id = 61) const uint T53 = 0u;
layout(constant_id = 62) const uint T54 = 0u;
layout(constant_id = 63) const uint T55 = 0u;
layout(constant_id = 64) const uint T56 = 0u;
layout(constant_id = 65) const uint T57 = 0u;
layout(constant_id = 66) const uint T58 = 0u;
layout(constant_id = 67) const uint T59 = 0u;
layout(constant_id = 68) const uint T60 = 0u;
layout(constant_id = 69) const uint T61 = 0u;
layout(constant_id = 70) const uint T62 = 0u;
layout(constant_id = 71) const uint T63 = 0u;
layout(constant_id = 72) const uint T64 = 0u;
// tap(k) with k constant (the loops are unrolled) folds to the constant.
uint tap(int k) {
  switch (k) {
    case 0: return T0;
    case 1: return T1;
    case 2: return T2;
    case 3: return T3;
    case 4: return T4;
    case 5: return T5;
    case 6: return T6;
    case 7: return T7;
    case 8: return T8;
    case 9: return T9;
    case 10: return T10;
    case 11: return T11;
    case 12: return T12;
    case 13: return T13;
    case 14: return T14;
    case 15: return T15;
    case 16: return T16;
    case 17: return T17;
    case 18: return T18;
    case 19: return T19;
    case 20: return T20;
    case 21: return T21;
    case 22: return T22;
    case 23: return T23;
    case 24: return T24;
    case 25: return T25;
    case 26: return T26;
    case 27: return T27;
    case 28: return T28;
    case 29: return T29;
    case 30: return T30;
    case 31: return T31;
    case 32: return T32;
    case 33: return T33;
    case 34: return T34;
    case 35: return T35;
    case 36: return T36;
    case 37: return T37;
    case 38: return T38;
    case 39: return T39;
    case 40: return T40;
    case 41: return T41;
    case 42: return T42;
    case 43: return T43;
    case 44: return T44;
    case 45: return T45;
    case 46: return T46;
    case 47: return T47;
    case 48: return T48;
    case 49: return T49;
    case 50: return T50;
    case 51: return T51;
    case 52: return T52;
    case 53: return T53;
    case 54: return T54;
    case 55: return T55;
    case 56: return T56;
    case 57: return T57;
    case 58: return T58;
    case 59: return T59;
    case 60: return T60;
    case 61: return T61;
    case 62: return T62;
    case 63: return T63;
    default: return T64;
  }
}

const int TILE = 32;
const int HALO = SOBEL != 0 ? 1 : 0;
const int SRC = TILE + 2 * (HALO + RADIUS);  // source tile side
const int B = TILE + 2 * HALO;               // blurred tile side

layout(std430, set = 0, binding = 0) readonly restrict buffer In { uint8_t src_pixels[]; };
layout(std430, set = 0, binding = 1) writeonly restrict buffer Out { uint8_t out_pixels[]; };
layout(push_constant) uniform Push {
  int width, height;
  int in_row0, in_rows;    // image rows [in_row0, in_row0 + in_rows) are in `src_pixels`
  int out_row0, out_rows;  // image rows this dispatch produces
  int out_base;            // the image row at the start of `out_pixels`
  int threshold2;          // binary edges: dx^2 + dy^2 >= threshold2
} p;

shared uint src_tile[SRC][SRC];
shared uint hblur_tile[SRC][B];
shared uint blurred[B][B];

int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

uint source_pixel(int gy, int gx) {
  const uint at = uint(gy - p.in_row0) * uint(p.width * CHANNELS) + uint(gx * CHANNELS);
  if (GRAY == 0) return uint(src_pixels[at]);
  // cvtColor's fixed point: 0.299 R + 0.587 G + 0.114 B in Q15, rounded.
  return (uint(src_pixels[at]) * 9798u + uint(src_pixels[at + 1u]) * 19235u + uint(src_pixels[at + 2u]) * 3735u + 16384u) >> 15;
}

// round(sqrt(s)), exactly: the k with (2k - 1)^2 <= 4s < (2k + 1)^2 (no integer s is a k + 1/2
// square), found from the float root and corrected, so the device's sqrt precision does not matter.
uint rounded_root(uint s) {
  uint k = uint(sqrt(float(s)) + 0.5);
  while ((2u * k + 1u) * (2u * k + 1u) <= 4u * s) ++k;
  while (k > 0u && (2u * k - 1u) * (2u * k - 1u) > 4u * s) --k;
  return k;
}

void main() {
  const int tx0 = int(gl_WorkGroupID.x) * TILE;
  const int ty0 = p.out_row0 + int(gl_WorkGroupID.y) * TILE;
  const int tid = int(gl_LocalInvocationIndex);
  const int threads = int(gl_WorkGroupSize.x * gl_WorkGroupSize.y);

  // 1. The (gray) source with the blur and Sobel halos, borders reflected. A tile reaching past
  // the rows this dispatch has (a stripe shorter than a tile) clamps: those rows feed no output.
  for (int i = tid; i < SRC * SRC; i += threads) {
    const int ry = i / SRC, rx = i - ry * SRC;
    const int gy = clamp(reflect101(ty0 - HALO - RADIUS + ry, p.height), p.in_row0, p.in_row0 + p.in_rows - 1);
    const int gx = reflect101(tx0 - HALO - RADIUS + rx, p.width);
    src_tile[ry][rx] = source_pixel(gy, gx);
  }
  barrier();

  if (RADIUS > 0) {
    // 2. Horizontal taps (Q8), 3. vertical taps, rounded from Q16 to 8 bits.
    for (int i = tid; i < SRC * B; i += threads) {
      const int ry = i / B, rx = i - ry * B;
      uint acc = 0u;
      [[unroll]] for (int k = 0; k <= 2 * RADIUS; ++k) acc += tap(k) * src_tile[ry][rx + k];
      hblur_tile[ry][rx] = acc;
    }
    barrier();
    for (int i = tid; i < B * B; i += threads) {
      const int ry = i / B, rx = i - ry * B;
      uint acc = 32768u;
      [[unroll]] for (int k = 0; k <= 2 * RADIUS; ++k) acc += tap(k) * hblur_tile[ry + k][rx];
      blurred[ry][rx] = acc >> 16;
    }
  } else {
    for (int i = tid; i < B * B; i += threads) {
      const int ry = i / B, rx = i - ry * B;
      blurred[ry][rx] = src_tile[ry][rx];
    }
  }
  barrier();

  // 4. Sobel (or the blurred pixel) for this invocation's four outputs.
  const int x = int(gl_LocalInvocationID.x);
  if (tx0 + x >= p.width) return;
  [[unroll]] for (int k = 0; k < TILE / 8; ++k) {
    const int y = int(gl_LocalInvocationID.y) + 8 * k;
    const int row = int(gl_WorkGroupID.y) * TILE + y;  // within this dispatch's output rows
    if (row >= p.out_rows) return;
    uint v;
    if (SOBEL == 0) {
      v = blurred[y][x];
    } else {
      const int bx = x + 1, by = y + 1;
      const int b00 = int(blurred[by - 1][bx - 1]), b01 = int(blurred[by - 1][bx]), b02 = int(blurred[by - 1][bx + 1]);
      const int b10 = int(blurred[by][bx - 1]), b12 = int(blurred[by][bx + 1]);
      const int b20 = int(blurred[by + 1][bx - 1]), b21 = int(blurred[by + 1][bx]), b22 = int(blurred[by + 1][bx + 1]);
      const int gx = (b02 - b00) + 2 * (b12 - b10) + (b22 - b20);
      const int gy = (b20 + 2 * b21 + b22) - (b00 + 2 * b01 + b02);
      const uint s2 = uint(gx * gx + gy * gy);
      v = SOBEL == 2 ? (int(s2) >= p.threshold2 ? 255u : 0u) : min(rounded_root(s2), 255u);
    }
    out_pixels[uint(p.out_row0 + row - p.out_base) * uint(p.width) + uint(tx0 + x)] = uint8_t(v);
  }
}
