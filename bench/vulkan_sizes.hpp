// SPDX-License-Identifier: MIT
#pragma once
// Input sizes of bench_vulkan: GPU sizes (CUDA rows always, Vulkan rows on a GPU) and the small
// ones the Vulkan and CPU rows use when the Vulkan device is a CPU implementation (lavapipe).
#include <cstddef>
#include <utility>

namespace hetex_bench::vulkan_sizes {

struct Sizes {
  std::size_t vector;           // floats per array
  std::size_t sha_messages;     // 64-byte messages, host -> host
  std::size_t sha_resident;     // 1 KiB messages, device-resident
  std::size_t signatures;       // Ed25519, 64-byte messages
  std::pair<int, int> frame;    // RGBA frame
  std::size_t reduce_host;      // floats, host -> host
  std::size_t reduce_resident;  // floats, device-resident
};

inline constexpr Sizes kGpu{std::size_t(64) << 20, std::size_t(4) << 20,  std::size_t(1) << 20,  std::size_t(1) << 17,
                            {3840, 2160},          std::size_t(64) << 20, std::size_t(256) << 20};
inline constexpr Sizes kLavapipe{std::size_t(4) << 20, std::size_t(1) << 16, std::size_t(1) << 14, std::size_t(1) << 10,
                                 {640, 480},           std::size_t(4) << 20, std::size_t(16) << 20};

}  // namespace hetex_bench::vulkan_sizes
