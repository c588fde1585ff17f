// SPDX-License-Identifier: MIT
// run_vulkan_kernel where the library is built without the Vulkan backend (src/vulkan has it).
#include "hetex/exec/vulkan_kernel.hpp"

#if !defined(HETEX_WITH_VULKAN)
namespace hetex {

Status run_vulkan_kernel(GpuLane& lane, const VulkanKernel& kernel, std::span<const VulkanBinding>,
                         std::span<const std::byte>, std::uint32_t) {
  return Error(Errc::unavailable, "kernel '" + kernel.name + "' on " + lane.device().id().to_string() +
                                      ": hetex was built without the Vulkan backend");
}

}  // namespace hetex
#endif
