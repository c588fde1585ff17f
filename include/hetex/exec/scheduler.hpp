// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The hybrid scheduler: one batch interface over the CPU and every GPU.
///
/// @code
/// auto sched = Scheduler::create(runtime, {.policy = AdaptivePolicy{}});
/// auto done = sched->submit(op, ZipBatch<float>{a, b}, std::span<float>(c));
/// ExecReport r = done.get().value();   // r.stats says which devices ran what
/// @endcode
///
/// Every item gets exactly one result or one error. A GPU chunk that fails is redone: out of
/// memory in smaller pieces and then on the CPU; a kernel fault or a lost device on the CPU, after
/// which the device is suspended (circuit breaker) and probed again after a growing back-off.
/// Thread-safe: any number of producers may submit at once; a bounded queue of admitted batches
/// gives backpressure (block, or fail with Errc::busy).
///
/// Lifetimes: a batch borrows its input and output until its Submission completes (the
/// Submission waits in its destructor, so they cannot be freed under a running batch); an
/// Operation must outlive every batch that uses it (make operations long-lived objects).

#include <atomic>
#include <chrono>
#include <functional>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hetex/async/future.hpp"
#include "hetex/core/runtime.hpp"
#include "hetex/core/simulated_gpu.hpp"
#include "hetex/exec/batch.hpp"
#include "hetex/exec/cost_model.hpp"
#include "hetex/exec/executor.hpp"
#include "hetex/exec/fault.hpp"
#include "hetex/exec/operation.hpp"
#include "hetex/exec/policy.hpp"

namespace hetex {
namespace detail {
class SchedulerEngine;  // src/exec/engine.hpp
}

/// A device's health as the scheduler's circuit breaker sees it.
enum class DeviceState : std::uint8_t {
  healthy,    ///< takes work
  suspended,  ///< circuit open after a fault; probed again after a back-off
  probing,    ///< one batch is testing it
  retired,    ///< the backend gave it up (a sticky CUDA fault ends a device for the process)
};
std::string_view to_string(DeviceState s) noexcept;  ///< "healthy", "suspended", ...

/// Receives what the scheduler does, as it happens (the metrics layer implements this). Called
/// from worker threads; implementations must be thread-safe and quick.
class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  /// A chunk attempt of operation `op` finished (successful or not).
  virtual void on_chunk(const std::string& /*op*/, const ChunkRecord&) {}
  virtual void on_batch(const ExecStats&) {}                         ///< a batch finished
  virtual void on_queue_depth(std::size_t /*admitted batches*/) {}   ///< the number of admitted batches changed
  virtual void on_device_state(DeviceId /*device*/, DeviceState) {}  ///< a device changed state (circuit breaker)
};

/// What submit() does when the queue of admitted batches is full: wait for room, or return
/// Errc::busy at once.
enum class WhenFull : std::uint8_t { block, fail_busy };

/// How a Scheduler routes, what it admits, which devices it uses and how it treats faults.
struct SchedulerOptions {
  Policy policy = AdaptivePolicy{};      ///< how each batch is routed (policy.hpp)
  std::size_t queue_capacity = 64;       ///< batches admitted and not yet finished
  WhenFull when_full = WhenFull::block;  ///< what submit() does when queue_capacity batches are in
  bool use_gpus = true;                  ///< the runtime's healthy GPUs
  /// Simulated GPUs (core/simulated_gpu.hpp) added after the real ones: simulated_gpus[i] is sim:i.
  std::vector<SimulatedGpu> simulated_gpus;
  /// Faults to inject into GPU attempts; unset: read HETEX_FAULTS.
  std::optional<FaultPlan> faults;
  /// Calibration persistence; unset: the default file for this machine; an empty path: none.
  std::optional<std::filesystem::path> calibration_file;
  std::chrono::milliseconds breaker_backoff{500};         ///< the wait before a suspended device is first probed again
  std::chrono::milliseconds breaker_max_backoff{60'000};  ///< the back-off doubles after each failed probe, up to this
  /// The clock the back-offs are measured on; empty: std::chrono::steady_clock. Tests step one
  /// of their own instead of sleeping.
  std::function<std::chrono::steady_clock::time_point()> breaker_clock;
  std::shared_ptr<SchedulerObserver> observer;  ///< told of chunks, batches and device states; may be null
  /// Cores given to each GPU while the CPU runs its share of a split batch: the GPU lane's host
  /// work (staging copies of pageable data, packing, launches) runs on them, and the CPU's share on
  /// the rest; for data in pageable and in pinned memory (docs/design/scheduler.md).
  int split_cores_per_gpu = 2;
  int split_cores_per_gpu_pinned = 2;  ///< as split_cores_per_gpu, for data in pinned memory
};

/// A batch in flight. Waits for the batch in its destructor: the batch borrows the caller's input
/// and output, and they must not be freed while devices still use them.
class [[nodiscard]] Submission {
 public:
  Submission() = default;
  explicit Submission(Future<ExecReport> f) : f_(std::move(f)) {}  ///< the batch's eventual report
  Submission(Submission&&) noexcept = default;
  Submission& operator=(Submission&& o) noexcept {
    if (this != &o) {
      wait();
      (void)(f_ = std::move(o.f_));  // (void): nvcc warns (#2810-D) on the unused Future& otherwise
    }
    return *this;
  }
  ~Submission() { wait(); }

  bool is_ready() const { return !f_.valid() || f_.is_ready(); }  ///< the batch finished (never blocks)
  /// Blocks until the batch finished.
  void wait() const {
    if (f_.valid()) f_.wait();
  }
  /// The batch's report; an error only when the batch was not admitted (busy, invalid, shut down).
  /// Items that failed individually are in the report's errors.
  Result<ExecReport> get() {
    if (!f_.valid()) return Error(Errc::invalid_argument, "Submission::get on an empty or already read submission");
    return f_.get();
  }

 private:
  Future<ExecReport> f_;
};

/// One device as the scheduler sees it now: its state and what it ran so far.
struct DeviceSnapshot {
  DeviceId device;
  DeviceState state = DeviceState::healthy;  ///< its circuit breaker's state
  /// Results delivered, chunks run, items it redid for a failed GPU, faults seen.
  std::size_t items = 0, chunks = 0, fallback_items = 0, faults = 0;
  double busy_seconds = 0;     ///< time spent running chunks
  double backlog_seconds = 0;  ///< predicted time of the work queued on it now
};

/// The hybrid scheduler (see the file's description): routes or splits each batch over the CPU and
/// every GPU from measured cost, and redoes failed GPU work elsewhere, exactly once. Thread-safe;
/// models Executor.
class Scheduler {
 public:
  /// A scheduler over `runtime`'s CPU and (with use_gpus) its healthy GPUs, plus any simulated ones;
  /// loads the calibration file. The runtime must outlive the scheduler. Errc::invalid_argument for
  /// a zero queue capacity, an invalid simulated GPU or a malformed HETEX_FAULTS; Errc::unavailable
  /// when a PinnedPolicy names a device it does not have. A GPU whose streams cannot be created is
  /// left out, and a malformed calibration file ignored, each with a note on stderr.
  static Result<std::unique_ptr<Scheduler>> create(const Runtime& runtime, SchedulerOptions options = {});
  ~Scheduler();  ///< finishes admitted batches, then stops; saves calibration
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Admits a batch: fills `out`, one slot per input item, asynchronously. `input` and `out` are
  /// borrowed, and `op` must outlive the batch (see the file's description). The Submission's
  /// error: Errc::invalid_argument when the sizes differ, Errc::busy when the queue is full and
  /// when_full is fail_busy, Errc::cancelled once the scheduler is shutting down.
  template <BatchView In, class Out>
  Submission submit(const Operation<In, Out>& op, In input, std::span<Out> out) {
    if (input.size() != out.size())
      return Submission(make_error_future<ExecReport>(CpuExecutor::size_mismatch(op.name(), input.size(), out.size())));
    return Submission(submit_job(std::make_shared<detail::TypedJob<In, Out>>(op, std::move(input), out), false));
  }
  /// submit(...).get(), except that a batch the policy puts on the CPU alone runs on this thread.
  template <BatchView In, class Out>
  Result<ExecReport> run(const Operation<In, Out>& op, In input, std::span<Out> out) {
    if (input.size() != out.size()) return submit(op, std::move(input), out).get();
    return submit_job(std::make_shared<detail::TypedJob<In, Out>>(op, std::move(input), out), true).get();
  }

  /// run(), under the name the Executor concept uses.
  template <BatchView In, class Out>
  Result<ExecReport> execute(const Operation<In, Out>& op, In input, std::span<Out> out) {
    return run(op, std::move(input), out);
  }
  bool is_available() const noexcept { return true; }
  ExecutorKind device_kind() const noexcept { return ExecutorKind::hybrid; }

  std::vector<DeviceSnapshot> devices() const;  ///< every device it schedules over, the CPU first
  /// The runtime the scheduler was created from (its CPU and GPUs; simulated GPUs are not in it).
  const Runtime& runtime() const noexcept;
  std::string policy() const;       ///< policy_name() of its policy
  std::size_t queue_depth() const;  ///< batches admitted and not yet finished
  CostModel& cost_model();          ///< what it has measured; thread-safe
  /// Write calibration now (it is also written when the scheduler is destroyed).
  Status save_calibration() const;
  /// True when a GPU (real or simulated) can take work now.
  bool has_gpu() const;

 private:
  explicit Scheduler(std::unique_ptr<detail::SchedulerEngine> engine);
  Future<ExecReport> submit_job(std::shared_ptr<detail::JobBase> job, bool inline_cpu);
  std::unique_ptr<detail::SchedulerEngine> engine_;
};

}  // namespace hetex
