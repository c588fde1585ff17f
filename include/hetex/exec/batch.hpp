// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The batch model: N independent items in, N results out, in order, one per item.
///
/// An input is any cheap view that knows its size and can be sliced without copying (a span, a
/// pair of spans, packed messages...). Outputs are a `std::span<Out>` the caller owns, so results
/// land where the caller wants them and a batch never allocates its result storage.
///
/// A view may also say where the bulk of its data lives, host_data() (HasHostData): a GPU reads
/// page-locked memory by DMA directly but pageable memory only through the host's staging
/// copies, so the scheduler models the two apart.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "hetex/core/device.hpp"
#include "hetex/core/error.hpp"
#include "hetex/exec/route.hpp"

namespace hetex {

/// A batch's input: a cheap, copyable view of N items that can be sliced into [b, e) ranges. Views
/// borrow the caller's data, which must outlive the batch.
template <class V>
concept BatchView = std::copyable<V> && requires(const V v, std::size_t b, std::size_t e) {
  { v.size() } -> std::convertible_to<std::size_t>;
  { v.slice(b, e) } -> std::same_as<V>;
};
/// A batch whose items sit in host memory at host_data(): the scheduler asks whether it is pinned.
template <class V>
concept HasHostData = requires(const V v) {
  { v.host_data() } -> std::convertible_to<const void*>;
};

/// A span of items as a batch.
template <class T>
struct SpanBatch {
  std::span<const T> items;  ///< the items, borrowed

  std::size_t size() const noexcept { return items.size(); }
  const void* host_data() const noexcept { return items.data(); }
  SpanBatch slice(std::size_t b, std::size_t e) const noexcept { return {items.subspan(b, e - b)}; }
  const T& operator[](std::size_t i) const noexcept { return items[i]; }
};

/// Element-wise pairs from two equally long spans (x[i], y[i]): the shape of binary vector ops.
template <class T>
struct ZipBatch {
  std::span<const T> x;  ///< the first operands, borrowed
  std::span<const T> y;  ///< the second operands, as long as x

  std::size_t size() const noexcept { return x.size(); }
  const void* host_data() const noexcept { return x.data(); }
  ZipBatch slice(std::size_t b, std::size_t e) const noexcept { return {x.subspan(b, e - b), y.subspan(b, e - b)}; }
};

/// Where a batch's items went. The scheduler writes one record per attempt, successful or not, so
/// the committed records of a batch tile [0, n) exactly: that is how "no item lost, none
/// duplicated" is checked, and what the trace export draws.
struct ChunkRecord {
  /// What became of the attempt: done, failed and retried in smaller pieces, failed and redone on
  /// the CPU, or failed for good (the items carry the error).
  enum class Outcome : std::uint8_t { done, failed_retried, failed_fell_back, failed };
  DeviceId device;        ///< the device that ran the attempt
  std::size_t begin = 0;  ///< the items [begin, end) of the batch
  std::size_t end = 0;
  Outcome outcome = Outcome::done;               ///< what became of the attempt
  bool fallback = false;                         ///< CPU work re-running items a GPU failed
  bool stolen = false;                           ///< taken from another device's share (Split)
  Errc error = Errc::internal;                   ///< meaningful when outcome != done
  std::chrono::steady_clock::time_point start;   ///< when the attempt started on the device
  std::chrono::steady_clock::time_point finish;  ///< when it finished

  std::size_t items() const noexcept { return end - begin; }  ///< end - begin
  /// The attempt that decided these items (done or failed for good).
  bool committed() const noexcept { return outcome == Outcome::done || outcome == Outcome::failed; }
};

std::string_view to_string(ChunkRecord::Outcome o) noexcept;  ///< "done", "failed, retried smaller", ...

/// What one device did for a batch.
struct DeviceUsage {
  DeviceId device;
  std::size_t items = 0;          ///< results this device delivered
  std::size_t chunks = 0;         ///< chunks it ran
  double busy_seconds = 0;        ///< wall time spent running this batch's chunks
  double queue_wait_seconds = 0;  ///< submit -> first chunk started here
};

/// Items whose every attempt failed carry the last error, as ranges.
struct RangeError {
  std::size_t begin = 0;
  std::size_t end = 0;
  Error error;  ///< the last attempt's error
};

/// What happened to one batch: where it went and why, per device, failures and timings.
struct ExecStats {
  std::string operation;  ///< the operation's name
  std::string policy;     ///< policy_name() of the policy that routed it
  Route route;            ///< why the batch went where it did
  std::size_t items = 0;
  std::vector<DeviceUsage> devices;  ///< only devices that ran something
  std::size_t fallback_items = 0;    ///< items re-run on the CPU after a GPU failure
  std::size_t failed_items = 0;      ///< items with an error instead of a result
  std::vector<Errc> faults;          ///< each GPU failure seen, in order
  double queue_wait_seconds = 0;     ///< submit -> first chunk started anywhere
  double total_seconds = 0;          ///< submit -> last result
  /// Host->device, kernel and device->host time, when the GPU implementation reports them.
  double h2d_seconds = 0, compute_seconds = 0, d2h_seconds = 0;
  std::vector<ChunkRecord> chunks;  ///< every attempt, successful or not (see ChunkRecord)

  /// The usage of device `id`, or nullptr when it ran nothing.
  const DeviceUsage* device(DeviceId id) const {
    for (const auto& d : devices)
      if (d.device == id) return &d;
    return nullptr;
  }
};

/// What a batch returns: statistics, and the items that failed (empty when all succeeded).
struct ExecReport {
  ExecStats stats;                 ///< what happened
  std::vector<RangeError> errors;  ///< the items without a result, as ranges in input order

  bool all_ok() const noexcept { return errors.empty(); }  ///< every item has a result
  /// The error of item i, or nullptr when it has a result.
  const Error* error_for(std::size_t i) const noexcept {
    for (const auto& e : errors)
      if (i >= e.begin && i < e.end) return &e.error;
    return nullptr;
  }
  /// The first error as a Status, for callers who only want to know whether everything worked.
  Status status() const {
    if (errors.empty()) return {};
    const auto& e = errors.front();
    return e.error.with_context(std::to_string(stats.failed_items) + " of " + std::to_string(stats.items) +
                                " items failed, first at item " + std::to_string(e.begin));
  }
};

}  // namespace hetex
