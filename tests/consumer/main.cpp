// SPDX-License-Identifier: MIT
// Uses an installed hetex through its public headers only: a runtime, a vector operation through
// the scheduler and the CPU executor, a SHA-256 digest. Exit 0 when every answer is right.
#include <cstdio>
#include <vector>

#include <hetex/hetex.hpp>

int main() {
  auto runtime = hetex::Runtime::create({.devices = "cpu", .announce_cpu_only = false});
  if (!runtime) {
    std::fprintf(stderr, "consumer: %s\n", runtime.error().describe().c_str());
    return 1;
  }
  const std::size_t n = 100000;
  std::vector<float> x(n), y(n), sum(n), product(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = float(i), y[i] = 0.5f;

  hetex::SchedulerOptions options;
  options.calibration_file = "";  // leave no file behind
  auto scheduler = hetex::Scheduler::create(*runtime, options);
  if (!scheduler) {
    std::fprintf(stderr, "consumer: %s\n", scheduler.error().describe().c_str());
    return 1;
  }
  auto added = (*scheduler)->run(hetex::ops::vector_add(), hetex::ZipBatch<float>{x, y}, std::span(sum));
  hetex::CpuExecutor cpu;
  auto multiplied = cpu.execute(hetex::ops::vector_mul(), hetex::ZipBatch<float>{x, y}, std::span(product));
  if (!added || !added->all_ok() || !multiplied || !multiplied->all_ok()) {
    std::fprintf(stderr, "consumer: a vector operation failed\n");
    return 1;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (sum[i] != x[i] + 0.5f || product[i] != x[i] * 0.5f) {
      std::fprintf(stderr, "consumer: wrong result at %zu\n", i);
      return 1;
    }
  }

  hetex::ops::PackedMessages messages;
  messages.add("abc");
  std::vector<hetex::ops::Digest> digest(1);
  if (!hetex::ops::sha256_cpu(messages.view(), digest) || digest[0][0] != 0xba || digest[0][31] != 0xad) {
    std::fprintf(stderr, "consumer: SHA-256(\"abc\") is wrong\n");
    return 1;
  }
  std::printf("consumer: hetex works (%zu sums, %zu products, sum[%zu] = %g, on %s)\n", n, n, n - 1, double(sum[n - 1]),
              runtime->cpu().describe().c_str());
  return 0;
}
