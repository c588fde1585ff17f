// SPDX-License-Identifier: MIT
#include "hetex/metrics/trace.hpp"
#include "hetex/core/file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace hetex::metrics {

TraceRecorder::TraceRecorder(std::size_t max_events) : max_events_(max_events), origin_(Clock::now()) {}

void TraceRecorder::record(std::string_view name, std::string_view category, std::string_view track,
                           Clock::time_point start, Clock::duration duration, std::initializer_list<TraceArg> args) {
  record(name, category, track, start, duration, std::vector<TraceArg>(args));
}

void TraceRecorder::record(std::string_view name, std::string_view category, std::string_view track,
                           Clock::time_point start, Clock::duration duration, std::vector<TraceArg> args) {
  using std::chrono::nanoseconds;
  Event e{std::string(name),
          std::string(category),
          0,
          std::chrono::duration_cast<nanoseconds>(start - origin_).count(),
          std::max<std::int64_t>(0, std::chrono::duration_cast<nanoseconds>(duration).count()),
          std::move(args)};
  std::lock_guard lock(mu_);
  if (events_.size() >= max_events_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto it = std::find(tracks_.begin(), tracks_.end(), track);
  if (it == tracks_.end()) it = tracks_.emplace(tracks_.end(), track);
  e.track = static_cast<std::uint32_t>(it - tracks_.begin());
  events_.push_back(std::move(e));
}

std::size_t TraceRecorder::size() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

std::size_t TraceRecorder::dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

void TraceRecorder::clear() {
  std::lock_guard lock(mu_);
  events_.clear();
  tracks_.clear();
  dropped_.store(0, std::memory_order_relaxed);
}

namespace {

// Chrome's viewers draw the events of one thread as a stack, so they must nest: an event that
// starts inside another has to end inside it too. Per track, events go (in start order, longer
// first on ties, so parents precede children) to the first lane where they nest or follow; a
// lane is a stack of the end times of its open events.
std::vector<std::uint32_t> assign_lanes(const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                                        const std::vector<std::size_t>& order) {
  std::vector<std::uint32_t> lane_of(starts.size());
  std::vector<std::vector<std::int64_t>> lanes;
  for (std::size_t i : order) {
    std::size_t k = 0;
    for (; k < lanes.size(); ++k) {
      auto& open = lanes[k];
      // Later events start no earlier, so what has ended by now stays ended for them too.
      while (!open.empty() && open.back() <= starts[i]) open.pop_back();
      if (open.empty() || ends[i] <= open.back()) break;
    }
    if (k == lanes.size()) lanes.emplace_back();
    lanes[k].push_back(ends[i]);
    lane_of[i] = static_cast<std::uint32_t>(k);
  }
  return lane_of;
}

nlohmann::json arg_value(const TraceArg& a) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, a.value);
}

}  // namespace

std::string TraceRecorder::chrome_trace_json() const {
  std::lock_guard lock(mu_);
  const std::size_t n = events_.size();
  std::vector<std::int64_t> starts(n), ends(n);
  std::vector<std::vector<std::size_t>> by_track(tracks_.size());
  for (std::size_t i = 0; i < n; ++i) {
    starts[i] = events_[i].start_ns;
    ends[i] = events_[i].start_ns + events_[i].duration_ns;
    by_track[events_[i].track].push_back(i);
  }

  // tid of each (track, lane): consecutive per track, in order of the tracks' first use.
  std::vector<std::uint32_t> tid(n);
  std::vector<std::string> lane_names;  // index = tid - 1
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    auto& order = by_track[t];
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return starts[a] != starts[b] ? starts[a] < starts[b] : ends[a] > ends[b];
    });
    const auto lanes = assign_lanes(starts, ends, order);
    const auto first_tid = static_cast<std::uint32_t>(lane_names.size() + 1);
    std::uint32_t lane_count = 0;
    for (std::size_t i : order) {
      tid[i] = first_tid + lanes[i];
      lane_count = std::max(lane_count, lanes[i] + 1);
    }
    for (std::uint32_t k = 0; k < lane_count; ++k)
      lane_names.push_back(k == 0 ? tracks_[t] : tracks_[t] + " #" + std::to_string(k + 1));
  }

  using nlohmann::json;
  const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  std::string out = "{\"traceEvents\":[\n";
  out += dump({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "hetex"}}}});
  for (std::size_t k = 0; k < lane_names.size(); ++k) {
    const auto t = static_cast<std::uint32_t>(k + 1);
    out += ",\n" +
           dump({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"name", lane_names[k]}}}});
    out += ",\n" +
           dump({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"sort_index", t}}}});
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Event& e = events_[i];
    json j = {{"name", e.name},
              {"cat", e.category},
              {"ph", "X"},
              {"ts", static_cast<double>(e.start_ns) / 1e3},
              {"dur", static_cast<double>(e.duration_ns) / 1e3},
              {"pid", 1},
              {"tid", tid[i]}};
    if (!e.args.empty()) {
      json args = json::object();
      for (const auto& a : e.args) args[a.key] = arg_value(a);
      j["args"] = std::move(args);
    }
    out += ",\n" + dump(j);
  }
  out += "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"dropped_events\":" +
         std::to_string(dropped_.load(std::memory_order_relaxed)) + "}}\n";
  return out;
}

Status TraceRecorder::write_chrome_trace(const std::filesystem::path& path) const {
  auto written = write_file_atomic(path, chrome_trace_json());
  if (!written) return std::move(written).error().with_context("the trace");
  return {};
}

}  // namespace hetex::metrics
