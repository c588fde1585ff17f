// SPDX-License-Identifier: MIT
#pragma once
// Admission: the bounded queue of batches admitted and not yet finished. A producer past the
// capacity blocks or is refused with Errc::busy (SchedulerOptions::when_full); once shutdown
// begins every new batch is refused, and shutdown waits for the admitted ones to finish.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

#include "hetex/exec/scheduler.hpp"

namespace hetex::detail {

class Admission {
 public:
  // on_depth(depth) is called, under the lock, whenever the number of admitted batches changes,
  // so the last call gives the current depth.
  Admission(std::size_t capacity, WhenFull when_full, std::function<void(std::size_t)> on_depth = {});

  // Admits one batch: waits for room, or fails with busy; cancelled once shutdown has begun.
  Status enter();
  // A batch finished (call before its result is delivered: whoever sees the result sees the
  // batch gone from the queue).
  void leave();
  std::size_t depth() const;
  // Refuses new batches and waits until every admitted one has left.
  void close_and_drain();

 private:
  const std::size_t capacity_;
  const WhenFull when_full_;
  const std::function<void(std::size_t)> on_depth_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::size_t admitted_ = 0;
  bool closed_ = false;
};

}  // namespace hetex::detail
