// SPDX-License-Identifier: MIT
#version 460
// The image pipeline's separable passes, for what the fused kernel does not take (a colour blur,
// or a radius whose tile would not fit in shared memory): gray conversion, horizontal blur into
// Q8 sums, vertical blur back to 8 bits. Each is one pass over a whole image in device memory,
// with the same integer arithmetic as the CPU.
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int PASS = 0;  // 0 gray, 1 horizontal blur, 2 vertical blur
layout(constant_id = 2) const int RADIUS = 0;
layout(constant_id = 3) const int CHANNELS = 1;  // channels of the image the pass reads (gray: RGB 3 or RGBA 4)

layout(std430, set = 0, binding = 0) readonly restrict buffer In8 { uint8_t in8[]; };
layout(std430, set = 0, binding = 1) restrict buffer Q8 { uint q8[]; };  // horizontal sums
layout(std430, set = 0, binding = 2) writeonly restrict buffer Out8 { uint8_t out8[]; };
layout(std430, set = 0, binding = 3) readonly restrict buffer Taps { uint taps[]; };
layout(push_constant) uniform Push {
  int width, height;
} p;

int reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  if (PASS == 0) {
    const uint pixels = uint(p.width) * uint(p.height);
    for (uint i = gl_GlobalInvocationID.x; i < pixels; i += stride) {
      const uint at = i * uint(CHANNELS);
      out8[i] = uint8_t((uint(in8[at]) * 9798u + uint(in8[at + 1u]) * 19235u + uint(in8[at + 2u]) * 3735u + 16384u) >> 15);
    }
    return;
  }
  const uint n = uint(p.width * CHANNELS);  // elements per row
  const uint total = n * uint(p.height);
  for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
    const int y = int(e / n), j = int(e % n);
    if (PASS == 1) {
      const int x = j / CHANNELS, ch = j - x * CHANNELS;
      const uint row = uint(y) * n;
      uint acc = 0u;
      [[dont_unroll]] for (int k = 0; k <= 2 * RADIUS; ++k)
        acc += taps[k] * uint(in8[row + uint(reflect101(x + k - RADIUS, p.width) * CHANNELS + ch)]);
      q8[e] = acc;
    } else {
      uint acc = 32768u;
      [[dont_unroll]] for (int k = 0; k <= 2 * RADIUS; ++k) acc += taps[k] * q8[uint(reflect101(y + k - RADIUS, p.height)) * n + uint(j)];
      out8[e] = uint8_t(acc >> 16);
    }
  }
}
