// SPDX-License-Identifier: MIT
// Your own operation on the hybrid scheduler: SAXPY (out = a * x + y) with a CPU implementation
// and, in CUDA builds, a GPU one (custom_operation.cu). The scheduler splits each batch between
// the CPU and the GPUs so that all finish together; without a GPU the CPU does it all.
//
//   example_custom_operation [--n ITEMS] [--batches N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "custom_operation.hpp"
#include "hetex/hetex.hpp"

namespace {

// The operation object must outlive every batch that uses it: make it once, keep it.
example::Saxpy make_saxpy(float a) {
  example::Saxpy op(
      "saxpy",
      // Called on disjoint chunks from several threads at once: no shared state, no parallelism of its own.
      [a](const hetex::ZipBatch<float>& in, std::span<float> out) -> hetex::Status {
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::fma(a, in.x[i], in.y[i]);
        return {};
      },
      // A GPU call costs tens of microseconds plus the transfers: give it at least a million items.
      hetex::OperationOptions{.cpu_grain = 1u << 15, .gpu_min_chunk = 1u << 20});
#ifdef HETEX_WITH_CUDA
  op.with_gpu([a](hetex::GpuLane& lane, const hetex::ZipBatch<float>& in, std::span<float> out) {
    return example::saxpy_gpu(lane, a, in, out);
  });
#endif
  return op;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = std::size_t(1) << 22, batches = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--n")) n = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--batches")) batches = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const float a = 2.5f;
  static const example::Saxpy saxpy = make_saxpy(a);

  auto runtime = hetex::Runtime::create();
  if (!runtime) {
    std::fprintf(stderr, "%s\n", runtime.error().describe().c_str());
    return 1;
  }
  hetex::SchedulerOptions options;
  options.policy = hetex::SplitPolicy{};  // every device gets a share, sized to finish together
  auto scheduler = hetex::Scheduler::create(*runtime, options);
  if (!scheduler) {
    std::fprintf(stderr, "%s\n", scheduler.error().describe().c_str());
    return 1;
  }
  std::printf("saxpy has %s GPU implementation; %s\n", saxpy.has_gpu() ? "a" : "no",
              runtime->has_gpu() ? "a GPU is present" : ("no GPU: " + runtime->gpu_unavailable_reason()).c_str());

  std::vector<float> x(n), y(n), out(n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1000.f, 1000.f);
  std::map<hetex::DeviceId, std::size_t> items_per_device;
  for (std::size_t batch = 0; batch < batches; ++batch) {
    for (std::size_t i = 0; i < n; ++i) x[i] = dist(rng), y[i] = dist(rng);
    auto report = (*scheduler)->run(saxpy, hetex::ZipBatch<float>{x, y}, std::span(out));
    if (!report || !report->all_ok()) {
      std::fprintf(stderr, "batch %zu: %s\n", batch,
                   (report ? report->status().error() : report.error()).describe().c_str());
      return 1;
    }
    for (const auto& d : report->stats.devices) items_per_device[d.device] += d.items;
    // Checked in double precision, independently of either implementation.
    for (std::size_t i = 0; i < n; ++i) {
      const double expected = double(a) * x[i] + y[i];
      if (std::abs(out[i] - expected) > 1e-6 * std::abs(expected) + 1e-4) {
        std::fprintf(stderr, "batch %zu, item %zu: %g * %g + %g gave %g\n", batch, i, a, x[i], y[i], out[i]);
        return 1;
      }
    }
  }
  std::printf("%zu batches of %zu items, all verified; items per device:\n", batches, n);
  for (const auto& [device, items] : items_per_device) std::printf("  %-8s %zu\n", device.to_string().c_str(), items);
  return 0;
}
