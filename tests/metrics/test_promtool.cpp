// SPDX-License-Identifier: MIT
// The exposition checked by the reference parser: `promtool check metrics` (Debian package
// prometheus) parses the text with Prometheus' own parser and lints it.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "hetex/metrics/registry.hpp"
#include "metrics/promtool.hpp"

using namespace hetex::metrics;

TEST(Promtool, AcceptsEveryMetricTypeWithEscapesAndNonFiniteValues) {
  REQUIRE_PROMTOOL(promtool);
  Registry reg;
  auto items =
      reg.counter_family("hetex_items_total", "Items completed, by \"device\"\nand op \\ kind", {"device", "op"})
          .value();
  items.with({"cuda:0", "sha256"})->inc(4096);
  items.with({"cpu", "ed25519 \"verify\"\\batch\nline two"})->inc(0.5);
  items.with({"cpu", "caf\xc3\xa9 \xf0\x9f\x9a\x80"})->inc(1e20);
  auto temp = reg.gauge_family("hetex_gpu_temperature_celsius", "GPU temperature", {"device"}).value();
  temp.with({"cuda:0"})->set(std::numeric_limits<double>::quiet_NaN());
  temp.with({"cuda:1"})->set(std::numeric_limits<double>::infinity());
  temp.with({"cuda:2"})->set(-std::numeric_limits<double>::infinity());
  temp.with({"cuda:3"})->set(-1e-300);
  reg.gauge("hetex_queue_depth", "Tasks waiting").value().set(7);
  auto lat =
      reg.histogram_family("hetex_batch_seconds", "Batch latency", latency_buckets_seconds(), {"device"}).value();
  for (double v : {3e-6, 0.004, 0.5, 99.0}) lat.with({"cpu"})->observe(v);
  lat.with({"cuda:0"})->observe(std::numeric_limits<double>::infinity());
  reg.histogram("hetex_empty_seconds", "A histogram without observations", {0.1, 1}).value();

  const std::string text = reg.prometheus_text();
  ASSERT_NE(text.find("\\\"verify\\\""), std::string::npos);  // the escapes are really in there
  ASSERT_NE(text.find("NaN"), std::string::npos);
  const auto r = hetex_test::promtool_check(promtool, text);
  EXPECT_EQ(r.exit_status, 0) << r.output << "\n--- exposition:\n" << text;
  EXPECT_EQ(r.output, "") << text;
}

// The check above must be able to fail: promtool rejects a malformed exposition...
TEST(Promtool, RejectsABrokenExposition) {
  REQUIRE_PROMTOOL(promtool);
  const auto r = hetex_test::promtool_check(promtool,
                                            "# HELP x_total A counter\n"
                                            "# TYPE x_total counter\n"
                                            "x_total{a=\"unterminated} 1\n");
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.output, "");
}

// ...and a well-formed one that breaks its conventions (a counter without _total).
TEST(Promtool, FlagsLintProblems) {
  REQUIRE_PROMTOOL(promtool);
  const auto r = hetex_test::promtool_check(promtool, "# HELP x A counter\n# TYPE x counter\nx 1\n");
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.output.find("_total"), std::string::npos) << r.output;
}
