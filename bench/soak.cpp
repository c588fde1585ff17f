// SPDX-License-Identifier: MIT
// Exactly once at scale: at least --items items through each scheduling policy (Threshold,
// Adaptive, Split, Pinned to the first GPU), in batches of random sizes from several producer
// threads, while GPU attempts fail at random (out of memory, kernel fault, device lost, slow;
// HETEX_FAULTS syntax). Every item must get exactly one result: its output is right (outputs
// start as NaN and a failed attempt scribbles over its chunk), the committed chunks of each batch
// cover it once, and the devices' delivered counts add up. Exit status 0 when all held, 1 if not.
//
//   bench_soak                        # two simulated GPUs (works anywhere)
//   bench_soak --gpus real            # the machine's CUDA GPUs, faults injected into their executor
//   bench_soak --items 4000000 --faults oom=0.1,kernel=0.05,lost=0.02,slow=0.05:1ms --seed 7
//
// Not a timed test: a soak, run by hand or on the GPU machine. The item rates it prints show
// only that it ran, not how fast hetex is (see bench_scheduler and hetex bench for that).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hetex/hetex.hpp"

using namespace hetex;
using namespace std::chrono_literals;

namespace {

struct Args {
  std::size_t items = 1'000'000;  // per policy
  std::string gpus = "sim";       // sim | real
  std::string faults = "oom=0.1,kernel=0.05,lost=0.02,slow=0.05:100us";
  std::uint64_t seed = 1;
  int producers = 4;
  std::size_t max_batch = 1u << 12;
  std::vector<std::string> policies{"threshold", "adaptive", "split", "pinned"};
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_soak: %s\nusage: bench_soak [--items N] [--gpus sim|real] [--faults SPEC] [--seed S]\n"
               "                  [--producers P] [--max-batch N] [--policies threshold,adaptive,split,pinned]\n",
               why);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + k).c_str());
    const std::string v = argv[++i];
    if (k == "--items")
      a.items = std::stoull(v);
    else if (k == "--gpus")
      a.gpus = v;
    else if (k == "--faults")
      a.faults = v;
    else if (k == "--seed")
      a.seed = std::stoull(v);
    else if (k == "--producers")
      a.producers = std::max(1, std::stoi(v));
    else if (k == "--max-batch")
      a.max_batch = std::max<std::size_t>(1, std::stoull(v));
    else if (k == "--policies") {
      a.policies.clear();
      for (std::size_t at = 0; at <= v.size();) {
        const auto comma = std::min(v.find(',', at), v.size());
        a.policies.push_back(v.substr(at, comma - at));
        at = comma + 1;
      }
    } else
      usage(("unknown option " + k).c_str());
  }
  if (a.gpus != "sim" && a.gpus != "real") usage("--gpus is sim or real");
  return a;
}

struct Tally {
  std::atomic<std::size_t> items{0}, batches{0}, gpu_items{0}, fallback_items{0};
  std::atomic<std::size_t> faults[4]{};  // out_of_memory, kernel_fault, device_lost, other
  std::atomic<std::size_t> violations{0};
  std::mutex m;
  std::string first_violation;
  void violation(const std::string& what) {
    if (violations.fetch_add(1) == 0) {
      std::lock_guard lock(m);
      first_violation = what;
    }
  }
};

// One batch's checks. Returns silently when every item got exactly one result.
void check_batch(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& out,
                 const Result<ExecReport>& r, Tally& t) {
  const std::size_t n = out.size();
  if (!r) return t.violation("batch not admitted: " + r.error().describe());
  if (!r->all_ok()) return t.violation("items failed: " + r->status().error().describe());
  for (std::size_t i = 0; i < n; ++i)
    if (!(out[i] == a[i] + b[i]))
      return t.violation("item " + std::to_string(i) + " of " + std::to_string(n) + " holds " + std::to_string(out[i]) +
                         ", not " + std::to_string(a[i] + b[i]));
  std::vector<std::pair<std::size_t, std::size_t>> committed;
  for (const auto& c : r->stats.chunks)
    if (c.committed()) committed.emplace_back(c.begin, c.end);
  std::sort(committed.begin(), committed.end());
  std::size_t at = 0;
  for (const auto& [begin, end] : committed) {
    if (begin != at || end <= begin)
      return t.violation("committed chunks leave a gap or overlap at item " + std::to_string(at) + " of " +
                         std::to_string(n));
    at = end;
  }
  if (at != n) return t.violation("committed chunks end at " + std::to_string(at) + " of " + std::to_string(n));
  std::size_t delivered = 0, on_gpu = 0;
  for (const auto& d : r->stats.devices) {
    delivered += d.items;
    if (!d.device.is_cpu()) on_gpu += d.items;
  }
  if (delivered != n) return t.violation("devices delivered " + std::to_string(delivered) + " of " + std::to_string(n));
  t.gpu_items += on_gpu;
  t.fallback_items += r->stats.fallback_items;
  for (Errc e : r->stats.faults)
    ++t.faults[e == Errc::out_of_memory ? 0 : e == Errc::kernel_fault ? 1 : e == Errc::device_lost ? 2 : 3];
}

// The cost model starts out believing the GPUs much faster than the CPU at this operation, so
// that every policy gives them most of the work (where the faults are); real runs then correct it.
void favour_gpus(Scheduler& s, const std::vector<DeviceId>& gpus) {
  for (std::size_t n = 1; n <= (1u << 16); n *= 2)
    for (std::size_t i = 0; i < CostModel::kCalibrated; ++i) {
      s.cost_model().record(CostModel::Key::alone(ops::vector_add().name(), DeviceId::cpu(), Residency::host), n,
                            1e-3 + double(n) / 1e6);
      for (const auto& g : gpus)
        s.cost_model().record(CostModel::Key::alone(ops::vector_add().name(), g, Residency::host), n,
                              20e-6 + double(n) / 5e8);
    }
}

struct Outcome {
  bool ok = false;
  double seconds = 0;
};

Outcome soak(const Args& args, const std::string& policy_name, const Runtime& rt, const FaultPlan& plan) {
  SchedulerOptions o;
  o.faults = plan;
  o.calibration_file = std::filesystem::path{};
  o.breaker_backoff = 1ms;
  o.breaker_max_backoff = 20ms;
  o.queue_capacity = 16;
  std::vector<DeviceId> gpus;
  if (args.gpus == "sim") {
    o.use_gpus = false;
    o.simulated_gpus = {{.latency = 20us, .items_per_second = 5e8, .lost = nullptr},
                        {.latency = 40us, .items_per_second = 2e8, .lost = nullptr}};
    gpus = {DeviceId::sim(0), DeviceId::sim(1)};
  } else {
    for (const auto& g : rt.gpus()) gpus.push_back(g.id());
  }
  if (policy_name == "threshold")
    o.policy = ThresholdPolicy{.min_gpu_items = 512};
  else if (policy_name == "adaptive")
    o.policy = AdaptivePolicy{.probe_interval = 0};
  else if (policy_name == "split")
    o.policy = SplitPolicy{};
  else if (policy_name == "pinned")
    o.policy = PinnedPolicy{gpus.front()};
  else
    usage(("unknown policy " + policy_name).c_str());
  auto sched = Scheduler::create(rt, o);
  if (!sched) {
    std::fprintf(stderr, "bench_soak: %s: %s\n", policy_name.c_str(), sched.error().describe().c_str());
    return {};
  }
  favour_gpus(**sched, gpus);

  Tally t;
  const auto start = std::chrono::steady_clock::now();
  std::atomic<std::size_t> claimed{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < args.producers; ++p)
    producers.emplace_back([&, p] {
      std::mt19937_64 rng(args.seed * 1000 + static_cast<std::uint64_t>(p));
      // Log-uniform sizes: many small batches (many routing decisions and fault draws), some large.
      std::uniform_real_distribution<double> log_size(0, std::log(double(args.max_batch)));
      std::uniform_int_distribution<int> value(0, 1 << 20);  // integers: sums exact on any device
      while (claimed.load() < args.items && t.violations.load() == 0) {
        const auto n = static_cast<std::size_t>(std::exp(log_size(rng)));
        claimed += n;
        std::vector<float> a(n), b(n), out(n, std::nanf(""));
        for (std::size_t i = 0; i < n; ++i) a[i] = float(value(rng)), b[i] = float(value(rng));
        auto r = (*sched)->submit(ops::vector_add(), ZipBatch<float>{a, b}, std::span(out)).get();
        check_batch(a, b, out, r, t);
        t.items += n;
        ++t.batches;
      }
    });
  for (auto& th : producers) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::size_t delivered = 0;
  for (const auto& d : (*sched)->devices()) delivered += d.items;
  if (t.violations.load() == 0 && delivered != t.items.load())
    t.violation("the scheduler's device totals say " + std::to_string(delivered) + " results for " +
                std::to_string(t.items.load()) + " items");
  const std::size_t faults = t.faults[0] + t.faults[1] + t.faults[2] + t.faults[3];
  std::printf("%-9s %9zu %7zu %5.1f%% %7zu %5zu %5zu %5zu %5zu %9zu %6.1f %9.0f  %s\n", policy_name.c_str(),
              t.items.load(), t.batches.load(), 100.0 * double(t.gpu_items) / double(std::max<std::size_t>(1, t.items)),
              faults, t.faults[0].load(), t.faults[1].load(), t.faults[2].load(), t.faults[3].load(),
              t.fallback_items.load(), seconds, double(t.items) / seconds,
              t.violations ? ("FAIL: " + t.first_violation).c_str() : "ok");
  std::fflush(stdout);
  return {t.violations.load() == 0 && faults > 0, seconds};
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  auto plan = FaultPlan::parse(args.faults);
  if (!plan) usage(plan.error().message().c_str());
  if (!plan->seed) plan->seed = args.seed;
  auto rt = Runtime::create(args.gpus == "sim" ? RuntimeOptions{.devices = "cpu", .announce_cpu_only = false}
                                               : RuntimeOptions{});
  if (!rt) usage(rt.error().describe().c_str());
  if (args.gpus == "real" && !rt->has_gpu()) usage(("--gpus real: " + rt->gpu_unavailable_reason()).c_str());
  std::printf("bench_soak: %s GPUs (%s), faults %s, %zu items per policy, %d producers, batches of 1..%zu\n",
              args.gpus.c_str(), args.gpus == "sim" ? "sim:0, sim:1" : std::to_string(rt->gpus().size()).c_str(),
              plan->to_string().c_str(), args.items, args.producers, args.max_batch);
  std::printf("%-9s %9s %7s %6s %7s %5s %5s %5s %5s %9s %6s %9s  %s\n", "policy", "items", "batches", "on GPU",
              "faults", "oom", "kern", "lost", "other", "fallback", "sec", "items/s", "exactly once");
  bool all = true;
  for (const auto& p : args.policies) all = soak(args, p, *rt, *plan).ok && all;
  std::printf("bench_soak: %s\n", all ? "every item got exactly one result under every policy"
                                      : "FAILED (or no fault was injected: see the table)");
  return all ? 0 : 1;
}
