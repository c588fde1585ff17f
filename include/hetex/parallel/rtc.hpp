// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Kernels compiled at run time (NVRTC), with typed launches and errors as values.
///
/// @code
/// constexpr const char* src = R"(
///   extern "C" __global__ void scale(const float* x, float* y, float a, unsigned long n) {
///     unsigned long i = blockIdx.x * (unsigned long)blockDim.x + threadIdx.x;
///     if (i < n) y[i] = a * x[i];
///   })";
/// auto k = hetex::rtc::compile<hetex::ReadView<float>, hetex::WriteView<float>, float, std::size_t>(src, "scale");
/// if (!k) std::cerr << k.error().describe();   // compile_error: the NVRTC log, with line numbers
/// auto done = k->launch(stream, {.grid = {blocks}, .block = {256}}, x.read(), y.write(), 2.0f, n);
/// @endcode
///
/// The parameter list is the kernel's: `ReadView<T>` is `const T*`, `WriteView<T>` and
/// `ReadWriteView<T>` are `T*`, anything else is passed by value. Launching with the wrong number or
/// kind of arguments (a ReadView where the kernel writes) does not compile; when every parameter
/// type has a device spelling (arithmetic types, or a TypeName specialization) the kernel's own
/// signature is checked against the list when it is compiled, and a mismatch is a compile_error.
/// Views must be on the stream's GPU (device, managed or mapped memory).
///
/// `entry` is a name expression: a kernel name (extern "C" or not) or a template instance
/// ("`scale<float>`"). Compiled code is cached in memory and on disk, keyed by a hash of the source,
/// entry, options, architecture and NVRTC version: under $XDG_CACHE_HOME/hetex/kernels (or
/// ~/.cache/hetex/kernels). Compiling needs no GPU; launching loads the code through the CUDA
/// runtime (cudaLibraryLoadData), so nothing links the driver library. Without CUDA, compile()
/// returns Errc::unavailable.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "hetex/async/future.hpp"
#include "hetex/async/stream.hpp"
#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/memory/view.hpp"

namespace hetex::rtc {

/// How compile() builds a kernel and caches it.
struct Options {
  std::vector<std::string> flags;  ///< extra NVRTC options: "-DWIDTH=4", "--use_fast_math", "-I/path"
  /// "sm_90"; unset: the architecture of `device` when given, else of the first GPU, else sm_90.
  std::optional<std::string> arch;
  std::optional<Device> device;                    ///< the GPU the kernel is for (its architecture, unless arch is set)
  bool disk_cache = true;                          ///< keep compiled code on disk across processes
  std::optional<std::filesystem::path> cache_dir;  ///< unset: the default above
  std::string program_name = "kernel.cu";          ///< the file name the log's lines refer to
};

/// A grid or block size, as CUDA's dim3.
struct Dim3 {
  std::uint32_t x = 1, y = 1, z = 1;
};
/// A launch configuration: grid and block sizes and dynamic shared memory in bytes.
struct LaunchShape {
  Dim3 grid;
  Dim3 block;
  std::size_t shared_bytes = 0;
};

/// How compile() requests were served, since the process started.
struct CacheStats {
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t compiles = 0;
};
CacheStats cache_stats();  ///< process-wide; thread-safe
/// Forgets compiled kernels held in memory (handles already returned stay valid).
void clear_memory_cache();
std::filesystem::path default_cache_dir();  ///< $XDG_CACHE_HOME/hetex/kernels, or ~/.cache/hetex/kernels

/// The CUDA C++ spelling of a parameter type, for the signature check. Specialize it for your own
/// structs (with the same layout in the kernel's source):
/// `struct TypeName<Particle> { static constexpr const char* value = "Particle"; };`
/// (HETEX_RTC_TYPE_NAME(Particle) writes that).
template <class T>
struct TypeName {
  static constexpr const char* value = nullptr;
};
#define HETEX_RTC_TYPE_NAME(T)               \
  template <>                                \
  struct TypeName<T> {                       \
    static constexpr const char* value = #T; \
  };
HETEX_RTC_TYPE_NAME(bool)
HETEX_RTC_TYPE_NAME(char)
HETEX_RTC_TYPE_NAME(signed char)
HETEX_RTC_TYPE_NAME(unsigned char)
HETEX_RTC_TYPE_NAME(short)
HETEX_RTC_TYPE_NAME(unsigned short)
HETEX_RTC_TYPE_NAME(int)
HETEX_RTC_TYPE_NAME(unsigned int)
HETEX_RTC_TYPE_NAME(long)
HETEX_RTC_TYPE_NAME(unsigned long)
HETEX_RTC_TYPE_NAME(long long)
HETEX_RTC_TYPE_NAME(unsigned long long)
HETEX_RTC_TYPE_NAME(float)
HETEX_RTC_TYPE_NAME(double)
#undef HETEX_RTC_TYPE_NAME

namespace detail {

class CompiledKernel;

// `signature` is "void(const float*, float*, int)" or empty (not checked).
Result<std::shared_ptr<CompiledKernel>> compile(std::string_view source, std::string_view entry, const Options& options,
                                                const std::string& signature);
// Launches on `stream` (called inside Stream::enqueue, with the device current).
Status launch(CompiledKernel& kernel, NativeStream stream, const LaunchShape& shape, void** args);
const std::string& lowered_name(const CompiledKernel& kernel);

template <class P>
struct Param {  // a by-value parameter
  static_assert(DeviceCopyable<P>, "kernel parameters passed by value must be trivially copyable, non-pointer types");
  using arg = P;
  static constexpr bool is_view = false;
  static std::optional<std::string> spelling() {
    if (TypeName<P>::value == nullptr) return std::nullopt;
    return std::string(TypeName<P>::value);
  }
};
template <class T, Access A>
struct Param<View<T, A>> {
  using arg = View<T, A>;
  static constexpr bool is_view = true;
  static std::optional<std::string> spelling() {
    if (TypeName<T>::value == nullptr) return std::nullopt;
    return std::string(A == Access::read ? "const " : "") + TypeName<T>::value + "*";
  }
};

template <class... Ps>
std::string signature_of() {
  std::array<std::optional<std::string>, sizeof...(Ps)> parts{Param<Ps>::spelling()...};
  std::string s = "void(";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i]) return {};
    s += (i ? ", " : "") + *parts[i];
  }
  return s + ")";
}

struct OwnerRef {  // what Stream::enqueue wants of each argument
  hetex::detail::Allocation* a = nullptr;
  hetex::detail::Allocation* owner() const noexcept { return a; }
};
template <class T>
OwnerRef owner_of(const T& x) {
  if constexpr (Param<T>::is_view)
    return {x.owner()};
  else
    return {};
}
template <class T>
Status check_arg(const T& x, std::size_t index, int device) {
  if constexpr (Param<T>::is_view) {
    if (x.memory() == MemoryKind::host || x.memory() == MemoryKind::pinned)
      return Error(Errc::invalid_argument, "kernel argument " + std::to_string(index) + " is a view of " +
                                               std::string(to_string(x.memory())) +
                                               " memory; kernels take device, managed or mapped memory");
    if (x.device_index() != device)
      return Error(Errc::invalid_argument, "kernel argument " + std::to_string(index) +
                                               " is on cuda:" + std::to_string(x.device_index()) +
                                               ", the stream on cuda:" + std::to_string(device));
  }
  return {};
}
template <class T>
void* arg_slot(T& x, void*& pointer) {
  if constexpr (Param<T>::is_view) {
    pointer = const_cast<void*>(static_cast<const void*>(x.data()));
    return &pointer;
  } else {
    return &x;
  }
}

}  // namespace detail

/// A compiled kernel with the parameter list `Params` (see the file's description). Cheap to copy:
/// copies share the compiled code.
template <class... Params>
class Kernel {
 public:
  explicit Kernel(std::shared_ptr<detail::CompiledKernel> k) : k_(std::move(k)) {}

  /// Enqueues the kernel on `stream`; a launch error or a fault in it is the future's error.
  Future<void> launch(Stream& stream, const LaunchShape& shape, typename detail::Param<Params>::arg... args) const {
    const int device = stream.device().id().index;
    {
      Status ok;
      std::size_t i = 0;
      auto check = [&](const auto& a) {
        if (ok) (void)(ok = detail::check_arg(a, i, device));
        ++i;
      };
      (check(args), ...);
      if (!ok) return make_error_future<void>(std::move(ok).error());
    }
    std::array<void*, sizeof...(Params)> pointers{};
    std::array<void*, sizeof...(Params) + 1> slots{};  // +1: no zero-length array for no parameters
    {
      std::size_t i = 0;
      ((slots[i] = detail::arg_slot(args, pointers[i]), ++i), ...);
    }
    // The (void) casts here: nvcc warns (#2810-D) on the unused Result& of an assignment.
    Status launched;
    auto f = stream.enqueue([&](NativeStream s) { (void)(launched = detail::launch(*k_, s, shape, slots.data())); },
                            detail::owner_of(args)...);
    if (!launched) return make_error_future<void>(std::move(launched).error());
    return f;
  }

  /// The kernel's mangled name, as the loader looks it up.
  const std::string& lowered_name() const { return detail::lowered_name(*k_); }

 private:
  std::shared_ptr<detail::CompiledKernel> k_;
};

/// Compiles `source` and finds `entry` in it. Params: the kernel's parameters, as above.
template <class... Params>
Result<Kernel<Params...>> compile(std::string_view source, std::string_view entry, const Options& options = {}) {
  auto k = detail::compile(source, entry, options, detail::signature_of<Params...>());
  if (!k) return std::move(k).error();
  return Kernel<Params...>(std::move(*k));
}

}  // namespace hetex::rtc
