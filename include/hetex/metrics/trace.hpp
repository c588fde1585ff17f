// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// TraceRecorder: complete events (a named span of time on a track such as "cpu" or "cuda:0"),
/// written as Chrome trace-event JSON for Perfetto (ui.perfetto.dev) or chrome://tracing.
///
/// @code
/// metrics::TraceRecorder trace;
/// auto t0 = std::chrono::steady_clock::now();
/// ...                                            // the work
/// trace.record("sha256 batch", "ops", "cuda:0", t0, std::chrono::steady_clock::now() - t0,
///              {{"items", batch.size()}, {"op", "sha256"}});
/// trace.write_chrome_trace("run.trace.json");
/// @endcode
///
/// Thread-safe; recording builds the event, then takes a short lock to append it. Bounded: past max_events, events are
/// dropped and counted (dropped()), so that a long run cannot exhaust memory. Times are microseconds since the recorder
/// was created.
///
/// Overlapping events on one track (two streams of one GPU, batches on a CPU pool) are valid
/// input: the viewers need the events of one thread to nest, so the export spreads a track over
/// as many lanes ("cuda:0", "cuda:0 #2", ...) as it takes to keep every lane properly nested.

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "hetex/core/error.hpp"

namespace hetex::metrics {

/// A key/value shown with the event: {"items", n}, {"device", "cuda:0"}, {"ratio", 0.5}.
/// Integers of any type are stored as int64.
struct TraceArg {
  TraceArg(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
  TraceArg(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}  ///< not bool
  template <std::integral I>
  requires(!std::same_as<I, bool>) TraceArg(std::string k, I v)
      : key(std::move(k)), value(static_cast<std::int64_t>(v)) {}
  TraceArg(std::string k, double v) : key(std::move(k)), value(v) {}
  TraceArg(std::string k, bool v) : key(std::move(k)), value(v) {}

  std::string key;
  std::variant<std::string, std::int64_t, double, bool> value;
};

/// Records complete events in memory for a Chrome trace (see the file's description). Thread-safe;
/// bounded: events beyond max_events are dropped and counted.
class TraceRecorder {
 public:
  using Clock = std::chrono::steady_clock;

  /// Holds up to `max_events` events; times are relative to the moment of construction (origin()).
  explicit TraceRecorder(std::size_t max_events = 1'000'000);

  /// An event of `duration` starting at `start` (both from steady_clock). A negative duration is
  /// recorded as zero.
  void record(std::string_view name, std::string_view category, std::string_view track, Clock::time_point start,
              Clock::duration duration, std::initializer_list<TraceArg> args = {});
  void record(std::string_view name, std::string_view category, std::string_view track, Clock::time_point start,
              Clock::duration duration, std::vector<TraceArg> args);

  std::size_t size() const;                                      ///< events held
  std::size_t dropped() const noexcept;                          ///< events refused for want of room
  std::size_t capacity() const noexcept { return max_events_; }  ///< max_events
  Clock::time_point origin() const noexcept { return origin_; }  ///< time 0 of the trace
  void clear();  ///< drops events and resets dropped(); keeps the origin

  /// {"traceEvents":[...],"displayTimeUnit":"ms","otherData":{"dropped_events":n}} with a ph "X"
  /// event per record (pid 1, tid = track lane, ts/dur in µs) and ph "M" metadata naming the
  /// process ("hetex") and each lane's thread after its track.
  std::string chrome_trace_json() const;
  /// chrome_trace_json() to `path`, whole or not at all; Errc::io naming it.
  Status write_chrome_trace(const std::filesystem::path& path) const;

 private:
  struct Event {
    std::string name, category;
    std::uint32_t track;  ///< index into tracks_
    std::int64_t start_ns, duration_ns;
    std::vector<TraceArg> args;
  };
  std::size_t max_events_;
  Clock::time_point origin_;
  std::atomic<std::size_t> dropped_{0};
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::vector<std::string> tracks_;  ///< in order of first use
};

}  // namespace hetex::metrics
