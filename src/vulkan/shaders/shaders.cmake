# SPDX-License-Identifier: MIT
# The built-in kernels, compiled by glslc at build time and embedded (cmake/HetexVulkan.cmake):
# each entry is name|source[|DEFINE=value ...[|optimization flag]] (-O unless given).
# Ed25519 (two phases, 64-bit and 32-bit integer arithmetic) is left to the driver's optimizer
# (-O0): spirv-opt takes minutes inlining and unrolling its point arithmetic, work the driver
# does again anyway.
set(HETEX_VULKAN_SHADERS
  "vector|vector.comp"
  "sha256|sha256.comp"
  "image_fused|image_fused.comp"
  "reduce_f32|reduce.comp|HETEX_TYPE=0 HETEX_MAP=x HETEX_FILTER=true"
  "reduce_i32|reduce.comp|HETEX_TYPE=1 HETEX_MAP=x HETEX_FILTER=true"
  "reduce_u32|reduce.comp|HETEX_TYPE=2 HETEX_MAP=x HETEX_FILTER=true"
  "reduce_f32_square_below_quarter|reduce.comp|HETEX_TYPE=0 HETEX_MAP=x*x HETEX_FILTER=y<0.25"
  "image_passes|image_passes.comp"
  "ed25519_i64_p1|ed25519.comp|HETEX_INT64=1 HETEX_PHASE=1|-O0"
  "ed25519_i64_p2|ed25519.comp|HETEX_INT64=1 HETEX_PHASE=2|-O0"
  "ed25519_i32_p1|ed25519.comp|HETEX_INT64=0 HETEX_PHASE=1|-O0"
  "ed25519_i32_p2|ed25519.comp|HETEX_INT64=0 HETEX_PHASE=2|-O0"
)
# Sources also compiled at run time through glslang (embedded as text).
set(HETEX_VULKAN_RUNTIME_SOURCES reduce.comp)
