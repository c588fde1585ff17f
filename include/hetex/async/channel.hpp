// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `Channel<T>`: a bounded multi-producer/multi-consumer queue between pipeline stages. A full
/// channel blocks (or refuses) senders, which is the backpressure that keeps a fast stage from
/// running ahead of a slow one. close() ends the stream: receivers drain what is left, then see
/// nullopt; senders fail with Errc::cancelled.
///
/// Nothing the caller hands in is lost: a send that fails (closed, full, timed out) leaves its
/// argument untouched, so the caller still owns the item.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "hetex/async/future.hpp"
#include "hetex/core/error.hpp"

namespace hetex {

/// A bounded MPMC queue (see the file's description). Thread-safe; usually shared through
/// shared_ptr (create()) between producer and consumer stages.
template <class T>
class Channel {
 public:
  /// Capacity 0 (a rendezvous channel) is not supported and is raised to 1; use create() to get
  /// an invalid_argument error for it instead, e.g. when the capacity comes from configuration.
  explicit Channel(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  /// Errc::invalid_argument for capacity 0.
  static Result<std::shared_ptr<Channel>> create(std::size_t capacity) {
    if (capacity == 0)
      return Error(Errc::invalid_argument,
                   "Channel capacity must be at least 1 (a rendezvous channel is not supported)");
    return std::make_shared<Channel>(capacity);
  }

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Blocks while the channel is full. cancelled if it is (or becomes) closed; v is then intact.
  Status send(T&& v) {
    std::unique_lock lock(m_);
    ++blocked_senders_;
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    --blocked_senders_;
    return push(lock, v);
  }

  /// busy when full, cancelled when closed; v is intact on either.
  Status try_send(T&& v) {
    std::unique_lock lock(m_);
    if (!closed_ && items_.size() >= capacity_) return Error(Errc::busy, "channel is full; retry later or use send()");
    return push(lock, v);
  }

  /// busy if still full after d, cancelled when closed; v is intact on either.
  template <class Rep, class Period>
  Status send_for(T&& v, std::chrono::duration<Rep, Period> d) {
    std::unique_lock lock(m_);
    if (!not_full_.wait_for(lock, d, [&] { return closed_ || items_.size() < capacity_; }))
      return Error(Errc::busy, "channel stayed full until the time-out; a consumer is too slow or gone");
    return push(lock, v);
  }

  /// Blocks until an item arrives; nullopt once the channel is closed and drained.
  std::optional<T> receive() {
    std::unique_lock lock(m_);
    ++blocked_receivers_;
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    --blocked_receivers_;
    return pop(lock);
  }

  /// nullopt if nothing is there right now.
  std::optional<T> try_receive() {
    std::unique_lock lock(m_);
    return pop(lock);
  }

  /// nullopt on time-out or once closed and drained; closed() tells the two apart.
  template <class Rep, class Period>
  std::optional<T> receive_for(std::chrono::duration<Rep, Period> d) {
    std::unique_lock lock(m_);
    not_empty_.wait_for(lock, d, [&] { return closed_ || !items_.empty(); });
    return pop(lock);
  }

  /// Completes with the next item (nullopt once closed and drained) without parking a thread,
  /// for use from a Task: co_await ch.receive_async(). The future claims the next item when the
  /// channel is empty: drop it unfinished and the item it receives is dropped with it.
  Future<std::optional<T>> receive_async() {
    std::unique_lock lock(m_);
    if (!items_.empty() || closed_) return make_ready_future(pop(lock));
    Promise<std::optional<T>> p;
    auto f = p.future();
    async_receivers_.push_back(std::move(p));
    return f;
  }

  /// Wakes every waiter. Further sends fail; items already sent stay receivable.
  void close() {
    std::vector<Promise<std::optional<T>>> waiting;
    {
      std::lock_guard lock(m_);
      if (closed_) return;
      closed_ = true;
      waiting.assign(std::make_move_iterator(async_receivers_.begin()),
                     std::make_move_iterator(async_receivers_.end()));
      async_receivers_.clear();
    }
    not_full_.notify_all();
    not_empty_.notify_all();
    // Outside the lock: completing a future runs its continuations, which may use the channel.
    for (auto& p : waiting) p.set_value(std::nullopt);
  }

  /// true once close() was called (items may still be receivable).
  bool closed() const {
    std::lock_guard lock(m_);
    return closed_;
  }
  /// Items waiting now.
  std::size_t size() const {
    std::lock_guard lock(m_);
    return items_.size();
  }
  std::size_t capacity() const noexcept { return capacity_; }  ///< items it holds before senders block
  /// Threads inside send() / receive() right now. One seen here has either passed or is parked
  /// on the condition (the count changes under the lock it waits with): tests use this to know a
  /// thread is blocked without sleeping and hoping.
  std::size_t blocked_senders() const {
    std::lock_guard lock(m_);
    return blocked_senders_;
  }
  std::size_t blocked_receivers() const {
    std::lock_guard lock(m_);
    return blocked_receivers_;
  }

 private:
  /// Called with the lock held and room available (or closed). Moves from v only on success.
  Status push(std::unique_lock<std::mutex>& lock, T& v) {
    if (closed_) return Error(Errc::cancelled, "send on a closed channel; the item was not taken");
    if (!async_receivers_.empty()) {
      // An async receiver waits only while the channel is empty: hand the item straight over.
      Promise<std::optional<T>> p = std::move(async_receivers_.front());
      async_receivers_.pop_front();
      std::optional<T> item(std::move(v));
      lock.unlock();
      p.set_value(std::move(item));
      return {};
    }
    items_.push_back(std::move(v));
    lock.unlock();
    not_empty_.notify_one();
    return {};
  }

  std::optional<T> pop(std::unique_lock<std::mutex>& lock) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return item;
  }

  mutable std::mutex m_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  std::deque<Promise<std::optional<T>>> async_receivers_;
  const std::size_t capacity_;
  std::size_t blocked_senders_ = 0, blocked_receivers_ = 0;
  bool closed_ = false;
};

}  // namespace hetex
