// The scheduler against its baselines, on vector add with data in host memory:
//   size sweep 2^10 .. 2^26 items; columns CPU-only, GPU-only, Threshold, Adaptive and the oracle
//   (the better of CPU-only and GPU-only at that size, measured in the same run); Adaptive is
//   calibrated first, as a user's would be after its first batches. ada/orcl is the median of
//   per-round ratios (policies take turns each round). raw TBB: the same loop with no scheduler.
//   Split on the largest batch against CPU-only + GPU-only throughput.
// Prints a table, and JSON with --json FILE. Runs without a GPU (GPU columns then say why not).
//
//   bench_scheduler [--step 1|2] [--reps N] [--json FILE]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <tbb/parallel_for.h>

#include "hetex/exec/scheduler.hpp"
#include "hetex/ops/vector.hpp"

using namespace hetex;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  int step = 2;
  int reps = 11;
  std::string json;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--step") && i + 1 < argc) a.step = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) a.reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) a.json = argv[++i];
    else if (!std::strncmp(argv[i], "--benchmark", 11)) continue;  // tolerated: run.sh passes filters
    else {
      std::fprintf(stderr, "usage: %s [--step 1|2] [--reps N] [--json FILE]\n", argv[0]);
      std::exit(2);
    }
  }
  return a;
}

std::unique_ptr<Scheduler> make(const Runtime& rt, Policy p, const std::filesystem::path& cal) {
  SchedulerOptions o;
  o.policy = std::move(p);
  o.calibration_file = cal;  // a fresh file: the bench shows calibration from nothing
  o.faults = FaultPlan{};
  auto s = Scheduler::create(rt, o);
  if (!s) {
    std::fprintf(stderr, "bench_scheduler: %s\n", s.error().describe().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// Median seconds per batch over reps runs; checks every result of the first run.
double time_policy(Scheduler& s, const std::vector<float>& a, const std::vector<float>& b, std::vector<float>& c,
                   std::size_t n, int reps, std::map<std::string, std::size_t>* where = nullptr) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    std::fill_n(c.begin(), n, -1.0f);
    const auto t0 = Clock::now();
    auto rep = s.run(ops::vector_add(), ZipBatch<float>{std::span(a).first(n), std::span(b).first(n)}, std::span(c).first(n));
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!rep || !rep->all_ok()) {
      std::fprintf(stderr, "bench_scheduler: batch failed: %s\n",
                   (!rep ? rep.error() : rep->status().error()).describe().c_str());
      std::exit(1);
    }
    if (where)
      for (const auto& d : rep->stats.devices) (*where)[d.device] += d.items;
    if (r == 0)
      for (std::size_t i = 0; i < n; ++i)
        if (c[i] != a[i] + b[i]) {
          std::fprintf(stderr, "bench_scheduler: wrong result at %zu of %zu\n", i, n);
          std::exit(1);
        }
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  auto rt = Runtime::create({.announce_cpu_only = false});
  if (!rt) {
    std::fprintf(stderr, "bench_scheduler: %s\n", rt.error().describe().c_str());
    return 1;
  }
  const bool gpu = rt->has_gpu();
  const std::string gpu_name = gpu ? rt->gpus().front().id().to_string() : "";
  std::printf("# %s\n", rt->cpu().describe().c_str());
  if (gpu)
    std::printf("# %s\n", rt->gpus().front().describe().c_str());
  else
    std::printf("# GPU columns skipped: %s\n", rt->gpu_unavailable_reason().c_str());

  const auto dir = std::filesystem::temp_directory_path() / ("hetex-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto cpu_only = make(*rt, PinnedPolicy{"cpu"}, "");
  auto gpu_only = gpu ? make(*rt, PinnedPolicy{gpu_name}, "") : nullptr;
  auto threshold = make(*rt, ThresholdPolicy{}, "");
  auto adaptive = make(*rt, AdaptivePolicy{}, dir / "adaptive.json");
  auto split = make(*rt, SplitPolicy{}, dir / "split.json");

  const std::size_t max_n = std::size_t(1) << 26;
  std::vector<float> a(max_n), b(max_n), c(max_n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1000, 1000);
  for (std::size_t i = 0; i < max_n; ++i) {
    a[i] = u(rng);
    b[i] = u(rng);
  }

  std::vector<std::size_t> sizes;
  for (int k = 10; k <= 26; k += args.step) sizes.push_back(std::size_t(1) << k);

  // Calibration: what Adaptive learns on its first batches at each size.
  for (std::size_t n : sizes) {
    for (int i = 0; i < 8; ++i) (void)time_policy(*adaptive, a, b, c, n, 1);
  }

  std::printf("\n%10s %12s %12s %12s %12s %12s %9s %12s  %s\n", "items", "cpu Mitem/s", "gpu Mitem/s", "thresh",
              "adaptive", "oracle", "ada/orcl", "raw TBB", "adaptive ran on");
  std::string json = "{\"vector_add_sweep\": [";
  double worst_ratio = 1e9;
  for (std::size_t n : sizes) {
    // Policies take turns, one batch each per round, so drift (clock, caches, neighbours) hits
    // all columns alike; the first round warms up and is not counted.
    std::vector<Scheduler*> order{cpu_only.get(), gpu_only.get(), threshold.get(), adaptive.get()};
    std::vector<std::vector<double>> times(order.size() + 1);
    std::vector<double> paired;  // oracle / adaptive within one round: drift cancels
    std::map<std::string, std::size_t> where;
    for (int r = 0; r <= args.reps; ++r) {
      std::vector<double> round(order.size(), 0);
      for (std::size_t p = 0; p < order.size(); ++p) {
        if (!order[p]) continue;
        round[p] = time_policy(*order[p], a, b, c, n, 1, r > 0 && p == 3 ? &where : nullptr);
      }
      // The comparator: a plain TBB loop on the calling thread, no scheduler at all.
      const auto t0 = Clock::now();
      tbb::parallel_for(std::size_t(0), n, std::size_t(1) << 15, [&](std::size_t i) {
        const std::size_t e = std::min(n, i + (std::size_t(1) << 15));
        for (std::size_t k = i; k < e; ++k) c[k] = a[k] + b[k];
      });
      const double raw = std::chrono::duration<double>(Clock::now() - t0).count();
      if (r == 0) continue;  // warm-up
      for (std::size_t p = 0; p < order.size(); ++p) times[p].push_back(round[p]);
      times[order.size()].push_back(raw);
      paired.push_back((gpu ? std::min(round[0], round[1]) : round[0]) / round[3]);
    }
    auto median = [](std::vector<double> v) {
      if (v.empty()) return 0.0;
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const double tc = median(times[0]), tg = median(times[1]), tt = median(times[2]), ta = median(times[3]);
    const double traw = median(times[4]);
    const double oracle = gpu ? std::min(tc, tg) : tc;
    const double ratio = median(paired);
    worst_ratio = std::min(worst_ratio, ratio);
    std::string ran;
    for (const auto& [d, items] : where) ran += d + ":" + std::to_string(items * 100 / (n * args.reps)) + "% ";
    auto mis = [n](double t) { return t > 0 ? n / t / 1e6 : 0.0; };
    std::printf("%10zu %12.1f %12.1f %12.1f %12.1f %12.1f %8.1f%% %12.1f  %s\n", n, mis(tc), mis(tg), mis(tt), mis(ta),
                mis(oracle), 100 * ratio, mis(traw), ran.c_str());
    char row[512];
    std::snprintf(row, sizeof row,
                  "%s{\"items\": %zu, \"cpu_s\": %.9g, \"gpu_s\": %.9g, \"threshold_s\": %.9g, \"adaptive_s\": %.9g, "
                  "\"oracle_s\": %.9g, \"adaptive_over_oracle\": %.4f, \"raw_tbb_s\": %.9g}",
                  n == sizes.front() ? "" : ", ", n, tc, tg, tt, ta, oracle, ratio, traw);
    json += row;
  }
  json += "]";
  std::printf("worst adaptive/oracle: %.1f%%\n", 100 * worst_ratio);

  // Split on the largest batch: calibrate, then compare with the sum of the two alone.
  if (gpu) {
    const std::size_t n = sizes.back();
    for (int i = 0; i < 6; ++i) (void)time_policy(*split, a, b, c, n, 1);
    std::map<std::string, std::size_t> where;
    const double ts = time_policy(*split, a, b, c, n, args.reps, &where);
    const double tc = time_policy(*cpu_only, a, b, c, n, args.reps);
    const double tg = time_policy(*gpu_only, a, b, c, n, args.reps);
    const double sum = n / tc + n / tg;
    std::printf("\nsplit %zu items: %.1f Mitem/s; cpu %.1f + gpu %.1f = %.1f Mitem/s; split/sum = %.1f%%  (",
                n, n / ts / 1e6, n / tc / 1e6, n / tg / 1e6, sum / 1e6, 100 * (n / ts) / sum);
    for (const auto& [d, items] : where) std::printf("%s:%zu%% ", d.c_str(), items * 100 / (n * args.reps));
    std::printf(")\n");
    char row[256];
    std::snprintf(row, sizeof row, ", \"split\": {\"items\": %zu, \"split_s\": %.9g, \"cpu_s\": %.9g, \"gpu_s\": %.9g}", n, ts,
                  tc, tg);
    json += row;
  }
  json += "}\n";
  if (!args.json.empty()) std::ofstream(args.json) << json;
  std::filesystem::remove_all(dir);
  return 0;
}
