// SPDX-License-Identifier: MIT
// The scheduler against its baselines, data in host memory, for two workloads: vector add (memory
// bound) and SHA-256 of 64-byte messages (compute bound).
//   Size sweep: columns CPU-only, GPU-only, Threshold, Adaptive, the oracle (the better of
//   CPU-only and GPU-only at that size) and a raw comparator with no scheduler (a TBB loop; for
//   SHA-256 over OpenSSL). Each column runs as a block (a checked warm-up, then reps); figures are
//   medians; ada/orcl is oracle time over Adaptive time. Adaptive is calibrated first,
//   as a user's would be after its first batches.
//   Split: on a large batch (and SHA-256 of 1 KiB messages), against CPU-only + GPU-only.
// Prints tables, and JSON with --json FILE. Without a GPU the GPU columns say why they are empty.
//
//   bench_scheduler [--step 1|2] [--reps N] [--json FILE] [--split-only] [--diag]
// HETEX_SPLIT_CORES_PER_GPU(_PINNED) override SchedulerOptions::split_cores_per_gpu(_pinned);
// HETEX_BENCH_TIMELINE=1 prints when each device worked in every split run.

// The raw comparator uses OpenSSL's low-level SHA256_* calls (deprecated in OpenSSL 3 but the
// fastest way to call it per message: no EVP fetch or context allocation per call).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "hetex/exec/scheduler.hpp"
#include "hetex/memory/buffer.hpp"
#include "hetex/ops/sha256.hpp"
#include "hetex/ops/vector.hpp"

using namespace hetex;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  bool diag = false;        // only the pinned-vs-adaptive comparison on vector add, many rounds
  bool split_only = false;  // only the split measurements
  int step = 2;
  int reps = 15;
  std::string json;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--step") && i + 1 < argc)
      a.step = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      a.reps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--json") && i + 1 < argc)
      a.json = argv[++i];
    else if (!std::strcmp(argv[i], "--diag"))
      a.diag = true;
    else if (!std::strcmp(argv[i], "--split-only"))
      a.split_only = true;
    else if (!std::strncmp(argv[i], "--benchmark", 11))
      continue;  // tolerated: run.sh passes filters
    else {
      std::fprintf(stderr, "usage: %s [--step 1|2] [--reps N] [--json FILE]\n", argv[0]);
      std::exit(2);
    }
  }
  return a;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_scheduler: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// One workload: runs n items through a scheduler, checks results, and times a raw comparator.
struct Workload {
  std::string name;
  std::function<Result<ExecReport>(Scheduler&, std::size_t n)> run;
  std::function<void(std::size_t n)> prepare;  // before a checked run, untimed: poison the outputs
  std::function<bool(std::size_t n)> check;    // the last run's results are right
  std::function<void(std::size_t n)> raw;
};

using Where = std::map<DeviceId, std::size_t>;

// What the last timed run did: the router's reason and each device's items and busy time.
std::string last_run;

double timed(Scheduler& s, const Workload& w, std::size_t n, bool check, Where* where) {
  if (check) w.prepare(n);
  const auto t0 = Clock::now();
  auto rep = w.run(s, n);
  const double t = seconds_since(t0);
  if (!rep) die(w.name + ": " + rep.error().describe());
  if (!rep->all_ok()) die(w.name + ": " + rep->status().error().describe());
  if (check && !w.check(n)) die(w.name + ": wrong result at " + std::to_string(n) + " items");
  if (where)
    for (const auto& d : rep->stats.devices) (*where)[d.device] += d.items;
  last_run = "[" + rep->stats.route.describe() + "]";
  for (const auto& d : rep->stats.devices)
    last_run += " " + d.device.to_string() + " " + std::to_string(d.items) + " in " +
                std::to_string(d.busy_seconds * 1e3).substr(0, 6) + " ms";
  // The CPU's pieces in a split: how many, and how busy its threads were (the pieces' summed
  // time over threads x the span from the first piece's start to the last one's end).
  std::size_t pieces = 0;
  double piece_s = 0;
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  for (const auto& c : rep->stats.chunks) {
    if (!c.device.is_cpu()) continue;
    ++pieces;
    piece_s += std::chrono::duration<double>(c.finish - c.start).count();
    first = std::min(first, c.start);
    last = std::max(last, c.finish);
  }
  if (pieces > 1 && rep->stats.devices.size() > 1) {
    const double span = std::chrono::duration<double>(last - first).count();
    char buf[160];
    std::snprintf(buf, sizeof buf, " | cpu: %zu pieces, %.1f thread-ms over %.3f ms (%.1f threads busy)", pieces,
                  piece_s * 1e3, span * 1e3, span > 0 ? piece_s / span : 0.0);
    last_run += buf;
  }
  // HETEX_BENCH_TIMELINE=1: when each device worked, in ms from the submission. GPU calls one by
  // one; the CPU's pieces as when the first started, when half of its items were done, when the
  // last piece ended, and the latest start of a piece (the tail a thread works on alone).
  static const bool timeline = std::getenv("HETEX_BENCH_TIMELINE") != nullptr;
  if (timeline && rep->stats.devices.size() > 1) {
    auto ms = [&](Clock::time_point x) { return std::chrono::duration<double, std::milli>(x - t0).count(); };
    std::string gpu, cpu;
    std::vector<std::pair<double, std::size_t>> ends;
    double first_cpu = 1e30, last_start = 0;
    for (const auto& c : rep->stats.chunks) {
      char b[96];
      if (c.device.is_cpu()) {
        ends.push_back({ms(c.finish), c.items()});
        first_cpu = std::min(first_cpu, ms(c.start));
        last_start = std::max(last_start, ms(c.start));
      } else {
        std::snprintf(b, sizeof b, " %s%s %.2f-%.2f (%zu)", c.device.to_string().c_str(), c.stolen ? "*" : "",
                      ms(c.start), ms(c.finish), c.items());
        gpu += b;
      }
    }
    std::sort(ends.begin(), ends.end());
    std::size_t cpu_items = 0, acc = 0;
    for (auto& e : ends) cpu_items += e.second;
    double half = 0;
    for (auto& e : ends)
      if ((acc += e.second) * 2 >= cpu_items) {
        half = e.first;
        break;
      }
    char b[200];
    if (!ends.empty())
      std::snprintf(b, sizeof b, "\n      cpu %.2f, half %.2f, last start %.2f, end %.2f;", first_cpu, half, last_start,
                    ends.back().first);
    last_run += (ends.empty() ? std::string("\n     ") : std::string(b)) + gpu + " | total " +
                std::to_string(t * 1e3).substr(0, 6);
  }
  return t;
}

struct Policies {
  std::unique_ptr<Scheduler> cpu, gpu, threshold, adaptive, split;
  std::vector<std::unique_ptr<Scheduler>> each_gpu;  // pinned to cuda:0, cuda:1, ... (split's sum)
};

std::string shares(const Where& where, std::size_t total) {
  std::string s;
  for (const auto& [d, items] : where)
    s += d.to_string() + ":" + std::to_string(total ? items * 100 / total : 0) + "% ";
  return s;
}

std::string sweep(const Workload& w, Policies& p, const std::vector<std::size_t>& sizes, int reps, bool gpu) {
  for (std::size_t n : sizes)
    // Calibration: each device three to five runs (until their times agree), then a few routed.
    for (int i = 0; i < 2 * static_cast<int>(CostModel::kWindow) + 2; ++i)
      (void)timed(*p.adaptive, w, n, false, nullptr);
  std::printf("\n%s, data in host memory (M items/s)\n%10s %10s %10s %10s %10s %10s %9s %10s  %s\n", w.name.c_str(),
              "items", "cpu", "gpu", "threshold", "adaptive", "oracle", "ada/orcl", "raw", "adaptive ran on");
  std::string json = "\"" + w.name + "\": [";
  double worst = 1e9;
  for (std::size_t n : sizes) {
    // Each column in a block of its own (a checked warm-up, then reps): interleaving a GPU
    // column between CPU runs leaves TBB's workers asleep and the caches cold for the next one,
    // which made identical CPU work read up to 2x apart.
    std::vector<Scheduler*> order{p.cpu.get(), p.gpu.get(), p.threshold.get(), p.adaptive.get()};
    std::vector<double> med(order.size() + 1, 0);
    Where where;
    for (std::size_t k = 0; k <= order.size(); ++k) {
      if (k < order.size() && !order[k]) continue;
      std::vector<double> t;
      for (int r = 0; r <= reps; ++r) {
        double x;
        if (k == order.size()) {
          const auto t0 = Clock::now();
          w.raw(n);
          x = seconds_since(t0);
        } else {
          x = timed(*order[k], w, n, r == 0, r > 0 && k == 3 ? &where : nullptr);
        }
        if (r > 0) t.push_back(x);
      }
      med[k] = median(t);
    }
    const double tc = med[0], tg = med[1], tt = med[2], ta = med[3], traw = med[4];
    const double oracle = gpu ? std::min(tc, tg) : tc, ratio = oracle / ta;
    worst = std::min(worst, ratio);
    auto mis = [n](double x) { return x > 0 ? n / x / 1e6 : 0.0; };
    std::printf("%10zu %10.1f %10.1f %10.1f %10.1f %10.1f %8.1f%% %10.1f  %s\n", n, mis(tc), mis(tg), mis(tt), mis(ta),
                mis(oracle), 100 * ratio, mis(traw), shares(where, n * reps).c_str());
    char row[400];
    std::snprintf(row, sizeof row,
                  "%s{\"items\": %zu, \"cpu_s\": %.9g, \"gpu_s\": %.9g, \"threshold_s\": %.9g, \"adaptive_s\": %.9g, "
                  "\"oracle_s\": %.9g, \"adaptive_over_oracle\": %.4f, \"raw_s\": %.9g}",
                  n == sizes.front() ? "" : ", ", n, tc, tg, tt, ta, oracle, ratio, traw);
    json += row;
  }
  std::printf("worst adaptive/oracle: %.1f%%\n", 100 * worst);
  return json + "]";
}

// Split against the sum of every device alone: the CPU and each GPU.
std::string split(const std::string& label, const Workload& w, Policies& p, std::size_t n, int reps) {
  // Calibration: each device alone three to five times (until its times agree), then three
  // splits that measure themselves.
  std::printf("split %s, %zu items, calibration:\n", label.c_str(), n);
  for (int i = 0, after = 0; after < 3 && i < 64; ++i) {
    const double t = timed(*p.split, w, n, i == 0, nullptr);
    std::printf("  %.3f ms %s\n", t * 1e3, last_run.c_str());
    if (!last_run.starts_with("[calibrating")) ++after;
  }
  std::vector<double> ts, tc;
  std::vector<std::vector<double>> tgs(p.each_gpu.size());
  Where where;
  for (int r = 0; r < reps; ++r) {
    ts.push_back(timed(*p.split, w, n, false, &where));
    if (r == reps - 1 || std::getenv("HETEX_BENCH_TIMELINE"))
      std::printf("  %s split: %.3f ms %s\n", r == reps - 1 ? "last" : "timed", ts.back() * 1e3, last_run.c_str());
    tc.push_back(timed(*p.cpu, w, n, false, nullptr));
    for (std::size_t k = 0; k < p.each_gpu.size(); ++k) tgs[k].push_back(timed(*p.each_gpu[k], w, n, false, nullptr));
    if (std::getenv("HETEX_BENCH_TIMELINE")) {
      std::printf("    alone: cpu %.3f ms", tc.back() * 1e3);
      for (auto& t : tgs) std::printf(", gpu %.3f ms", t.back() * 1e3);
      std::printf("\n");
    }
  }
  const double s = n / median(ts), c = n / median(tc);
  double g = 0;
  for (auto& t : tgs) g += n / median(t);
  std::printf("split %s, %zu items: %.1f M/s; cpu %.1f + %zu gpu(s) %.1f = %.1f M/s; split/sum = %.1f%%  (%s)\n",
              label.c_str(), n, s / 1e6, c / 1e6, p.each_gpu.size(), g / 1e6, (c + g) / 1e6, 100 * s / (c + g),
              shares(where, n * reps).c_str());
  char row[300];
  std::snprintf(row, sizeof row,
                "\"split_%s\": {\"items\": %zu, \"split_s\": %.9g, \"cpu_s\": %.9g, \"all_gpus_s\": %.9g}",
                label.c_str(), n, n / s, n / c, n / g);
  return row;
}

std::unique_ptr<Scheduler> make(const Runtime& rt, Policy p, const std::filesystem::path& cal) {
  SchedulerOptions o;
  o.policy = std::move(p);
  o.calibration_file = cal;  // a fresh file: the bench shows calibration from nothing
  o.faults = FaultPlan{};
  if (const char* r = std::getenv("HETEX_SPLIT_CORES_PER_GPU")) o.split_cores_per_gpu = std::atoi(r);
  if (const char* r = std::getenv("HETEX_SPLIT_CORES_PER_GPU_PINNED")) o.split_cores_per_gpu_pinned = std::atoi(r);
  auto s = Scheduler::create(rt, o);
  if (!s) die(s.error().describe());
  return std::move(*s);
}

void fill_random(std::span<std::uint8_t> bytes, std::uint64_t seed) {
  tbb::parallel_for(std::size_t(0), bytes.size() / 4096 + 1, [&](std::size_t blk) {
    std::mt19937_64 rng(seed + blk);
    const std::size_t b = blk * 4096, e = std::min(bytes.size(), b + 4096);
    for (std::size_t i = b; i < e; ++i) bytes[i] = static_cast<std::uint8_t>(rng());
  });
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  auto rt = Runtime::create({.announce_cpu_only = false});
  if (!rt) die(rt.error().describe());
  const bool gpu = rt->has_gpu();
  std::printf("# %s\n", rt->cpu().describe().c_str());
  if (gpu)
    std::printf("# %s\n", rt->gpus().front().describe().c_str());
  else
    std::printf("# GPU columns skipped: %s\n", rt->gpu_unavailable_reason().c_str());
  const auto dir = std::filesystem::temp_directory_path() / ("hetex-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Policies p;
  p.cpu = make(*rt, PinnedPolicy{DeviceId::cpu()}, "");
  if (gpu) p.gpu = make(*rt, PinnedPolicy{rt->gpus().front().id()}, "");
  for (const auto& g : rt->gpus()) p.each_gpu.push_back(make(*rt, PinnedPolicy{g.id()}, ""));
  p.threshold = make(*rt, ThresholdPolicy{}, "");
  p.adaptive = make(*rt, AdaptivePolicy{}, dir / "adaptive.json");
  p.split = make(*rt, SplitPolicy{}, dir / "split.json");

  // Vector add, up to 2^26 floats.
  const std::size_t max_v = std::size_t(1) << 26;
  std::vector<float> a(max_v), b(max_v), c(max_v);
  {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1000, 1000);
    for (std::size_t i = 0; i < max_v; ++i) a[i] = u(rng), b[i] = u(rng);
  }
  Workload vec{"vector_add",
               [&](Scheduler& s, std::size_t n) {
                 return s.run(ops::vector_add(), ZipBatch<float>{std::span(a).first(n), std::span(b).first(n)},
                              std::span(c).first(n));
               },
               [&](std::size_t n) { std::fill_n(c.begin(), n, -1.0f); },
               [&](std::size_t n) {
                 for (std::size_t i = 0; i < n; ++i)
                   if (c[i] != a[i] + b[i]) return false;
                 return true;
               },
               [&](std::size_t n) {
                 tbb::parallel_for(std::size_t(0), n, std::size_t(1) << 15, [&](std::size_t i) {
                   const std::size_t e = std::min(n, i + (std::size_t(1) << 15));
                   for (std::size_t k = i; k < e; ++k) c[k] = a[k] + b[k];
                 });
               }};

  // SHA-256: 2^22 messages of 64 bytes, and 2^19 and 2^20 (x2) of 1 KiB for the split.
  auto messages = [](std::size_t count, std::size_t len, std::uint64_t seed) {
    auto m = std::make_unique<std::pair<std::vector<std::uint8_t>, std::vector<std::uint64_t>>>();
    m->first.resize(count * len);
    fill_random(m->first, seed);
    m->second.resize(count + 1);
    for (std::size_t i = 0; i <= count; ++i) m->second[i] = i * len;
    return m;
  };
  auto short_msgs = messages(std::size_t(1) << 22, 64, 1);
  auto long_msgs = messages(std::size_t(1) << 20, 1024, 2);
  std::vector<ops::Digest> digests_vec(std::size_t(1) << 22);
  auto sha_workload = [&](const std::string& name, std::span<const std::uint8_t> data,
                          std::span<const std::uint64_t> offsets, std::span<ops::Digest> digests) {
    auto batch = [data, offsets](std::size_t n) { return ops::MessageBatch{data, offsets.first(n + 1)}; };
    return Workload{
        name,
        [batch, digests](Scheduler& s, std::size_t n) { return s.run(ops::sha256(), batch(n), digests.first(n)); },
        [digests](std::size_t n) { std::fill_n(digests.begin(), n, ops::Digest{}); },
        [batch, digests](std::size_t n) {
          const auto in = batch(n);
          for (std::size_t i = 0; i < n; i += 997) {
            ops::Digest d;
            ::SHA256(in[i].data(), in[i].size(), d.data());
            if (d != digests[i]) return false;
          }
          return true;
        },
        [batch, digests](std::size_t n) {
          const auto in = batch(n);
          tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
            SHA256_CTX ctx;
            SHA256_Init(&ctx);
            SHA256_Update(&ctx, in[i].data(), in[i].size());
            SHA256_Final(digests[i].data(), &ctx);
          });
        }};
  };
  Workload sha64 = sha_workload("sha256_64B", short_msgs->first, short_msgs->second, digests_vec);
  Workload sha1k = sha_workload("sha256_1KiB", long_msgs->first, long_msgs->second, digests_vec);

  if (args.diag) {
    // Same work, same device (the CPU), different policies: any gap is scheduler overhead.
    SchedulerOptions o;
    o.use_gpus = false;
    o.calibration_file = std::filesystem::path{};
    o.faults = FaultPlan{};
    o.policy = AdaptivePolicy{};
    auto ada_cpu_only = Scheduler::create(*rt, o).value();
    std::vector<std::pair<const char*, Scheduler*>> cols{{"pinned-cpu", p.cpu.get()},
                                                         {"adaptive", p.adaptive.get()},
                                                         {"threshold", p.threshold.get()},
                                                         {"adaptive-no-gpu", ada_cpu_only.get()}};
    for (std::size_t n : {std::size_t(1) << 10, std::size_t(1) << 16, std::size_t(1) << 20}) {
      for (int i = 0; i < 8; ++i) (void)timed(*p.adaptive, vec, n, false, nullptr);
      for (int i = 0; i < 8; ++i) (void)timed(*ada_cpu_only, vec, n, false, nullptr);
      std::vector<std::vector<double>> t(cols.size());
      for (int r = 0; r < 200; ++r)
        for (std::size_t k = 0; k < cols.size(); ++k) {
          const auto& [name, s] = cols[(k + r) % cols.size()];
          t[(k + r) % cols.size()].push_back(timed(*s, vec, n, false, nullptr));
        }
      std::printf("diag n=%zu:", n);
      for (std::size_t k = 0; k < cols.size(); ++k) {
        auto v = t[k];
        std::sort(v.begin(), v.end());
        std::printf("  %s p10 %.1f p50 %.1f p90 %.1f us", cols[k].first, v[v.size() / 10] * 1e6, v[v.size() / 2] * 1e6,
                    v[v.size() * 9 / 10] * 1e6);
      }
      std::printf("\n");
    }
    return 0;
  }

  std::vector<std::size_t> vsizes, ssizes;
  for (int k = 10; k <= 26; k += args.step) vsizes.push_back(std::size_t(1) << k);
  for (int k = 10; k <= 22; k += args.step) ssizes.push_back(std::size_t(1) << k);

  std::string json = "{\"sweeps\": 0";
  if (!args.split_only) {
    json += ", " + sweep(vec, p, vsizes, args.reps, gpu);
    json += ", " + sweep(sha64, p, ssizes, args.reps, gpu);
  }
  if (gpu) {
    std::printf("\n");
    json += ", " + split("vector_add", vec, p, vsizes.back(), args.reps);
    json += ", " + split("sha256_64B", sha64, p, ssizes.back(), args.reps);
    json += ", " + split("sha256_1KiB", sha1k, p, std::size_t(1) << 19, args.reps);
    json += ", " + split("sha256_1KiB_x2", sha1k, p, std::size_t(1) << 20, args.reps);
    // The same batches in page-locked memory: the GPU reads and writes them by DMA, with no host
    // staging copy competing with the CPU's share for cores and memory bandwidth.
    auto pin = [](auto& v) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      auto b = PinnedBuffer<T>::allocate(v.size());
      if (!b) die("pinned allocation: " + b.error().describe());
      std::copy(v.begin(), v.end(), b->span().begin());
      return std::move(*b);
    };
    auto long_data = pin(long_msgs->first);
    auto long_offsets = pin(long_msgs->second);
    auto short_data = pin(short_msgs->first);
    auto short_offsets = pin(short_msgs->second);
    auto pinned_digests = pin(digests_vec);
    Workload sha64p = sha_workload("sha256_64B_pinned", short_data.span(), short_offsets.span(), pinned_digests.span());
    Workload sha1kp = sha_workload("sha256_1KiB_pinned", long_data.span(), long_offsets.span(), pinned_digests.span());
    auto pa = pin(a), pb = pin(b), pc = pin(c);
    Workload vecp{
        "vector_add_pinned",
        [&](Scheduler& s, std::size_t n) {
          return s.run(ops::vector_add(), ZipBatch<float>{pa.span().first(n), pb.span().first(n)}, pc.span().first(n));
        },
        [&](std::size_t n) { std::fill_n(pc.span().begin(), n, -1.0f); },
        [&](std::size_t n) {
          for (std::size_t i = 0; i < n; ++i)
            if (pc.span()[i] != pa.span()[i] + pb.span()[i]) return false;
          return true;
        },
        nullptr};
    json += ", " + split("vector_add_pinned", vecp, p, vsizes.back(), args.reps);
    json += ", " + split("sha256_64B_pinned", sha64p, p, ssizes.back(), args.reps);
    json += ", " + split("sha256_1KiB_pinned", sha1kp, p, std::size_t(1) << 19, args.reps);
    json += ", " + split("sha256_1KiB_pinned_x2", sha1kp, p, std::size_t(1) << 20, args.reps);
  }
  json += "}\n";
  if (!args.json.empty()) std::ofstream(args.json) << json;
  std::filesystem::remove_all(dir);
  return 0;
}
