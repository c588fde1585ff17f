// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "hetex/core/file.hpp"
#include "hetex/metrics/report.hpp"

using namespace hetex;
using namespace hetex::metrics;
using nlohmann::json;

namespace {

Series make_series(std::string id, std::string label, SeriesKind kind,
                   std::vector<std::pair<std::uint64_t, double>> size_rate) {
  Series s{std::move(id), std::move(label), kind, {}};
  for (auto [size, rate] : size_rate) s.points.push_back({size, static_cast<double>(size) / rate, rate});
  return s;
}

// A report with every field set, every kind, a crossover set and one left empty, and a timeline.
BenchReport full_report() {
  BenchReport r;
  r.suite = "full";
  r.started_utc = "2025-06-14T09:31:07Z";
  r.duration_s = 412.7;
  r.machine = {"AMD EPYC 9654 96-Core Processor",
               16,
               {"avx2", "sha_ni"},
               {{"NVIDIA H200", "cuda:0", 150110011392ull, 132, "9.0", 53.1, 51.8},
                {"NVIDIA H200", "cuda:1", (1ull << 63) + 1, 132, "9.0", 0, 0}},
               "Linux 6.8.0 x86_64",
               "0.1.0"};
  r.skipped = {"image workload: built without OpenCV"};
  Workload sha{"sha256",
               "SHA-256, 64-byte messages",
               "messages",
               "host memory to host memory",
               {},
               1u << 20,
               std::uint64_t{16384},
               {"verified against OpenSSL"}};
  sha.series = {make_series("cpu_1", "CPU 1 thread", SeriesKind::cpu, {{1024, 13.1e6}, {1u << 20, 13.6e6}}),
                make_series("gpu0", "NVIDIA H200 (cuda:0)", SeriesKind::gpu, {{1024, 0.1 + 0.2}, {1u << 20, 6.51e8}}),
                make_series("split", "Split", SeriesKind::hybrid, {{1u << 20, 5.5e8}}),
                make_series("openssl", "OpenSSL, 16 threads", SeriesKind::comparator, {{1u << 20, 1.75e8}})};
  sha.series[0].points[0].seconds = 1e-9;  // a value that needs every digit to come back
  Workload empty{"image", "", "", "", {}, 0, std::nullopt, {}};
  r.workloads = {sha, empty};
  r.timeline =
      Timeline{"Split: SHA-256", {{"cpu", "chunk 0", 0, 812.5, 131072}, {"cuda:0", "chunk 1", 120.25, 1750, 524288}}};
  return r;
}

void expect_equal(const BenchReport& a, const BenchReport& b) {
  EXPECT_EQ(a.suite, b.suite);
  EXPECT_EQ(a.started_utc, b.started_utc);
  EXPECT_EQ(a.duration_s, b.duration_s);
  EXPECT_EQ(a.machine.cpu_model, b.machine.cpu_model);
  EXPECT_EQ(a.machine.cpu_cores, b.machine.cpu_cores);
  EXPECT_EQ(a.machine.simd, b.machine.simd);
  ASSERT_EQ(a.machine.gpus.size(), b.machine.gpus.size());
  for (std::size_t i = 0; i < a.machine.gpus.size(); ++i) {
    const auto &x = a.machine.gpus[i], &y = b.machine.gpus[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.memory_bytes, y.memory_bytes);
    EXPECT_EQ(x.multiprocessors, y.multiprocessors);
    EXPECT_EQ(x.compute_capability, y.compute_capability);
    EXPECT_EQ(x.h2d_gbps, y.h2d_gbps);
    EXPECT_EQ(x.d2h_gbps, y.d2h_gbps);
  }
  EXPECT_EQ(a.machine.os, b.machine.os);
  EXPECT_EQ(a.machine.hetex_version, b.machine.hetex_version);
  EXPECT_EQ(a.skipped, b.skipped);
  ASSERT_EQ(a.workloads.size(), b.workloads.size());
  for (std::size_t i = 0; i < a.workloads.size(); ++i) {
    const auto &x = a.workloads[i], &y = b.workloads[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.title, y.title);
    EXPECT_EQ(x.unit, y.unit);
    EXPECT_EQ(x.where, y.where);
    EXPECT_EQ(x.table_size, y.table_size);
    EXPECT_EQ(x.crossover, y.crossover);
    EXPECT_EQ(x.notes, y.notes);
    ASSERT_EQ(x.series.size(), y.series.size());
    for (std::size_t j = 0; j < x.series.size(); ++j) {
      EXPECT_EQ(x.series[j].id, y.series[j].id);
      EXPECT_EQ(x.series[j].label, y.series[j].label);
      EXPECT_EQ(x.series[j].kind, y.series[j].kind);
      ASSERT_EQ(x.series[j].points.size(), y.series[j].points.size());
      for (std::size_t k = 0; k < x.series[j].points.size(); ++k) {
        EXPECT_EQ(x.series[j].points[k].size, y.series[j].points[k].size);
        EXPECT_EQ(x.series[j].points[k].seconds, y.series[j].points[k].seconds);
        EXPECT_EQ(x.series[j].points[k].per_second, y.series[j].points[k].per_second);
      }
    }
  }
  ASSERT_EQ(a.timeline.has_value(), b.timeline.has_value());
  if (a.timeline) {
    EXPECT_EQ(a.timeline->title, b.timeline->title);
    ASSERT_EQ(a.timeline->events.size(), b.timeline->events.size());
    for (std::size_t i = 0; i < a.timeline->events.size(); ++i) {
      const auto &x = a.timeline->events[i], &y = b.timeline->events[i];
      EXPECT_EQ(x.track, y.track);
      EXPECT_EQ(x.label, y.label);
      EXPECT_EQ(x.start_us, y.start_us);
      EXPECT_EQ(x.duration_us, y.duration_us);
      EXPECT_EQ(x.items, y.items);
    }
  }
}

Result<BenchReport> edited(const std::function<void(json&)>& edit) {
  json doc = json::parse(report_to_json(full_report()));
  edit(doc);
  return report_from_json(doc.dump());
}

void expect_field_error(const Result<BenchReport>& r, const std::string& path, const std::string& what) {
  ASSERT_FALSE(r.has_value()) << "accepted a report with " << path << " " << what;
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find(path), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

// ---- JSON ----

TEST(ReportJson, RoundTripsEveryFieldExactly) {
  const BenchReport r = full_report();
  const std::string text = report_to_json(r);
  auto back = report_from_json(text);
  ASSERT_TRUE(back.has_value()) << back.error().describe();
  expect_equal(r, *back);
  EXPECT_EQ(report_to_json(*back), text);
}

TEST(ReportJson, WritesEnumsAsStringsAndEmptyOptionalsAsNull) {
  BenchReport r = full_report();
  r.timeline.reset();
  const json doc = json::parse(report_to_json(r));
  std::vector<std::string> kinds;
  for (const auto& s : doc["workloads"][0]["series"]) kinds.push_back(s["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"cpu", "gpu", "hybrid", "comparator"}));
  EXPECT_EQ(doc["workloads"][0]["crossover"], 16384);
  EXPECT_TRUE(doc["workloads"][1]["crossover"].is_null());
  EXPECT_TRUE(doc["timeline"].is_null());
  auto back = report_from_json(doc.dump());
  ASSERT_TRUE(back.has_value()) << back.error().describe();
  EXPECT_FALSE(back->timeline.has_value());
  EXPECT_FALSE(back->workloads[1].crossover.has_value());
}

TEST(ReportJson, AcceptsAbsentOptionals) {
  auto back = edited([](json& d) {
    d.erase("timeline");
    d["workloads"][0].erase("crossover");
  });
  ASSERT_TRUE(back.has_value()) << back.error().describe();
  EXPECT_FALSE(back->timeline.has_value());
  EXPECT_FALSE(back->workloads[0].crossover.has_value());
}

TEST(ReportJson, NonFiniteFiguresBecomeNullAndComeBackAsNaN) {
  BenchReport r = full_report();
  r.workloads[0].series[0].points[0].per_second = std::nan("");
  r.workloads[0].series[0].points[1].seconds = INFINITY;
  const std::string text = report_to_json(r);
  EXPECT_TRUE(json::parse(text)["workloads"][0]["series"][0]["points"][0]["per_second"].is_null());
  auto back = report_from_json(text);
  ASSERT_TRUE(back.has_value()) << back.error().describe();
  EXPECT_TRUE(std::isnan(back->workloads[0].series[0].points[0].per_second));
  EXPECT_TRUE(std::isnan(back->workloads[0].series[0].points[1].seconds));
}

TEST(ReportJson, NamesAMissingField) {
  expect_field_error(edited([](json& d) { d["workloads"][0]["series"][1].erase("kind"); }),
                     "workloads[0].series[1].kind", "missing");
  expect_field_error(edited([](json& d) { d["machine"]["gpus"][1].erase("memory_bytes"); }),
                     "machine.gpus[1].memory_bytes", "missing");
  expect_field_error(edited([](json& d) { d.erase("suite"); }), "suite", "missing");
  expect_field_error(edited([](json& d) { d["timeline"]["events"][1].erase("items"); }), "timeline.events[1].items",
                     "missing");
}

TEST(ReportJson, NamesAMistypedField) {
  expect_field_error(edited([](json& d) { d["workloads"][0]["series"][0]["points"][1]["size"] = "1048576"; }),
                     "workloads[0].series[0].points[1].size", "not a non-negative integer");
  expect_field_error(edited([](json& d) { d["workloads"][0]["table_size"] = -1; }), "workloads[0].table_size",
                     "not a non-negative integer");
  expect_field_error(edited([](json& d) { d["workloads"][0]["series"][2]["kind"] = "tpu"; }),
                     "workloads[0].series[2].kind", "\"tpu\"");
  expect_field_error(edited([](json& d) { d["machine"]["cpu_cores"] = 1.5; }), "machine.cpu_cores", "not an integer");
  expect_field_error(edited([](json& d) { d["duration_s"] = "fast"; }), "duration_s", "not a number");
  expect_field_error(edited([](json& d) { d["workloads"] = json::object(); }), "workloads", "not an array");
  expect_field_error(edited([](json& d) { d["machine"]["simd"][1] = 7; }), "machine.simd[1]", "not a string");
  expect_field_error(edited([](json& d) { d["workloads"][0]["crossover"] = "16K"; }), "workloads[0].crossover",
                     "not a non-negative integer");
}

TEST(ReportJson, RejectsWhatIsNotAReport) {
  auto bad = report_from_json("{\"suite\": ");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
  EXPECT_NE(bad.error().message().find("not valid JSON"), std::string::npos);
  auto array = report_from_json("[1, 2]");
  ASSERT_FALSE(array.has_value());
  EXPECT_NE(array.error().message().find("not an object"), std::string::npos);
}

// Found by fuzz_bench_json: a number too large for a double made the JSON parser throw an
// exception report_from_json did not catch.
TEST(ReportJson, ANumberBeyondDoubleIsAnErrorNotAnException) {
  auto r = report_from_json("{\"suite\": \"quick\", \"duration_s\": 1e999}");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find("not valid JSON"), std::string::npos) << r.error().message();
}

// ---- crossover ----

TEST(ReportCrossover, NoneWhenTheCpuAlwaysWinsOrThereIsNoGpu) {
  Workload w;
  w.series = {make_series("cpu_all", "", SeriesKind::cpu, {{1024, 100}, {2048, 200}, {4096, 300}}),
              make_series("gpu0", "", SeriesKind::gpu, {{1024, 10}, {2048, 150}, {4096, 299}})};
  EXPECT_EQ(find_crossover(w), std::nullopt);
  w.series.pop_back();
  EXPECT_EQ(find_crossover(w), std::nullopt);
  EXPECT_EQ(find_crossover(Workload{}), std::nullopt);
}

TEST(ReportCrossover, AtTheFirstSizeWhenTheGpuAlwaysWins) {
  Workload w;
  w.series = {make_series("cpu_all", "", SeriesKind::cpu, {{1024, 100}, {2048, 200}}),
              make_series("gpu0", "", SeriesKind::gpu, {{1024, 101}, {2048, 900}})};
  EXPECT_EQ(find_crossover(w), 1024u);
}

TEST(ReportCrossover, TheLastStableOneWhenTheLeadChangesHands) {
  // GPU wins at 1K, loses at 2K, wins from 4K on: the crossover is 4K.
  Workload w;
  w.series = {make_series("cpu_1", "", SeriesKind::cpu, {{1024, 10}, {2048, 10}, {4096, 10}, {8192, 10}}),
              make_series("cpu_all", "", SeriesKind::cpu, {{1024, 100}, {2048, 200}, {4096, 300}, {8192, 400}}),
              make_series("gpu0", "", SeriesKind::gpu, {{1024, 150}, {2048, 150}, {4096, 350}, {8192, 900}})};
  EXPECT_EQ(find_crossover(w), 4096u);
  // Losing at the largest size means no crossover at all.
  w.series[2].points.push_back({16384, 1, 16384});
  w.series[1].points.push_back({16384, 1, 16385});
  EXPECT_EQ(find_crossover(w), std::nullopt);
}

TEST(ReportCrossover, UsesTheBestGpuAndIgnoresHybridsComparatorsAndUnusablePoints) {
  Workload w;
  w.series = {make_series("cpu_all", "", SeriesKind::cpu, {{1024, 100}, {2048, 100}, {4096, 100}}),
              make_series("gpu0", "", SeriesKind::gpu, {{1024, 50}, {2048, 50}, {4096, 200}}),
              make_series("gpu1", "", SeriesKind::gpu, {{2048, 120}}),
              make_series("split", "", SeriesKind::hybrid, {{1024, 1000}}),
              make_series("openssl", "", SeriesKind::comparator, {{4096, 1e9}})};
  EXPECT_EQ(find_crossover(w), 2048u);
  // A NaN CPU point at 1K leaves 1K undecided, not a GPU win.
  w.series[1].points[0].per_second = 500;
  w.series[0].points[0].per_second = std::nan("");
  EXPECT_EQ(find_crossover(w), 2048u);
}

// ---- table ----

namespace {

BenchReport table_report() {
  BenchReport r = full_report();
  Workload& sha = r.workloads[0];
  sha.crossover.reset();
  sha.series = {make_series("cpu_1", "CPU 1 thread", SeriesKind::cpu, {{16384, 13.0e6}, {1u << 20, 13.6e6}}),
                make_series("cpu_all", "CPU all 16 threads", SeriesKind::cpu, {{16384, 100e6}, {1u << 20, 128e6}}),
                make_series("gpu0", "NVIDIA H200 (cuda:0)", SeriesKind::gpu, {{16384, 120e6}, {1u << 20, 1.234e9}}),
                make_series("split", "Split", SeriesKind::hybrid, {{16384, 110e6}, {1u << 20, 456e6}}),
                make_series("slow", "a slow comparator", SeriesKind::comparator, {{1u << 20, 12345}}),
                make_series("missing", "not at the table size", SeriesKind::cpu, {{16384, 1e6}})};
  return r;
}

std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return {};
}

}  // namespace

TEST(ReportTable, ShowsThroughputSpeedupsAndTheCrossover) {
  const std::string t = render_table(table_report());
  EXPECT_NE(t.find("AMD EPYC 9654 96-Core Processor × 16 threads"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "GPU 0").find("NVIDIA H200 (cuda:0)"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "GPU 1").find("cuda:1"), std::string::npos) << t;

  const std::string block = t.substr(t.find("SHA-256, 64-byte messages — host memory"));
  EXPECT_NE(line_with(block, "CPU 1 thread").find("13.6 M/s"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "CPU 1 thread").find("×1.00"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "CPU 1 thread").find("77.1 ms"), std::string::npos) << t;  // 1M / 13.6M/s
  EXPECT_NE(line_with(block, "CPU all 16 threads").find("128 M/s"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "CPU all 16 threads").find("×9.41"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "NVIDIA H200 (cuda:0)").find("1.23 G/s"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "NVIDIA H200 (cuda:0)").find("×90.7"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "Split").find("456 M/s"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "a slow comparator").find("12.3 K/s"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "not at the table size").find("—"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "crossover").find("16K messages"), std::string::npos) << t;
  EXPECT_NE(line_with(block, "note:").find("verified against OpenSSL"), std::string::npos) << t;

  // The summary row: the workload at 1M with its best of each kind and its crossover.
  const std::string row = line_with(t, "SHA-256, 64-byte messages ");
  for (const char* figure : {"1M", "13.6 M/s", "128 M/s", "1.23 G/s", "456 M/s", "16K"})
    EXPECT_NE(row.find(figure), std::string::npos) << figure << " missing from: " << row;

  // Skipped lines come last.
  EXPECT_GT(t.rfind("image workload: built without OpenCV"), t.rfind("crossover"));
}

TEST(ReportTable, RoundsIntoTheNextUnitAndKeepsThreeDigits) {
  BenchReport r;
  Workload w{"w", "rounding", "items", "", {}, 1000, std::nullopt, {}};
  w.series = {Series{"cpu_1", "edge", SeriesKind::cpu, {{1000, 999.9e-6, 999.7e6}}},
              Series{"gpu0", "small", SeriesKind::gpu, {{1000, 12.34e-9, 7.0}}}};
  r.workloads = {w};
  const std::string t = render_table(r);
  const std::string edge = line_with(t.substr(t.find("at 1000 items")), "edge");
  EXPECT_NE(edge.find("1.00 G/s"), std::string::npos) << t;
  EXPECT_NE(edge.find("1.00 ms"), std::string::npos) << t;
  const std::string small = line_with(t, "small");
  EXPECT_NE(small.find("7.00 /s"), std::string::npos) << t;
  EXPECT_NE(small.find("12.3 ns"), std::string::npos) << t;
  EXPECT_NE(small.find("×<0.001"), std::string::npos) << t;
}

TEST(ReportTable, EveryLineFitsOneHundredColumns) {
  BenchReport r = table_report();
  r.workloads[0].title = std::string(150, 'T');
  r.workloads[0].series[0].label = std::string(120, 'L');
  r.workloads[0].notes.push_back(std::string(60, 'n') + " " + std::string(60, 'm') + " " + std::string(200, 'o'));
  r.skipped.push_back(std::string(300, 's'));
  r.machine.cpu_model = std::string(130, 'c');
  const std::string t = render_table(r);
  std::istringstream in(t);
  for (std::string line; std::getline(in, line);) EXPECT_LE(columns(line), 100u) << line;
  EXPECT_NE(t.find(std::string(60, 'm')), std::string::npos) << "a wrapped note lost its words";
}

TEST(ReportTable, HandlesNoWorkloadsAndEmptyWorkloads) {
  BenchReport r;
  EXPECT_NE(render_table(r).find("No workloads"), std::string::npos);
  r.workloads.push_back(Workload{"image", "image", "pixels", "", {}, 4096, std::nullopt, {}});
  const std::string t = render_table(r);
  EXPECT_NE(t.find("no series measured"), std::string::npos) << t;
  EXPECT_NE(line_with(t, "crossover:").find("none"), std::string::npos) << t;
}

// ---- HTML ----

TEST(ReportHtml, IsSelfContainedWithAChartLinePerNonEmptySeries) {
  BenchReport r = full_report();
  // Series with no usable points draw nothing: empty, all-NaN, zero throughput.
  Series nan_series = make_series("nan", "all NaN", SeriesKind::gpu, {{1024, std::nan("")}});
  Series zero_series = make_series("zero", "all zero", SeriesKind::cpu, {{1024, 0}});
  r.workloads[0].series.push_back(nan_series);
  r.workloads[0].series.push_back(zero_series);
  r.workloads[0].series.push_back(Series{"none", "no points", SeriesKind::hybrid, {}});
  const std::string html = render_html(r);

  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<svg"), 2u);       // the SHA-256 chart and the timeline; the empty workload gets none
  EXPECT_EQ(count(html, "<polyline"), 4u);  // the four series with usable points
  for (const char* tag : {"section", "table", "g", "title", "text", "tr", "details"})
    EXPECT_EQ(count(html, std::string("<") + tag + ">") + count(html, std::string("<") + tag + " "),
              count(html, std::string("</") + tag + ">"))
        << tag;
  // The stored crossover is marked; the timeline bars carry their details.
  EXPECT_NE(html.find("crossover: GPU ahead from 16K messages"), std::string::npos);
  EXPECT_NE(html.find("<title>chunk 1\ncuda:0 · 524288 items"), std::string::npos);
  EXPECT_NE(html.find("No measurements to chart"), std::string::npos);

  // Nothing loaded from anywhere: the only URL is the SVG namespace.
  std::string rest = html;
  for (auto pos = rest.find("xmlns=\"http://www.w3.org/2000/svg\""); pos != std::string::npos;
       pos = rest.find("xmlns=\"http://www.w3.org/2000/svg\""))
    rest.erase(pos, std::strlen("xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(rest.find("http"), std::string::npos);
  EXPECT_EQ(rest.find("src="), std::string::npos);
  EXPECT_EQ(rest.find("@import"), std::string::npos);
  EXPECT_EQ(rest.find("url("), std::string::npos);
}

TEST(ReportHtml, EscapesEveryStringFromTheReport) {
  BenchReport r = full_report();
  const std::string evil = "<&>\"'";
  r.suite = evil;
  r.machine.cpu_model = evil;
  r.machine.gpus[0].name = evil;
  r.machine.simd = {evil};
  r.workloads[0].title = evil;
  r.workloads[0].unit = evil;
  r.workloads[0].notes = {evil};
  r.workloads[0].series[0].label = evil;
  r.workloads[0].series[1].id = evil;
  r.skipped = {evil};
  r.timeline->title = evil;
  r.timeline->events[0].label = evil;
  r.timeline->events[0].track = evil;
  const std::string html = render_html(r);
  EXPECT_EQ(html.find("<&>"), std::string::npos);
  EXPECT_EQ(html.find("\"'"), std::string::npos);
  EXPECT_GE(count(html, "&lt;&amp;&gt;&quot;&#39;"), 12u);
}

TEST(ReportHtml, HandlesNoWorkloadsSinglePointsAndEmptyTimelines) {
  BenchReport r;
  std::string html = render_html(r);
  EXPECT_NE(html.find("No workloads were measured"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 0u);

  r.workloads.push_back(Workload{"one", "one point", "items", "", {}, 1024, std::nullopt, {}});
  r.workloads[0].series = {make_series("gpu0", "GPU", SeriesKind::gpu, {{1024, 5e6}})};
  r.timeline = Timeline{"empty", {{"cpu", "bad", std::nan(""), 5, 1}}};
  html = render_html(r);
  EXPECT_EQ(count(html, "<svg"), 1u);
  EXPECT_EQ(count(html, "<polyline"), 1u);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_EQ(html.find("inf"), std::string::npos);
  EXPECT_NE(html.find("No events recorded"), std::string::npos);
}

TEST(ReportHtml, TimelineFromAnEpochClockReadsFromTheFirstEvent) {
  BenchReport r;
  r.timeline = Timeline{"epoch",
                        {{"cpu", "a", 1.7e15, 500, 10},
                         {"cuda:0", "b", 1.7e15 + 250, 1000, 20},
                         {"cpu", "overlaps a", 1.7e15 + 250, 500, 10}}};
  const std::string html = render_html(r);
  EXPECT_NE(html.find("time since the first event"), std::string::npos);
  EXPECT_NE(html.find(">0.2 ms</text>"), std::string::npos) << html;  // the span is 1.25 ms
  EXPECT_NE(html.find(">1.2 ms</text>"), std::string::npos) << html;
  EXPECT_NE(html.find("start 250 µs, took 1.00 ms"), std::string::npos) << html;
  EXPECT_EQ(html.find("e+"), std::string::npos);
  EXPECT_NE(html.find("20 items · 60% busy"), std::string::npos) << html;  // cpu: 0..750 µs of 1250
}

TEST(ReportHtml, ChartCoordinatesAreFinite) {
  const std::string html = render_html(table_report());
  const std::regex number_attr(R"re(\s(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)")re");
  std::size_t checked = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), number_attr), end; it != end; ++it, ++checked) {
    const std::string v = (*it)[1];
    char* stop = nullptr;
    const double d = std::strtod(v.c_str(), &stop);
    EXPECT_TRUE(*stop == '\0' && std::isfinite(d)) << v;
  }
  EXPECT_GT(checked, 50u);
}

// ---- files ----

TEST(ReportFile, WritesAndNamesThePathOnFailure) {
  const auto dir = std::filesystem::temp_directory_path() / ("hetex_report_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "bench.html";
  ASSERT_TRUE(write_file_atomic(path, "<p>hi</p>").has_value());
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "<p>hi</p>");

  const auto missing = dir / "no such dir" / "bench.json";
  auto st = write_file_atomic(missing, "{}");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), Errc::io);
  EXPECT_NE(st.error().message().find(missing.string()), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().message().find(std::strerror(ENOENT)), std::string::npos) << st.error().message();
  std::filesystem::remove_all(dir);
}

TEST(ReportMarkdown, TablesHoldTheFiguresAndTheComparators) {
  const std::string md = render_markdown(table_report());
  EXPECT_NE(md.find("| CPU | AMD EPYC 9654 96-Core Processor, 16 threads"), std::string::npos) << md;
  EXPECT_NE(line_with(md, "| GPU | NVIDIA H200 (cuda:0)").find("compute"), std::string::npos) << md;

  // The summary row: best of each kind at the table size, the comparator, the crossover.
  const std::string row = line_with(md, "| SHA-256, 64-byte messages | 1M |");
  for (const char* figure : {"13.6 M/s", "128 M/s", "1.23 G/s", "456 M/s", "12.3 K/s", "| 16K |"})
    EXPECT_NE(row.find(figure), std::string::npos) << figure << " missing from: " << row;

  const std::string block = md.substr(md.find("### SHA-256, 64-byte messages"));
  EXPECT_NE(line_with(block, "| CPU all 16 threads |").find("×9.41"), std::string::npos) << md;
  EXPECT_NE(line_with(block, "| a slow comparator | comparator |").find("12.3 K/s"), std::string::npos) << md;
  EXPECT_NE(line_with(block, "| not at the table size |").find("—"), std::string::npos) << md;
  EXPECT_NE(line_with(block, "Crossover").find("16K messages"), std::string::npos) << md;
  EXPECT_NE(md.find("## Skipped"), std::string::npos) << md;
}

TEST(ReportMarkdown, CellsCannotBreakATableRow) {
  BenchReport r = table_report();
  r.workloads[0].series[0].label = "a|b\nc";
  const std::string md = render_markdown(r);
  EXPECT_NE(md.find("| a\\|b c | cpu |"), std::string::npos) << md;
}
