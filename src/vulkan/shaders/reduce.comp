// SPDX-License-Identifier: MIT
#version 460
// map -> filter -> sum, count, min and max in one pass over n elements: each invocation folds
// four elements per 16-byte load (grid-stride), then the subgroup (subgroupAdd/Min/Max), then
// the workgroup through shared memory; each workgroup writes one partial result, which the host
// combines. Float NaNs are counted apart (min and max skip them; the host makes every result
// NaN when one survived), so no result depends on how a device orders NaN comparisons.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_cpp_style_line_directive : enable

layout(local_size_x_id = 0) in;

// HETEX_TYPE: 0 float, 1 int, 2 uint.
#if HETEX_TYPE == 0
#define T float
#define T4 vec4
#define T_MAX uintBitsToFloat(0x7f800000u)
#define T_MIN uintBitsToFloat(0xff800000u)
#define T_BITS(v) floatBitsToUint(v)
#elif HETEX_TYPE == 1
#define T int
#define T4 ivec4
#define T_MAX 0x7fffffff
#define T_MIN (-0x7fffffff - 1)
#define T_BITS(v) uint(v)
#else
#define T uint
#define T4 uvec4
#define T_MAX 0xffffffffu
#define T_MIN 0u
#define T_BITS(v) (v)
#endif

layout(std430, set = 0, binding = 0) readonly restrict buffer In { T4 quads[]; };
// Per workgroup: sum bits, count, min bits, max bits, NaN count, unused x3.
layout(std430, set = 0, binding = 1) writeonly restrict buffer Partials { uvec4 partials[]; };
layout(push_constant) uniform Push { uint n; } p;

// The map and filter stages: built-in variants define HETEX_MAP and HETEX_FILTER (expressions of
// x and of y); run-time ones replace the marker line below with functions of their own.
#if defined(HETEX_MAP)
T hetex_map(T x) { return T(HETEX_MAP); }
bool hetex_filter(T y) { return bool(HETEX_FILTER); }
#endif
//@stages

bool is_nan(T v) {
#if HETEX_TYPE == 0
  return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u;  // on the bits: fast-math cannot fold it
#else
  return false;
#endif
}

const uint kMaxSubgroups = 128u;  // workgroups of at most 1024 invocations, subgroups of at least 8
shared T s_sum[kMaxSubgroups], s_min[kMaxSubgroups], s_max[kMaxSubgroups];
shared uint s_count[kMaxSubgroups], s_nan[kMaxSubgroups];

void main() {
  T4 sum = T4(0);
  uint count = 0u, nans = 0u;
  T lo = T_MAX, hi = T_MIN;
  const uint nq = (p.n + 3u) / 4u;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint q = gl_GlobalInvocationID.x; q < nq; q += stride) {
    const T4 x = quads[q];
    [[unroll]] for (uint c = 0u; c < 4u; ++c) {
      if (4u * q + c >= p.n) break;
      const T y = hetex_map(x[c]);
      if (!hetex_filter(y)) continue;
      ++count;
      if (is_nan(y)) {
        ++nans;
        continue;
      }
      sum[c] += y;
      lo = min(lo, y);
      hi = max(hi, y);
    }
  }
  T total = (sum.x + sum.y) + (sum.z + sum.w);
  total = subgroupAdd(total);
  count = subgroupAdd(count);
  nans = subgroupAdd(nans);
  lo = subgroupMin(lo);
  hi = subgroupMax(hi);
  if (subgroupElect()) {
    s_sum[gl_SubgroupID] = total;
    s_count[gl_SubgroupID] = count;
    s_nan[gl_SubgroupID] = nans;
    s_min[gl_SubgroupID] = lo;
    s_max[gl_SubgroupID] = hi;
  }
  barrier();
  if (gl_LocalInvocationIndex == 0u) {
    total = T(0);
    count = 0u;
    nans = 0u;
    lo = T_MAX;
    hi = T_MIN;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) {
      total += s_sum[s];
      count += s_count[s];
      nans += s_nan[s];
      lo = min(lo, s_min[s]);
      hi = max(hi, s_max[s]);
    }
    partials[2u * gl_WorkGroupID.x] = uvec4(T_BITS(total), count, T_BITS(lo), T_BITS(hi));
    partials[2u * gl_WorkGroupID.x + 1u] = uvec4(nans, 0u, 0u, 0u);
  }
}
