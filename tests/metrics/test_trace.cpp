// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <thread>

#include "hetex/metrics/trace.hpp"

using namespace hetex;
using namespace hetex::metrics;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Parsed {
  json doc;
  std::map<int, std::string> thread_names;  // tid -> name
  std::vector<json> events;                 // ph X
};

Parsed parse(const TraceRecorder& rec) {
  Parsed p;
  p.doc = json::parse(rec.chrome_trace_json());
  for (const auto& e : p.doc.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") p.thread_names[e.at("tid")] = e.at("args").at("name");
    if (e.at("ph") == "X") p.events.push_back(e);
  }
  return p;
}

}  // namespace

TEST(TraceRecorder, WritesCompleteEventsAndTrackNames) {
  TraceRecorder rec;
  const auto t0 = rec.origin();
  rec.record("sha256 batch", "ops", "cuda:0", t0 + 1500ns, 2ms, {{"items", std::size_t{4096}}, {"ok", true}});
  rec.record("upload", "transfer", "cuda:0", t0 + 5ms, 250us);
  rec.record("verify", "ops", "cpu", t0 + 2us, 10us, {{"note", "a \"quoted\" arg"}, {"ratio", 0.5}});
  EXPECT_EQ(rec.size(), 3u);

  const auto p = parse(rec);
  bool process_named = false;
  for (const auto& e : p.doc.at("traceEvents"))
    if (e.at("ph") == "M" && e.at("name") == "process_name") process_named = e.at("args").at("name") == "hetex";
  EXPECT_TRUE(process_named);
  ASSERT_EQ(p.thread_names.size(), 2u);
  ASSERT_EQ(p.events.size(), 3u);

  const auto& batch = p.events[0];
  EXPECT_EQ(batch.at("name"), "sha256 batch");
  EXPECT_EQ(batch.at("cat"), "ops");
  EXPECT_EQ(batch.at("pid"), 1);
  EXPECT_EQ(p.thread_names.at(batch.at("tid")), "cuda:0");
  EXPECT_DOUBLE_EQ(batch.at("ts").get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(batch.at("dur").get<double>(), 2000.0);
  EXPECT_EQ(batch.at("args").at("items"), 4096);
  EXPECT_EQ(batch.at("args").at("ok"), true);
  EXPECT_FALSE(p.events[1].contains("args"));
  EXPECT_EQ(p.events[1].at("tid"), batch.at("tid"));  // disjoint: one lane
  EXPECT_DOUBLE_EQ(p.events[1].at("ts").get<double>(), 5000.0);

  const auto& verify = p.events[2];
  EXPECT_EQ(p.thread_names.at(verify.at("tid")), "cpu");
  EXPECT_EQ(verify.at("args").at("note"), "a \"quoted\" arg");
  EXPECT_EQ(verify.at("args").at("ratio"), 0.5);
  EXPECT_EQ(p.doc.at("otherData").at("dropped_events"), 0);
}

TEST(TraceRecorder, OverlappingEventsGetTheirOwnLane) {
  TraceRecorder rec;
  const auto t0 = rec.origin();
  rec.record("batch", "ops", "cuda:0", t0, 10ms);
  rec.record("kernel", "ops", "cuda:0", t0 + 1ms, 2ms);         // nested in batch: same lane
  rec.record("other stream", "ops", "cuda:0", t0 + 5ms, 10ms);  // overlaps batch's end: lane 2
  const auto p = parse(rec);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].at("tid"), p.events[1].at("tid"));
  EXPECT_NE(p.events[0].at("tid"), p.events[2].at("tid"));
  EXPECT_EQ(p.thread_names.at(p.events[0].at("tid")), "cuda:0");
  EXPECT_EQ(p.thread_names.at(p.events[2].at("tid")), "cuda:0 #2");
}

TEST(TraceRecorder, RandomEventsNestWithinEveryLane) {
  TraceRecorder rec;
  std::uint64_t s = 7;
  auto next = [&](std::uint64_t mod) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::int64_t>((s >> 33) % mod);
  };
  const char* tracks[] = {"cpu", "cuda:0", "cuda:1"};
  for (int i = 0; i < 600; ++i) {
    const char* track = tracks[next(3)];
    rec.record(track, "t", track, rec.origin() + std::chrono::microseconds(next(10000)),
               std::chrono::microseconds(next(800)));
  }
  const auto p = parse(rec);
  ASSERT_EQ(p.events.size(), 600u);
  std::map<int, std::vector<std::pair<double, double>>> lanes;
  for (const auto& e : p.events) {
    const std::string lane = p.thread_names.at(e.at("tid"));
    const std::string track = e.at("name");  // named after its track above
    EXPECT_TRUE(lane == track || lane.starts_with(track + " #")) << lane << " holds an event of " << track;
    lanes[e.at("tid")].emplace_back(e.at("ts").get<double>(), e.at("ts").get<double>() + e.at("dur").get<double>());
  }
  EXPECT_GT(lanes.size(), 3u);  // random overlap needs extra lanes
  for (auto& [tid, spans] : lanes) {
    std::sort(spans.begin(), spans.end(),
              [](auto a, auto b) { return a.first != b.first ? a.first < b.first : a.second > b.second; });
    std::vector<double> open;
    for (auto [b, e] : spans) {
      while (!open.empty() && open.back() <= b) open.pop_back();
      ASSERT_TRUE(open.empty() || e <= open.back())
          << "lane " << p.thread_names.at(tid) << " has a partial overlap at " << b;
      open.push_back(e);
    }
  }
}

TEST(TraceRecorder, IsBoundedAndCountsWhatItDrops) {
  TraceRecorder rec(3);
  for (int i = 0; i < 5; ++i) rec.record("e", "c", "cpu", rec.origin(), 1us);
  EXPECT_EQ(rec.size(), 3u);
  EXPECT_EQ(rec.dropped(), 2u);
  const auto p = parse(rec);
  EXPECT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.doc.at("otherData").at("dropped_events"), 2);
  rec.clear();
  EXPECT_EQ(rec.size(), 0u);
  EXPECT_EQ(rec.dropped(), 0u);
  EXPECT_TRUE(parse(rec).events.empty());
}

TEST(TraceRecorder, RecordsFromManyThreads) {
  TraceRecorder rec(10000);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      const std::string track = t % 2 ? "cpu" : "cuda:" + std::to_string(t);
      for (int i = 0; i < 3000; ++i) rec.record("e", "c", track, TraceRecorder::Clock::now(), 1us);
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(rec.size(), 10000u);
  EXPECT_EQ(rec.dropped(), 2000u);
  const auto p = parse(rec);
  EXPECT_EQ(p.events.size(), 10000u);
  std::set<std::string> tracks;
  for (const auto& [tid, name] : p.thread_names) tracks.insert(name.substr(0, name.find(" #")));
  EXPECT_EQ(tracks, (std::set<std::string>{"cpu", "cuda:0", "cuda:2"}));
}

TEST(TraceRecorder, WritesAFile) {
  TraceRecorder rec;
  rec.record("e", "c", "cpu", rec.origin() + 1ms, 1ms);
  const auto path = std::filesystem::temp_directory_path() / ("hetex_trace_" + std::to_string(::getpid()) + ".json");
  ASSERT_TRUE(rec.write_chrome_trace(path));
  std::ifstream in(path);
  const json j = json::parse(in);
  EXPECT_EQ(j, json::parse(rec.chrome_trace_json()));
  std::filesystem::remove(path);

  auto bad = rec.write_chrome_trace("/nonexistent-dir/x/trace.json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::io);
  EXPECT_NE(bad.error().message().find("/nonexistent-dir/x/trace.json"), std::string::npos);
}
