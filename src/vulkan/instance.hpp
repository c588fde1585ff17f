// SPDX-License-Identifier: MIT
#pragma once
// The Vulkan instance: the loader, optionally the Khronos validation layer with a debug
// messenger, and the physical devices with what the backend needs to know about them.
#include <vulkan/vulkan.h>

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "vulkan/info.hpp"

namespace hetex::vulkan {

struct ValidationMessage {
  bool error = false;  // error severity (else warning)
  std::string id;      // "VUID-vkCmdDispatch-..." when the layer names one
  std::string text;
};
using MessageSink = std::function<void(const ValidationMessage&)>;

struct InstanceOptions {
  // Turns on VK_LAYER_KHRONOS_validation (with synchronization validation) when it is installed;
  // validation() tells whether it is on, validation_note() why not.
  bool validation = false;
  // Receives every validation message of warning or error severity, from whichever thread made
  // the offending call. Unset: printed to stderr.
  MessageSink on_message;
};

class Instance {
 public:
  static Result<std::shared_ptr<Instance>> create(InstanceOptions options = {});
  // The process's instance, created on first use and kept for the life of the process:
  // validation on when the environment has HETEX_VULKAN_VALIDATION=1.
  static Result<std::shared_ptr<Instance>> process();

  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance handle() const noexcept { return instance_; }
  bool validation() const noexcept { return validation_; }
  const std::string& validation_note() const noexcept { return validation_note_; }
  // Warning and error messages delivered so far (0 without validation).
  std::uint64_t message_count() const noexcept { return sink_ ? sink_->count.load() : 0; }

  std::span<const PhysicalDeviceInfo> devices() const noexcept { return infos_; }
  VkPhysicalDevice physical(std::uint32_t index) const noexcept { return physical_[index]; }

 private:
  struct Sink {
    MessageSink deliver;
    std::atomic<std::uint64_t> count{0};
  };
  Instance() = default;
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                         VkDebugUtilsMessageTypeFlagsEXT types,
                                                         const VkDebugUtilsMessengerCallbackDataEXT* data, void* user);
  Status enumerate();

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  std::unique_ptr<Sink> sink_;
  bool validation_ = false;
  std::string validation_note_;
  std::vector<VkPhysicalDevice> physical_;
  std::vector<PhysicalDeviceInfo> infos_;
};

// Reads a physical device's properties, features, limits and queue families.
PhysicalDeviceInfo describe_physical_device(VkPhysicalDevice pd, std::uint32_t index);

}  // namespace hetex::vulkan
