// SPDX-License-Identifier: MIT
// Run-time kernels: NVRTC compiles (no GPU needed), the CUDA runtime's library API loads
// (cudaLibraryLoadData, so the driver library is never linked), and two caches keep the cost of
// a repeated compile to a hash and a lookup.

#include <cuda_runtime.h>
#include <nvrtc.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unistd.h>

#include "hetex/core/file.hpp"
#include "hetex/parallel/rtc.hpp"
#include "hetex/core/hex.hpp"

namespace hetex::rtc {
namespace detail {

class CompiledKernel {
 public:
  CompiledKernel(std::string image, std::string lowered) : image_(std::move(image)), lowered_(std::move(lowered)) {}
  ~CompiledKernel() {
    if (library_) cudaLibraryUnload(library_);
  }
  const std::string& image() const { return image_; }
  const std::string& lowered() const { return lowered_; }

  // Loaded on first launch, so that compiling works on machines without a GPU.
  Result<cudaKernel_t> kernel() {
    std::lock_guard lock(m_);
    if (kernel_) return kernel_;
    if (!library_) {
      cudaError_t e = cudaLibraryLoadData(&library_, image_.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
      if (e != cudaSuccess) {
        library_ = nullptr;
        return Error(
            e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver ? Errc::unavailable : Errc::invalid_argument,
            "loading run-time kernel " + lowered_ + ": " + cudaGetErrorString(e));
      }
    }
    if (cudaError_t e = cudaLibraryGetKernel(&kernel_, library_, lowered_.c_str()); e != cudaSuccess) {
      kernel_ = nullptr;
      return Error(Errc::invalid_argument, "run-time kernel " + lowered_ + " not found: " + cudaGetErrorString(e));
    }
    return kernel_;
  }

 private:
  std::string image_;  // cubin
  std::string lowered_;
  std::mutex m_;
  cudaLibrary_t library_ = nullptr;
  cudaKernel_t kernel_ = nullptr;
};

namespace {

struct Cache {
  std::mutex m;
  std::map<std::string, std::shared_ptr<CompiledKernel>> kernels;
  CacheStats stats;
};
Cache& cache() {
  static Cache c;
  return c;
}

std::string hex_sha256(const std::string& data) {
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return to_hex(md);
}

std::string nvrtc_version() {
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  return std::to_string(major) + "." + std::to_string(minor);
}

Result<std::string> pick_arch(const Options& o) {
  if (o.arch) {
    if (o.arch->rfind("sm_", 0) != 0)
      return Error(Errc::invalid_argument, "rtc: arch must look like sm_90, not '" + *o.arch + "'");
    return *o.arch;
  }
  if (o.device) {
    const GpuInfo* g = o.device->gpu_info();
    if (!g) return Error(Errc::invalid_argument, "rtc: Options::device is the CPU; kernels need a GPU's architecture");
    return "sm_" + std::to_string(g->compute_major) + std::to_string(g->compute_minor);
  }
  const auto& found = hetex::detail::discover_gpus();
  if (!found.devices.empty()) {
    const auto& g = found.devices.front()->info();
    return "sm_" + std::to_string(g.compute_major) + std::to_string(g.compute_minor);
  }
  return std::string("sm_90");
}

// Disk entries: "hetex-kernel 1\n<lowered name>\n<cubin bytes>".
constexpr std::string_view kMagic = "hetex-kernel 1\n";

std::shared_ptr<CompiledKernel> read_disk(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.compare(0, kMagic.size(), kMagic) != 0) return nullptr;
  auto nl = all.find('\n', kMagic.size());
  if (nl == std::string::npos || nl + 1 >= all.size()) return nullptr;
  return std::make_shared<CompiledKernel>(all.substr(nl + 1), all.substr(kMagic.size(), nl - kMagic.size()));
}

// Best effort: a cache that cannot be written only costs a later compile.
void write_disk(const std::filesystem::path& file, const CompiledKernel& k) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return;
  std::string bytes(kMagic);
  bytes += k.lowered();
  bytes += '\n';
  bytes += k.image();
  // Whole or not at all, under a name unique to this call: two threads compiling the same kernel
  // never interleave their writes.
  (void)write_file_atomic(file, bytes);
}

Error nvrtc_error(nvrtcResult r, const std::string& what) {
  return Error(r == NVRTC_ERROR_OUT_OF_MEMORY ? Errc::out_of_memory : Errc::internal,
               "rtc: " + what + ": " + nvrtcGetErrorString(r));
}

Result<std::shared_ptr<CompiledKernel>> run_nvrtc(const std::string& source, const std::string& entry,
                                                  const std::vector<std::string>& flags, const std::string& name) {
  nvrtcProgram prog = nullptr;
  if (auto r = nvrtcCreateProgram(&prog, source.c_str(), name.c_str(), 0, nullptr, nullptr); r != NVRTC_SUCCESS)
    return nvrtc_error(r, "nvrtcCreateProgram");
  struct Destroy {
    nvrtcProgram* p;
    ~Destroy() { nvrtcDestroyProgram(p); }
  } destroy{&prog};
  if (auto r = nvrtcAddNameExpression(prog, entry.c_str()); r != NVRTC_SUCCESS)
    return nvrtc_error(r, "nvrtcAddNameExpression(" + entry + ")");
  std::vector<const char*> argv;
  for (auto& f : flags) argv.push_back(f.c_str());
  const nvrtcResult compiled = nvrtcCompileProgram(prog, static_cast<int>(argv.size()), argv.data());
  std::size_t log_size = 0;
  nvrtcGetProgramLogSize(prog, &log_size);
  std::string log(log_size, '\0');
  if (log_size) nvrtcGetProgramLog(prog, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (compiled != NVRTC_SUCCESS)
    return Error(Errc::compile_error,
                 "compiling run-time kernel '" + entry + "' failed (" + nvrtcGetErrorString(compiled) + "):\n" + log);
  const char* lowered = nullptr;
  if (auto r = nvrtcGetLoweredName(prog, entry.c_str(), &lowered); r != NVRTC_SUCCESS || !lowered)
    return Error(Errc::compile_error, "run-time kernel source has no kernel named '" + entry + "'");
  std::size_t size = 0;
  if (auto r = nvrtcGetCUBINSize(prog, &size); r != NVRTC_SUCCESS) return nvrtc_error(r, "nvrtcGetCUBINSize");
  std::string image(size, '\0');
  if (auto r = nvrtcGetCUBIN(prog, image.data()); r != NVRTC_SUCCESS) return nvrtc_error(r, "nvrtcGetCUBIN");
  return std::make_shared<CompiledKernel>(std::move(image), lowered);
}

}  // namespace

Result<std::shared_ptr<CompiledKernel>> compile(std::string_view source_view, std::string_view entry_view,
                                                const Options& options, const std::string& signature) {
  if (entry_view.empty()) return Error(Errc::invalid_argument, "rtc::compile: the entry (kernel name) is empty");
  const std::string entry(entry_view);
  std::string source(source_view);
  if (!signature.empty()) {
    // The launch's parameter list against the kernel's own: a mismatch fails here, in the log,
    // instead of corrupting arguments at launch.
    source +=
        "\nnamespace hetex_rtc_check { template <class A, class B> struct same { static constexpr bool value = "
        "false; }; template <class A> struct same<A, A> { static constexpr bool value = true; }; }\n"
        "static_assert(hetex_rtc_check::same<decltype(" +
        entry + "), " + signature + ">::value, \"hetex: kernel '" + entry +
        "' does not take the parameters it is launched with: " + signature + "\");\n";
  }
  auto arch = pick_arch(options);
  if (!arch) return std::move(arch).error();
  std::vector<std::string> flags{"--gpu-architecture=" + *arch, "-std=c++17"};
  flags.insert(flags.end(), options.flags.begin(), options.flags.end());

  std::string key_text = "nvrtc " + nvrtc_version() + "\n" + entry + "\n";
  for (auto& f : flags) key_text += f + "\n";
  key_text += "\n" + source;
  const std::string key = hex_sha256(key_text);

  auto& c = cache();
  {
    std::lock_guard lock(c.m);
    if (auto it = c.kernels.find(key); it != c.kernels.end()) {
      ++c.stats.memory_hits;
      return it->second;
    }
  }
  const std::filesystem::path dir = options.cache_dir ? *options.cache_dir : default_cache_dir();
  const std::filesystem::path file = dir / (key + ".cubin");
  std::shared_ptr<CompiledKernel> k;
  bool from_disk = false;
  if (options.disk_cache) {
    k = read_disk(file);
    from_disk = k != nullptr;
  }
  if (!k) {
    auto built = run_nvrtc(source, entry, flags, options.program_name);
    if (!built) return std::move(built).error();
    k = std::move(*built);
    if (options.disk_cache) write_disk(file, *k);
  }
  std::lock_guard lock(c.m);
  ++(from_disk ? c.stats.disk_hits : c.stats.compiles);
  return c.kernels.emplace(key, k).first->second;
}

Status launch(CompiledKernel& kernel, NativeStream stream, const LaunchShape& shape, void** args) {
  auto k = kernel.kernel();
  if (!k) return std::move(k).error();
  const dim3 grid(shape.grid.x, shape.grid.y, shape.grid.z), block(shape.block.x, shape.block.y, shape.block.z);
  // A cudaKernel_t stands in for the function symbol (CUDA 12+); the runtime picks the context.
  cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(*k), grid, block, args, shape.shared_bytes, stream);
  if (e != cudaSuccess)
    return Error(Errc::invalid_argument,
                 "launching run-time kernel " + kernel.lowered() + ": " + cudaGetErrorString(e));
  return {};
}

const std::string& lowered_name(const CompiledKernel& kernel) { return kernel.lowered(); }

}  // namespace detail

CacheStats cache_stats() {
  auto& c = detail::cache();
  std::lock_guard lock(c.m);
  return c.stats;
}

void clear_memory_cache() {
  auto& c = detail::cache();
  std::lock_guard lock(c.m);
  c.kernels.clear();
}

std::filesystem::path default_cache_dir() { return cache_directory() / "kernels"; }

}  // namespace hetex::rtc
