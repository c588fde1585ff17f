// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What a device is: the CPU, or one device of a backend (a CUDA GPU, the simulated GPU, a Vulkan
/// GPU, a remote rank). DeviceId names a device cheaply and exactly; Device is a copyable handle.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex {

/// Every kind of device hetex knows. The CPU is one device; the others are numbered per kind.
enum class DeviceKind : std::uint8_t {
  cpu,
  cuda,    ///< a CUDA GPU (src/cuda)
  sim,     ///< a simulated GPU: host memory, host functions as kernels (src/sim), for tests anywhere
  vulkan,  ///< a Vulkan compute device
  remote,  ///< a worker in another process (an MPI rank)
};
inline constexpr std::size_t kDeviceKinds = 5;
std::string_view to_string(DeviceKind kind) noexcept;
/// Whether what was measured on a device of this kind holds in another process (a simulated
/// device's speed is whatever its creator configured): calibration files keep only those.
constexpr bool calibration_persists(DeviceKind kind) noexcept { return kind != DeviceKind::sim; }

/// A device's identity: its kind and its index within that kind ("cuda:1"). Cheap to copy, ordered,
/// hashable; it stays valid after the device is gone.
struct DeviceId {
  DeviceKind kind = DeviceKind::cpu;
  int index = 0;  ///< always 0 for the CPU

  static constexpr DeviceId cpu() noexcept { return {DeviceKind::cpu, 0}; }
  static constexpr DeviceId cuda(int i) noexcept { return {DeviceKind::cuda, i}; }
  static constexpr DeviceId sim(int i) noexcept { return {DeviceKind::sim, i}; }
  constexpr bool is_cpu() const noexcept { return kind == DeviceKind::cpu; }

  std::string to_string() const;  ///< "cpu", "cuda:1", "sim:0", "vulkan:0", "remote:3"
  /// Accepts what to_string() prints, and "gpu:N" as an alias of "cuda:N".
  /// Errc::invalid_argument for anything else.
  static Result<DeviceId> parse(std::string_view text);
  /// The CPU first, then by kind, then by index.
  friend constexpr bool operator==(const DeviceId&, const DeviceId&) = default;
  friend constexpr auto operator<=>(const DeviceId&, const DeviceId&) = default;
};
std::ostream& operator<<(std::ostream& os, const DeviceId& id);  ///< as to_string()

/// What hetex knows of this machine's CPU (detect_cpu()).
struct CpuInfo {
  std::string model;
  unsigned logical_cores = 0;     ///< hardware threads hetex may use
  unsigned physical_cores = 0;    ///< 0 when the OS does not say
  std::vector<std::string> simd;  ///< e.g. "avx2", "avx512f", "sha", "aes"
};

/// A GPU's properties as its backend reports them (memory sizes in bytes).
struct GpuInfo {
  int index = 0;
  std::string name;
  std::string pci_bus_id;
  int compute_major = 0;
  int compute_minor = 0;
  int multiprocessors = 0;
  std::size_t total_memory = 0;
  std::size_t l2_cache_bytes = 0;
  std::size_t shared_memory_per_block_optin = 0;
  int async_engines = 0;
  bool can_map_host_memory = false;
  bool managed_memory = false;
  bool concurrent_managed_access = false;
};

/// A device's memory now, in bytes.
struct MemoryInfo {
  std::size_t free = 0;
  std::size_t total = 0;
};

namespace detail {
class GpuDevice;
}

/// A device this process may use: the CPU or one device of a backend. A cheap, copyable handle that
/// shares the backend object; a Runtime hands them out. Thread-safe.
class Device {
 public:
  /// The CPU device.
  static Device cpu(std::shared_ptr<const CpuInfo> info);
  /// A device of a backend (its id is the backend's kind and the device's index).
  static Device gpu(std::shared_ptr<detail::GpuDevice> backend);

  DeviceId id() const { return id_; }
  DeviceKind kind() const { return id_.kind; }
  bool is_cpu() const { return id_.kind == DeviceKind::cpu; }
  /// A device of a backend, which runs work through streams (every kind but the CPU).
  bool is_gpu() const { return gpu_ != nullptr; }
  std::string name() const;  ///< the GPU's name, or the CPU's model
  /// "cuda:0 (NVIDIA H100 80GB HBM3, 132 SMs, 79.1 GiB, sm_90)"
  std::string describe() const;

  const CpuInfo* cpu_info() const { return cpu_.get(); }  ///< nullptr for a GPU
  const GpuInfo* gpu_info() const;                        ///< nullptr for the CPU
  /// false after a fault the device could not recover from.
  bool healthy() const;
  /// Free and total memory of a GPU. Errc::unavailable for the CPU; the backend's error
  /// (Errc::device_lost, say) when the device cannot be asked.
  Result<MemoryInfo> memory_info() const;

  /// The backend object (nullptr for the CPU); for hetex's own layers.
  detail::GpuDevice* backend() const { return gpu_.get(); }
  const std::shared_ptr<detail::GpuDevice>& backend_ptr() const { return gpu_; }

  friend bool operator==(const Device& a, const Device& b) { return a.id_ == b.id_; }

 private:
  DeviceId id_;
  std::shared_ptr<const CpuInfo> cpu_;
  std::shared_ptr<detail::GpuDevice> gpu_;
};

/// Reads the CPU model, core counts and SIMD features of this machine.
CpuInfo detect_cpu();

}  // namespace hetex

// Not in the reference: Doxygen cannot place a specialization inside std.
/// @cond
template <>
struct std::hash<hetex::DeviceId> {
  std::size_t operator()(const hetex::DeviceId& d) const noexcept {
    return (static_cast<std::size_t>(d.kind) << 32) ^ static_cast<std::size_t>(static_cast<unsigned>(d.index));
  }
};
/// @endcond
