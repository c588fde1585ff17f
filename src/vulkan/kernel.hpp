// SPDX-License-Identifier: MIT
#pragma once
// A compute kernel: SPIR-V with one entry point "main", its storage buffers at set 0 (bindings
// 0..buffers-1, in the order the host passes them), one push-constant block, and specialization
// constants 0..n-1 (by convention constant 0 is local_size_x, so the host sizes workgroups per
// device).
#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "vulkan/handle.hpp"

namespace hetex::vulkan {

class Device;

struct KernelSpec {
  std::string name;  // for errors and the device's cache
  std::span<const std::uint32_t> spirv;
  std::uint32_t buffers = 0;
  std::uint32_t push_bytes = 0;
  std::vector<std::uint32_t> constants;
  // The cache key: the name and constants (the same name must always mean the same SPIR-V).
  std::string key() const;
};

class Kernel {
 public:
  // A kernel the caller owns (it keeps the device alive). The device's own cache (Device::kernel)
  // is the usual way to get one.
  static Result<std::shared_ptr<Kernel>> create(std::shared_ptr<Device> device, const KernelSpec& spec);
  // For the device's cache: does not keep the device alive.
  static Result<std::unique_ptr<Kernel>> create_owned(Device& device, const KernelSpec& spec);

  const std::string& name() const noexcept { return name_; }
  std::uint32_t buffers() const noexcept { return buffers_; }
  std::uint32_t push_bytes() const noexcept { return push_bytes_; }
  VkPipeline pipeline() const noexcept { return pipeline_.get(); }
  VkPipelineLayout layout() const noexcept { return layout_.get(); }
  VkDescriptorSetLayout set_layout() const noexcept { return set_layout_.get(); }

 private:
  Kernel() = default;
  static Status build(Kernel& k, Device& device, const KernelSpec& spec);
  std::shared_ptr<Device> keep_;
  std::string name_;
  std::uint32_t buffers_ = 0, push_bytes_ = 0;
  UniqueDescriptorSetLayout set_layout_;
  UniquePipelineLayout layout_;
  UniquePipeline pipeline_;
};

}  // namespace hetex::vulkan
