// SPDX-License-Identifier: MIT
#pragma once
// One batch interface over every way of running work. CpuExecutor runs a batch on all cores
// (TBB), GpuExecutor on one GPU with no fallback (a baseline, and for callers who must know where
// their work ran), Scheduler (scheduler.hpp) over the CPU and every GPU. All three model Executor.

#include <concepts>
#include <memory>
#include <span>

#include "hetex/exec/batch.hpp"
#include "hetex/exec/operation.hpp"

namespace hetex {

enum class ExecutorKind : std::uint8_t { cpu, gpu, hybrid };

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

class CpuExecutor {
 public:
  template <BatchView In, class Out>
  Result<ExecReport> execute(const Operation<In, Out>& op, In in, std::span<Out> out) {
    if (in.size() != out.size()) return size_mismatch(op.name(), in.size(), out.size());
    detail::TypedJob<In, Out> job(op, std::move(in), out);
    return detail::execute_on_cpu(job);
  }
  bool is_available() const noexcept { return true; }
  ExecutorKind device_kind() const noexcept { return ExecutorKind::cpu; }

  static Error size_mismatch(const std::string& op, std::size_t in, std::size_t out) {
    return Error(Errc::invalid_argument, op + ": batch has " + std::to_string(in) + " items but the output has " +
                                             std::to_string(out) + " slots");
  }
};

class GpuExecutor {
 public:
  static Result<GpuExecutor> create(const Device& gpu) {
    auto lane = GpuLane::create(gpu);
    if (!lane) return std::move(lane).error();
    return GpuExecutor(std::move(*lane));
  }
  template <BatchView In, class Out>
  Result<ExecReport> execute(const Operation<In, Out>& op, In in, std::span<Out> out) {
    if (in.size() != out.size()) return CpuExecutor::size_mismatch(op.name(), in.size(), out.size());
    detail::TypedJob<In, Out> job(op, std::move(in), out);
    return detail::execute_on_gpu(job, *lane_);
  }
  bool is_available() const { return lane_->device().healthy(); }
  ExecutorKind device_kind() const noexcept { return ExecutorKind::gpu; }
  const Device& device() const noexcept { return lane_->device(); }
  GpuLane& lane() noexcept { return *lane_; }

 private:
  explicit GpuExecutor(std::unique_ptr<GpuLane> lane) : lane_(std::move(lane)) {}
  std::unique_ptr<GpuLane> lane_;
};

}  // namespace hetex
