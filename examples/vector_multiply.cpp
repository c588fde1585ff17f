// SPDX-License-Identifier: MIT
// Multiply two vectors element by element on the device you choose, and check every result.
//
//   example_vector_multiply [--device cpu|gpu|auto] [--n ITEMS]
//
// cpu runs on every core (CpuExecutor), gpu on the first GPU with no fallback (GpuExecutor),
// auto lets the hybrid scheduler decide. All three are Executors: the same call runs on each.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "hetex/hetex.hpp"

namespace {

struct Args {
  std::string device = "auto";
  std::size_t n = std::size_t(1) << 23;
};

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) {
      args.device = argv[++i];
    } else if (a == "--n" && i + 1 < argc) {
      args.n = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--device cpu|gpu|auto] [--n ITEMS]\n", argv[0]);
      return false;
    }
  }
  return args.device == "cpu" || args.device == "gpu" || args.device == "auto";
}

// c = a * b on any executor; prints where the work ran.
template <class Executor>
bool multiply(Executor& exec, const std::vector<float>& a, const std::vector<float>& b, std::vector<float>& c) {
  const auto start = std::chrono::steady_clock::now();
  auto report = exec.execute(hetex::ops::vector_mul(), hetex::ZipBatch<float>{a, b}, std::span(c));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!report || !report->all_ok()) {
    std::fprintf(stderr, "vector_mul failed: %s\n",
                 (report ? report->status().error() : report.error()).describe().c_str());
    return false;
  }
  for (const auto& d : report->stats.devices) std::printf("  %-8s %zu items\n", d.device.to_string().c_str(), d.items);
  std::printf("%zu products in %.1f ms (%.2f G items/s, transfers included)\n", c.size(), took.count() * 1e3,
              c.size() / took.count() / 1e9);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) return 2;

  auto runtime = hetex::Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.error().describe().c_str());
    return 1;
  }

  std::vector<float> a(args.n), b(args.n), c(args.n);
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-100.f, 100.f);
  for (std::size_t i = 0; i < args.n; ++i) a[i] = dist(rng), b[i] = dist(rng);

  bool ok = false;
  if (args.device == "cpu") {
    hetex::CpuExecutor cpu;
    ok = multiply(cpu, a, b, c);
  } else if (args.device == "gpu") {
    if (!runtime->has_gpu()) {
      std::fprintf(stderr, "--device gpu: no GPU (%s); try --device cpu or auto\n",
                   runtime->gpu_unavailable_reason().c_str());
      return 1;
    }
    auto gpu = hetex::GpuExecutor::create(runtime->gpus().front());
    if (!gpu) {
      std::fprintf(stderr, "%s\n", gpu.error().describe().c_str());
      return 1;
    }
    ok = multiply(*gpu, a, b, c);
  } else {
    auto scheduler = hetex::Scheduler::create(*runtime);
    if (!scheduler) {
      std::fprintf(stderr, "%s\n", scheduler.error().describe().c_str());
      return 1;
    }
    ok = multiply(**scheduler, a, b, c);
  }
  if (!ok) return 1;

  // A single IEEE multiply rounds the same on every device: the results must match exactly.
  for (std::size_t i = 0; i < args.n; ++i) {
    if (c[i] != a[i] * b[i]) {
      std::fprintf(stderr, "wrong result at %zu: %g * %g gave %g\n", i, a[i], b[i], c[i]);
      return 1;
    }
  }
  std::printf("all %zu results verified\n", args.n);
  return 0;
}
