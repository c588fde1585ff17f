// SPDX-License-Identifier: MIT
#pragma once
// GLSL compute shaders compiled to SPIR-V at run time (glslang, the compiler behind glslc and
// libshaderc), for kernels whose source is only known then (a reduction's map and filter
// expressions, a user's kernel). Results are cached in memory and on disk, keyed by a hash of
// the source, the options and the compiler's version: under $XDG_CACHE_HOME/hetex/spirv (or
// ~/.cache/hetex/spirv). Compiling needs no device.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::vulkan {

using Spirv = std::vector<std::uint32_t>;

struct GlslOptions {
  std::vector<std::pair<std::string, std::string>> defines;  // #define NAME VALUE before the source
  bool optimize = true;
  bool disk_cache = true;
  std::optional<std::filesystem::path> cache_dir;  // unset: default_spirv_cache_dir()
  std::string file_name = "kernel.comp";           // the name the log's lines refer to
};

// compile_error with the compiler's log ("ERROR: kernel.comp:12: 'x' : undeclared identifier")
// when the source is wrong.
Result<std::shared_ptr<const Spirv>> compile_glsl(std::string_view source, const GlslOptions& options = {});

struct CompileCacheStats {
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t compiles = 0;
};
CompileCacheStats compile_cache_stats();
void clear_compile_memory_cache();
std::filesystem::path default_spirv_cache_dir();

}  // namespace hetex::vulkan
