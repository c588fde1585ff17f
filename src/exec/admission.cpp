// SPDX-License-Identifier: MIT
#include "exec/admission.hpp"

#include <string>

namespace hetex::detail {

Admission::Admission(std::size_t capacity, WhenFull when_full, std::function<void(std::size_t)> on_depth)
    : capacity_(capacity), when_full_(when_full), on_depth_(std::move(on_depth)) {}

Status Admission::enter() {
  std::unique_lock lock(m_);
  if (closed_) return Error(Errc::cancelled, "the scheduler is shutting down");
  if (admitted_ >= capacity_) {
    if (when_full_ == WhenFull::fail_busy)
      return Error(Errc::busy,
                   "scheduler queue is full (" + std::to_string(admitted_) + " batches admitted); try again later");
    cv_.wait(lock, [&] { return closed_ || admitted_ < capacity_; });
    if (closed_) return Error(Errc::cancelled, "the scheduler is shutting down");
  }
  ++admitted_;
  if (on_depth_) on_depth_(admitted_);
  return {};
}

void Admission::leave() {
  {
    std::lock_guard lock(m_);
    --admitted_;
    if (on_depth_) on_depth_(admitted_);
  }
  cv_.notify_all();
}

std::size_t Admission::depth() const {
  std::lock_guard lock(m_);
  return admitted_;
}

void Admission::close_and_drain() {
  std::unique_lock lock(m_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return admitted_ == 0; });
}

}  // namespace hetex::detail
