// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "hetex/metrics/registry.hpp"

using namespace hetex;
using namespace hetex::metrics;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double qnan = std::numeric_limits<double>::quiet_NaN();

// Three families, each kind once; values chosen to be exact in binary so the text is exact.
void fill_small(Registry& reg) {
  auto items = reg.counter_family("hetex_items_total", "Items completed", {"device", "op"}).value();
  items.with({"cuda:0", "sha256"})->inc(3);
  items.with({"cpu", "sha256"})->inc(2.5);
  reg.gauge("hetex_queue_depth", "Tasks waiting").value().set(-1.5);
  auto lat = reg.histogram("hetex_batch_seconds", "Batch latency", {0.25, 0.5, 1}, {{"device", "cpu"}}).value();
  for (double v : {0.125, 0.25, 0.75, 4.0}) lat.observe(v);
}
}  // namespace

TEST(PrometheusText, GoldenSmallRegistry) {
  Registry reg;
  fill_small(reg);
  EXPECT_EQ(reg.prometheus_text(),
            "# HELP hetex_batch_seconds Batch latency\n"
            "# TYPE hetex_batch_seconds histogram\n"
            "hetex_batch_seconds_bucket{device=\"cpu\",le=\"0.25\"} 2\n"
            "hetex_batch_seconds_bucket{device=\"cpu\",le=\"0.5\"} 2\n"
            "hetex_batch_seconds_bucket{device=\"cpu\",le=\"1\"} 3\n"
            "hetex_batch_seconds_bucket{device=\"cpu\",le=\"+Inf\"} 4\n"
            "hetex_batch_seconds_sum{device=\"cpu\"} 5.125\n"
            "hetex_batch_seconds_count{device=\"cpu\"} 4\n"
            "# HELP hetex_items_total Items completed\n"
            "# TYPE hetex_items_total counter\n"
            "hetex_items_total{device=\"cpu\",op=\"sha256\"} 2.5\n"
            "hetex_items_total{device=\"cuda:0\",op=\"sha256\"} 3\n"
            "# HELP hetex_queue_depth Tasks waiting\n"
            "# TYPE hetex_queue_depth gauge\n"
            "hetex_queue_depth -1.5\n");
}

TEST(PrometheusText, EmptyRegistryAndUnusedFamilies) {
  Registry reg;
  EXPECT_EQ(reg.prometheus_text(), "");
  ASSERT_TRUE(reg.counter_family("labelled_total", "No child yet", {"a"}));
  ASSERT_TRUE(reg.counter("plain_total", ""));
  auto h = reg.histogram("only_inf", "No finite buckets", {});
  ASSERT_TRUE(h);
  // A labelled family without children writes nothing; an unlabelled one is there at zero; an
  // empty help writes no HELP line.
  EXPECT_EQ(reg.prometheus_text(),
            "# HELP only_inf No finite buckets\n"
            "# TYPE only_inf histogram\n"
            "only_inf_bucket{le=\"+Inf\"} 0\n"
            "only_inf_sum 0\n"
            "only_inf_count 0\n"
            "# TYPE plain_total counter\n"
            "plain_total 0\n");
}

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
  Registry reg;
  auto g = reg.gauge_family("g", "Back\\slash, \"quotes\" stay,\nnew line", {"path"}).value();
  g.with({"C:\\dir \"x\"\nnext"})->set(1);
  EXPECT_EQ(reg.prometheus_text(),
            "# HELP g Back\\\\slash, \"quotes\" stay,\\nnew line\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(PrometheusText, NonFiniteAndLargeValues) {
  Registry reg;
  auto g = reg.gauge_family("g", "h", {"k"}).value();
  g.with({"a"})->set(qnan);
  g.with({"b"})->set(inf);
  g.with({"c"})->set(-inf);
  g.with({"d"})->set(1e-7);
  g.with({"e"})->set(123456789012.0);
  g.with({"f"})->set(0.1);
  auto h = reg.histogram("lat_seconds", "h", {1e-6, 0.001}).value();
  h.observe(inf);
  EXPECT_EQ(reg.prometheus_text(),
            "# HELP g h\n# TYPE g gauge\n"
            "g{k=\"a\"} NaN\ng{k=\"b\"} +Inf\ng{k=\"c\"} -Inf\n"
            "g{k=\"d\"} 1e-07\ng{k=\"e\"} 123456789012\ng{k=\"f\"} 0.1\n"
            "# HELP lat_seconds h\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"1e-06\"} 0\n"
            "lat_seconds_bucket{le=\"0.001\"} 0\n"
            "lat_seconds_bucket{le=\"+Inf\"} 1\n"
            "lat_seconds_sum +Inf\n"
            "lat_seconds_count 1\n");
}

TEST(JsonSnapshot, ParsesWithTheRightValues) {
  Registry reg;
  fill_small(reg);
  reg.gauge("weird", "h").value().set(qnan);
  const auto j = nlohmann::json::parse(reg.json_snapshot());
  const auto& m = j.at("metrics");
  ASSERT_EQ(m.size(), 4u);

  EXPECT_EQ(m[0].at("name"), "hetex_batch_seconds");
  EXPECT_EQ(m[0].at("type"), "histogram");
  EXPECT_EQ(m[0].at("help"), "Batch latency");
  const auto& hs = m[0].at("samples").at(0);
  EXPECT_EQ(hs.at("labels"), (nlohmann::json{{"device", "cpu"}}));
  EXPECT_EQ(hs.at("count"), 4);
  EXPECT_EQ(hs.at("sum"), 5.125);
  const auto& b = hs.at("buckets");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].at("le"), 0.25);
  EXPECT_EQ(b[0].at("count"), 2);
  EXPECT_EQ(b[2].at("le"), 1.0);
  EXPECT_EQ(b[2].at("count"), 3);
  EXPECT_EQ(b[3].at("le"), "+Inf");
  EXPECT_EQ(b[3].at("count"), 4);

  EXPECT_EQ(m[1].at("name"), "hetex_items_total");
  EXPECT_EQ(m[1].at("label_names"), (nlohmann::json{"device", "op"}));
  const auto& s = m[1].at("samples");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("labels").at("device"), "cpu");
  EXPECT_EQ(s[0].at("value"), 2.5);
  EXPECT_EQ(s[1].at("labels").at("device"), "cuda:0");
  EXPECT_EQ(s[1].at("labels").at("op"), "sha256");
  EXPECT_EQ(s[1].at("value"), 3.0);

  EXPECT_EQ(m[2].at("samples").at(0).at("value"), -1.5);
  EXPECT_EQ(m[3].at("name"), "weird");
  EXPECT_EQ(m[3].at("samples").at(0).at("value"), "NaN");  // JSON has no NaN
}

TEST(JsonSnapshot, UnusedLabelledFamilyHasNoSamples) {
  Registry reg;
  ASSERT_TRUE(reg.counter_family("x_total", "h", {"a"}));
  const auto j = nlohmann::json::parse(reg.json_snapshot());
  ASSERT_EQ(j.at("metrics").size(), 1u);
  EXPECT_TRUE(j.at("metrics")[0].at("samples").empty());
}
