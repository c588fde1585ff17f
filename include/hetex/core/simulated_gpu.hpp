// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The simulated GPU: a device of its own backend (src/sim) for machines without a GPU, so that
/// routing, splitting, fallback and the backend contract are exercised anywhere. Its memory is host
/// memory and its kernels are host functions, run when enqueued; its queues complete their work as
/// late as the simulated device would: a launch takes latency + items / items_per_second.
///
/// @code
/// auto sim = hetex::make_simulated_gpu(0, {.latency = 20us, .items_per_second = 4e8}).value();
/// auto stream = hetex::Stream::create(sim).value();   // sim:0, like any other device
/// @endcode
///
/// SchedulerOptions::simulated_gpus adds such devices to a scheduler; an operation runs on them
/// through its CPU implementation.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include "hetex/core/backend.hpp"
#include "hetex/core/device.hpp"

namespace hetex {

/// How a simulated GPU behaves: each launch takes latency + items / items_per_second.
struct SimulatedGpu {
  std::chrono::microseconds latency{50};  ///< the fixed cost of each launch
  double items_per_second = 1e9;          ///< throughput; must be positive
  /// While *lost is true every call fails with device_lost: a device that goes away and comes
  /// back, for tests of suspension and re-probing.
  std::shared_ptr<std::atomic<bool>> lost;
};

/// The simulated device `sim:<index>`. invalid_argument for a negative index or a speed that is not
/// positive.
Result<Device> make_simulated_gpu(int index, SimulatedGpu spec = {});

namespace detail {

// The native queue of a simulated GPU (NativeStream::handle()). A kernel is a host function; it
// says how many items it processed, and the launch completes no sooner than latency +
// items / items_per_second after it started.
class SimQueue {
 public:
  virtual void charge(std::size_t items) noexcept = 0;

 protected:
  ~SimQueue() = default;
};

// Runs body() as one kernel of `items` items on a simulated GPU's queue and waits for it.
template <class F>
Status run_host_kernel(StreamImpl& stream, std::size_t items, F&& body) {
  Status status;
  UniqueFunction<void(NativeStream)> launch([&](NativeStream queue) {
    status = body();
    static_cast<SimQueue*>(queue.handle())->charge(items);
  });
  auto gate = stream.launch_and_record(launch);
  if (!gate) return std::move(gate).error();
  if (auto done = (*gate)->wait(); !done) return done;
  return status;
}

}  // namespace detail
}  // namespace hetex
