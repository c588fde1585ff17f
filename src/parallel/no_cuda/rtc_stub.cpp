// SPDX-License-Identifier: MIT
// Run-time kernels without the CUDA backend: compile() says why it cannot.

#include <cstdlib>

#include "hetex/parallel/rtc.hpp"

namespace hetex::rtc {
namespace detail {

class CompiledKernel {
 public:
  std::string lowered;
};

Result<std::shared_ptr<CompiledKernel>> compile(std::string_view, std::string_view entry, const Options&,
                                                const std::string&) {
  return Error(Errc::unavailable, "rtc::compile('" + std::string(entry) +
                                      "'): this hetex was built without CUDA, so it has no NVRTC; rebuild with nvcc "
                                      "installed (HETEX_CUDA=ON)");
}

Status launch(CompiledKernel&, NativeStream, const LaunchShape&, void**) {
  return Error(Errc::unavailable, "run-time kernels need the CUDA backend");
}

const std::string& lowered_name(const CompiledKernel& kernel) { return kernel.lowered; }

}  // namespace detail

CacheStats cache_stats() { return {}; }
void clear_memory_cache() {}

std::filesystem::path default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "hetex" / "kernels";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "hetex" / "kernels";
  return std::filesystem::temp_directory_path() / "hetex" / "kernels";
}

}  // namespace hetex::rtc
