// SPDX-License-Identifier: MIT
#pragma once
// Move-only owners of Vulkan objects. A device-level object remembers its VkDevice and is
// destroyed with the matching vkDestroy*/vkFree* call; objects are always destroyed before the
// device that made them (the owners hold a shared_ptr to vulkan::Device, see device.hpp).
#include <vulkan/vulkan.h>

#include <utility>

namespace hetex::vulkan {

// A Vulkan info structure with its sType set and every other member zero.
template <class T>
T vk_struct(VkStructureType type) noexcept {
  T v{};
  v.sType = type;
  return v;
}

template <class H, void(VKAPI_PTR* Destroy)(VkDevice, H, const VkAllocationCallbacks*)>
class Owned {
 public:
  Owned() = default;
  Owned(VkDevice device, H handle) noexcept : device_(device), handle_(handle) {}
  Owned(Owned&& o) noexcept : device_(o.device_), handle_(std::exchange(o.handle_, VK_NULL_HANDLE)) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      device_ = o.device_;
      handle_ = std::exchange(o.handle_, VK_NULL_HANDLE);
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }

  void reset() noexcept {
    if (handle_ != VK_NULL_HANDLE) Destroy(device_, handle_, nullptr);
    handle_ = VK_NULL_HANDLE;
  }
  H get() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return handle_ != VK_NULL_HANDLE; }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  H handle_ = VK_NULL_HANDLE;
};

using UniqueBuffer = Owned<VkBuffer, vkDestroyBuffer>;
using UniqueMemory = Owned<VkDeviceMemory, vkFreeMemory>;
using UniqueSemaphore = Owned<VkSemaphore, vkDestroySemaphore>;
using UniqueCommandPool = Owned<VkCommandPool, vkDestroyCommandPool>;
using UniqueDescriptorPool = Owned<VkDescriptorPool, vkDestroyDescriptorPool>;
using UniqueDescriptorSetLayout = Owned<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;
using UniquePipelineLayout = Owned<VkPipelineLayout, vkDestroyPipelineLayout>;
using UniquePipeline = Owned<VkPipeline, vkDestroyPipeline>;
using UniqueShaderModule = Owned<VkShaderModule, vkDestroyShaderModule>;

}  // namespace hetex::vulkan
