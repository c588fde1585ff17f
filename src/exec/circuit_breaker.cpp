// SPDX-License-Identifier: MIT
#include "exec/circuit_breaker.hpp"

#include <algorithm>

namespace hetex::detail {

CircuitBreaker::CircuitBreaker(Options options, Now now, std::function<void(DeviceState)> on_change)
    : options_(options), now_(std::move(now)), on_change_(std::move(on_change)) {}

void CircuitBreaker::set(DeviceState s) {
  if (state_ == s) return;
  state_ = s;
  if (on_change_) on_change_(s);
}

DeviceState CircuitBreaker::state() const {
  std::lock_guard lock(m_);
  return state_;
}

CircuitBreaker::Admit CircuitBreaker::admit(bool may_probe) {
  std::lock_guard lock(m_);
  switch (state_) {
    case DeviceState::healthy: return Admit::yes;
    case DeviceState::retired:
    case DeviceState::probing: return Admit::no;
    case DeviceState::suspended:
      if (!may_probe || now_() < reopen_at_) return Admit::no;
      set(DeviceState::probing);
      return Admit::as_probe;
  }
  return Admit::no;
}

bool CircuitBreaker::may_attempt(bool of_probe) const {
  std::lock_guard lock(m_);
  return state_ == DeviceState::healthy || (state_ == DeviceState::probing && of_probe);
}

void CircuitBreaker::fault() {
  std::lock_guard lock(m_);
  if (state_ == DeviceState::retired) return;
  backoff_ = state_ == DeviceState::healthy ? options_.backoff : std::min(backoff_ * 2, options_.max_backoff);
  reopen_at_ = now_() + backoff_;
  set(DeviceState::suspended);
}

void CircuitBreaker::success() {
  std::lock_guard lock(m_);
  if (state_ != DeviceState::probing) return;
  backoff_ = std::chrono::milliseconds(0);
  set(DeviceState::healthy);
}

void CircuitBreaker::release_probe() {
  std::lock_guard lock(m_);
  if (state_ != DeviceState::probing) return;
  reopen_at_ = now_();
  set(DeviceState::suspended);
}

void CircuitBreaker::retire() {
  std::lock_guard lock(m_);
  set(DeviceState::retired);
}

}  // namespace hetex::detail
