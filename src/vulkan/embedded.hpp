// SPDX-License-Identifier: MIT
#pragma once
// The SPIR-V of the built-in kernels, compiled from src/vulkan/shaders/*.comp by glslc at build
// time (the variants are listed in shaders.cmake) and embedded in the library: running them needs
// no shader compiler.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hetex/core/error.hpp"

namespace hetex::vulkan {

struct EmbeddedShader {
  const char* name;
  const std::uint32_t* words;
  std::size_t count;
};

std::span<const EmbeddedShader> embedded_shaders();  // generated (cmake/HetexVulkan.cmake)

inline Result<std::span<const std::uint32_t>> embedded_shader(std::string_view name) {
  for (const auto& s : embedded_shaders())
    if (name == s.name) return std::span<const std::uint32_t>(s.words, s.count);
  return Error(Errc::internal, "no embedded shader named '" + std::string(name) + "'");
}

}  // namespace hetex::vulkan
