// SPDX-License-Identifier: MIT
// hetex-demo: what hetex sees on this machine, and its foundation at work on each device.
// The hetex CLI (`hetex bench`) replaces this as the main job once it lands.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include "hetex/async/cpu_queue.hpp"
#include "hetex/hetex.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::vector<std::uint32_t> random_words(std::size_t n) {
  std::vector<std::uint32_t> v(n);
  std::mt19937 rng(2026);
  for (auto& x : v) x = rng();
  return v;
}

// CPU: a checksum over many chunks, each a task on the TBB-backed queue, joined by when_all.
bool cpu_demo(const std::vector<std::uint32_t>& data) {
  auto& q = hetex::CpuQueue::shared();
  const std::size_t chunks = 64, per = (data.size() + chunks - 1) / chunks;
  const auto t = Clock::now();
  std::vector<hetex::Future<std::uint64_t>> parts;
  for (std::size_t c = 0; c < chunks; ++c) {
    parts.push_back(q.submit([&data, c, per] {
      auto b = data.begin() + std::ptrdiff_t(std::min(data.size(), c * per));
      auto e = data.begin() + std::ptrdiff_t(std::min(data.size(), (c + 1) * per));
      return std::accumulate(b, e, std::uint64_t(0));
    }));
  }
  auto all = hetex::when_all(std::move(parts)).get();
  if (!all) return std::fprintf(stderr, "  cpu: %s\n", all.error().describe().c_str()), false;
  std::uint64_t sum = 0;
  for (auto& r : *all) sum += r.value();
  const bool ok = sum == std::accumulate(data.begin(), data.end(), std::uint64_t(0));
  std::printf("  cpu: checksum of %zu MiB in %zu tasks on %zu threads: %.2f ms, %s\n", data.size() * 4 >> 20, chunks,
              q.max_concurrency(), ms_since(t), ok ? "verified" : "WRONG");
  return ok;
}

// GPU: upload an ordinary vector, copy on the device, download, verify; all through futures.
// Round 1 includes first-use costs (context, first allocation, staging set-up); round 2 is warm.
bool gpu_demo(const hetex::Device& gpu, const std::vector<std::uint32_t>& data, int round) {
  auto stream = hetex::Stream::create(gpu);
  if (!stream)
    return std::fprintf(stderr, "  %s: %s\n", gpu.id().to_string().c_str(), stream.error().describe().c_str()), false;
  const auto t = Clock::now();
  auto copy = hetex::DeviceBuffer<std::uint32_t>::allocate(gpu, data.size());
  if (!copy) return std::fprintf(stderr, "  %s\n", copy.error().describe().c_str()), false;
  auto back = hetex::to_device(*stream, std::vector<std::uint32_t>(data))
                  .then([&](hetex::DeviceBuffer<std::uint32_t> src) {
                    // keep `src` alive until the copy is done, then read the copy back
                    return stream->copy(src.read(), copy->write()).then([&, keep = std::move(src)] {
                      return hetex::download(*stream, copy->read());
                    });
                  })
                  .get();
  if (!back)
    return std::fprintf(stderr, "  %s: %s\n", gpu.id().to_string().c_str(), back.error().describe().c_str()), false;
  const bool ok = *back == data;
  const double ms = ms_since(t);
  std::printf(
      "  %s, round %d%s: %zu MiB up, copied on the device and down in %.2f ms (%.1f GB/s over PCIe both ways), %s\n",
      gpu.id().to_string().c_str(), round, round == 1 ? " (with set-up)" : " (warm)", data.size() * 4 >> 20, ms,
      2.0 * double(data.size() * 4) / ms / 1e6, ok ? "verified" : "WRONG");
  return ok;
}

}  // namespace

int main() {
  auto rt = hetex::Runtime::create();
  if (!rt) {
    std::fprintf(stderr, "hetex-demo: %s\n", rt.error().describe().c_str());
    return 2;
  }
  std::printf("hetex devices:\n");
  for (auto& d : rt->devices()) {
    std::printf("  %s\n", d.describe().c_str());
    if (auto* c = d.cpu_info()) {
      std::string simd;
      for (auto& f : c->simd) simd += " " + f;
      std::printf("    SIMD:%s\n", simd.empty() ? " none reported" : simd.c_str());
    }
  }
  if (!rt->has_gpu()) std::printf("  (GPU work skipped: %s)\n", rt->gpu_unavailable_reason().c_str());

  const auto data = random_words(std::size_t(64) << 20 >> 2);  // 64 MiB
  std::printf("foundation demo:\n");
  bool ok = cpu_demo(data);
  for (auto& g : rt->gpus())
    for (int round : {1, 2}) ok = gpu_demo(g, data, round) && ok;
  std::printf(ok ? "all results verified\n" : "SOME RESULTS WERE WRONG\n");
  return ok ? 0 : 1;
}
