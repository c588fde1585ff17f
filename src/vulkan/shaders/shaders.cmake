# The built-in kernels, compiled by glslc at build time and embedded (cmake/HetexVulkan.cmake):
# each entry is name|source[|DEFINE=value ...[|optimization flag]] (-O unless given).
# Ed25519 is left to the driver's optimizer (-O0): spirv-opt takes minutes inlining and unrolling
# its point arithmetic and the driver does that work again anyway.
set(HETEX_VULKAN_SHADERS
  "vector|vector.comp"
  "sha256|sha256.comp"
  "ed25519_i64|ed25519.comp|HETEX_INT64=1|-O0"
  "ed25519_i32|ed25519.comp|HETEX_INT64=0|-O0"
)
# Sources also compiled at run time through libshaderc (embedded as text).
set(HETEX_VULKAN_RUNTIME_SOURCES)
