// SPDX-License-Identifier: MIT
#pragma once
// VkResult as hetex errors. Every Vulkan call in the backend goes through check() (or vk_error()
// for the ones that return something other than VK_SUCCESS on success).
#include <vulkan/vulkan.h>

#include <string_view>

#include "hetex/core/error.hpp"

namespace hetex::vulkan {

// "VK_ERROR_OUT_OF_DEVICE_MEMORY", or "VkResult(-13)" for codes this build does not know.
std::string vk_result_name(VkResult r);
// out_of_memory for the memory and pool exhaustion codes, device_lost for VK_ERROR_DEVICE_LOST,
// unavailable for a missing driver, layer, extension or feature, busy for VK_TIMEOUT and
// VK_NOT_READY, compile_error for a shader the driver rejects, internal for the rest.
Errc errc_of(VkResult r) noexcept;
// "<what> failed: VK_ERROR_...", with errc_of's category.
Error vk_error(VkResult r, std::string_view what);

inline Status check(VkResult r, std::string_view what) {
  if (r == VK_SUCCESS) return {};
  return vk_error(r, what);
}

}  // namespace hetex::vulkan
