// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// An operation: one implementation per backend for a batch of items. The CPU implementation is
/// required (it is also where failed GPU work lands, and what a simulated GPU runs); the CUDA and
/// Vulkan ones are optional.
///
/// @code
/// Operation<ZipBatch<float>, float> add("vector_add",
///     [](const ZipBatch<float>& in, std::span<float> out) { ...; return Status{}; });
/// add.with_gpu([](GpuLane& lane, const ZipBatch<float>& in, std::span<float> out) { ... });
/// @endcode
///
/// The CPU function is called on disjoint chunks from several threads at once, one thread per
/// chunk, so it must be safe to call concurrently and should not start parallel work of its own.
/// The GPU function gets host-resident input and output and returns once `out` is filled; the
/// Vulkan one (with_vulkan) is called the same way, with a lane of a Vulkan device
/// (exec/vulkan_kernel.hpp runs a user's own kernel on it).

#include <functional>
#include <span>
#include <string>

#include "hetex/core/simulated_gpu.hpp"
#include "hetex/detail/job.hpp"
#include "hetex/exec/batch.hpp"
#include "hetex/exec/gpu_lane.hpp"

namespace hetex {

struct OperationOptions {
  std::size_t cpu_grain = 4096;          ///< items per CPU task
  std::size_t gpu_min_chunk = 1u << 16;  ///< fewest items worth a GPU call when splitting a batch
};

namespace detail {

struct OpInfo {
  std::string name;
  bool has_gpu = false;     // a CUDA implementation
  bool has_vulkan = false;  // a Vulkan implementation
  OperationOptions options;

  /// Whether the operation has an implementation for this kind of device.
  bool runs_on(DeviceKind kind) const noexcept {
    return kind == DeviceKind::cpu || kind == DeviceKind::sim || (kind == DeviceKind::cuda && has_gpu) ||
           (kind == DeviceKind::vulkan && has_vulkan);
  }
};

}  // namespace detail

template <BatchView In, class Out>
class Operation {
 public:
  using input_type = In;
  using output_type = Out;
  using CpuFn = std::function<Status(const In&, std::span<Out>)>;
  using GpuFn = std::function<Status(GpuLane&, const In&, std::span<Out>)>;
  /// Names the cost class of a batch when the cost per item depends on more than the item count
  /// (SHA-256 of 1 KiB messages costs 16x that of 64-byte ones): the scheduler models each class
  /// apart, so what it learned on one does not misroute or mis-split the other.
  using CostClassFn = std::function<std::string(const In&)>;

  Operation(std::string name, CpuFn cpu, OperationOptions options = {}) : cpu_(std::move(cpu)) {
    info_.name = std::move(name);
    info_.options = options;
    if (info_.options.cpu_grain == 0) info_.options.cpu_grain = 1;
    if (info_.options.gpu_min_chunk == 0) info_.options.gpu_min_chunk = 1;
  }
  Operation& with_gpu(GpuFn gpu) {
    gpu_ = std::move(gpu);
    info_.has_gpu = static_cast<bool>(gpu_);
    return *this;
  }

  /// The implementation for Vulkan devices: called with a lane of one (its device is vulkan:N).
  Operation& with_vulkan(GpuFn vulkan) {
    vulkan_ = std::move(vulkan);
    info_.has_vulkan = static_cast<bool>(vulkan_);
    return *this;
  }

  Operation& with_cost_class(CostClassFn f) {
    cost_class_ = std::move(f);
    return *this;
  }

  const std::string& name() const noexcept { return info_.name; }
  /// "name" or "name/class" for this input.
  std::string cost_key(const In& in) const {
    if (!cost_class_) return info_.name;
    auto c = cost_class_(in);
    return c.empty() ? info_.name : info_.name + "/" + c;
  }
  bool has_gpu() const noexcept { return info_.has_gpu; }
  bool has_vulkan() const noexcept { return info_.has_vulkan; }
  const detail::OpInfo& info() const noexcept { return info_; }

  Status run_cpu(const In& in, std::span<Out> out) const { return detail::call_guarded(info_.name, cpu_, in, out); }
  /// On the lane's device, with the implementation for its kind.
  Status run_gpu(GpuLane& lane, const In& in, std::span<Out> out) const {
    if (lane.device().kind() == DeviceKind::sim)
      return detail::run_host_kernel(lane.stream(0).impl(), in.size(), [&] { return run_cpu(in, out); });
    if (!info_.runs_on(lane.device().kind()))
      return Error(Errc::unavailable,
                   "operation " + info_.name + " has no implementation for " + lane.device().id().to_string());
    return detail::call_guarded(info_.name, lane.device().kind() == DeviceKind::vulkan ? vulkan_ : gpu_, lane, in, out);
  }

 private:
  detail::OpInfo info_;
  CpuFn cpu_;
  GpuFn gpu_;
  GpuFn vulkan_;
  CostClassFn cost_class_;
};

}  // namespace hetex
