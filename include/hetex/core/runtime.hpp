// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Runtime: the devices this process may use. GPUs are discovered once per process; a Runtime is
/// a view over them, restricted by RuntimeOptions::devices or the HETEX_DEVICES environment
/// variable ("cpu", "cuda", "cuda:1,cpu", "vulkan:0,cpu", ...). Without a usable GPU everything
/// runs on the CPU and hetex says so once on stderr.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"

namespace hetex {

struct RuntimeOptions {
  /// Comma-separated device list; nullopt reads HETEX_DEVICES (unset: every device used by
  /// default, which leaves out software Vulkan devices such as lavapipe and the Vulkan side of
  /// GPUs CUDA drives). Items: "cpu", "gpu" (every device used by default), "cuda" (all CUDA
  /// GPUs), "vulkan" (all hardware Vulkan devices, else the software ones), "cuda:N",
  /// "vulkan:N". The CPU is always present: hetex falls back to it; listing devices only decides
  /// which others are used.
  std::optional<std::string> devices;
  /// Print the one-line "running on the CPU only" notice when no GPU is usable.
  bool announce_cpu_only = true;
};

enum class SelectPolicy {
  first_gpu_or_cpu,  ///< the first healthy GPU, else the CPU
  most_free_memory,  ///< the healthy GPU with most free memory, else the CPU
  most_multiprocessors,
};

class Runtime {
 public:
  static Result<Runtime> create(RuntimeOptions options = {});

  const std::vector<Device>& devices() const { return state_->devices; }
  const Device& cpu() const { return state_->devices.front(); }
  std::vector<Device> gpus() const;
  bool has_gpu() const { return state_->devices.size() > 1; }
  /// Why there is no GPU (empty when there is one).
  const std::string& gpu_unavailable_reason() const { return state_->gpu_reason; }

  Result<Device> device(DeviceId id) const;
  /// "cpu", "cuda:1", "gpu" (= SelectPolicy::first_gpu_or_cpu), "auto" (= most_free_memory)
  Result<Device> select(std::string_view spec) const;
  Device select(SelectPolicy policy) const;

 private:
  struct State {
    std::vector<Device> devices;  ///< the CPU first, then GPUs by index
    std::string gpu_reason;
  };
  explicit Runtime(std::shared_ptr<const State> s) : state_(std::move(s)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace hetex
