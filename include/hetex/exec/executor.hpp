// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// One batch interface over every way of running work. CpuExecutor runs a batch on all cores
/// (TBB), GpuExecutor on one GPU with no fallback (a baseline, and for callers who must know where
/// their work ran), Scheduler (scheduler.hpp) over the CPU and every GPU. All three model Executor.

#include <concepts>
#include <memory>
#include <span>

#include "hetex/exec/batch.hpp"
#include "hetex/exec/operation.hpp"

namespace hetex {

/// Where an Executor runs work: the CPU, one GPU, or the CPU and every GPU (Scheduler).
enum class ExecutorKind : std::uint8_t { cpu, gpu, hybrid };

/// What every way of running a batch offers: execute(op, input, out) fills `out` (one result or one
/// error per item, in the report), is_available() and device_kind().
template <class E, class In, class Out>
concept Executor = requires(E& e, const Operation<In, Out>& op, In in, std::span<Out> out) {
  { e.execute(op, in, out) } -> std::same_as<Result<ExecReport>>;
  { e.is_available() } -> std::convertible_to<bool>;
  { e.device_kind() } -> std::same_as<ExecutorKind>;
};

namespace detail {
ExecReport execute_on_cpu(JobBase& job);
Result<ExecReport> execute_on_gpu(JobBase& job, GpuLane& lane);
}  // namespace detail

/// Runs a batch on every core through TBB, with the operation's CPU implementation. Stateless and
/// thread-safe.
class CpuExecutor {
 public:
  /// Fills `out`, one slot per input item, on the calling thread and TBB's workers. `in` and `out`
  /// are borrowed for the call. Errc::invalid_argument when the sizes differ; items that fail are in
  /// the report's errors.
  template <BatchView In, class Out>
  Result<ExecReport> execute(const Operation<In, Out>& op, In in, std::span<Out> out) {
    if (in.size() != out.size()) return size_mismatch(op.name(), in.size(), out.size());
    detail::TypedJob<In, Out> job(op, std::move(in), out);
    return detail::execute_on_cpu(job);
  }
  bool is_available() const noexcept { return true; }
  ExecutorKind device_kind() const noexcept { return ExecutorKind::cpu; }

  /// The invalid_argument error for an input and output of different sizes.
  static Error size_mismatch(const std::string& op, std::size_t in, std::size_t out) {
    return Error(Errc::invalid_argument, op + ": batch has " + std::to_string(in) + " items but the output has " +
                                             std::to_string(out) + " slots");
  }
};

/// Runs a batch on one GPU with the operation's implementation for that GPU's kind, and no fallback:
/// a failure is the batch's error. Move-only; one batch at a time.
class GpuExecutor {
 public:
  /// An executor on `gpu` with its own streams. Errc::invalid_argument for the CPU; the stream
  /// creation's error (Errc::unavailable, Errc::device_lost) otherwise.
  static Result<GpuExecutor> create(const Device& gpu) {
    auto lane = GpuLane::create(gpu);
    if (!lane) return std::move(lane).error();
    return GpuExecutor(std::move(*lane));
  }
  /// Fills `out` on the GPU; `in` and `out` are borrowed for the call. Errc::invalid_argument when
  /// the sizes differ, Errc::unavailable when the operation has no implementation for this kind of
  /// device, and the device's error (out_of_memory, kernel_fault, device_lost) when it fails.
  template <BatchView In, class Out>
  Result<ExecReport> execute(const Operation<In, Out>& op, In in, std::span<Out> out) {
    if (in.size() != out.size()) return CpuExecutor::size_mismatch(op.name(), in.size(), out.size());
    detail::TypedJob<In, Out> job(op, std::move(in), out);
    return detail::execute_on_gpu(job, *lane_);
  }
  bool is_available() const { return lane_->device().healthy(); }  ///< false once a fault retired the GPU
  ExecutorKind device_kind() const noexcept { return ExecutorKind::gpu; }
  const Device& device() const noexcept { return lane_->device(); }
  GpuLane& lane() noexcept { return *lane_; }  ///< the streams the executor runs on

 private:
  explicit GpuExecutor(std::unique_ptr<GpuLane> lane) : lane_(std::move(lane)) {}
  std::unique_ptr<GpuLane> lane_;
};

}  // namespace hetex
