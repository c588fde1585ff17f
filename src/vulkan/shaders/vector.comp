// SPDX-License-Identifier: MIT
#version 460
// out = x + y (OP 0) or x * y (OP 1) over `quads` groups of four floats: one 16-byte load per
// input and one 16-byte store per iteration, grid-stride. IEEE single-precision adds and
// multiplies are correctly rounded in Vulkan, so results are the CPU's bit for bit (a device
// that flushes denormals differs on denormal results only).
layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint OP = 0;

layout(std430, set = 0, binding = 0) readonly restrict buffer X { vec4 x[]; };
layout(std430, set = 0, binding = 1) readonly restrict buffer Y { vec4 y[]; };
layout(std430, set = 0, binding = 2) writeonly restrict buffer O { vec4 o[]; };
layout(push_constant) uniform Push { uint quads; } p;

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < p.quads; i += stride) o[i] = OP == 0u ? x[i] + y[i] : x[i] * y[i];
}
