// SPDX-License-Identifier: MIT
// The scheduler observed: counters agree with the batches' own statistics, the exposition is
// valid Prometheus text, the HTTP endpoint serves it, and the trace shows each device's work.
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <numeric>

#include "hetex/metrics/scheduler_metrics.hpp"
#include "hetex/metrics/server.hpp"
#include "metrics/promtool.hpp"

using namespace hetex;
using namespace hetex::metrics;

namespace {

double sum_samples(const std::string& json, const std::string& name, const std::string& label = {},
                   const std::string& value = {}) {
  double total = 0;
  const auto doc = nlohmann::json::parse(json);  // kept: a range-for over parse(...).at() would dangle
  for (const auto& m : doc.at("metrics")) {
    if (m.at("name") != name) continue;
    for (const auto& s : m.at("samples"))
      if (label.empty() || s.at("labels").value(label, "") == value) total += s.at("value").get<double>();
  }
  return total;
}

struct Observed : ::testing::Test {
  Registry reg;
  std::shared_ptr<TraceRecorder> trace = std::make_shared<TraceRecorder>();
  std::shared_ptr<SchedulerMetrics> metrics = SchedulerMetrics::create(reg, trace).value();
  Operation<SpanBatch<int>, int> twice{"twice",
                                       [](const SpanBatch<int>& in, std::span<int> out) -> Status {
                                         for (std::size_t i = 0; i < in.size(); ++i) out[i] = 2 * in[i];
                                         return {};
                                       },
                                       OperationOptions{.cpu_grain = 128, .gpu_min_chunk = 256}};

  std::unique_ptr<Scheduler> scheduler(Policy policy, FaultPlan faults) {
    SchedulerOptions o;
    o.policy = std::move(policy);
    o.use_gpus = false;
    o.simulated_gpus = {{.latency = std::chrono::microseconds(5)}};
    o.faults = faults;
    o.calibration_file = std::filesystem::path{};
    o.breaker_backoff = std::chrono::milliseconds(0);
    o.observer = metrics;
    return Scheduler::create(Runtime::create({.devices = "cpu", .announce_cpu_only = false}).value(), o).value();
  }
};

TEST_F(Observed, CountersMatchTheBatchStatistics) {
  FaultPlan faults;
  faults.kernel_fault = 0.3;
  faults.seed = 3;
  auto s = scheduler(PinnedPolicy{DeviceId::sim(0)}, faults);
  std::size_t items = 0, fallback = 0, faults_seen = 0;
  for (int b = 0; b < 30; ++b) {
    std::vector<int> in(100 + b * 37), out(in.size());
    std::iota(in.begin(), in.end(), b);
    auto r = s->run(twice, SpanBatch<int>{in}, std::span(out)).value();
    ASSERT_TRUE(r.all_ok());
    items += in.size();
    fallback += r.stats.fallback_items;
    faults_seen += r.stats.faults.size();
  }
  ASSERT_GT(fallback, 0u);
  const auto json = reg.json_snapshot();
  EXPECT_EQ(sum_samples(json, "hetex_items_total"), static_cast<double>(items));
  EXPECT_EQ(sum_samples(json, "hetex_fallback_items_total"), static_cast<double>(fallback));
  EXPECT_EQ(sum_samples(json, "hetex_errors_total", "kind", "kernel_fault"), static_cast<double>(faults_seen));
  EXPECT_EQ(sum_samples(json, "hetex_batches_total"), 30.0);
  EXPECT_EQ(sum_samples(json, "hetex_queue_depth"), 0.0);
  EXPECT_EQ(sum_samples(json, "hetex_device_up", "device", "cpu"), 1.0);
}

TEST_F(Observed, ExpositionIsAcceptedByPromtoolAndServedOverHttp) {
  auto s = scheduler(SplitPolicy{}, FaultPlan{});
  std::vector<int> in(5000), out(in.size());
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(s->run(twice, SpanBatch<int>{in}, std::span(out)));
  metrics->sample_pools({});
  const std::string text = reg.prometheus_text();
  EXPECT_NE(text.find("hetex_batch_seconds_bucket{op=\"twice\",le=\"+Inf\"} 5"), std::string::npos) << text;
  EXPECT_NE(text.find("hetex_pool_bytes{device=\"host\",pool=\"pinned\",kind=\"cached\"}"), std::string::npos);

  auto server = MetricsServer::start(reg, 0).value();
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, reg.prometheus_text());

  REQUIRE_PROMTOOL(promtool);
  const auto check = hetex_test::promtool_check(promtool, text);
  EXPECT_EQ(check.exit_status, 0) << check.output;
  EXPECT_TRUE(check.output.empty()) << check.output;
}

TEST_F(Observed, TraceShowsEveryDeviceThatWorked) {
  auto s = scheduler(SplitPolicy{}, FaultPlan{});
  std::vector<int> in(20000), out(in.size());
  // Calibration runs each device alone at this size three times; the batches after it split.
  for (int b = 0; b < 8; ++b) ASSERT_TRUE(s->run(twice, SpanBatch<int>{in}, std::span(out)));
  const auto j = nlohmann::json::parse(trace->chrome_trace_json());
  std::set<std::string> lanes;
  std::size_t events = 0;
  for (const auto& e : j.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name") lanes.insert(e.at("args").at("name").get<std::string>());
    if (e.at("ph") == "X") {
      ++events;
      EXPECT_EQ(e.at("name"), "twice");
    }
  }
  EXPECT_GT(events, 4u);
  EXPECT_TRUE(lanes.count("cpu")) << j.dump();
  EXPECT_TRUE(lanes.count("sim:0")) << j.dump();
}

}  // namespace
