// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A Gate is device work the host must observe: a recorded CUDA event, say. Futures become ready
/// through gates, and buffers shared between host and device track their in-flight users with
/// them. Backends implement it; nothing here needs a device toolkit.

#include <memory>
#include <optional>

#include "hetex/core/error.hpp"
#include "hetex/core/unique_function.hpp"

namespace hetex::detail {

class Gate {
 public:
  virtual ~Gate() = default;
  // nullopt while the work is still running; the work's outcome once it is done.
  virtual std::optional<Status> poll() = 0;
  // Blocks until the work is done: spins briefly (as a stream synchronize does), then sleeps.
  virtual Status wait() = 0;
  // Calls done(status) exactly once when the work is done, from a hetex-owned thread: never
  // on the caller's stack and never on a driver callback thread (which may not call the driver).
  virtual void notify(UniqueFunction<void(Status)> done) = 0;
};

using GatePtr = std::shared_ptr<Gate>;

}  // namespace hetex::detail
