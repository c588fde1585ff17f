// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A user's own compute kernel on a Vulkan device, run from an operation's Vulkan implementation
/// (Operation::with_vulkan), so the scheduler routes and splits it like any built-in operation:
///
/// @code
///   static const VulkanKernel scale{.name = "scale", .glsl = kScaleSource, .buffers = 2, .push_bytes = 8};
///   op.with_vulkan([](GpuLane& lane, const Batch<float>& in, std::span<float> out) {
///     const Push push{gain, std::uint32_t(out.size())};
///     return run_vulkan_kernel(lane, scale, {VulkanBinding::input(in.items), VulkanBinding::output(out)}, push,
///                              vulkan_groups(out.size(), scale));
///   });
/// @endcode
///
/// The kernel: one entry point "main", storage buffers at set 0, bindings 0..buffers-1 in the
/// order of the bindings passed, one push-constant block, and the workgroup size as
/// specialization constant 0 (`layout(local_size_x_id = 0) in;`). Built without Vulkan, or on a
/// device that is not a Vulkan one, run_vulkan_kernel returns Errc::unavailable.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "hetex/exec/gpu_lane.hpp"

namespace hetex {

struct VulkanKernel {
  std::string name;                   // for errors; with the code, the key of the device's kernel cache
  std::string glsl;                   // GLSL compute source, compiled at first use (a mistake: compile_error
                                      /// with the compiler's log and line numbers), or
  std::vector<std::uint32_t> spirv;   // its SPIR-V, when glsl is empty
  std::uint32_t buffers = 0;          // storage buffers
  std::uint32_t push_bytes = 0;       // bytes of the push-constant block
  std::uint32_t workgroup_size = 64;  // specialization constant 0; 64 fits every device
};

/// One storage buffer of a dispatch, in host memory: `in` is copied to the device before the
/// kernel runs, the device's bytes are copied back to `out` after it (either may be null; a
/// buffer with no input starts as zeros).
struct VulkanBinding {
  const void* in = nullptr;
  void* out = nullptr;
  std::size_t bytes = 0;

  template <class T>
  static VulkanBinding input(std::span<const T> s) {
    return {s.data(), nullptr, s.size_bytes()};
  }
  template <class T>
  static VulkanBinding output(std::span<T> s) {
    return {nullptr, s.data(), s.size_bytes()};
  }
  template <class T>
  static VulkanBinding in_out(std::span<T> s) {
    return {s.data(), s.data(), s.size_bytes()};
  }
};

/// Runs `kernel` over `groups` workgroups on the lane's Vulkan device: uploads the inputs,
/// dispatches, downloads the outputs; returns once they are filled.
Status run_vulkan_kernel(GpuLane& lane, const VulkanKernel& kernel, std::span<const VulkanBinding> bindings,
                         std::span<const std::byte> push, std::uint32_t groups);

template <class Push>
Status run_vulkan_kernel(GpuLane& lane, const VulkanKernel& kernel, std::initializer_list<VulkanBinding> bindings,
                         const Push& push, std::uint32_t groups) {
  return run_vulkan_kernel(lane, kernel, std::span<const VulkanBinding>(bindings.begin(), bindings.size()),
                           std::as_bytes(std::span<const Push>(&push, 1)), groups);
}

/// Workgroups for one invocation per item.
inline std::uint32_t vulkan_groups(std::size_t items, const VulkanKernel& kernel) {
  const std::size_t size = kernel.workgroup_size ? kernel.workgroup_size : 1;
  return static_cast<std::uint32_t>((items + size - 1) / size);
}

}  // namespace hetex
