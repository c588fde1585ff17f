// SPDX-License-Identifier: MIT
// `hetex bench`: every workload on CPU 1 thread, CPU all cores, each GPU and the hybrid
// scheduler, beside the libraries people use today, in one run; a table, JSON and an HTML report.

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>

#include "bench.hpp"
#include "commands.hpp"
#include "hetex/core/file.hpp"
#include "interrupt.hpp"

namespace hetex::cli {
namespace {

using Clock = std::chrono::steady_clock;
using bench::Column;
using bench::Plan;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// One line on stderr, redrawn in place; only on a terminal (a log gets one line per workload).
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(std::max<std::size_t>(total, 1)), tty_(isatty(2)) {}
  void workload(const std::string& title) {
    if (!tty_) std::fprintf(stderr, "hetex bench: %s\n", title.c_str());
  }
  void step(const std::string& what) {
    ++done_;
    if (!tty_) return;
    const int width = 30, filled = static_cast<int>(width * done_ / total_);
    std::fprintf(stderr, "\r\033[K[%s%s] %3zu%% %s", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), 100 * done_ / total_, what.c_str());
    std::fflush(stderr);
  }
  void finish() {
    if (tty_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  std::size_t total_, done_ = 0;
  bool tty_;
};

metrics::MachineDescription describe(const Runtime& rt, bool gpus) {
  metrics::MachineDescription m;
  const auto* c = rt.cpu().cpu_info();
  m.cpu_model = c->model;
  m.cpu_cores = static_cast<int>(c->logical_cores);
  m.simd = c->simd;
  m.hetex_version = HETEX_VERSION;
  if (utsname u{}; uname(&u) == 0) m.os = std::string(u.sysname) + " " + u.release + " " + u.machine;
  if (!gpus) return m;
  for (const auto& g : rt.gpus()) {
    const auto* i = g.gpu_info();
    metrics::GpuDescription d{
        .name = i->name,
        .id = g.id().to_string(),
        .memory_bytes = i->total_memory,
        .multiprocessors = i->multiprocessors,
        .compute_capability = std::to_string(i->compute_major) + "." + std::to_string(i->compute_minor)};
    if (auto bw = measure_bandwidth(g)) {
      d.h2d_gbps = bw->h2d_gbps;
      d.d2h_gbps = bw->d2h_gbps;
    }
    m.gpus.push_back(std::move(d));
  }
  return m;
}

// What each device did in a scheduler's runs (the timeline; --trace).
class ChunkLog : public SchedulerObserver {
 public:
  void on_chunk(const std::string&, const ChunkRecord& r) override {
    std::lock_guard lock(m_);
    records_.push_back(r);
  }
  std::vector<ChunkRecord> take() {
    std::lock_guard lock(m_);
    return std::move(records_);
  }

 private:
  std::mutex m_;
  std::vector<ChunkRecord> records_;
};

// --trace: one line per device of the checked split run, times from the batch's first piece.
void print_trace(const std::string& workload, std::size_t n, std::vector<ChunkRecord> records) {
  if (records.empty()) return;
  std::sort(records.begin(), records.end(), [](auto& a, auto& b) { return a.start < b.start; });
  const auto t0 = records.front().start;
  auto us = [&](Clock::time_point t) { return std::chrono::duration<double, std::micro>(t - t0).count(); };
  std::map<DeviceId, std::vector<const ChunkRecord*>> by_device;
  for (const auto& r : records) by_device[r.device].push_back(&r);
  std::fprintf(stderr, "trace %s split n=%zu:\n", workload.c_str(), n);
  for (const auto& [device, rs] : by_device) {
    std::string line;
    std::size_t items = 0;
    for (const auto* r : rs) {
      items += r->items();
      char buf[96];
      std::snprintf(buf, sizeof buf, " [%zu%s %.0f-%.0fus]", r->items(), r->stolen ? " stolen" : "", us(r->start),
                    us(r->finish));
      line += buf;
    }
    std::fprintf(stderr, "  %-7s %zu items in %zu pieces:%s\n", device.to_string().c_str(), items, rs.size(),
                 line.c_str());
  }
}

// Times one column at one size: a checked run, then repetitions; the median.
Result<double> measure(const Column& c, std::size_t n, const bench::Settings& s, const std::string& workload,
                       ChunkLog* log) {
  // Each device three to five runs alone (until their times agree), then a few routed ones.
  if (c.calibrate)
    for (int i = 0; i < 2 * static_cast<int>(CostModel::kWindow) + 2; ++i) HETEX_TRY_VOID(c.run(n));
  if (c.poison) c.poison(n);
  if (log) (void)log->take();
  HETEX_TRY_VOID(c.run(n));
  if (log) print_trace(workload, n, log->take());
  if (c.check) HETEX_TRY_VOID(c.check(n));
  std::vector<double> t;
  const auto start = Clock::now();
  while (t.size() < 3 || (seconds_since(start) < s.min_time && t.size() < 200)) {
    const auto t0 = Clock::now();
    HETEX_TRY_VOID(c.run(n));
    t.push_back(seconds_since(t0));
  }
  return median(std::move(t));
}

// Runs a plan; a column that fails or gives a wrong answer is dropped from there on, with a note.
metrics::Workload run_plan(Plan& p, const bench::Settings& s, Progress& progress, bool& failed, ChunkLog* split_log) {
  progress.workload(p.meta.title);
  metrics::Workload w = p.meta;
  for (const auto& c : p.columns) w.series.push_back({c.id, c.label, c.kind, {}});
  std::vector<bool> stopped(p.columns.size(), false);
  for (std::size_t n : p.sizes) {
    for (std::size_t k = 0; k < p.columns.size() && !interrupted(); ++k) {
      progress.step(p.meta.id + " · " + p.columns[k].id + " · " + std::to_string(n));
      if (stopped[k]) continue;
      auto t = measure(p.columns[k], n, s, p.meta.id, p.columns[k].id == "split" ? split_log : nullptr);
      if (!t) {
        w.notes.push_back(p.columns[k].label + " failed at " + std::to_string(n) + " items: " + t.error().describe());
        std::fprintf(stderr, "hetex bench: %s: %s\n", p.meta.id.c_str(), w.notes.back().c_str());
        failed = true;
        stopped[k] = true;
        continue;
      }
      w.series[k].points.push_back({n, *t, n / *t});
      if (*t > s.max_batch_seconds) stopped[k] = true;  // larger sizes would only cost time
    }
  }
  w.crossover = metrics::find_crossover(w);
  return w;
}

std::optional<metrics::Timeline> split_timeline(const Runtime& rt, const Plan& p) {
  if (!p.scheduled || p.sizes.empty()) return std::nullopt;
  auto log = std::make_shared<ChunkLog>();
  auto sched =
      Scheduler::create(rt, {.policy = SplitPolicy{}, .calibration_file = std::filesystem::path{}, .observer = log});
  if (!sched) return std::nullopt;
  const std::size_t n = p.sizes.back();
  // The cost model learns first: each device alone (three runs each), then a split or two.
  for (int i = 0; i < 9; ++i)
    if (!p.scheduled(**sched, n)) return std::nullopt;
  (void)log->take();
  if (!p.scheduled(**sched, n)) return std::nullopt;
  auto records = log->take();
  if (records.empty()) return std::nullopt;
  const auto t0 =
      std::min_element(records.begin(), records.end(), [](auto& a, auto& b) { return a.start < b.start; })->start;
  metrics::Timeline t{.title = "Split: " + p.meta.title + ", " + std::to_string(n) + " " + p.meta.unit, .events = {}};
  for (const auto& r : records) {
    const double start = std::chrono::duration<double, std::micro>(r.start - t0).count();
    const double dur = std::chrono::duration<double, std::micro>(r.finish - r.start).count();
    std::string label = std::to_string(r.items()) + " items";
    if (r.stolen) label += ", stolen";
    if (r.fallback) label += ", fallback";
    t.events.push_back({r.device.to_string(), label, start, dur, r.items()});
  }
  return t;
}

std::string utc_now() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct BenchArgs {
  std::string suite = "quick";
  std::string json, html;
  std::vector<std::string> only;
  std::size_t max_size = SIZE_MAX;
  bool trace = false;
};

int run_bench(const BenchArgs& a, const std::string& device) {
  const auto started = Clock::now();
  auto rt = Runtime::create();
  if (!rt) {
    std::fprintf(stderr, "hetex bench: %s\n", rt.error().describe().c_str());
    return 2;
  }
  metrics::BenchReport report;
  report.suite = a.suite;
  report.started_utc = utc_now();
  bench::Settings s;
  if (a.suite == "full")
    s = {.full = true, .min_time = 0.3, .max_batch_seconds = 2.0};
  else
    s = {.full = false, .min_time = 0.05, .max_batch_seconds = 0.25};
  if (device == "gpu" && !rt->has_gpu()) {
    std::fprintf(stderr, "hetex bench: --device gpu: %s\n", rt->gpu_unavailable_reason().c_str());
    return 2;
  }
  s.gpus = device != "cpu" && rt->has_gpu();
  s.max_size = a.max_size;
  if (device == "cpu")
    report.skipped.push_back("GPU columns: --device cpu");
  else if (!rt->has_gpu())
    report.skipped.push_back("GPU, adaptive and split columns: " + rt->gpu_unavailable_reason());
  report.machine = describe(*rt, s.gpus);

  auto make = [&](Policy p) {
    return Scheduler::create(*rt, {.policy = std::move(p), .calibration_file = std::filesystem::path{}});
  };
  bench::Devices d{.runtime = *rt, .cpu = {}, .adaptive = {}, .split = {}, .gpus = {}, .gpu_labels = {}};
  auto cpu = make(PinnedPolicy{DeviceId::cpu()});
  auto adaptive = make(AdaptivePolicy{});
  auto split_log = a.trace ? std::make_shared<ChunkLog>() : nullptr;
  auto split = Scheduler::create(
      *rt, {.policy = SplitPolicy{}, .calibration_file = std::filesystem::path{}, .observer = split_log});
  for (auto* r : {&cpu, &adaptive, &split})
    if (!*r) {
      std::fprintf(stderr, "hetex bench: %s\n", r->error().describe().c_str());
      return 2;
    }
  d.cpu = std::move(*cpu);
  d.adaptive = std::move(*adaptive);
  d.split = std::move(*split);
  if (s.gpus)
    for (const auto& g : rt->gpus()) {
      auto sched = make(PinnedPolicy{g.id()});
      if (!sched) continue;
      d.gpus.push_back(std::move(*sched));
      d.gpu_labels.push_back(g.gpu_info()->name + " (" + g.id().to_string() + ")");
    }

  using Maker = Plan (*)(bench::Devices&, const bench::Settings&);
  const std::vector<std::pair<std::string, Maker>> makers{{"vector_add", bench::vector_add_plan},
                                                          {"sha256", bench::sha256_plan},
                                                          {"ed25519", bench::ed25519_plan},
                                                          {"pipeline", bench::pipeline_plan},
                                                          {"image", bench::image_plan}};
  std::vector<Plan> plans;
  for (const auto& [id, make_plan] : makers)
    if (a.only.empty() || std::find(a.only.begin(), a.only.end(), id) != a.only.end()) plans.push_back(make_plan(d, s));
  std::size_t steps = 0;
  for (const auto& p : plans) steps += p.sizes.size() * p.columns.size();
  Progress progress(steps);
  bool failed = false;
  for (auto& p : plans)
    if (!interrupted()) report.workloads.push_back(run_plan(p, s, progress, failed, split_log.get()));
  progress.finish();
  if (interrupted()) {
    // A partial report would read like a complete one: nothing is written.
    std::fprintf(stderr, "hetex bench: interrupted; no table or report written\n");
    return interrupted_status();
  }
  // The timeline shows the split run, of the workloads' largest batches, that kept the most
  // devices busy (where splitting did not pay, a split runs on one device).
  std::size_t most_tracks = 0;
  for (const auto& p : plans)
    if (auto t = split_timeline(*rt, p)) {
      std::set<std::string> tracks;
      for (const auto& e : t->events) tracks.insert(e.track);
      if (tracks.size() > most_tracks) {
        most_tracks = tracks.size();
        report.timeline = std::move(t);
      }
    }
  report.duration_s = seconds_since(started);

  std::printf("%s", metrics::render_table(report).c_str());
  int status = failed ? 1 : 0;
  if (!a.json.empty())
    if (auto st = write_file_atomic(a.json, metrics::report_to_json(report)); !st) {
      std::fprintf(stderr, "hetex bench: --json: %s\n", st.error().describe().c_str());
      status = 1;
    }
  if (!a.html.empty())
    if (auto st = write_file_atomic(a.html, metrics::render_html(report)); !st) {
      std::fprintf(stderr, "hetex bench: --html: %s\n", st.error().describe().c_str());
      status = 1;
    }
  return status;
}

}  // namespace

void add_bench(CLI::App& app, Common& common, int& status) {
  auto* cmd = app.add_subcommand("bench",
                                 "Measure every workload on CPU, each GPU and the hybrid scheduler, beside "
                                 "the libraries people use (OpenSSL, libsodium, Thrust)");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("--suite", a->suite, "quick (about 2 minutes) or full (more sizes, longer runs)")
      ->check(CLI::IsMember({"quick", "full"}))
      ->capture_default_str();
  cmd->add_option("--json", a->json, "Write every figure and the machine description as JSON to this file");
  cmd->add_option("--html", a->html, "Write a self-contained HTML report with charts to this file");
  cmd->add_option("--only", a->only, "Run only these workloads (comma-separated)")
      ->delimiter(',')
      ->check(CLI::IsMember({"vector_add", "sha256", "ed25519", "pipeline", "image"}));
  cmd->add_option("--max-size", a->max_size, "Largest batch to measure (items); a quick look or a smoke test")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--trace", a->trace, "Print what each device did in every checked split run (to stderr)");
  cmd->add_option("--device", common.device, "cpu (GPU columns off), gpu (fail without a GPU) or auto")
      ->check(CLI::IsMember({"cpu", "gpu", "auto"}))
      ->capture_default_str();
  cmd->footer(
      "Every result is checked against a reference (OpenSSL, libsodium, exact sums) before it is timed.\n"
      "Examples:\n"
      "  hetex bench\n"
      "  hetex bench --suite full --json bench.json --html bench.html\n"
      "  hetex bench --only sha256 --device cpu");
  cmd->callback([a, &common, &status] { status = run_bench(*a, common.device); });
}

}  // namespace hetex::cli
