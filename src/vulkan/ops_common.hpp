// SPDX-License-Identifier: MIT
#pragma once
// What the op drivers share: the kernel of an embedded shader, workgroup counts, rounding.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "vulkan/device.hpp"
#include "vulkan/embedded.hpp"
#include "vulkan/kernel.hpp"

namespace hetex::vulkan::detail {

// The device's kernel for embedded shader `name` with `buffers` bindings, `push` bytes of push
// constants and specialization constants (constant 0: the workgroup size).
inline Result<const Kernel*> builtin_kernel(Device& dev, const std::string& name, std::uint32_t buffers,
                                            std::uint32_t push, std::vector<std::uint32_t> constants) {
  KernelSpec spec;
  spec.name = name;
  spec.spirv = HETEX_TRY(embedded_shader(name));
  spec.buffers = buffers;
  spec.push_bytes = push;
  spec.constants = std::move(constants);
  return dev.kernel(spec);
}

constexpr std::uint64_t round_up(std::uint64_t x, std::uint64_t m) { return (x + m - 1) / m * m; }

// Workgroups of `size` invocations for `items` items, capped for a grid-stride loop.
inline std::uint32_t groups_for(const Device& dev, std::uint64_t items, std::uint32_t size, std::uint32_t cap = 65535) {
  const std::uint64_t want = std::max<std::uint64_t>(1, (items + size - 1) / size);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>({want, cap, dev.info().max_workgroup_count[0]}));
}

// The workgroup size a kernel uses on `dev`: `preferred`, unless the device allows fewer.
inline std::uint32_t workgroup(const Device& dev, std::uint32_t preferred) {
  return std::min({preferred, dev.info().max_workgroup_invocations, dev.info().max_workgroup_size[0]});
}

}  // namespace hetex::vulkan::detail
