#include "vulkan/error.hpp"

#include <string>

namespace hetex::vulkan {

std::string vk_result_name(VkResult r) {
  switch (r) {
#define HETEX_VK_CASE(x) \
  case x:                \
    return #x;
    HETEX_VK_CASE(VK_SUCCESS)
    HETEX_VK_CASE(VK_NOT_READY)
    HETEX_VK_CASE(VK_TIMEOUT)
    HETEX_VK_CASE(VK_EVENT_SET)
    HETEX_VK_CASE(VK_EVENT_RESET)
    HETEX_VK_CASE(VK_INCOMPLETE)
    HETEX_VK_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    HETEX_VK_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    HETEX_VK_CASE(VK_ERROR_INITIALIZATION_FAILED)
    HETEX_VK_CASE(VK_ERROR_DEVICE_LOST)
    HETEX_VK_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    HETEX_VK_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    HETEX_VK_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    HETEX_VK_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    HETEX_VK_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    HETEX_VK_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    HETEX_VK_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    HETEX_VK_CASE(VK_ERROR_FRAGMENTED_POOL)
    HETEX_VK_CASE(VK_ERROR_UNKNOWN)
    HETEX_VK_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
    HETEX_VK_CASE(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    HETEX_VK_CASE(VK_ERROR_FRAGMENTATION)
    HETEX_VK_CASE(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    HETEX_VK_CASE(VK_PIPELINE_COMPILE_REQUIRED)
    HETEX_VK_CASE(VK_ERROR_INVALID_SHADER_NV)
    HETEX_VK_CASE(VK_ERROR_VALIDATION_FAILED_EXT)
#undef HETEX_VK_CASE
    default:
      return "VkResult(" + std::to_string(static_cast<int>(r)) + ")";
  }
}

Errc errc_of(VkResult r) noexcept {
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_FRAGMENTED_POOL:
    case VK_ERROR_FRAGMENTATION:
    case VK_ERROR_TOO_MANY_OBJECTS:
    case VK_ERROR_MEMORY_MAP_FAILED:
      return Errc::out_of_memory;
    case VK_ERROR_DEVICE_LOST:
      return Errc::device_lost;
    case VK_ERROR_INITIALIZATION_FAILED:
    case VK_ERROR_LAYER_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return Errc::unavailable;
    case VK_TIMEOUT:
    case VK_NOT_READY:
      return Errc::busy;
    case VK_ERROR_INVALID_SHADER_NV:
      return Errc::compile_error;
    default:
      return Errc::internal;
  }
}

Error vk_error(VkResult r, std::string_view what) {
  return Error(errc_of(r), std::string(what) + " failed: " + vk_result_name(r));
}

}  // namespace hetex::vulkan
